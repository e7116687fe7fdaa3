"""Reports over the ledger and the cases, as of a day (``compute``: progress, deadlines,
overdue) and ``qingliu report`` (``cli``)."""

from __future__ import annotations

from handlers.reports.compute import (
    REPORTS,
    Report,
    cutoff,
    deadlines,
    overdue,
    progress,
    run,
    today,
)

__all__ = ["REPORTS", "Report", "cutoff", "deadlines", "overdue", "progress", "run", "today"]
