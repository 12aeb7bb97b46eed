"""Reason codes and active SLA policies as intake reads them: kept in the process for at most
REFERENCE_TTL_S (common/reference.py) instead of read for every new case. Changes made through
this process clear them when they commit (`DisputesContext.reference_changed`); writes that
depend on them (re-targeting clocks after a policy change) still read them in their transaction.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.disputes.data import repository as repo
from services.disputes.domain.policies import Policy
from services.disputes.service.context import DisputesContext


async def reason(ctx: DisputesContext, unit: AsyncSession | AsyncConnection, code: str):
    """The reason code's row (code, active, requires_note, …), or None."""

    async def load() -> dict:
        return await repo.reason_rows(unit)

    return (await ctx.reference.get("reason_codes", load)).get(code)


async def active_policies(ctx: DisputesContext, session: AsyncSession) -> tuple[Policy, ...]:
    async def load() -> tuple[Policy, ...]:
        return tuple(await repo.active_policies(session))

    return await ctx.reference.get("sla_policies", load)
