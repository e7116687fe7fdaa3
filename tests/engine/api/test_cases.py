"""Cases over HTTP: open, read, list, fire, history, and every error status they answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from engine.clock import FakeClock
from tests.engine.api.helpers import case_body, problem

Tokens = dict[str, dict[str, str]]
NewCase = Callable[..., dict[str, Any]]


def fire(
    client: TestClient, case_id: int, trigger: str, headers: dict[str, str], **body: Any
) -> Any:
    return client.post(
        f"/api/v1/cases/{case_id}/transitions", json={"trigger": trigger, **body}, headers=headers
    )


def test_create_answers_201_with_location_etag_and_the_callers_triggers(
    client: TestClient, tokens: Tokens
) -> None:
    response = client.post("/api/v1/cases", json=case_body(), headers=tokens["county"])
    assert response.status_code == 201
    case = response.json()
    assert response.headers["location"] == f"/api/v1/cases/{case['id']}"
    assert response.headers["etag"] == f'"{case["version"]}"'
    assert case["workflow"] == "api_permit"
    assert case["workflow_version"] == 1
    assert case["state"] == "submitted"
    assert case["jurisdiction"] == "chiping"
    assert case["data"] == {"county": "chiping", "outfall_code": "OF-0001", "applicant": "某企业"}
    assert case["available_triggers"] == ["accept", "comment"]
    assert case["timers"] == []


def test_get_shows_pending_timers_and_triggers_per_caller(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    case = new_case()
    assert fire(client, case["id"], "accept", tokens["county"]).status_code == 200
    as_county = client.get(f"/api/v1/cases/{case['id']}", headers=tokens["county"]).json()
    as_applicant = client.get(f"/api/v1/cases/{case['id']}", headers=tokens["applicant"]).json()
    as_city = client.get(f"/api/v1/cases/{case['id']}", headers=tokens["city"]).json()
    assert as_county["state"] == "reviewing"
    assert as_county["available_triggers"] == ["request_correction", "reject", "comment"]
    assert as_city["available_triggers"] == ["request_correction", "approve", "reject", "comment"]
    assert as_applicant["available_triggers"] == ["comment"]
    [timer] = as_county["timers"]
    assert timer["trigger"] == "overdue"
    assert timer["status"] == "pending"
    assert timer["due_at"].startswith("2024-03-2")  # 20 working days after 2024-03-01


def test_fire_moves_the_case_and_history_records_the_token(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    case = new_case(who="county")
    moved = fire(client, case["id"], "accept", tokens["county"])
    assert moved.status_code == 200
    assert moved.json()["state"] == "reviewing"
    assert moved.headers["etag"] == f'"{moved.json()["version"]}"'
    payload = {"missing_items": ["排污口位置图"]}
    corrected = fire(client, case["id"], "request_correction", tokens["city"], payload=payload)
    assert corrected.json()["data"]["missing_items"] == ["排污口位置图"]
    history = client.get(f"/api/v1/cases/{case['id']}/history", headers=tokens["county"])
    assert history.status_code == 200
    events = history.json()["items"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [(e["kind"], e["trigger"]) for e in events] == [
        ("created", None),
        ("transition", "accept"),
        ("transition", "request_correction"),
    ]
    assert [(e["actor"], e["role"], e["jurisdiction"]) for e in events] == [
        ("茌平区分局", "county_eeb", "chiping"),
        ("茌平区分局", "county_eeb", "chiping"),
        ("市生态环境局", "eeb_city", "liaocheng"),
    ]
    assert events[2]["payload"] == payload


def test_trigger_not_allowed_is_409_listing_the_allowed_triggers(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    case = new_case()
    body = problem(fire(client, case["id"], "approve", tokens["city"]), 409, "trigger-not-allowed")
    assert body["allowed_triggers"] == ["accept", "comment"]
    assert "approve" in body["detail"]
    unknown = problem(
        fire(client, case["id"], "launch", tokens["city"]), 409, "trigger-not-allowed"
    )
    assert unknown["allowed_triggers"] == ["accept", "comment"]


def test_closed_case_is_409_with_no_triggers(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    case = new_case()
    fire(client, case["id"], "accept", tokens["city"])
    assert fire(client, case["id"], "approve", tokens["city"]).json()["open"] is False
    body = problem(fire(client, case["id"], "comment", tokens["city"]), 409, "trigger-not-allowed")
    assert body["allowed_triggers"] == []


def test_role_not_allowed_is_403_and_changes_nothing(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    case = new_case()
    body = problem(fire(client, case["id"], "accept", tokens["applicant"]), 403, "forbidden")
    assert "applicant" in body["detail"]
    after = client.get(f"/api/v1/cases/{case['id']}", headers=tokens["city"]).json()
    assert (after["state"], after["version"]) == (case["state"], case["version"])


def test_opening_a_case_needs_a_role_of_the_workflow(client: TestClient, tokens: Tokens) -> None:
    response = client.post("/api/v1/cases", json=case_body(), headers=tokens["outsider"])
    assert "housing_city" in problem(response, 403, "forbidden")["detail"]


def test_payload_breaking_its_schema_is_422_with_json_paths(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    case = new_case()
    fire(client, case["id"], "accept", tokens["city"])
    response = fire(
        client, case["id"], "request_correction", tokens["city"], payload={"missing_items": [7]}
    )
    body = problem(response, 422, "invalid-input")
    assert body["errors"] == [
        {
            "in": "body",
            "json_path": "$.payload.missing_items[0]",
            "message": "7 is not of type 'string'",
        }
    ]


def test_data_breaking_the_data_schema_is_422_with_json_paths(
    client: TestClient, tokens: Tokens
) -> None:
    response = client.post("/api/v1/cases", json=case_body(code="", note=5), headers=tokens["city"])
    body = problem(response, 422, "invalid-input")
    paths = [e["json_path"] for e in body["errors"]]
    assert paths == ["$.data.note", "$.data.outfall_code"]


def test_request_schema_violations_are_422_with_json_paths(
    client: TestClient, tokens: Tokens
) -> None:
    cases = [
        ({"data": {}}, "$.workflow"),
        ({"workflow": "api_permit", "data": "x"}, "$.data"),
        ({"workflow": 5}, "$.workflow"),
        ({"workflow": "api_permit", "colour": "red"}, "$.colour"),
        ({"workflow": "api_permit", "data": {"n": "a\u0000b"}}, "$.data"),
        ({"workflow": "x" * 65}, "$.workflow"),
    ]
    for body, path in cases:
        response = client.post("/api/v1/cases", json=body, headers=tokens["city"])
        errors = problem(response, 422, "invalid-request")["errors"]
        assert [e["in"] for e in errors] == ["body"], body
        assert errors[0]["json_path"] == path, body


def test_malformed_json_and_odd_numbers_are_never_a_500(client: TestClient, tokens: Tokens) -> None:
    headers = {**tokens["city"], "content-type": "application/json"}
    for raw in (
        b"{bad",
        b'{"workflow": "api_permit", "data": {"n": NaN}}',
        b'{"workflow": "api_permit", "data": {"n": 1e400}}',
        b'{"workflow": "api_permit", "data": {"n": "\\ud800"}}',
        b"\xff\xfe",
        b"[" * 100_000,
    ):
        response = client.post("/api/v1/cases", content=raw, headers=headers)
        assert response.status_code in (400, 422), raw
        assert response.headers["content-type"] == "application/problem+json"
    huge = b'{"workflow": "api_permit", "data": {"county": "chiping", "outfall_code": "X-1", '
    huge += b'"n": ' + b"9" * 40 + b"}}"
    created = client.post("/api/v1/cases", content=huge, headers=headers)
    assert created.status_code == 201
    assert created.json()["data"]["n"] == int("9" * 40)
    digits = b'{"workflow": "api_permit", "data": {"n": ' + b"9" * 5000 + b"}}"
    assert client.post("/api/v1/cases", content=digits, headers=headers).status_code == 400
    problem(
        client.get("/api/v1/cases/99999999999999999999", headers=tokens["city"]),
        422,
        "invalid-request",
    )
    problem(client.get("/api/v1/cases/abc", headers=tokens["city"]), 422, "invalid-request")
    problem(client.get("/api/v1/cases?after=-1", headers=tokens["city"]), 422, "invalid-request")


def test_unknown_workflow_and_unknown_case_are_404(client: TestClient, tokens: Tokens) -> None:
    response = client.post(
        "/api/v1/cases", json={"workflow": "nope", "data": {}}, headers=tokens["city"]
    )
    problem(response, 404, "workflow-not-found")
    for path in ("/api/v1/cases/4242", "/api/v1/cases/4242/history"):
        problem(client.get(path, headers=tokens["city"]), 404, "case-not-found")
    problem(fire(client, 4242, "accept", tokens["city"]), 404, "case-not-found")
    problem(client.get("/api/v1/no-such-thing", headers=tokens["city"]), 404, "not-found")


def test_second_open_case_for_a_subject_is_409_naming_the_open_one(
    client: TestClient, tokens: Tokens
) -> None:
    body = {**case_body(code="OF-7"), "subject": "OF-7"}
    first = client.post("/api/v1/cases", json=body, headers=tokens["city"]).json()
    response = client.post("/api/v1/cases", json=body, headers=tokens["city"])
    assert problem(response, 409, "duplicate-open-case")["existing_case_id"] == first["id"]


def test_if_match_stale_is_412_and_current_is_200(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    case = new_case()
    stale = {**tokens["city"], "If-Match": f'"{case["version"] - 1}"'}
    body = problem(fire(client, case["id"], "accept", stale), 412, "stale-version")
    assert body["current_version"] == case["version"]
    current = {**tokens["city"], "If-Match": f'"{case["version"]}"'}
    assert fire(client, case["id"], "accept", current).status_code == 200
    bare = {**tokens["city"], "If-Match": str(case["version"] + 1)}
    assert fire(client, case["id"], "comment", bare, payload={"note": "ok"}).status_code == 200
    garbage = {**tokens["city"], "If-Match": "yesterday"}
    errors = problem(fire(client, case["id"], "comment", garbage), 400, "malformed-request")
    assert errors["errors"][0]["in"] == "header"


def test_list_filters(client: TestClient, tokens: Tokens, new_case: NewCase) -> None:
    a = new_case("chiping", "OF-A")
    b = new_case("linqing", "OF-B")
    fire(client, b["id"], "accept", tokens["city"])
    subject = {**case_body(code="OF-C"), "subject": "OF-C"}
    c = client.post("/api/v1/cases", json=subject, headers=tokens["city"]).json()

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/cases{query}", headers=tokens["city"])
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids("") == [a["id"], b["id"], c["id"]]
    assert ids("?workflow=api_permit&state=reviewing") == [b["id"]]
    assert ids("?workflow=other") == []
    assert ids("?jurisdiction=linqing") == [b["id"]]
    assert ids("?jurisdiction=liaocheng") == [a["id"], b["id"], c["id"]]
    assert ids("?subject=OF-C") == [c["id"]]
    assert ids("?overdue=true") == []
    assert ids("?overdue=false") == [a["id"], b["id"], c["id"]]


def test_overdue_filter_follows_the_clock(
    client: TestClient, tokens: Tokens, new_case: NewCase, clock: FakeClock
) -> None:
    a = new_case("chiping", "OF-A")
    b = new_case("chiping", "OF-B")
    fire(client, b["id"], "accept", tokens["city"])
    clock.advance(timedelta(days=60))
    late = client.get("/api/v1/cases?overdue=true", headers=tokens["city"]).json()["items"]
    on_time = client.get("/api/v1/cases?overdue=false", headers=tokens["city"]).json()["items"]
    assert [i["id"] for i in late] == [b["id"]]
    assert [i["id"] for i in on_time] == [a["id"]]


def test_pages_cover_every_case_once_in_a_stable_order(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    made = [new_case("chiping", f"OF-{n}")["id"] for n in range(7)]
    seen: list[int] = []
    after = 0
    pages = 0
    while True:
        response = client.get(f"/api/v1/cases?limit=3&after={after}", headers=tokens["city"])
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        if page["next"] is None:
            break
        after = page["next"]
    assert seen == made
    assert pages == 3
    last = client.get(f"/api/v1/cases?limit=7&after={made[-1]}", headers=tokens["city"]).json()
    assert last == {"items": [], "next": None}


def test_unknown_or_repeated_query_parameters_are_422(client: TestClient, tokens: Tokens) -> None:
    misspelt = client.get("/api/v1/cases?stat=reviewing", headers=tokens["city"])
    errors = problem(misspelt, 422, "invalid-request")["errors"]
    assert errors == [{"in": "query", "json_path": "$.stat", "message": "unknown query parameter"}]
    twice = client.get("/api/v1/cases?state=a&state=b", headers=tokens["city"])
    errors = problem(twice, 422, "invalid-request")["errors"]
    assert errors == [{"in": "query", "json_path": "$.state", "message": "given more than once"}]


def test_a_condition_that_does_not_hold_is_409_guard_failed(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    case = new_case()
    body = problem(fire(client, case["id"], "fast_track", tokens["city"]), 409, "guard-failed")
    assert body["allowed_triggers"] == ["accept", "comment"]
    assert body["guards"] == ["when"]
    fire(client, case["id"], "comment", tokens["city"], payload={"note": "材料齐全"})
    now = client.get(f"/api/v1/cases/{case['id']}", headers=tokens["city"]).json()
    assert now["available_triggers"] == ["accept", "fast_track", "comment"]
    assert fire(client, case["id"], "fast_track", tokens["city"]).json()["state"] == "reviewing"


def test_a_method_the_path_does_not_take_is_405_naming_those_it_takes(
    client: TestClient, tokens: Tokens
) -> None:
    answer = client.patch("/api/v1/cases", headers=tokens["city"])
    problem(answer, 405, "method-not-allowed")
    assert answer.headers["allow"] == "GET, POST"  # routes of included routers are seen too
    answer = client.delete("/api/v1/workflows/validate", headers=tokens["city"])
    assert answer.headers["allow"] == "POST"  # the path's own route, not /workflows/{name}
