"""The ``format: attachment`` field type in the definition checker: ``accept`` and
``max_bytes`` are checked at ``line:col``, and only go with an attachment."""

from __future__ import annotations

from engine.definition.validate import check_definition
from engine.handlers import Registry

BASE = """\
name: tiny
title: 小流程
roles: [clerk]
initial: a
data_schema:
  type: object
  properties:
    photos:
      type: array
      items: {format: attachment, accept: [image/jpeg, image/png], max_bytes: 1048576}
    note: {type: string}
states:
  a: {title: A}
  b: {title: B, final: true}
transitions:
  - trigger: go
    source: a
    dest: b
    roles: [clerk]
"""


def _problems(text: str) -> list[str]:
    definition, problems = check_definition(text, "x.yaml", Registry())
    assert (definition is None) == bool(problems)
    return [f"{p.line}:{p.column}: {p.message}" for p in problems]


def test_an_attachment_field_with_accept_and_max_bytes_is_valid() -> None:
    assert _problems(BASE) == []
    bare = BASE.replace(", accept: [image/jpeg, image/png], max_bytes: 1048576", "")
    assert _problems(bare) == []


def test_an_unknown_media_type_and_a_bad_limit_are_errors_at_their_place() -> None:
    text = BASE.replace("[image/jpeg, image/png], max_bytes: 1048576", "[image/gif], max_bytes: 0")
    assert _problems(text) == [
        "10:44: 'image/gif' is not a media type Qingliu tells from the bytes "
        "(image/jpeg, image/png, image/webp, application/pdf)",
        "10:67: max_bytes is a whole number of bytes from 1 to 52428800",
    ]
    huge = BASE.replace("1048576", "104857600")
    assert _problems(huge) == ["10:79: max_bytes is a whole number of bytes from 1 to 52428800"]


def test_accept_without_format_attachment_and_a_string_type_are_errors() -> None:
    text = BASE.replace("note: {type: string}", "note: {type: string, accept: [image/png]}")
    text = text.replace("items: {format: attachment,", "items: {type: string, format: attachment,")
    assert _problems(text) == [
        "10:21: an attachment is an object: type must be object or absent",
        "11:26: accept goes with format: attachment only",
    ]


def test_a_confidential_field_may_not_hold_attachments() -> None:
    text = BASE.replace("    photos:\n", "    photos:\n      confidential: {readers: [clerk]}\n")
    assert _problems(text) == [
        "9:7: a confidential field may not hold attachments (their digests are not sealed)"
    ]
