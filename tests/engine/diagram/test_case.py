"""A case's diagram marks its current state, the states it passed and the transitions it took,
numbered in order (internal ones on their state's line), from its history; over HTTP it is read
through the case read's scope, and both routes are in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from engine.diagram import case_graph, render
from engine.handlers import Actor
from engine.runtime import Engine
from tests.engine.api.helpers import problem
from tests.engine.diagram.helpers import classes, edges, groups, parse, shows, states

Tokens = dict[str, dict[str, str]]
NewCase = Callable[..., dict[str, Any]]
CITY = Actor("市生态环境局", "eeb_city", "liaocheng")
APPLICANT = Actor("某企业", "applicant", "chiping")


def _walk(client: TestClient, tokens: Tokens, case_id: int) -> None:
    """accept, comment (internal), request_correction, resubmit: back in reviewing."""
    steps = [
        ("accept", "county", {}),
        ("comment", "county", {"note": "材料已收"}),
        ("request_correction", "city", {"missing_items": ["位置图"]}),
        ("resubmit", "applicant", {}),
    ]
    for trigger, who, payload in steps:
        response = client.post(
            f"/api/v1/cases/{case_id}/transitions",
            json={"trigger": trigger, "payload": payload},
            headers=tokens[who],
        )
        assert response.status_code == 200, response.text


def test_the_case_diagram_marks_its_state_and_numbered_path(
    client: TestClient, tokens: Tokens, new_case: NewCase, api_engine: Engine
) -> None:
    case_id = new_case()["id"]
    _walk(client, tokens, case_id)
    definition, row, events = api_engine.case_path(case_id, CITY)
    root = parse(render(case_graph(definition, row, events)))
    assert (root.get("data-case"), root.get("data-current")) == (str(case_id), "reviewing")
    drawn = states(root)
    assert [n for n, g in drawn.items() if "current" in classes(g)] == ["reviewing"]
    assert {n for n, g in drawn.items() if "visited" in classes(g)} == {
        "submitted",
        "reviewing",
        "correcting",
    }
    taken = {
        (e.get("data-trigger"), e.get("data-source")): e.get("data-steps")
        for e in edges(root)
        if "taken" in classes(e)
    }
    assert taken == {
        ("accept", "submitted"): "1",
        ("request_correction", "reviewing"): "3",
        ("resubmit", "correcting"): "4",
    }
    [comment] = [
        g for g in groups(drawn["reviewing"], "internal") if g.get("data-trigger") == "comment"
    ]
    assert "taken" in classes(comment)
    assert comment.get("data-steps") == "2"
    assert shows(comment, "2")
    [listed] = groups(root, "steps")
    assert shows(listed, "1.")
    assert shows(listed, "受理（accept）submitted → reviewing")
    mermaid = render(case_graph(definition, row, events), "mermaid")
    assert "    class reviewing current" in mermaid
    assert "submitted --> reviewing : (1) 受理" in mermaid
    dot = render(case_graph(definition, row, events), "dot")
    assert 'class="state visited current"' in dot
    assert 'class="edge taken", color="#d9480f"' in dot


def test_a_case_of_another_version_is_drawn_on_its_own_version(
    client: TestClient, tokens: Tokens, new_case: NewCase, api_engine: Engine
) -> None:
    case_id = new_case()["id"]
    text = api_engine.definition("api_permit")[0].source
    api_engine.publish(text.replace("title: 审查中", "title: 审查中（新版）"))
    root = parse(client.get(f"/api/v1/cases/{case_id}/diagram", headers=tokens["city"]).text)
    assert root.get("data-version") == "1"
    assert not shows(states(root)["reviewing"], "新版")
    latest = parse(client.get("/api/v1/workflows/api_permit/diagram", headers=tokens["city"]).text)
    assert latest.get("data-version") == "2"
    assert shows(states(latest)["reviewing"], "审查中（新版）")


def test_workflow_diagram_route_answers_svg_or_text(client: TestClient, tokens: Tokens) -> None:
    url = "/api/v1/workflows/api_permit/diagram"
    svg = client.get(url, headers=tokens["county"])
    assert svg.status_code == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    assert "default-src 'none'" in svg.headers["content-security-policy"]
    assert set(states(parse(svg.text))) == {
        "submitted",
        "reviewing",
        "correcting",
        "approved",
        "rejected",
    }
    mermaid = client.get(url, params={"format": "mermaid"}, headers=tokens["county"])
    assert mermaid.status_code == 200
    assert mermaid.headers["content-type"] == "text/plain; charset=utf-8"
    assert "stateDiagram-v2" in mermaid.text
    dot = client.get(url, params={"format": "dot", "version": 1}, headers=tokens["county"])
    assert dot.text.startswith('digraph "api_permit"')
    problem(
        client.get(url, params={"version": 7}, headers=tokens["county"]), 404, "workflow-not-found"
    )
    problem(
        client.get(url, params={"format": "png"}, headers=tokens["county"]), 422, "invalid-request"
    )
    problem(
        client.get("/api/v1/workflows/nope/diagram", headers=tokens["county"]),
        404,
        "workflow-not-found",
    )
    problem(client.get(url), 401, "unauthorized")


def test_case_diagram_route_reads_through_the_case_scope(
    client: TestClient, tokens: Tokens, new_case: NewCase
) -> None:
    case_id = new_case()["id"]
    url = f"/api/v1/cases/{case_id}/diagram"
    for who in ("county", "city", "province", "applicant", "admin"):
        response = client.get(url, headers=tokens[who])
        assert response.status_code == 200, who
        assert response.headers["content-type"] == "image/svg+xml"
        assert parse(response.text).get("data-current") == "submitted"
    for who in ("other_county", "outsider"):
        assert client.get(f"/api/v1/cases/{case_id}", headers=tokens[who]).status_code == 404
        problem(client.get(url, headers=tokens[who]), 404, "case-not-found")
        problem(
            client.get(url, params={"format": "dot"}, headers=tokens[who]), 404, "case-not-found"
        )
    problem(client.get("/api/v1/cases/999/diagram", headers=tokens["admin"]), 404, "case-not-found")
    text = client.get(url, params={"format": "mermaid"}, headers=tokens["county"])
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert "class submitted current" in text.text


def test_both_routes_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/workflows/{name}/diagram", "/api/v1/cases/{case_id}/diagram"):
        get = paths[path]["get"]
        assert set(get["responses"]["200"]["content"]) == {"image/svg+xml", "text/plain"}
        assert {"401", "404", "422"} <= set(get["responses"])
        [fmt] = [p for p in get["parameters"] if p["name"] == "format"]
        assert fmt["schema"]["enum"] == ["svg", "mermaid", "dot"]
