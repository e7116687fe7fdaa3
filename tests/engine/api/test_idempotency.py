"""Idempotency-Key: a repeated key returns the first response and changes nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.engine.api.helpers import problem

Tokens = dict[str, dict[str, str]]
NewCase = Callable[..., dict[str, Any]]


def test_a_replayed_key_returns_the_first_response_and_changes_nothing(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    case = new_case()
    url = f"/api/v1/cases/{case['id']}/transitions"
    headers = {**tokens["city"], "Idempotency-Key": "accept-OF-0001"}
    first = client.post(url, json={"trigger": "accept"}, headers=headers)
    assert first.status_code == 200
    assert "idempotent-replayed" not in first.headers
    history = client.get(f"/api/v1/cases/{case['id']}/history", headers=tokens["city"]).json()
    again = client.post(url, json={"trigger": "accept"}, headers=headers)
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    after = client.get(f"/api/v1/cases/{case['id']}/history", headers=tokens["city"]).json()
    assert after == history
    assert len(after["items"]) == 2


def test_the_same_key_with_another_request_is_422(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    case = new_case()
    url = f"/api/v1/cases/{case['id']}/transitions"
    headers = {**tokens["city"], "Idempotency-Key": "k-1"}
    assert client.post(url, json={"trigger": "accept"}, headers=headers).status_code == 200
    other = client.post(url, json={"trigger": "comment", "payload": {"note": "x"}}, headers=headers)
    body = problem(other, 422, "idempotency-key-reused")
    assert "k-1" in body["detail"]


def test_keys_belong_to_their_token(client: TestClient, tokens: Tokens, new_case: NewCase) -> None:
    case = new_case()
    url = f"/api/v1/cases/{case['id']}/transitions"
    body = {"trigger": "comment", "payload": {"note": "同一个键"}}
    first = client.post(url, json=body, headers={**tokens["city"], "Idempotency-Key": "same"})
    second = client.post(url, json=body, headers={**tokens["county"], "Idempotency-Key": "same"})
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["version"] == first.json()["version"] + 1
    assert "idempotent-replayed" not in second.headers


def test_a_failed_request_records_nothing_and_may_be_retried(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    case = new_case()
    url = f"/api/v1/cases/{case['id']}/transitions"
    headers = {**tokens["city"], "Idempotency-Key": "try-approve"}
    problem(
        client.post(url, json={"trigger": "approve"}, headers=headers), 409, "trigger-not-allowed"
    )
    client.post(url, json={"trigger": "accept"}, headers=tokens["city"])
    retried = client.post(url, json={"trigger": "approve"}, headers=headers)
    assert retried.status_code == 200
    assert retried.json()["state"] == "approved"


def test_a_malformed_key_is_400(client: TestClient, tokens: Tokens, new_case: NewCase) -> None:
    case = new_case()
    url = f"/api/v1/cases/{case['id']}/transitions"
    for key in ("", "x" * 201, "has space"):
        response = client.post(
            url, json={"trigger": "accept"}, headers={**tokens["city"], "Idempotency-Key": key}
        )
        problem(response, 400, "malformed-request")


DUPLICATES = 20


@pytest.mark.parametrize(
    ("body", "if_match"),
    [
        ({"trigger": "accept"}, True),
        ({"trigger": "accept"}, False),
        ({"trigger": "comment", "payload": {"note": "重复提交"}}, False),
    ],
    ids=["accept-if-match", "accept-blind", "comment"],
)
def test_racing_duplicates_of_one_key_all_get_the_first_answer(
    client: TestClient, tokens: Tokens, new_case: NewCase, body: dict[str, Any], if_match: bool
) -> None:
    """20 identical requests with one key at once: one transition, and every answer is the
    first one (the others wait for it to commit and replay it), never a 409 or 412."""
    case = new_case()
    url = f"/api/v1/cases/{case['id']}/transitions"
    headers = {**tokens["city"], "Idempotency-Key": "twenty-at-once"}
    if if_match:
        headers["If-Match"] = f'"{case["version"]}"'
    barrier = threading.Barrier(DUPLICATES)

    def send(_: int) -> Any:
        barrier.wait()
        return client.post(url, json=body, headers=headers)

    with ThreadPoolExecutor(DUPLICATES) as pool:
        answers = list(pool.map(send, range(DUPLICATES)))
    firsts = [a for a in answers if "idempotent-replayed" not in a.headers]
    assert len(firsts) == 1, [(a.status_code, a.text) for a in answers]
    first = firsts[0]
    assert first.status_code == 200, first.text
    assert [(a.status_code, a.json()) for a in answers] == [(200, first.json())] * DUPLICATES
    assert {a.headers["etag"] for a in answers} == {first.headers["etag"]}
    history = client.get(f"/api/v1/cases/{case['id']}/history", headers=tokens["city"]).json()
    assert [e["kind"] for e in history["items"]] == ["created", "transition"]
