"""Push delivery, the team's side: register endpoints, see what was delivered, retry failures."""

from __future__ import annotations

from common.actor import current_actor
from common.errors import FailedPrecondition, NotFound
from common.idempotency import RequestKey, run_once
from common.ids import new_id
from common.listing import Page, Term
from services.escalation.data import reads
from services.escalation.data import repository as repo
from services.escalation.data.models import DeliveryRow, SubscriptionRow
from services.escalation.data.reads import DeliveryRecord, SubscriptionRecord
from services.escalation.domain.commands import NewSubscription
from services.escalation.service import access
from services.escalation.service.context import EscalationContext


async def create_subscription(
    ctx: EscalationContext, data: NewSubscription, request: RequestKey
) -> SubscriptionRecord:
    actor = access.check_subscription_admin(data.team.value)

    async def create(session):
        row = SubscriptionRow(
            id=new_id(),
            team=data.team.value,
            endpoint_uri=data.endpoint_uri,
            secret=data.secret,
            description=data.description,
            created_by=actor.subject,
            created_at=ctx.clock.now(),
        )
        session.add(row)
        return row.id, reads.subscription_record(row)

    async def replay(session, subscription_id):
        return reads.subscription_record(await repo.get_subscription(session, subscription_id))

    return await run_once(ctx.db, ctx.idempotency, "CreateSubscription", request, create, replay)


async def _visible_subscription(session, subscription_id: str) -> SubscriptionRow:
    row = await repo.get_subscription(session, subscription_id)
    access.check_visible(row.team, f"subscription {subscription_id}")
    return row


async def list_subscriptions(
    ctx: EscalationContext, team: str | None, page: Page
) -> list[SubscriptionRecord]:
    team = access.visible_team(team)
    async with ctx.db.reading() as session:
        return await reads.list_subscriptions(session, team, page)


async def delete_subscription(ctx: EscalationContext, subscription_id: str) -> None:
    async with ctx.db.transaction() as session:
        row = await _visible_subscription(session, subscription_id)
        access.check_subscription_admin(row.team)
        now = ctx.clock.now()
        row.deleted_at = now
        # Nothing will ever be sent there again: say so on the deliveries instead of dropping them.
        await repo.fail_pending_deliveries(session, row.id)


async def list_deliveries(
    ctx: EscalationContext, subscription_id: str, terms: list[Term], page: Page
) -> list[DeliveryRecord]:
    async with ctx.db.reading() as session:
        await _visible_subscription(session, subscription_id)
        return await reads.list_deliveries(session, subscription_id, terms, page)


async def retry_delivery(
    ctx: EscalationContext, subscription_id: str, delivery_id: str
) -> DeliveryRecord:
    async with ctx.db.transaction() as session:
        subscription = await _visible_subscription(session, subscription_id)
        access.check_subscription_admin(subscription.team)
        row = await session.get(DeliveryRow, delivery_id, with_for_update=True)
        if row is None or row.subscription_id != subscription_id:
            raise NotFound(
                f"delivery {delivery_id} does not exist", metadata={"resource": "delivery"}
            )
        if row.state != "FAILED":
            raise FailedPrecondition(
                f"only FAILED deliveries can be retried; this one is {row.state}",
                reason="WRONG_STATE",
                metadata={"state": row.state},
            )
        row.state, row.attempts, row.next_attempt_at = "PENDING", 0, ctx.clock.now()
        row.last_error = f"retried by {current_actor().subject}"
        retried = reads.delivery_record(row)
    ctx.signals.changed()
    return retried
