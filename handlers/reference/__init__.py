"""Reference data in ``config/reference/*.yaml``: the accessors handlers read it through
(``data``), the check that names every problem by file and key (``check``) and
``qingliu config check`` (``cli``)."""

from __future__ import annotations

from handlers.reference.check import check_reference

__all__ = ["check_reference"]
