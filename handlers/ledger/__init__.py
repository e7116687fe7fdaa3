"""The outfall ledger (动态管理台账): records and their rules (``record``), the operations on them
(``service``), CSV/Excel import and export (``io``, ``tabular``), the ID card with its QR code
(``idcard``), the ``qingliu ledger`` and ``qingliu outfall`` commands (``cli``) and
``/api/v1/outfalls`` (``api``)."""

from __future__ import annotations

from handlers.ledger.record import (
    KIND,
    InvalidOutfall,
    OutfallExists,
    OutfallNotFound,
    check_outfall,
    complete,
    responsibility_data,
)
from handlers.ledger.service import Ledger, OutfallView

__all__ = [
    "KIND",
    "InvalidOutfall",
    "Ledger",
    "OutfallExists",
    "OutfallNotFound",
    "OutfallView",
    "check_outfall",
    "complete",
    "responsibility_data",
]
