"""Token hygiene over HTTP: expiry on the engine's clock (the token cache included), rotation,
revocation by id, names and jurisdictions checked, failed attempts throttled per address, and
the SQLite file private to its owner. Time is moved by hand: the fake clock for expiry, a
fake monotonic source for the trust window and the throttle."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.api import auth, tokens
from engine.api.auth import FAILURE_WINDOW, MAX_FAILURES, FailureThrottle, TooManyRequests
from engine.api.tokens import (
    TokenError,
    create_token,
    expiry,
    list_tokens,
    revoke_token,
    rotate_token,
)
from engine.clock import FakeClock
from engine.runtime import Engine
from engine.store import migrate
from engine.store.repository import Store
from tests.engine.api.helpers import case_body, problem

Headers = dict[str, str]


class Ticks:
    """A monotonic time source, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> Ticks:
    """The token cache's and the throttle's time (fresh counts for the test)."""
    source = Ticks()
    monkeypatch.setattr(tokens.verified, "monotonic", source)
    monkeypatch.setattr(auth, "failures", FailureThrottle(monotonic=source))
    return source


def _bearer(secret: str) -> Headers:
    return {"Authorization": f"Bearer {secret}"}


def _token(engine: Engine, name: str = "市生态环境局", **kw: str) -> Headers:
    return _bearer(create_token(engine, name, "eeb_city", "liaocheng", **kw)[1])


# -- expiry -------------------------------------------------------------------------------------


def test_an_expired_token_is_401_saying_so_even_moments_after_it_was_verified(
    client: TestClient, api_engine: Engine, clock: FakeClock, ticks: Ticks
) -> None:
    headers = _token(api_engine, expires="30d")
    assert client.get("/api/v1/cases", headers=headers).status_code == 200  # now cached
    clock.advance(timedelta(days=30))  # the trust window has not passed: ticks did not move
    for answer in (
        client.get("/api/v1/cases", headers=headers),
        client.post("/api/v1/cases/1/transitions", json={"trigger": "x"}, headers=headers),
    ):
        body = problem(answer, 401, "unauthorized")
        assert body["detail"] == "the token has expired"  # nothing about whose token it was
        assert answer.headers["www-authenticate"] == "Bearer"


def test_a_token_lives_365_days_by_default(
    client: TestClient, api_engine: Engine, clock: FakeClock, ticks: Ticks
) -> None:
    row, secret = create_token(api_engine, "bureau", "eeb_city", "liaocheng")
    assert row.expires_at == clock.now() + timedelta(days=365)
    [stored] = list_tokens(api_engine)
    assert stored.expires_at == row.expires_at
    clock.advance(timedelta(days=365) - timedelta(seconds=1))
    assert client.get("/api/v1/cases", headers=_bearer(secret)).status_code == 200
    clock.advance(timedelta(seconds=1))
    problem(client.get("/api/v1/cases", headers=_bearer(secret)), 401, "unauthorized")


def test_a_revoked_token_that_has_expired_says_only_unknown_or_revoked(
    client: TestClient, api_engine: Engine, clock: FakeClock, ticks: Ticks
) -> None:
    row, secret = create_token(api_engine, "gone", "admin", expires="1d")
    revoke_token(api_engine, row.id)
    clock.advance(timedelta(days=2))
    body = problem(client.get("/api/v1/cases", headers=_bearer(secret)), 401, "unauthorized")
    assert body["detail"] == "the token is unknown or revoked"


def test_expiry_is_read_from_days_dates_datetimes_and_never(
    api_engine: Engine, clock: FakeClock
) -> None:
    now = clock.now()
    assert expiry(api_engine, None) == now + timedelta(days=365)
    assert expiry(api_engine, "90d") == now + timedelta(days=90)
    assert expiry(api_engine, "2024-06-30") == datetime(2024, 6, 30, 16, tzinfo=UTC)
    assert expiry(api_engine, "2024-06-30T18:00+08:00") == datetime(2024, 6, 30, 10, tzinfo=UTC)
    assert expiry(api_engine, "never") is None
    for bad in ("", "90", "-1d", "0d", "soon", "2024-13-01", "2024-02-29"):
        with pytest.raises(TokenError, match="--expires"):
            expiry(api_engine, bad)


# -- rotation and revocation ------------------------------------------------------------------


def test_rotation_keeps_the_name_role_and_jurisdiction_and_the_history_actor(
    client: TestClient, api_engine: Engine, clock: FakeClock, ticks: Ticks
) -> None:
    old, old_secret = create_token(api_engine, "茌平区分局", "county_eeb", "chiping", expires="1d")
    created = client.post("/api/v1/cases", json=case_body(), headers=_bearer(old_secret))
    assert created.status_code == 201, created.text
    clock.advance(timedelta(days=2))  # an expired token may be rotated
    new, secret = rotate_token(api_engine, old.id, expires="30d")
    assert (new.name, new.role, new.jurisdiction) == ("茌平区分局", "county_eeb", "chiping")
    assert new.id != old.id
    assert new.expires_at == clock.now() + timedelta(days=30)
    case_id = created.json()["id"]
    fired = client.post(
        f"/api/v1/cases/{case_id}/transitions",
        json={"trigger": "accept"},
        headers=_bearer(secret),
    )
    assert fired.status_code == 200, fired.text
    history = client.get(f"/api/v1/cases/{case_id}/history", headers=_bearer(secret)).json()
    assert {item["actor"] for item in history["items"]} == {"茌平区分局"}
    problem(client.get("/api/v1/cases", headers=_bearer(old_secret)), 401, "unauthorized")
    retired = next(t for t in list_tokens(api_engine) if t.id == old.id)
    assert retired.name == f"茌平区分局 [rotated #{old.id}]"
    assert retired.revoked_at == clock.now()


def test_rotating_is_immediate_even_for_a_token_verified_moments_ago(
    client: TestClient, api_engine: Engine, ticks: Ticks
) -> None:
    row, secret = create_token(api_engine, "cached", "admin")
    assert client.get("/api/v1/workflows", headers=_bearer(secret)).status_code == 200
    _, new = rotate_token(api_engine, row.id)
    problem(client.get("/api/v1/workflows", headers=_bearer(secret)), 401, "unauthorized")
    assert client.get("/api/v1/workflows", headers=_bearer(new)).status_code == 200


def test_a_revoked_or_unknown_token_is_not_rotated(api_engine: Engine) -> None:
    row, _ = create_token(api_engine, "x", "admin")
    revoke_token(api_engine, row.id)
    with pytest.raises(TokenError, match="is revoked: create a new token instead"):
        rotate_token(api_engine, row.id)
    with pytest.raises(TokenError, match="no token has id 99"):
        rotate_token(api_engine, 99)


def test_revoking_by_id_or_name_frees_the_name(api_engine: Engine) -> None:
    numbered, _ = create_token(api_engine, "2", "admin")  # named "2", id 1
    with pytest.raises(TokenError, match="no token has id 2"):
        revoke_token(api_engine, 2)
    assert revoke_token(api_engine, numbered.id).name == "2"
    with pytest.raises(TokenError, match="revoked already"):
        revoke_token(api_engine, numbered.id)
    again, _ = create_token(api_engine, "2", "admin")
    assert revoke_token(api_engine, name="2").id == again.id
    with pytest.raises(TokenError, match="no token is named '2'"):
        revoke_token(api_engine, name="2")
    with pytest.raises(TokenError, match="by its id or by its name"):
        revoke_token(api_engine)


# -- names and jurisdictions ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        *("", " ", " x", "x ", "a\tb", "a\nb", "a\rb", "nul\x00", "zero\u200bwidth"),
        *("x" * 201, "x [revoked #3]", "x [rotated #12]"),
    ],
    ids=repr,
)
def test_token_names_are_printable_and_trimmed(api_engine: Engine, name: str) -> None:
    with pytest.raises(TokenError, match="token name"):
        create_token(api_engine, name, "admin")
    assert list_tokens(api_engine) == []


@pytest.mark.parametrize("name", ["市行政审批局", "ops bot", "x" * 200, "a [revoked]"])
def test_good_names_are_taken_as_they_are(api_engine: Engine, name: str) -> None:
    row, _ = create_token(api_engine, name, "admin")
    assert row.name == name


@pytest.mark.parametrize("role", ["county_eeb", "county_gov", "applicant", "discharger", "public"])
def test_county_and_party_roles_need_a_jurisdiction(api_engine: Engine, role: str) -> None:
    with pytest.raises(TokenError, match=r"acts inside one jurisdiction.*--jurisdiction"):
        create_token(api_engine, "x", role)
    assert create_token(api_engine, "x", role, "chiping")[0].jurisdiction == "chiping"


@pytest.mark.parametrize("role", ["admin", "eeb_city", "eeb_province"])
def test_city_and_higher_roles_may_go_without_one(api_engine: Engine, role: str) -> None:
    assert create_token(api_engine, "x", role)[0].jurisdiction is None


# -- the throttle on failed attempts ----------------------------------------------------------


@pytest.fixture
def elsewhere(app: FastAPI) -> Iterator[TestClient]:
    """A client at another address than ``client``'s."""
    with TestClient(app, client=("192.0.2.7", 50000)) as other:
        yield other


def _fail(client: TestClient, times: int, route: str = "list") -> None:
    bad = _bearer("qlt_guessed")
    for _ in range(times):
        if route == "list":
            answer = client.get("/api/v1/cases", headers=bad)
        else:
            answer = client.post("/api/v1/cases/1/transitions", json={"trigger": "x"}, headers=bad)
        problem(answer, 401, "unauthorized")


def test_an_address_with_too_many_failures_gets_429_until_the_window_passes(
    client: TestClient, elsewhere: TestClient, api_engine: Engine, ticks: Ticks
) -> None:
    good = _token(api_engine)
    _fail(client, MAX_FAILURES)
    for headers in (_bearer("qlt_guessed"), good):  # a good token too: nothing is verified
        answer = client.get("/api/v1/cases", headers=headers)
        problem(answer, 429, "too-many-requests")
        assert answer.headers["retry-after"] == str(int(FAILURE_WINDOW))
    assert elsewhere.get("/api/v1/cases", headers=good).status_code == 200  # another address
    ticks.now += 45
    answer = client.get("/api/v1/cases", headers=good)
    problem(answer, 429, "too-many-requests")
    assert answer.headers["retry-after"] == "15"
    ticks.now += 15
    assert client.get("/api/v1/cases", headers=good).status_code == 200


def test_successes_do_not_count_and_missing_headers_are_not_attempts(
    client: TestClient, api_engine: Engine, ticks: Ticks
) -> None:
    good = _token(api_engine)
    for _ in range(3 * MAX_FAILURES):
        assert client.get("/api/v1/cases", headers=good).status_code == 200
        problem(client.get("/api/v1/cases"), 401, "unauthorized")
    _fail(client, MAX_FAILURES - 1)
    assert client.get("/api/v1/cases", headers=good).status_code == 200
    _fail(client, 1)
    problem(client.get("/api/v1/cases", headers=good), 429, "too-many-requests")


def test_both_entrances_count_and_refuse_together(
    client: TestClient, api_engine: Engine, ticks: Ticks
) -> None:
    good = _token(api_engine)
    _fail(client, MAX_FAILURES // 2, route="transitions")
    _fail(client, MAX_FAILURES - MAX_FAILURES // 2, route="list")
    fired = client.post("/api/v1/cases/1/transitions", json={"trigger": "x"}, headers=good)
    problem(fired, 429, "too-many-requests")
    problem(client.get("/api/v1/workflows", headers=good), 429, "too-many-requests")


def test_the_throttle_remembers_a_bounded_number_of_addresses_and_moments() -> None:
    ticks = Ticks()
    throttle = FailureThrottle(limit=3, window=10, monotonic=ticks, capacity=4)
    for n in range(50):
        throttle.failed(("db", f"10.0.0.{n}"))
        throttle.failed(("db", "10.0.0.99"))
        ticks.now += 0.1
    assert len(throttle._failed) <= 4
    assert max(len(m) for m in throttle._failed.values()) <= 3
    with pytest.raises(TooManyRequests) as refused:
        throttle.check(("db", "10.0.0.99"))  # kept: the newest key
    assert refused.value.status == 429
    assert refused.value.headers() == {"Retry-After": "10"}
    ticks.now += 10
    throttle.check(("db", "10.0.0.99"))


# -- the database file ------------------------------------------------------------------------


def test_a_new_sqlite_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    database = tmp_path / "made" / "here" / "qingliu.db"
    url = f"sqlite:///{database}"
    before = os.umask(0o022)
    try:
        migrate.ensure_folder(url)
        store = Store(url)
        try:
            migrate.upgrade(store)
            with store.read() as tx:
                assert tx.tokens() == []
            modes = {
                path.name: stat.S_IMODE(path.stat().st_mode)
                for path in database.parent.iterdir()
                if not path.name.endswith("-turn")
            }
        finally:
            store.dispose()
    finally:
        os.umask(before)
    assert modes == {"qingliu.db": 0o600, "qingliu.db-wal": 0o600, "qingliu.db-shm": 0o600}
    assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700
