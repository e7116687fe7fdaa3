"""Evidence files over HTTP: upload for a case about to be opened and to a case, read back
with read access as for the case; an over-size or wrong-type file is a 413/415 problem and
nothing is stored (no blob file, no row); a payload naming a file never uploaded is a 422 at
its path; ``qingliu audit verify`` catches a blob altered on disk."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from PIL import Image

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.cli import cli
from engine.runtime import Engine
from engine.settings import Settings
from tests.attachkit import GPS_IFD, jpeg_with_gps, png
from tests.conftest import ROOT
from tests.engine.api.helpers import problem

Headers = dict[str, str]
REPORT = "public_report"


@pytest.fixture
def reports(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows" / "public_report.yaml"])
    return engine


@pytest.fixture
def client(reports: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(reports)) as test_client:
        yield test_client


def _token(engine: Engine, name: str, role: str, jurisdiction: str | None) -> Headers:
    _, secret = create_token(engine, name, role, jurisdiction)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def tokens(reports: Engine) -> dict[str, Headers]:
    return {
        "citizen": _token(reports, "市民张三", "public", "donge"),
        "other_citizen": _token(reports, "市民李四", "public", "donge"),
        "county": _token(reports, "东阿县生态环境分局", "county_eeb", "donge"),
        "other_county": _token(reports, "临清市分局", "county_eeb", "linqing"),
    }


def _upload(
    client: TestClient,
    headers: Headers,
    data: bytes,
    *,
    name: str = "a.png",
    field: str = "photos",
    case_id: int | None = None,
) -> Any:
    url = (
        f"/api/v1/cases/{case_id}/attachments"
        if case_id
        else f"/api/v1/workflows/{REPORT}/attachments"
    )
    return client.post(
        url, files={"file": (name, data, "image/png")}, data={"field": field}, headers=headers
    )


def _report(photos: list[Any]) -> dict[str, Any]:
    return {
        "workflow": REPORT,
        "data": {
            "channel": "snapshot",
            "county": "donge",
            "longitude": 116.25,
            "latitude": 36.33,
            "photos": photos,
            "description": "河边有一根管子在排黑水",
        },
    }


def _stored(settings: Settings, engine: Engine) -> tuple[list[Path], int]:
    assert settings.blobs_dir is not None
    files = [p for p in Path(settings.blobs_dir).rglob("*") if p.is_file()]
    with engine.store.read() as tx:
        return files, tx.upload_count()


def test_a_photo_uploaded_before_the_report_is_named_in_it_and_read_back(
    client: TestClient, tokens: dict[str, Headers]
) -> None:
    uploaded = _upload(client, tokens["citizen"], jpeg_with_gps(), name="河边.jpg")
    assert uploaded.status_code == 201, uploaded.text
    photo = uploaded.json()
    assert photo["type"] == "image/jpeg"  # from the bytes, not the part's image/png
    assert photo["name"] == "河边.jpg"
    assert len(photo["sha256"]) == 64
    created = client.post("/api/v1/cases", json=_report([photo]), headers=tokens["citizen"])
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    url = f"/api/v1/cases/{case_id}/attachments/{photo['sha256']}"
    original = client.get(url, headers=tokens["county"])
    assert original.status_code == 200
    assert original.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(original.content)).getexif().get_ifd(GPS_IFD)
    public = client.get(url, params={"variant": "public"}, headers=tokens["citizen"])
    assert not Image.open(io.BytesIO(public.content)).getexif()
    thumb = client.get(url, params={"variant": "thumb"}, headers=tokens["county"])
    assert max(Image.open(io.BytesIO(thumb.content)).size) == 320


def test_a_reader_without_access_gets_404_as_for_the_case(
    client: TestClient, tokens: dict[str, Headers]
) -> None:
    photo = _upload(client, tokens["citizen"], png()).json()
    case_id = client.post("/api/v1/cases", json=_report([photo]), headers=tokens["citizen"]).json()[
        "id"
    ]
    url = f"/api/v1/cases/{case_id}/attachments/{photo['sha256']}"
    for who in ("other_county", "other_citizen"):
        problem(client.get(url, headers=tokens[who]), 404, "case-not-found")
        problem(_upload(client, tokens[who], png(), case_id=case_id), 404, "case-not-found")
    # a digest the case does not name is not found either, whoever asks
    stranger = _upload(client, tokens["other_citizen"], png(colour=(1, 2, 3))).json()
    missing = f"/api/v1/cases/{case_id}/attachments/{stranger['sha256']}"
    problem(client.get(missing, headers=tokens["county"]), 404, "not-found")


def test_a_digest_in_free_text_does_not_open_another_cases_file(
    client: TestClient, tokens: dict[str, Headers]
) -> None:
    photo = _upload(client, tokens["other_citizen"], png(colour=(9, 9, 9))).json()
    theirs = client.post("/api/v1/cases", json=_report([photo]), headers=tokens["other_citizen"])
    assert theirs.status_code == 201, theirs.text
    mine = _report([_upload(client, tokens["citizen"], png(colour=(8, 8, 8))).json()])
    mine["data"]["description"] = f"同 {photo['sha256']}"
    created = client.post("/api/v1/cases", json=mine, headers=tokens["citizen"])
    assert created.status_code == 201, created.text
    url = f"/api/v1/cases/{created.json()['id']}/attachments/{photo['sha256']}"
    problem(client.get(url, headers=tokens["citizen"]), 404, "not-found")
    theirs_url = f"/api/v1/cases/{theirs.json()['id']}/attachments/{photo['sha256']}"
    assert client.get(theirs_url, headers=tokens["other_citizen"]).status_code == 200


def test_a_reader_who_may_fire_no_trigger_taking_the_field_cannot_upload_to_the_case(
    client: TestClient, tokens: dict[str, Headers], reports: Engine, settings: Settings
) -> None:
    photo = _upload(client, tokens["citizen"], png()).json()
    created = client.post("/api/v1/cases", json=_report([photo]), headers=tokens["citizen"])
    case_id = created.json()["id"]
    before = _stored(settings, reports)
    for who in ("citizen", "county"):  # both read the report; no trigger of it takes photos
        problem(_upload(client, tokens[who], png((7, 7)), case_id=case_id), 403, "forbidden")
    assert _stored(settings, reports) == before


def test_a_payload_naming_a_file_never_uploaded_is_422_at_its_path(
    client: TestClient, tokens: dict[str, Headers], reports: Engine
) -> None:
    photo = _upload(client, tokens["citizen"], png()).json()
    forged = {**photo, "sha256": "ab" * 32}
    body = problem(
        client.post("/api/v1/cases", json=_report([photo, forged]), headers=tokens["citizen"]),
        422,
        "invalid-input",
    )
    assert [e["json_path"] for e in body["errors"]] == ["$.data.photos[1]"]
    assert "was uploaded" in body["errors"][0]["message"]
    # another citizen's upload does not count for this one
    theirs = _upload(client, tokens["other_citizen"], png(colour=(9, 9, 9))).json()
    body = problem(
        client.post("/api/v1/cases", json=_report([theirs]), headers=tokens["citizen"]),
        422,
        "invalid-input",
    )
    assert body["errors"][0]["json_path"] == "$.data.photos[0]"
    # a string where an attachment belongs is refused by the schema
    body = problem(
        client.post("/api/v1/cases", json=_report(["p.jpg"]), headers=tokens["citizen"]),
        422,
        "invalid-input",
    )
    assert body["errors"][0]["json_path"] == "$.data.photos[0]"
    assert reports.list_cases(None) == []


def test_over_size_and_wrong_type_uploads_are_refused_and_nothing_is_stored(
    client: TestClient, tokens: dict[str, Headers], reports: Engine, settings: Settings
) -> None:
    big = png() + b"\0" * (10 * 1024 * 1024)  # a PNG header, over the field's 10 MB
    body = problem(_upload(client, tokens["citizen"], big), 413, "file-too-large")
    assert "文件超过 10 MB (file larger than 10 MB)" in body["detail"]
    pdf = b"%PDF-1.4\n1 0 obj\n"
    body = problem(
        _upload(client, tokens["citizen"], pdf, name="photo.png"), 415, "unsupported-media-type"
    )
    assert "application/pdf" in body["detail"]
    assert "image/jpeg" in body["detail"]
    body = problem(
        _upload(client, tokens["citizen"], b"MZ\x90\x00", name="x.jpg"),
        415,
        "unsupported-media-type",
    )
    assert "不被接受" in body["detail"]
    problem(_upload(client, tokens["citizen"], png()[:60]), 415, "unsupported-media-type")
    assert _stored(settings, reports) == ([], 0)


def test_a_body_over_the_upload_ceiling_is_413_before_it_is_read(
    client: TestClient, tokens: dict[str, Headers], reports: Engine, settings: Settings
) -> None:
    huge = b"\0" * (51 * 1024 * 1024)
    body = problem(_upload(client, tokens["citizen"], huge), 413, "payload-too-large")
    assert "limit of this server" in body["detail"]
    # every other route keeps the server's limit of 1 MiB
    big_json = {"workflow": REPORT, "data": {"description": "x" * (2 << 20)}}
    problem(
        client.post("/api/v1/cases", json=big_json, headers=tokens["citizen"]),
        413,
        "payload-too-large",
    )
    assert _stored(settings, reports) == ([], 0)


def test_an_upload_to_a_field_that_is_not_an_attachment_is_422(
    client: TestClient, tokens: dict[str, Headers]
) -> None:
    body = problem(
        _upload(client, tokens["citizen"], png(), field="description"), 422, "invalid-request"
    )
    assert body["errors"][0]["json_path"] == "$.field"


def test_the_upload_routes_are_declared_in_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    case_route = paths["/api/v1/cases/{case_id}/attachments"]["post"]
    assert "multipart/form-data" in case_route["requestBody"]["content"]
    assert {"413", "415"} <= set(case_route["responses"])
    assert "post" in paths["/api/v1/workflows/{name}/attachments"]
    assert "get" in paths["/api/v1/cases/{case_id}/attachments/{sha256}"]


def test_audit_verify_fails_on_a_tampered_or_missing_blob(
    client: TestClient,
    tokens: dict[str, Headers],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    photo = _upload(client, tokens["citizen"], png()).json()
    case_id = client.post("/api/v1/cases", json=_report([photo]), headers=tokens["citizen"]).json()[
        "id"
    ]
    monkeypatch.setenv("QINGLIU_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("QINGLIU_BLOBS", str(settings.blobs_dir))
    monkeypatch.setenv("QINGLIU_CONFIG", str(ROOT / "config"))
    runner = CliRunner()
    sound = runner.invoke(cli, ["audit", "verify"])
    assert sound.exit_code == 0, sound.output
    digest = photo["sha256"]
    blob = Path(str(settings.blobs_dir)) / digest[:2] / digest
    os.chmod(blob, 0o644)
    blob.write_bytes(png(colour=(255, 0, 0)))  # another photo in its place
    tampered = runner.invoke(cli, ["audit", "verify"])
    assert tampered.exit_code == 1, tampered.output
    assert (
        f"case {case_id} event 1: attachment {digest} does not hash to its digest"
        in tampered.output
    )
    blob.unlink()
    missing = runner.invoke(cli, ["audit", "verify"])
    assert missing.exit_code == 1
    assert f"attachment {digest} is missing from the blob store" in missing.output


def test_the_upload_ceiling_is_for_multipart_bodies_only(
    client: TestClient, tokens: dict[str, Headers]
) -> None:
    url = f"/api/v1/workflows/{REPORT}/attachments"
    raw = {**tokens["citizen"], "Content-Type": "application/octet-stream"}
    problem(client.post(url, content=b"\0" * (2 << 20), headers=raw), 413, "payload-too-large")
