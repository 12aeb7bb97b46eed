"""gRPC methods of the collector's day (interactions, promises, worklist), mixed into
AccountsServicer: translate, call one use case, translate back."""

from __future__ import annotations

from common import validation
from common.errors import InvalidArgument, Violations
from common.ids import parse_name
from common.listing import Page, PageTokens, parse_date, parse_filter, query_key
from common.protoconv import request_key
from services.accounts.api import collections_convert as convert
from services.accounts.api import collections_requests as req
from services.accounts.domain.promises import PromiseState
from services.accounts.service import interactions, promises, worklist
from services.accounts.service.context import AccountsContext
from settle.accounts.v1 import accounts_pb2 as pb

PROMISE_FILTERS = {"state": lambda s: PromiseState(s).value, "promised_date": parse_date}


def _customer(name: str, field: str) -> str:
    return parse_name(name, "customers", field)


def _strategy_version(name: str) -> int | None:
    _, _, version = name.partition("worklistStrategies/")
    if version == "active":
        return None
    if not version.isdigit():
        raise InvalidArgument.of("name", "must be 'worklistStrategies/{version}' or '…/active'")
    return int(version)


def _worklist_page(pages: PageTokens, result: worklist.Worklist, page: Page, key: str):
    reply = pb.ListWorklistResponse(
        next_page_token=pages.next_token(page, len(result.items), key),
        strategy_version=result.strategy_version,
        done_today=result.done_today,
        total_size=result.on_list,
    )
    for i, item in enumerate(result.items):
        convert.worklist_item(reply.items.add(), item, page.offset + i + 1)
    return reply


class CollectionsMethods:
    ctx: AccountsContext
    pages: PageTokens

    async def ListOutcomeCodes(self, request, context):
        rows = await interactions.list_outcome_codes(self.ctx, request.show_inactive)
        return pb.ListOutcomeCodesResponse(outcome_codes=[convert.outcome_code(r) for r in rows])

    async def CreateOutcomeCode(self, request, context):
        v = Violations()
        msg = request.outcome_code
        code = validation.code(msg.code, "outcome_code.code", v)
        name = validation.text(msg.display_name, "outcome_code.display_name", v)
        requires = req.requirement(msg.requires, v)
        v.raise_if_any()
        row = await interactions.create_outcome_code(self.ctx, code, name, requires)
        return convert.outcome_code(row)

    async def DeactivateOutcomeCode(self, request, context):
        v = Violations()
        code = validation.code(request.name.removeprefix("outcomeCodes/"), "name", v)
        v.raise_if_any()
        return convert.outcome_code(await interactions.deactivate_outcome_code(self.ctx, code))

    async def LogInteraction(self, request, context):
        v = Violations()
        data = req.interaction(request, v)
        plan = (
            req.promise_plan(request.promise_plan, v) if request.HasField("promise_plan") else None
        )
        v.raise_if_any()
        row, made = await interactions.log_interaction(self.ctx, data, plan, request_key(request))
        return convert.interaction(row, made)

    async def ListCustomerTimeline(self, request, context):
        customer_id = _customer(request.customer, "customer")
        key = query_key(customer_id)
        page = self.pages.page(request.page_size, request.page_token, key)
        entries = await interactions.timeline(self.ctx, customer_id, page)
        return pb.ListCustomerTimelineResponse(
            entries=[convert.timeline_entry(e) for e in entries],
            next_page_token=self.pages.next_token(page, len(entries), key),
        )

    async def CreatePromise(self, request, context):
        customer_id = _customer(request.parent, "parent")
        v = Violations()
        plan = req.promise_plan(request.promise_plan, v)
        v.raise_if_any()
        made = await promises.create_promise(self.ctx, customer_id, plan, request_key(request))
        return pb.CreatePromiseResponse(promises=[convert.promise_row(p) for p in made])

    async def GetPromise(self, request, context):
        read = await promises.get_promise(self.ctx, parse_name(request.name, "promises"))
        return convert.promise(*read)

    async def ListPromises(self, request, context):
        customer_id = _customer(request.parent, "parent")
        terms = parse_filter(request.filter, PROMISE_FILTERS)
        state = next((t.value for t in terms if t.field == "state" and t.op == "="), None)
        if any(t.field != "state" or t.op != "=" for t in terms):
            raise InvalidArgument.of("filter", "supports state=<STATE>")
        key = query_key(customer_id, request.filter)
        page = self.pages.page(request.page_size, request.page_token, key)
        reads = await promises.list_promises(self.ctx, customer_id, state, page)
        return pb.ListPromisesResponse(
            promises=[convert.promise(*r) for r in reads],
            next_page_token=self.pages.next_token(page, len(reads), key),
        )

    async def _end(self, request, target: PromiseState):
        promise_id = parse_name(request.name, "promises")
        row = await promises.end_promise(self.ctx, promise_id, request.etag, target)
        return convert.promise_row(row)

    async def WithdrawPromise(self, request, context):
        return await self._end(request, PromiseState.WITHDRAWN)

    async def CancelPromise(self, request, context):
        return await self._end(request, PromiseState.CANCELLED)

    async def GetPromiseRecord(self, request, context):
        customer_id = _customer(request.customer, "customer")
        view = await promises.promise_record(self.ctx, customer_id)
        return convert.promise_record(customer_id, view)

    async def ListWorklist(self, request, context):
        key = query_key(request.collector, request.team)
        page = self.pages.page(request.page_size, request.page_token, key)
        result = await worklist.list_worklist(self.ctx, request.collector, request.team, page)
        return _worklist_page(self.pages, result, page, key)

    async def SimulateStrategy(self, request, context):
        v = Violations()
        rules = req.rules(request.rules, "rules", v)
        v.raise_if_any()
        page = self.pages.page(request.page_size, "", "")
        result = await worklist.simulate(
            self.ctx, request.collector, request.team, request.strategy_version, rules, page
        )
        return _worklist_page(self.pages, result, page, "")

    async def ExplainWorklistAbsence(self, request, context):
        customer_id = _customer(request.customer, "customer")
        reasons, item = await worklist.explain(self.ctx, customer_id, request.collector)
        msg = pb.WorklistExplanation(
            customer=f"customers/{customer_id}", on_list=item is not None, reasons=reasons
        )
        if item is not None:
            convert.worklist_item(msg.item, item, 0)
        return msg

    async def CreateWorklistStrategy(self, request, context):
        v = Violations()
        rules = req.rules(request.strategy.rules, "strategy.rules", v)
        v.require(bool(rules), "strategy.rules", "at least one rule is required")
        name = validation.text(request.strategy.display_name, "strategy.display_name", v)
        v.raise_if_any()
        row = await worklist.create_strategy(self.ctx, name, rules)
        return convert.strategy(await worklist.get_strategy(self.ctx, row.version))

    async def GetWorklistStrategy(self, request, context):
        version = _strategy_version(request.name)
        return convert.strategy(await worklist.get_strategy(self.ctx, version))

    async def BulkReassignCustomers(self, request, context):
        v = Violations()
        validation.repeated(request.customers, "customers", v, limit=10_000)
        ids = [
            validation.resource_id(n, "customers", f"customers[{i}]", v)
            for i, n in enumerate(request.customers)
        ]
        collector = validation.text(request.collector, "collector", v, required=True)
        team = validation.text(request.team, "team", v).upper()
        from_collector = validation.text(request.from_collector, "from_collector", v)
        v.raise_if_any()
        count = await worklist.reassign(self.ctx, ids, from_collector, collector, team)
        return pb.BulkReassignCustomersResponse(reassigned=count)
