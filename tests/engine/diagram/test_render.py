"""Every shipped workflow draws: each state once with its title, each transition from each of
its sources, internal transitions and timers listed on their states, nothing overlapping; and
every text is escaped, in SVG, Mermaid and dot alike."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest

from engine.catalog import Catalog
from engine.definition.model import Definition
from engine.definition.validate import check_definition
from engine.diagram import render, workflow_graph
from engine.domain import load_domain
from engine.handlers import Registry
from engine.settings import load_settings
from tests.conftest import ROOT
from tests.engine.diagram.helpers import box, classes, edges, groups, parse, shows, states

WORKFLOWS = sorted((ROOT / "workflows").glob("*.yaml"))


def _definition(path: Path) -> Definition:
    catalog = Catalog(load_domain(load_settings().handlers).registry)
    [definition], problems = catalog.check_files([path])
    assert problems == []
    return definition


@pytest.fixture(params=WORKFLOWS, ids=[p.stem for p in WORKFLOWS])
def shipped(request: pytest.FixtureRequest) -> Definition:
    return _definition(request.param)


def test_every_state_is_drawn_once_with_its_title_and_marks(shipped: Definition) -> None:
    root = parse(render(workflow_graph(shipped, 3)))
    assert root.get("data-workflow") == shipped.name
    assert root.get("data-version") == "3"
    drawn = states(root)
    assert set(drawn) == set(shipped.states)
    for name, spec in shipped.states.items():
        assert shows(drawn[name], spec.title)
        assert ("final" in classes(drawn[name])) == spec.final
        assert ("initial" in classes(drawn[name])) == (name == shipped.initial)
        assert "current" not in classes(drawn[name])
    assert not groups(root, "taken")


def test_every_transition_is_an_edge_or_a_line_of_its_state(shipped: Definition) -> None:
    root = parse(render(workflow_graph(shipped)))
    drawn = {
        (e.get("data-index"), e.get("data-trigger"), e.get("data-source"), e.get("data-dest"))
        for e in edges(root)
    }
    expected = {
        (str(t.index), t.trigger, s, t.dest)
        for t in shipped.transitions
        if t.dest is not None
        for s in t.sources
    }
    assert drawn == expected
    assert len(edges(root)) == len(expected)
    by_state = states(root)
    for t in shipped.transitions:
        if t.internal:
            for source in t.sources:
                lines = groups(by_state[source], "internal")
                assert t.trigger in {line.get("data-trigger") for line in lines}
                assert shows(by_state[source], (t.title or t.trigger))
    for e in edges(root):
        title = next(
            t.title or t.trigger for t in shipped.transitions if str(t.index) == e.get("data-index")
        )
        assert shows(e, title.split("，")[0])


def test_timers_and_deadlines_are_marked(shipped: Definition) -> None:
    root = parse(render(workflow_graph(shipped)))
    by_state = states(root)
    for state, timers in shipped.timers.items():
        notes = groups(by_state[state], "timer")
        assert {n.get("data-trigger") for n in notes} == {t.fires for t in timers}
        assert all(groups(n, "clock") for n in notes)
    for deadline in shipped.deadlines:
        for state in deadline.starts_in:
            assert shows(by_state[state], f"期限 {deadline.name} 起算")
        for state in deadline.pauses_in:
            assert shows(by_state[state], f"期限 {deadline.name} 暂停计时")


def test_setup_approval_shows_its_statutory_times() -> None:
    d = _definition(ROOT / "workflows" / "setup_approval.yaml")
    root = parse(render(workflow_graph(d)))
    [deemed] = [e for e in edges(root) if e.get("data-trigger") == "deemed_accept"]
    assert "timer" in classes(deemed)
    assert groups(deemed, "clock")
    assert shows(deemed, "5 个工作日")
    correcting = states(root)["correcting"]
    assert shows(correcting, "每 5 个工作日")
    assert shows(correcting, "期限 review_limit 暂停计时")
    assert shows(states(root)["reviewing"], "期限 review_limit 起算：20 个工作日 → overdue")


def test_no_label_or_state_overlaps_another(shipped: Definition) -> None:
    root = parse(render(workflow_graph(shipped)))
    rects: dict[str, tuple[float, float, float, float]] = {}
    for name, g in states(root).items():
        rects[f"state {name}"] = box(next(r for r in g if r.tag.endswith("rect")))
    for e in edges(root):
        [label] = groups(e, "label")
        rects[f"label {e.get('id')}"] = box(next(r for r in label if r.tag.endswith("rect")))
    for (a, ra), (b, rb) in combinations(rects.items(), 2):
        apart = ra[2] <= rb[0] or rb[2] <= ra[0] or ra[3] <= rb[1] or rb[3] <= ra[1]
        assert apart, f"{a} overlaps {b}"
    width, height = float(root.get("width", 0)), float(root.get("height", 0))
    assert all(r[0] >= 0 and r[1] >= 0 and r[2] <= width and r[3] <= height for r in rects.values())


def test_the_svg_is_self_contained_with_a_cjk_font_list(shipped: Definition) -> None:
    svg = render(workflow_graph(shipped))
    root = parse(svg)
    family = root.get("font-family") or ""
    assert "WenQuanYi Micro Hei" in family
    assert "Noto Sans CJK SC" in family
    assert family.endswith("sans-serif")
    for tag in ("script", "style", "image", "foreignObject", "link"):
        assert not list(root.iter(f"{{http://www.w3.org/2000/svg}}{tag}"))
    assert "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in svg


def test_mermaid_and_dot_name_every_state_and_transition(shipped: Definition) -> None:
    graph = workflow_graph(shipped)
    mermaid, dot = render(graph, "mermaid"), render(graph, "dot")
    assert "stateDiagram-v2" in mermaid.splitlines()
    assert dot.startswith(f'digraph "{shipped.name}" {{')
    assert dot.rstrip().endswith("}")
    assert f"[*] --> {shipped.initial}" in mermaid
    for name, spec in shipped.states.items():
        assert f'state "{spec.title}" as {name}' in mermaid
        assert f'"{name}" [label="{spec.title}\\n' in dot
        if spec.final:
            assert f"{name} --> [*]" in mermaid
    for t in shipped.transitions:
        for source in t.sources if t.dest is not None else ():
            assert f"    {source} --> {t.dest} : " in mermaid
            assert f'id="edge-{t.index}-{source}"' in dot


HOSTILE = """\
name: hostile
title: '<script>alert("t")</script> & co'
roles: [r]
initial: a
states:
  a: {title: '</text><script>alert(1)</script>'}
  end: {title: "末\\"; ]] # %% 态 & <i>", final: true}
transitions:
  - trigger: go
    title: '<img src=x onerror=alert(2)> "q" #; end note'
    source: a
    dest: end
    roles: [r]
  - trigger: note
    title: 'end note <svg onload=alert(3)>'
    source: a
    internal: true
    roles: [r]
"""


@pytest.fixture
def hostile() -> Definition:
    definition, problems = check_definition(HOSTILE, "hostile.yaml", Registry())
    assert problems == []
    assert definition is not None
    return definition


def test_svg_escapes_every_text_from_the_yaml(hostile: Definition) -> None:
    svg = render(workflow_graph(hostile))
    root = parse(svg)  # well-formed XML whatever the titles say
    assert not list(root.iter("{http://www.w3.org/2000/svg}script"))
    assert "<script" not in svg
    assert "<img" not in svg
    assert "<svg onload" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert shows(states(root)["a"], "</text><script>alert(1)</script>")
    [edge] = edges(root)
    assert shows(edge, '<img src=x onerror=alert(2)> "q" #; end note')
    assert all(not (attr.startswith("on")) for el in root.iter() for attr in el.attrib)


def test_mermaid_and_dot_quote_every_text(hostile: Definition) -> None:
    graph = workflow_graph(hostile)
    mermaid = render(graph, "mermaid")
    for bad in ("<script", "<img", '"q"', "#;", "%%", "<i>", "]]"):
        assert bad not in mermaid.split("stateDiagram-v2", 1)[1], bad
    assert "#lt;script#gt;" in mermaid
    assert "state end" not in mermaid
    assert "s_end --> [*]" in mermaid
    assert "\n        end note <" not in mermaid  # a line of a note cannot end it
    dot = render(graph, "dot")
    assert '\\"q\\"' in dot
    assert "label=<" not in dot  # plain quoted labels, never Graphviz HTML labels
    for line in dot.splitlines():
        stripped = line.replace("\\\\", "").replace('\\"', "")
        assert stripped.count('"') % 2 == 0, line
