"""What checking a request's protovalidate rules costs per call: common/contract.py (the project's
reader) and, where it is installed, protovalidate's own runtime, on the same messages.

    python -m bench.measure.contract_cost [calls]

protovalidate is not a project dependency; to compare, run this in a throwaway venv that has it,
with this tree and its gen/ on the path (docs/gateway.md, "The contract", says how)."""

from __future__ import annotations

import sys
import time

from common import contract
from settle.accounts.v1 import accounts_pb2 as accounts
from settle.common.v1 import common_pb2
from settle.disputes.v1 import disputes_pb2 as disputes

ID = "0123456789abcdef0123456789abcdef"


def open_dispute() -> disputes.CreateDisputeRequest:
    items = [
        disputes.DisputedItem(
            invoice=f"invoices/{ID}",
            amount=common_pb2.Money(currency_code="EUR", amount="120.00"),
            line_numbers=[1, 2],
        )
        for _ in range(3)
    ]
    return disputes.CreateDisputeRequest(
        request_id="open-1",
        dispute=disputes.Dispute(
            customer=f"customers/{ID}",
            title="Price differs from the contract",
            reason_code="PRICING",
            external_ref="D-1000",
            items=items,
            first_note="The customer quotes the 2025 price list.",
        ),
    )


def create_promise() -> accounts.CreatePromiseRequest:
    instalments = [
        accounts.Instalment(
            amount=common_pb2.Money(currency_code="EUR", amount="100.00"),
            promised_date=f"2026-0{m}-15",
        )
        for m in range(1, 7)
    ]
    return accounts.CreatePromiseRequest(
        parent=f"customers/{ID}",
        request_id="promise-1",
        promise_plan=accounts.PromisePlan(
            promise=accounts.PromiseToPay(invoices=[f"invoices/{ID}"], contact_text="Ms Meyer"),
            instalments=instalments,
        ),
    )


def per_call_us(check, message, calls: int) -> float:
    check(message)  # warm: contracts built, caches filled
    started = time.perf_counter()
    for _ in range(calls):
        check(message)
    return (time.perf_counter() - started) / calls * 1e6


def checkers() -> dict:
    found = {"common/contract.py": contract.check}
    try:
        import protovalidate
    except ImportError:
        return found
    validator = protovalidate.Validator()
    found[f"protovalidate {protovalidate_version()}"] = validator.validate
    return found


def protovalidate_version() -> str:
    from importlib.metadata import version

    return version("protovalidate")


def main(calls: int) -> None:
    messages = {
        "CreateDispute (3 items)": open_dispute(),
        "CreatePromise (6 instalments)": (create_promise()),
    }
    for name, check in checkers().items():
        for label, message in messages.items():
            print(f"{name:28} {label:32} {per_call_us(check, message, calls):8.1f} µs/call")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
