"""``engine.attachments`` on a real engine: an upload counts for its case, or for the actor's
next case; the same bytes are one blob; a refusal stores nothing; read access is the case's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.blobs import TooLarge, UnsupportedMedia
from engine.definition.attachments import form_bytes
from engine.errors import CaseNotFound, Forbidden, InvalidInput, InvalidRequest, NotFound
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings
from tests.attachkit import jpeg, png, upload
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, seed_ledger

DONGE_EEB = Actor("东阿县生态环境分局", "county_eeb", "donge")
DONGE_GOV = Actor("东阿县人民政府", "county_gov", "donge")
LINQING_EEB = Actor("临清市分局", "county_eeb", "linqing")
FIELD = "evidence.photos"
STANDARD = {"signboard": True, "sampling_point": True, "qr_code": True}


@pytest.fixture
def flows(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows" / f"{n}.yaml" for n in ("rectification", "escalation")])
    return engine


def _open(engine: Engine, code: str) -> int:
    seed_ledger(engine, outfall(code))
    body = {"outfall_code": code, "county": "donge", "sub_type": "industrial_enterprise"}
    case_id = engine.create_case("rectification", body, DONGE_EEB, subject=code).id
    engine.fire(case_id, "choose_mode", DONGE_GOV, {"mode": "regularise"})
    return case_id


def _complete(engine: Engine, case_id: int, photos: list[Any]) -> Any:
    payload = {"evidence": {"photos": photos}, "standardisation": STANDARD}
    return engine.fire(case_id, "complete", DONGE_EEB, payload)


def test_an_upload_to_one_case_does_not_count_for_another(flows: Engine) -> None:
    first, second = _open(flows, "371524-0001"), _open(flows, "371524-0002")
    photo = upload(flows, DONGE_EEB, "rectification", FIELD, case_id=first)
    with pytest.raises(InvalidInput) as refused:
        _complete(flows, second, [photo])
    assert refused.value.what == "payload"
    assert [e.json_path for e in refused.value.errors] == ["$.evidence.photos[0]"]
    view = _complete(flows, first, [photo])
    assert view.state == "county_acceptance"
    assert view.data["evidence"]["photos"] == [photo]
    [row] = [e for e in flows.history(first) if e.trigger == "complete"]
    assert row.payload["evidence"]["photos"][0]["sha256"] == photo["sha256"]  # sealed by the chain


def test_a_value_that_misstates_the_upload_is_refused(flows: Engine) -> None:
    case_id = _open(flows, "371524-0003")
    photo = upload(flows, DONGE_EEB, "rectification", FIELD, case_id=case_id)
    with pytest.raises(InvalidInput, match="type and size must be those of the upload"):
        _complete(flows, case_id, [{**photo, "type": "image/webp"}])


def test_the_same_bytes_are_one_blob_and_two_uploads(flows: Engine, settings: Settings) -> None:
    case_id = _open(flows, "371524-0004")
    one = upload(flows, DONGE_EEB, "rectification", FIELD, case_id=case_id, name="a.png")
    two = upload(flows, DONGE_EEB, "rectification", FIELD, case_id=case_id, name="b.png")
    assert one["sha256"] == two["sha256"]
    assert (one["name"], two["name"]) == ("a.png", "b.png")
    blobs = Path(str(settings.blobs_dir))
    originals = [p for p in blobs.glob("??/*") if p.is_file()]
    assert [p.name for p in originals] == [one["sha256"]]
    with flows.store.read() as tx:
        assert tx.upload_count() == 2


def test_refusals_store_nothing(flows: Engine, settings: Settings) -> None:
    case_id = _open(flows, "371524-0005")
    too_big = png() + b"\0" * (10 * 1024 * 1024)
    with pytest.raises(TooLarge, match="文件超过 10 MB"):
        upload(flows, DONGE_EEB, "rectification", FIELD, too_big, case_id=case_id)
    with pytest.raises(UnsupportedMedia, match="application/pdf"):
        upload(
            flows, DONGE_EEB, "rectification", FIELD, b"%PDF-1.7\n", name="p.jpg", case_id=case_id
        )
    with pytest.raises(UnsupportedMedia, match="cannot be read"):
        upload(flows, DONGE_EEB, "rectification", FIELD, png()[:60], case_id=case_id)
    with pytest.raises(InvalidRequest, match="not an attachment field"):
        upload(flows, DONGE_EEB, "rectification", "evidence.videos", case_id=case_id)
    with pytest.raises(CaseNotFound):
        upload(flows, LINQING_EEB, "rectification", FIELD, case_id=case_id)
    with pytest.raises(Forbidden):
        upload(flows, Actor("某市民", "public", "donge"), "rectification", FIELD)
    assert not Path(str(settings.blobs_dir)).exists()
    with flows.store.read() as tx:
        assert tx.upload_count() == 0


def test_read_answers_what_the_case_names_to_its_readers_only(flows: Engine) -> None:
    case_id = _open(flows, "371524-0006")
    photo = upload(flows, DONGE_EEB, "rectification", FIELD, jpeg(), case_id=case_id)
    data, media_type = flows.attachments.read(photo["sha256"], DONGE_GOV, case_id=case_id)
    assert (data, media_type) == (jpeg(), "image/jpeg")
    with pytest.raises(CaseNotFound):
        flows.attachments.read(photo["sha256"], LINQING_EEB, case_id=case_id)
    other = _open(flows, "371524-0007")
    with pytest.raises(NotFound, match="has no attachment"):
        flows.attachments.read(photo["sha256"], DONGE_EEB, case_id=other)
    with pytest.raises(InvalidRequest, match="variant"):
        flows.attachments.read(photo["sha256"], DONGE_EEB, case_id=case_id, variant="huge")


def test_a_digest_written_in_free_text_does_not_open_another_cases_file(flows: Engine) -> None:
    seed_ledger(flows, outfall("371581-0001", "linqing"))
    body = {"outfall_code": "371581-0001", "county": "linqing", "sub_type": "industrial_enterprise"}
    other = flows.create_case("rectification", body, LINQING_EEB, subject="371581-0001").id
    flows.fire(other, "choose_mode", LINQING_EEB, {"mode": "regularise"})
    secret = upload(flows, LINQING_EEB, "rectification", FIELD, jpeg(), case_id=other)
    seed_ledger(flows, outfall("371524-0008"))
    own = {"outfall_code": "371524-0008", "county": "donge", "sub_type": "industrial_enterprise"}
    case_id = flows.create_case("rectification", own, DONGE_EEB, subject="371524-0008").id
    payload = {"mode": "regularise", "plan_reference": f"同 {secret['sha256']}"}
    flows.fire(case_id, "choose_mode", DONGE_EEB, payload)
    with pytest.raises(NotFound, match="has no attachment"):
        flows.attachments.read(secret["sha256"], DONGE_EEB, case_id=case_id)
    with pytest.raises(CaseNotFound):
        flows.attachments.read(secret["sha256"], DONGE_EEB, case_id=other)
    photo = upload(flows, DONGE_EEB, "rectification", FIELD, case_id=case_id)
    _complete(flows, case_id, [photo])
    assert flows.attachments.read(photo["sha256"], DONGE_GOV, case_id=case_id)[0] == png()


def test_only_who_may_fire_a_trigger_taking_the_field_uploads_to_a_case(
    flows: Engine, settings: Settings
) -> None:
    seed_ledger(flows, outfall("371524-0009"))
    body = {"outfall_code": "371524-0009", "county": "donge", "sub_type": "industrial_enterprise"}
    case_id = flows.create_case("rectification", body, DONGE_EEB, subject="371524-0009").id
    with pytest.raises(Forbidden, match="evidence.photos"):  # planning: no trigger takes photos
        upload(flows, DONGE_EEB, "rectification", FIELD, case_id=case_id)
    flows.fire(case_id, "choose_mode", DONGE_GOV, {"mode": "regularise"})
    with pytest.raises(Forbidden, match="may fire no trigger"):  # a reader; complete is not its
        upload(flows, DONGE_GOV, "rectification", FIELD, case_id=case_id)
    with flows.store.read() as tx:
        assert tx.upload_count() == 0
    assert not Path(str(settings.blobs_dir)).exists()
    photo = upload(flows, DONGE_EEB, "rectification", FIELD, case_id=case_id)
    assert _complete(flows, case_id, [photo]).state == "county_acceptance"


def test_form_bytes_sums_each_file_field_at_its_most() -> None:
    photo = {"format": "attachment", "max_bytes": 1000}
    schema = {
        "properties": {
            "one": photo,
            "group": {"properties": {"many": {"type": "array", "maxItems": 3, "items": photo}}},
            "text": {"type": "string"},
        }
    }
    assert form_bytes(schema) == 4000
    assert form_bytes({"allOf": [schema, {"properties": {}}]}) == 4000
    unbounded = {"properties": {"many": {"type": "array", "items": photo}}}
    assert form_bytes(unbounded) == float("inf")
