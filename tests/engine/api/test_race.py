"""Two clients racing on one case: exactly one wins, the other is told why, history stays whole."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.runtime import Engine

Tokens = dict[str, dict[str, str]]
NewCase = Callable[..., dict[str, Any]]
ROUNDS = 8


@pytest.fixture
def second_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def race(
    clients: list[TestClient], url: str, bodies: list[dict[str, Any]], headers: list[dict[str, str]]
) -> list[Any]:
    barrier = threading.Barrier(len(clients))
    results: list[Any] = [None] * len(clients)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = clients[index].post(url, json=bodies[index], headers=headers[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("if_match", [True, False], ids=["if-match", "blind"])
def test_one_wins_the_other_gets_409_or_412(
    client: TestClient,
    second_client: TestClient,
    tokens: Tokens,
    new_case: NewCase,
    api_engine: Engine,
    if_match: bool,
) -> None:
    for n in range(ROUNDS):
        case = new_case("chiping", f"RACE-{n}")
        extra = {"If-Match": f'"{case["version"]}"'} if if_match else {}
        headers = [{**tokens["city"], **extra}, {**tokens["county"], **extra}]
        url = f"/api/v1/cases/{case['id']}/transitions"
        bodies = [{"trigger": "accept"}, {"trigger": "accept"}]
        results = race([client, second_client], url, bodies, headers)
        statuses = sorted(r.status_code for r in results)
        assert statuses[0] == 200, [r.text for r in results]
        assert statuses[1] in (409, 412), [r.text for r in results]
        loser = next(r for r in results if r.status_code != 200)
        assert loser.headers["content-type"] == "application/problem+json"
        events = client.get(f"{url[: -len('/transitions')]}/history", headers=tokens["city"])
        items = events.json()["items"]
        assert [e["seq"] for e in items] == [1, 2]
        assert [e["trigger"] for e in items] == [None, "accept"]
    assert api_engine.verify_audit() == []


def test_racing_comments_both_land_in_a_contiguous_history(
    client: TestClient, second_client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    case = new_case()
    url = f"/api/v1/cases/{case['id']}/transitions"
    for n in range(ROUNDS):
        bodies = [
            {"trigger": "comment", "payload": {"note": f"city {n}"}},
            {"trigger": "comment", "payload": {"note": f"county {n}"}},
        ]
        results = race([client, second_client], url, bodies, [tokens["city"], tokens["county"]])
        assert [r.status_code for r in results] == [200, 200]
    items = client.get(f"/api/v1/cases/{case['id']}/history", headers=tokens["city"]).json()
    seqs = [e["seq"] for e in items["items"]]
    assert seqs == list(range(1, 2 * ROUNDS + 2))
