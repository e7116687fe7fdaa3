"""Filing a 随手拍 report: the form's values and photos → a ``public_report`` case and its
receipt code, or the reason it was refused.

In this order, so that a refusal changes nothing it should not: the fields are checked (in
Chinese, at each field), the challenge's work is checked, then one write counts the report
against the address's limits and marks the challenge used (``limits.reserve``); the photos are
checked and stored, the case is opened through the engine facade as ``PUBLIC`` and the receipt
code issued. A report refused after the count (a photo, the schema) is taken off the count
again (``limits.release``), and the photos already stored for it are discarded, rows and the
blobs no other upload names (``engine.attachments.discard``); its challenge stays used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.errors import InvalidInput
from engine.handlers import Actor
from engine.runtime import Engine
from handlers.public import challenge, limits, receipts
from handlers.public.limits import ReportLimits
from handlers.public.photos import Photo, PhotoRefused, store_photos
from handlers.public.report_form import Problems, from_invalid, report_data

__all__ = ["PUBLIC", "FormRefused", "file_report"]

# Who opens a report filed on the public form. A party of role ``public``, so the reporter's
# details it gave are sealed for everyone but their readers. Its name holds an ideographic
# space (U+3000), which no API token may carry (engine/api/tokens.py: printable characters
# only, and str.isprintable() refuses every space but U+0020) and no console user either
# (engine/console/accounts.py: lower-case ASCII): nobody can sign in or hold a token as this
# party and read, as the cases' opener, what reporters gave.
PUBLIC = Actor("随手拍\u3000公众", "public", None)


@dataclass
class FormRefused(Exception):
    """The report was not opened: ``problems`` at the fields, the HTTP status of the page."""

    problems: Problems = field(default_factory=dict)
    status: int = 422


def file_report(
    engine: Engine,
    settings: ReportLimits,
    address: str,
    values: Mapping[str, str],
    photos: list[Photo],
) -> tuple[int, str]:
    """``(case id, receipt code)`` of the report the form's ``values`` and ``photos`` give;
    ``FormRefused``, ``ChallengeRefused`` or ``TooManyReports`` when it is not opened."""
    data, problems = report_data(engine.reference, values, len(photos))
    if problems:
        raise FormRefused(problems)
    solved = challenge.check(engine, settings, values.get("challenge", ""), values.get("nonce", ""))
    hit = limits.reserve(engine, settings, address, solved)
    stored: list[int] = []
    try:
        data["photos"] = store_photos(engine, photos, PUBLIC, stored)
        case = engine.create_case("public_report", data, PUBLIC)
    except BaseException as error:
        engine.attachments.discard(stored)  # the rows, and the blobs no other row names
        limits.release(engine, hit)
        if isinstance(error, PhotoRefused):
            raise FormRefused({"photos": error.message}, error.status) from error
        if isinstance(error, InvalidInput):
            raise FormRefused(from_invalid(error.errors)) from error
        raise
    return case.id, receipts.issue(engine, case.id)
