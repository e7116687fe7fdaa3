"""The error tree is the one map from errors to HTTP answers and exit codes: every class of it,
the domain's included, declares its status, problem kind, title and exit code itself."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re

import pytest

import engine
import handlers
from engine import errors
from engine.api.problems import engine_problem
from engine.cli import CommandFailed
from engine.errors import (
    CaseError,
    CaseNotFound,
    FieldError,
    HandlerFailed,
    InputRefused,
    QingliuError,
    Refused,
    Unauthorized,
)
from engine.store.faults import Unavailable
from tests.conftest import ROOT

MAPPING = ("status", "kind", "title", "exit_code")
EXIT_CODES = range(1, 11)  # 0 is success; README "Exit codes" documents 1-10


def _import_everything() -> None:
    """Every module of engine/ and handlers/, so that every error class is defined."""
    for package in (engine, handlers):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations." not in module.name:
                importlib.import_module(module.name)


def tree() -> list[type[QingliuError]]:
    out: list[type[QingliuError]] = []
    todo: list[type[QingliuError]] = [QingliuError]
    while todo:
        cls = todo.pop()
        if cls not in out:
            out.append(cls)
            todo.extend(cls.__subclasses__())
    return sorted(out, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def unmapped(classes: list[type[QingliuError]]) -> list[str]:
    """The classes that do not declare, in their own body, how they reach people."""
    return [
        f"{c.__module__}.{c.__qualname__} lacks {', '.join(m for m in MAPPING if m not in vars(c))}"
        for c in classes
        if not all(m in vars(c) for m in MAPPING)
    ]


def test_every_error_class_declares_its_status_kind_title_and_exit_code() -> None:
    _import_everything()
    classes = tree()
    assert len(classes) > 25  # the engine's tree and the domain's classes were found
    assert unmapped(classes) == []
    for cls in classes:
        assert 400 <= cls.status <= 599, cls
        assert re.fullmatch("[a-z]+(-[a-z]+)*", cls.kind), cls
        assert cls.exit_code in EXIT_CODES, cls


def test_a_new_class_without_its_own_mapping_is_caught() -> None:
    class Unmapped(CaseError):
        pass

    class HalfMapped(Refused):
        status = 422

    found = unmapped([Unmapped, HalfMapped])
    assert found == [
        f"{__name__}.{Unmapped.__qualname__} lacks status, kind, title, exit_code",
        f"{__name__}.{HalfMapped.__qualname__} lacks kind, title, exit_code",
    ]


def test_the_readme_documents_every_exit_code_and_no_other() -> None:
    _import_everything()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(x for x in readme.split("\n\n") if x.startswith("Exit codes"))
    documented = {int(n) for n in re.findall(r"\b(\d+) [a-z]", line)}
    assert documented == {0, 2, *(c.exit_code for c in tree())}


def test_the_api_renders_a_class_from_its_own_attributes() -> None:
    response = engine_problem(CaseNotFound(7), "/api/v1/cases/7")
    body = json.loads(response.body)
    assert response.status_code == 404
    assert body == {
        "type": "https://qingliu.dev/problems/case-not-found",
        "title": "No such case",
        "status": 404,
        "detail": "case 7 not found",
        "instance": "/api/v1/cases/7",
    }
    assert engine_problem(Unauthorized("no token")).headers["WWW-Authenticate"] == "Bearer"


def test_an_unavailable_database_is_503_with_retry_after() -> None:
    response = engine_problem(Unavailable("the database cannot take requests now"))
    body = json.loads(response.body)
    assert (response.status_code, body["type"]) == (503, "https://qingliu.dev/problems/unavailable")
    assert body["detail"] == "the database cannot take requests now"
    assert response.headers["Retry-After"] == "5"


def test_a_refused_input_is_422_with_the_json_path_into_the_request() -> None:
    refusal = InputRefused.at("payload", "$.department", "'x' is not a department")
    body = json.loads(engine_problem(refusal).body)
    assert (body["status"], body["type"]) == (422, "https://qingliu.dev/problems/invalid-input")
    assert body["errors"] == [
        {"in": "body", "json_path": "$.payload.department", "message": "'x' is not a department"}
    ]
    assert isinstance(refusal, errors.InvalidInput)  # callers catching bad input catch it too


def test_a_bug_in_a_handler_is_a_500_that_says_nothing_internal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bug = HandlerFailed("route_report", 3, KeyError("secret_column"))
    response = engine_problem(bug, "/api/v1/cases/3/transitions")
    body = json.loads(response.body)
    assert response.status_code == 500
    assert "secret_column" not in response.body.decode()
    assert "KeyError" not in response.body.decode()
    assert body["error_id"] in body["detail"]
    assert body["error_id"] in caplog.text
    assert "secret_column" in caplog.text  # the log has what the answer leaves out


def test_the_cli_exits_with_the_class_exit_code() -> None:
    assert CommandFailed(InputRefused("payload", [FieldError("$.x", "bad")])).exit_code == 7
    assert CommandFailed(Refused("the ledger is empty")).exit_code == 5
    assert CommandFailed(CaseNotFound(1)).exit_code == 3
