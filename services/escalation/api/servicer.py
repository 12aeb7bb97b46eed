"""gRPC methods of settle.escalation.v1: translate, call one use case, translate back."""

from __future__ import annotations

from common.errors import Violations
from common.listing import PageTokens, parse_filter, parse_order_by, query_key
from common.protoconv import request_key
from common.rpc import batch
from common.webhooks import EndpointPolicy
from services.escalation.api import convert
from services.escalation.api import requests as req
from services.escalation.api.cursors import WatchCursors
from services.escalation.domain.states import Action
from services.escalation.service import queries, raising, rules, subscriptions, workflow
from services.escalation.service.context import EscalationContext
from services.escalation.service.watch import Feed
from settle.escalation.v1 import escalation_pb2 as pb
from settle.escalation.v1 import escalation_pb2_grpc


class EscalationServicer(escalation_pb2_grpc.EscalationServiceServicer):
    def __init__(
        self,
        ctx: EscalationContext,
        feed: Feed,
        cursors: WatchCursors,
        pages: PageTokens,
        endpoints: EndpointPolicy,
    ):
        self.ctx = ctx
        self.feed = feed
        self.cursors = cursors
        self.pages = pages
        self.endpoints = endpoints  # where webhooks may go

    async def RaiseEscalation(self, request, context):
        cmd = req.raise_command(request)
        return convert.escalation(
            await raising.raise_escalation(self.ctx, cmd, request_key(request))
        )

    async def RaiseEscalations(self, request, context):
        items = req.raise_items(request)
        results = await batch.answered_in_order(
            items, lambda valid: raising.raise_escalations(self.ctx, valid), convert.raise_result
        )
        return pb.RaiseEscalationsResponse(results=results)

    async def GetEscalation(self, request, context):
        view = await queries.get_escalation(self.ctx, req.escalation_id(request.name))
        return convert.escalation(view)

    async def ListEscalations(self, request, context):
        terms = parse_filter(request.filter, req.ESCALATION_FILTERS)
        order = parse_order_by(request.order_by, req.ESCALATION_ORDER, "create_time")
        key = query_key(request.filter, order)
        page = self.pages.page(request.page_size, request.page_token, key)
        queue = await queries.list_escalations(self.ctx, terms, order, page)
        return pb.ListEscalationsResponse(
            escalations=[convert.escalation(v) for v in queue.escalations],
            next_page_token=self.pages.next_token(page, len(queue.escalations), key),
            watch_cursor=self.cursors.seal(queue.watch_cursor),
        )

    async def _act(self, request, action: Action):
        escalation_id, cmd = req.act(request, action)
        return convert.escalation(await workflow.act(self.ctx, escalation_id, cmd))

    async def ClaimEscalation(self, request, context):
        return await self._act(request, Action.CLAIM)

    async def AssignEscalation(self, request, context):
        return await self._act(request, Action.ASSIGN)

    async def RequestEscalationInfo(self, request, context):
        return await self._act(request, Action.REQUEST_INFO)

    async def ProvideEscalationInfo(self, request, context):
        return await self._act(request, Action.PROVIDE_INFO)

    async def RespondToEscalation(self, request, context):
        return await self._act(request, Action.RESPOND)

    async def HandBackEscalation(self, request, context):
        return await self._act(request, Action.HAND_BACK)

    async def ResolveEscalation(self, request, context):
        return await self._act(request, Action.RESOLVE)

    async def ListEscalationHistory(self, request, context):
        escalation_id = req.escalation_id(request.parent, "parent")
        key = query_key(escalation_id)
        page = self.pages.page(request.page_size, request.page_token, key)
        rows = await queries.history(self.ctx, escalation_id, page)
        return pb.ListEscalationHistoryResponse(
            entries=[convert.history_entry(r) for r in rows],
            next_page_token=self.pages.next_token(page, len(rows), key),
        )

    async def WatchEscalations(self, request, context):
        v = Violations()
        team = req.team(request.team, "team", v)
        v.raise_if_any()
        cursor = self.cursors.open(request.cursor)
        async for row in self.feed.follow(self.ctx, team.value if team else None, cursor):
            event = convert.event_from_body(row.body)
            event.cursor = self.cursors.seal(row.sequence)  # the stored one is for the team
            yield event

    async def ListRoutingRules(self, request, context):
        key = query_key(request.show_inactive)
        page = self.pages.page(request.page_size, request.page_token, key)
        rows = await rules.list_rules(self.ctx, request.show_inactive, page)
        return pb.ListRoutingRulesResponse(
            routing_rules=[convert.routing_rule(r) for r in rows],
            next_page_token=self.pages.next_token(page, len(rows), key),
        )

    async def CreateRoutingRule(self, request, context):
        v = Violations()
        data = req.rule_data(request.routing_rule, v)
        v.raise_if_any()
        row = await rules.create_rule(self.ctx, data, request_key(request))
        return convert.routing_rule(row)

    async def UpdateRoutingRule(self, request, context):
        rule_id, data, fields = req.rule_update(request)
        row = await rules.update_rule(self.ctx, rule_id, request.routing_rule.etag, data, fields)
        return convert.routing_rule(row)

    async def CreateSubscription(self, request, context):
        data = req.subscription(request.subscription, self.endpoints)
        key = request_key(request)
        # Tracebacks log their frames' locals: from here on the request no longer holds the secret.
        request.subscription.ClearField("secret")
        row = await subscriptions.create_subscription(self.ctx, data, key)
        return convert.subscription(row)

    async def ListSubscriptions(self, request, context):
        v = Violations()
        team = req.team(request.team, "team", v)
        v.raise_if_any()
        key = query_key(request.team)
        page = self.pages.page(request.page_size, request.page_token, key)
        rows = await subscriptions.list_subscriptions(self.ctx, team.value if team else None, page)
        return pb.ListSubscriptionsResponse(
            subscriptions=[convert.subscription(r) for r in rows],
            next_page_token=self.pages.next_token(page, len(rows), key),
        )

    async def DeleteSubscription(self, request, context):
        await subscriptions.delete_subscription(self.ctx, req.subscription_id(request.name))
        return pb.DeleteSubscriptionResponse()

    async def ListDeliveries(self, request, context):
        subscription_id = req.subscription_id(request.parent, "parent")
        terms = parse_filter(request.filter, req.DELIVERY_FILTERS)
        key = query_key(subscription_id, request.filter)
        page = self.pages.page(request.page_size, request.page_token, key)
        rows = await subscriptions.list_deliveries(self.ctx, subscription_id, terms, page)
        return pb.ListDeliveriesResponse(
            deliveries=[convert.delivery(r, self.cursors.seal(r.event_sequence)) for r in rows],
            next_page_token=self.pages.next_token(page, len(rows), key),
        )

    async def RetryDelivery(self, request, context):
        subscription_id, delivery_id = req.delivery_name(request.name)
        row = await subscriptions.retry_delivery(self.ctx, subscription_id, delivery_id)
        return convert.delivery(row, self.cursors.seal(row.event_sequence))
