"""Log lines of the server: the request each line belongs to, and the two formats.

``RequestInfo`` is what ``engine.api.observe`` knows of the request being answered (its id,
method, route template, status and duration), in a context variable that every log record
made while answering it reads, uvicorn's access line included. ``log_config(fmt)`` is the
``logging.config.dictConfig`` of ``qingliu serve --log-format text|json`` (``log_format`` in
settings.yaml, ``QINGLIU_LOG_FORMAT``), handed to uvicorn so that each worker installs it:

* ``text``: uvicorn's own lines, and one line per record of every other logger
  (``time level logger [request id] message``);
* ``json``: one JSON object per line for every logger: ``time``, ``level``, ``logger``,
  ``message``, ``request_id``, ``method``, ``route``, ``status``, ``duration_ms`` (null
  outside a request), ``exception`` with a traceback. The access line is
  ``METHOD PATH HTTP/VERSION STATUS``, without the client's address.

In both, the values of ``token``, ``access_token`` and ``api_key`` in query strings are
masked, and on the public's 随手拍 pages (``/report``, ``/r/{receipt}``) neither the client's
address nor the receipt code is shown (``HideQueryTokens``). No line carries a request's
body, headers or form fields.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from engine.errors import ConfigError

__all__ = [
    "LOG_FORMATS",
    "configured_format",
    "REQUEST",
    "HideQueryTokens",
    "JsonLines",
    "RequestFields",
    "RequestInfo",
    "current_request_id",
    "log_config",
]

LOG_FORMATS = ("text", "json")
# Query parameters whose values the access log never shows (compared case-insensitively).
SECRET_PARAMETERS = frozenset({"token", "access_token", "api_key"})
# Chatty libraries kept at INFO even when the server logs DEBUG (they log no request data,
# but nothing of theirs is needed to run a server).
_QUIET = ("python_multipart", "multipart", "PIL", "asyncio", "httpx", "httpcore")


@dataclass
class RequestInfo:
    request_id: str
    method: str
    route: str | None = None
    status: int | None = None
    started: float = field(default_factory=time.perf_counter)
    duration_ms: float | None = None


REQUEST: ContextVar[RequestInfo | None] = ContextVar("qingliu_request", default=None)


def current_request_id() -> str | None:
    info = REQUEST.get()
    return info.request_id if info is not None else None


def _hide(query: str) -> str:
    parts = []
    for part in query.split("&"):
        name, eq, _ = part.partition("=")
        secret = bool(eq) and unquote_plus(name).strip().lower() in SECRET_PARAMETERS
        parts.append(f"{name}=***" if secret else part)
    return "&".join(parts)


class HideQueryTokens(logging.Filter):
    """Masks the values of ``token``, ``access_token`` and ``api_key`` in the request line of
    uvicorn's access log (``args``: client address, method, path with query, HTTP version,
    status). Such a request is refused anyway; its token must not end up in a log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, mark, query = args[2].partition("?")
            client = args[0]
            if _reporting(path):  # a 随手拍 reporter: no address, no receipt code
                client = "-"
                path = "/r/***" if path.startswith("/r/") else path
                query = "***"  # the lookup form sends the code as ?code=...
            record.args = (client, args[1], f"{path}?{_hide(query)}" if mark else path, *args[3:])
        return True


def _reporting(path: str) -> bool:
    """The public's 随手拍 pages (handlers/public: /report, /r, /r/{receipt}), where an address
    beside the report or its receipt would tie a person to what they reported."""
    return any(path == p or path.startswith(p + "/") for p in ("/report", "/r"))


class RequestFields(logging.Filter):
    """Puts the request's id on every record (``-`` outside a request), for the text format."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record (see the module's docstring for the fields)."""

    def format(self, record: logging.LogRecord) -> str:
        info = REQUEST.get()
        message = _access_line(record) if record.name == "uvicorn.access" else None
        line: dict[str, Any] = {
            "time": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": message if message is not None else record.getMessage(),
            "request_id": info.request_id if info else None,
            "method": info.method if info else None,
            "route": info.route if info else None,
            "status": info.status if info else None,
            "duration_ms": info.duration_ms if info else None,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _iso(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


def _access_line(record: logging.LogRecord) -> str | None:
    args = record.args
    if isinstance(args, tuple) and len(args) == 5:
        _client, method, path, version, status = args
        return f"{method} {path} HTTP/{version} {status}"
    return None


def configured_format(value: str) -> str:
    """``log_format`` of the settings (or ``QINGLIU_LOG_FORMAT``), checked."""
    fmt = value.strip().lower()
    if fmt not in LOG_FORMATS:
        raise ConfigError(
            f"log_format {value!r} is not a log format: use text or json "
            "(config/settings.yaml, or QINGLIU_LOG_FORMAT)"
        )
    return fmt


def log_config(fmt: str = "text", level: str = "INFO") -> dict[str, Any]:
    """The logging configuration of ``qingliu serve`` in format ``fmt`` (``text`` or
    ``json``), as a dict so that every worker process installs it too."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format {fmt!r}: use text or json")
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {
        "hide_query_tokens": {"()": f"{__name__}.HideQueryTokens"},
        "request_fields": {"()": f"{__name__}.RequestFields"},
    }
    config["loggers"]["uvicorn.access"]["filters"] = ["hide_query_tokens"]
    formatters = config["formatters"]
    formatters["json"] = {"()": f"{__name__}.JsonLines"}
    formatters["lines"] = {
        "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
    }
    handlers = config["handlers"]
    handlers["lines"] = {
        "class": "logging.StreamHandler",
        "formatter": "json" if fmt == "json" else "lines",
        "filters": ["request_fields"],
        "stream": "ext://sys.stderr",
    }
    if fmt == "json":
        for handler in ("default", "access"):
            handlers[handler]["formatter"] = "json"
    config["root"] = {"handlers": ["lines"], "level": level}
    for name in _QUIET:
        config["loggers"][name] = {"level": "INFO"}
    config["loggers"]["apscheduler"] = {"level": "WARNING"}  # two lines per sweep otherwise
    return config
