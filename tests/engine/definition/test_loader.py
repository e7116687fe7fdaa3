from __future__ import annotations

import tracemalloc

import pytest

from engine.definition.loader import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_NODES,
    LimitExceeded,
    load_yaml,
)


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


def alias_bomb() -> str:
    """Nine levels of nine aliases: ~300 bytes that would expand to 9**9 scalars."""
    names = "abcdefghi"
    lines = ["a: &a [x,x,x,x,x,x,x,x,x]"]
    for prev, cur in zip(names, names[1:], strict=False):
        lines.append(f"{cur}: &{cur} [{','.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_the_node_that_crosses_the_limit() -> None:
    text = alias_bomb()
    assert len(text) < 400
    doc, problems = load_yaml(text, "bomb.yaml")
    # f (9**6 scalars) is the first level over MAX_NODES; nothing was built
    assert [str(p) for p in problems] == [
        f"bomb.yaml:6:4: expands to more than {MAX_NODES} nodes (each alias repeats what it names)"
    ]
    assert isinstance(problems[0], LimitExceeded)
    assert doc.value is None


def test_refusing_the_bomb_allocates_next_to_nothing() -> None:
    tracemalloc.start()
    try:
        load_yaml(alias_bomb(), "bomb.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000  # the composed graph of 9 x 9 nodes, not 9**9 values


def test_anchors_within_the_limits_still_expand() -> None:
    text = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a]\nc: [*b,*b]\n"
    doc, problems = load_yaml(text)
    assert problems == []
    assert len(doc.value["c"]) == 2
    assert doc.value["c"][1][2] == ["x"] * 9


def test_too_many_aliases_are_refused_at_the_first_one_over() -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    _, problems = load_yaml(text, "many.yaml")
    column = len("b: [") + (len("*a, ") * MAX_ALIASES) + 1
    assert [str(p) for p in problems] == [f"many.yaml:2:{column}: more than {MAX_ALIASES} aliases"]


def test_deep_nesting_is_refused_with_its_position() -> None:
    _, problems = load_yaml("[" * 5000, "deep.yaml")
    assert [str(p) for p in problems] == [f"deep.yaml:1:{MAX_DEPTH + 1}: nested deeper than 64"]
    assert isinstance(problems[0], LimitExceeded)


def test_nesting_through_aliases_counts_too() -> None:
    inner = "[" * 40 + "x" + "]" * 40
    _, problems = load_yaml(f"a: &a {inner}\nb: {'[' * 30}*a{']' * 30}\n", "d.yaml")
    assert [p.message for p in problems] == [f"nested deeper than {MAX_DEPTH}"]
    assert problems[0].line == 2


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    _, problems = load_yaml("a: &a [1, *a]\n", "loop.yaml")
    assert [str(p) for p in problems] == [
        "loop.yaml:1:4: an alias refers to a node that contains it"
    ]


def test_a_document_over_the_size_limit_is_refused_unparsed() -> None:
    _, problems = load_yaml("a: " + "x" * MAX_DOCUMENT_BYTES, "big.yaml")
    assert [str(p) for p in problems] == [f"big.yaml:1:1: larger than {MAX_DOCUMENT_BYTES} bytes"]
    # the limit is in UTF-8 bytes: 400,000 three-byte characters are over it
    _, problems = load_yaml("a: " + "清" * 400_000)
    assert isinstance(problems[0], LimitExceeded)
