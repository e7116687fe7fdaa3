from __future__ import annotations

import pytest

from engine.definition.loader import load_yaml


def test_only_true_and_false_are_booleans() -> None:
    doc, problems = load_yaml("a: on\nb: yes\nc: off\nd: no\ne: true\nf: false\ng: 2025-12-31\n")
    assert problems == []
    assert doc.value == {
        "a": "on",
        "b": "yes",
        "c": "off",
        "d": "no",
        "e": True,
        "f": False,
        "g": "2025-12-31",
    }


def test_marks_point_at_values_and_keys() -> None:
    doc, _ = load_yaml("states:\n  open:\n    title: 开\n")
    assert doc.mark(("states", "open", "title")) == (3, 12)
    assert doc.mark(("states", "open"), at_key=True) == (2, 3)
    # a path that does not exist falls back to its nearest ancestor
    assert doc.mark(("states", "open", "missing")) == (3, 5)


def test_duplicate_keys_are_reported_with_their_position() -> None:
    _, problems = load_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert [str(p) for p in problems] == ["f.yaml:3:1: duplicate key 'a'"]


@pytest.mark.parametrize(
    "text",
    ["a: !!python/object/apply:os.system ['echo hi']\n", "a: !custom 1\n"],
    ids=["python-tag", "custom-tag"],
)
def test_tags_are_refused_not_constructed(text: str) -> None:
    _, problems = load_yaml(text, "t.yaml")
    assert len(problems) == 1
    assert problems[0].line == 1
    assert "is not allowed" in problems[0].message


def test_syntax_error_names_line_and_column() -> None:
    _, problems = load_yaml("a: [1, 2\nb: 3\n", "s.yaml")
    assert len(problems) == 1
    assert problems[0].message.startswith("YAML syntax:")
    assert (problems[0].line, problems[0].column) == (2, 2)


def test_empty_file_is_a_problem() -> None:
    _, problems = load_yaml("", "e.yaml")
    assert [str(p) for p in problems] == ["e.yaml:1:1: the file is empty"]


def test_merge_keys_and_anchors_work() -> None:
    doc, problems = load_yaml("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
    assert problems == []
    assert doc.value["other"] == {"x": 1, "y": 2}
