"""``POST /api/v1/cases/{id}/transitions`` reads its request itself (``engine.api.transition``):
every refusal is the problem document FastAPI's declared parameters gave, in the same order
(the body's JSON, the query string, the token, then the path and the body's shape together),
and the operation is declared in the OpenAPI document as if FastAPI had built it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.engine.api.helpers import problem

Tokens = dict[str, dict[str, str]]
JSON = {"Content-Type": "application/json"}
COMMENT = {"trigger": "comment", "payload": {"note": "现场核查"}}


@pytest.fixture
def url(client: TestClient, tokens: Tokens, new_case: Any) -> str:
    return f"/api/v1/cases/{new_case()['id']}/transitions"


def _faults(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["in"], e["json_path"]) for e in body.get("errors", [])]


def test_a_plain_transition_answers_the_case_with_its_etag(
    client: TestClient, tokens: Tokens, url: str
) -> None:
    for headers in (
        tokens["city"],
        {"Authorization": tokens["city"]["Authorization"].replace("Bearer", "bearer")},
    ):
        answer = client.post(url, json=COMMENT, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["etag"] == f'"{answer.json()["version"]}"'
        assert answer.json()["data"]["note"] == "现场核查"
    charset = {**tokens["city"], "Content-Type": "application/json; charset=utf-8"}
    answer = client.post(
        url, content=b'{"trigger": "comment", "payload": {"note": "x"}}', headers=charset
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"{not json",
            "the body is not valid JSON: Expecting property name enclosed in double quotes",
        ),
        (b"\xff\xfe", "the body is not valid JSON: Expecting value"),
        (
            b'{"trigger": "comment", "payload": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001,
            "the JSON body is nested more than 64 levels deep",
        ),
    ],
    ids=["not-json", "not-text", "nested-too-deeply"],
)
def test_a_body_that_is_not_json_is_400_before_anything_else(
    client: TestClient, url: str, content: bytes, message: str
) -> None:
    body = problem(
        client.post(url + "?x=1", content=content, headers=JSON), 400, "malformed-request"
    )
    assert body["detail"] == message  # no token, a query string: the body is read first


def test_a_query_parameter_is_refused_before_the_token_is_asked_for(
    client: TestClient, url: str
) -> None:
    body = problem(client.post(url + "?dry_run=1", json=COMMENT), 422, "invalid-request")
    assert _faults(body) == [("query", "$.dry_run")]


@pytest.mark.parametrize(
    "authorization", [None, "Basic eDp5", "Bearer", "Bearer qlt_nobody"], ids=str
)
def test_without_a_live_bearer_token_it_is_401_before_the_path_and_body_are_checked(
    client: TestClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    answer = client.post("/api/v1/cases/0/transitions", json={"x": 1}, headers=headers)
    problem(answer, 401, "unauthorized")
    assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("path", "sent", "faults"),
    [
        ("0", {"json": COMMENT}, [("path", "$.case_id")]),
        ("abc", {"json": COMMENT}, [("path", "$.case_id")]),
        (str(2**63), {"json": COMMENT}, [("path", "$.case_id")]),
        ("0", {"json": {"x": 1}}, [("path", "$.case_id"), ("body", "$.trigger"), ("body", "$.x")]),
        ("1", {"json": [COMMENT]}, [("body", "$")]),
        ("1", {"json": {**COMMENT, "extra": 1}}, [("body", "$.extra")]),
        ("1", {"json": {"trigger": ""}}, [("body", "$.trigger")]),
        ("1", {"json": {"trigger": "a\x00b"}}, [("body", "$.trigger")]),
        (
            "1",
            {"content": b'{"trigger": "c", "payload": {"n": NaN}}', "headers": JSON},
            [("body", "$.payload")],
        ),
        ("1", {"content": b'{"trigger": "accept"}'}, [("body", "$")]),  # no media type: not JSON
        (
            "1",
            {"content": b'{"trigger": "accept"}', "headers": {"Content-Type": "text/plain"}},
            [("body", "$")],
        ),
        ("1", {"content": b"", "headers": JSON}, [("body", "$")]),
    ],
)
def test_the_path_and_the_body_shape_are_checked_together(
    client: TestClient,
    tokens: Tokens,
    new_case: Any,
    path: str,
    sent: dict[str, Any],
    faults: list[tuple[str, str]],
) -> None:
    new_case()
    headers = {**sent.pop("headers", {}), **tokens["city"]}
    answer = client.post(f"/api/v1/cases/{path}/transitions", headers=headers, **sent)
    assert _faults(problem(answer, 422, "invalid-request")) == faults


def test_the_headers_and_the_engine_answer_after_the_request_is_read(
    client: TestClient, tokens: Tokens, url: str
) -> None:
    city = tokens["city"]
    bad_key = {**city, "Idempotency-Key": "has space"}
    assert _faults(
        problem(client.post(url, json=COMMENT, headers=bad_key), 400, "malformed-request")
    ) == [("header", "$.Idempotency-Key")]
    bad_version = {**city, "If-Match": "latest"}
    assert _faults(
        problem(client.post(url, json=COMMENT, headers=bad_version), 400, "malformed-request")
    ) == [("header", "$.If-Match")]
    problem(
        client.post(url, json=COMMENT, headers={**city, "If-Match": '"7"'}), 412, "stale-version"
    )
    problem(client.post(url, json={"trigger": "approve"}, headers=city), 409, "trigger-not-allowed")
    problem(
        client.post(url, json={"trigger": "accept"}, headers=tokens["applicant"]), 403, "forbidden"
    )
    problem(
        client.post(url, json={"trigger": "accept"}, headers=tokens["other_county"]),
        404,
        "case-not-found",
    )
    problem(
        client.post("/api/v1/cases/999/transitions", json=COMMENT, headers=city),
        404,
        "case-not-found",
    )
    first = client.post(url, json=COMMENT, headers={**city, "Idempotency-Key": "k-1"})
    again = client.post(url, json=COMMENT, headers={**city, "Idempotency-Key": "k-1"})
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    problem(
        client.post(url, json={"trigger": "accept"}, headers={**city, "Idempotency-Key": "k-1"}),
        422,
        "idempotency-key-reused",
    )


def test_another_method_is_405_naming_post(client: TestClient, tokens: Tokens, url: str) -> None:
    answer = client.get(url, headers=tokens["city"])
    problem(answer, 405, "method-not-allowed")
    assert answer.headers["allow"] == "POST"


def test_the_operation_is_declared_as_fastapi_would_declare_it(app: FastAPI) -> None:
    document = app.openapi()
    operation = document["paths"]["/api/v1/cases/{case_id}/transitions"]["post"]
    assert [(p["name"], p["in"]) for p in operation["parameters"]] == [
        ("case_id", "path"),
        ("If-Match", "header"),
        ("Idempotency-Key", "header"),
    ]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/TransitionRequest"}
    assert document["components"]["schemas"]["TransitionRequest"]["required"] == ["trigger"]
    assert operation["security"] == [{"HTTPBearer": []}]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/CaseOut"}
    assert {"400", "401", "403", "404", "409", "412", "422"} <= set(operation["responses"])
