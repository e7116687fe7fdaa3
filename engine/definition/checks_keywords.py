"""Unknown keywords in the embedded JSON Schemas (``data_schema``, ``payload_schema``, ``when``).

JSON Schema ignores a keyword it does not know, so ``requird: [name]`` or ``minimun: 0`` checks
nothing and nobody notices. Known are the draft 2020-12 vocabularies (core, applicator,
unevaluated, validation, meta-data, format, content) and Qingliu's own annotation
``confidential`` (``engine/definition/fields.py``) and ``accept``/``max_bytes`` of
``format: attachment`` (``engine/definition/attachments.py``); a key starting ``x-`` is an extension
annotation the author means to be ignored. Anything else is an error naming the nearest known
keyword. Draft-7 spellings that 2020-12 dropped (``definitions``, ``dependencies``,
``additionalItems``) are unknown too: jsonschema would ignore them under 2020-12.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.definition.checks_data import nearest
from engine.definition.loader import Document
from engine.definition.schema_rules import embedded_schemas, subschemas
from engine.errors import Problem

__all__ = ["KEYWORDS", "keyword_problems"]

_CORE = {"$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$defs"}
_CORE |= {"$comment", "$vocabulary"}
_APPLICATOR = {"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas"}
_APPLICATOR |= {"prefixItems", "items", "contains", "properties", "patternProperties"}
_APPLICATOR |= {"additionalProperties", "propertyNames", "unevaluatedItems"}
_APPLICATOR |= {"unevaluatedProperties"}
_VALIDATION = {"type", "const", "enum", "multipleOf", "maximum", "exclusiveMaximum", "minimum"}
_VALIDATION |= {"exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems"}
_VALIDATION |= {"uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties"}
_VALIDATION |= {"required", "dependentRequired"}
_META = {"title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples"}
_OTHER = {"format", "contentEncoding", "contentMediaType", "contentSchema", "confidential"}
_OTHER |= {"accept", "max_bytes"}  # format: attachment (engine/definition/attachments.py)
KEYWORDS = frozenset(_CORE | _APPLICATOR | _VALIDATION | _META | _OTHER)
_RENAMED = {"definitions": "$defs", "dependencies": "dependentRequired", "additionalItems": "items"}


def keyword_problems(doc: Document, v: Mapping[str, Any]) -> Iterator[Problem]:
    for path, schema in embedded_schemas(v):
        for at, sub in subschemas(schema, path):
            for key in sub:
                if key in KEYWORDS or str(key).startswith("x-"):
                    continue
                hint = (
                    f" (2020-12 says {_RENAMED[key]!r})"
                    if key in _RENAMED
                    else nearest(str(key), KEYWORDS)
                )
                yield doc.problem(
                    (*at, key),
                    f"unknown JSON Schema keyword {key!r}{hint}: it would be ignored, so the "
                    "schema would not check what it seems to",
                    at_key=True,
                )
