"""The public face (聊政办字〔2023〕11号 三(四)6, 四(四); MEE Order 35): pages anyone reaches
without signing in, on the console's web stack.

    web.py       rendering a public page: the public layout, ETag and Cache-Control, and an
                 in-process cache keyed by the history head (a page is rebuilt only after
                 something was written)
    facts.py     what the public may read about an outfall (a whitelist of named facts)
    outfall.py   /o/{code}: the page behind each outfall's QR code, and its sign-board sheet
    snapshot.py  /report (随手拍): the public form, /r and /r/{receipt} (the report's status)
    report_form.py  the form's fields, the outfall prefill, problems in Chinese at the field
    filing.py    filing a report: the checks in order, the case and its receipt, or the reason
    photos.py    the form's photos, checked and stored as attachments (engine.attachments)
    receipts.py  receipt codes (only their keyed hash stored) and what a receipt shows
    limits.py    rate limits per client address (kept in the database, on the engine's clock)
    challenge.py the offline proof-of-work challenge against scripted floods
    column.py    /gk: the public column (专栏): progress, decisions, spot checks, enforcement,
                 each also as CSV and JSON
    lists.py     the column's lists (decisions, spot checks, penalties) from whitelisted fields

Nothing here reads a case for a person: the pages read as the site (``SITE``) and show only
the fields each page names (a whitelist), so a confidential field can never reach a public
page by being added to a workflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["body_ceilings", "body_checks", "public_routers", "STATIC", "TEMPLATES"]

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"


def public_routers() -> list[Any]:
    """The public pages' routers (loaded for the server only)."""
    from handlers.public import column, snapshot
    from handlers.public.outfall import router as outfall_pages

    return [outfall_pages, snapshot.router, column.data_router, column.router]


def body_ceilings() -> list[tuple[Any, int]]:
    """The body limits of the public forms that take files: ``/report``, its photos at their
    largest and room for the other fields."""
    from handlers.public import snapshot

    return [snapshot.BODY_CEILING]


def body_checks() -> list[tuple[Any, Any]]:
    """``/report`` without its form-token cookie, or from an address over its rate limit, is
    refused before its body (photos) is read."""
    from handlers.public import snapshot

    return [(snapshot.BODY_CEILING[0], snapshot.before_reading)]
