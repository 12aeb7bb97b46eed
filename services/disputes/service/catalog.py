"""Reason codes and root causes: code lists that grow and get deactivated, never deleted."""

from __future__ import annotations

from common.errors import AlreadyExists
from common.idempotency import RequestKey, run_once
from common.listing import Page, Term
from services.disputes.data import repository as repo
from services.disputes.data.models import ReasonCodeRow, RootCauseRow
from services.disputes.service.context import DisputesContext

LISTS = {
    "reason": (
        ReasonCodeRow,
        "reason code",
        {"active": ReasonCodeRow.active, "code": ReasonCodeRow.code},
    ),
    "root_cause": (
        RootCauseRow,
        "root cause",
        {
            "active": RootCauseRow.active,
            "code": RootCauseRow.code,
            "owning_team": RootCauseRow.owning_team,
        },
    ),
}


async def create_code(ctx: DisputesContext, which: str, values: dict, request: RequestKey):
    model, label, _ = LISTS[which]

    async def create(session):
        if await session.get(model, values["code"]) is not None:
            raise AlreadyExists(
                f"{label} {values['code']} exists (deactivated codes stay reserved)"
            )
        row = model(**values, active=True, created_at=ctx.clock.now())
        session.add(row)
        await session.flush()
        return row.code, row

    async def replay(session, code):
        return await session.get(model, code)

    row = await run_once(ctx.db, ctx.idempotency, f"Create:{which}", request, create, replay)
    ctx.reference_changed()  # committed: the next new case sees it
    return row


async def deactivate_code(ctx: DisputesContext, which: str, code: str):
    """Idempotent: deactivating an inactive code returns it unchanged. Cases keep their codes."""
    model, label, _ = LISTS[which]
    async with ctx.db.transaction() as session:
        row = await repo.get_by_key(session, model, code, label, lock=True)
        row.active = False
    ctx.reference_changed()  # committed: the next new case is refused it
    return row


async def list_codes(ctx: DisputesContext, which: str, terms: list[Term], page: Page):
    model, _, columns = LISTS[which]
    async with ctx.db.transaction() as session:
        return await repo.list_rows(
            session, model, columns, terms, ("code", False), page, model.code
        )
