"""What counts as paid toward a promise, defined once for the evaluator, the early keep and the
collectible figures: payment allocations on the promise's invoices, each dated when it was made,
and the reversals of exactly those allocations dated like the allocation they take back (so a
reversal after the deadline still takes back what the allocation gave before it)."""

from __future__ import annotations

from sqlalchemy import and_, func, select

from services.accounts.data.models import AllocationRow
from services.accounts.domain.records import SourceKind

_alloc = AllocationRow.__table__
_reversed = _alloc.alias("reversed")

PAID_LINES = (
    select(
        _alloc.c.invoice_id,
        _alloc.c.amount_minor,
        func.coalesce(_reversed.c.created_at, _alloc.c.created_at).label("counted_at"),
    )
    .select_from(
        _alloc.outerjoin(
            _reversed,
            and_(
                _alloc.c.source_kind == SourceKind.REVERSAL.value,
                _reversed.c.id == _alloc.c.source_id,
            ),
        )
    )
    .where(func.coalesce(_reversed.c.source_kind, _alloc.c.source_kind) == SourceKind.PAYMENT.value)
    .subquery("paid_lines")
)
