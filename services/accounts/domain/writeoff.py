"""Write-off with four eyes: a request on invoice balances, its states, the number of approvals its
amount needs, segregation of duties, and the ledger entries that posting and reversal produce.

Approval limits are data: rows of (role or user, currency, maximum amount). The limits of a
currency, from the smallest up, are its tiers: up to the smallest one approval is needed, above
it a second, above the next a third. An approver counts only with a limit in the currency, and
one of the approvers must hold a limit that covers the whole amount; an amount above every limit
cannot be approved at all. Whoever requested or edited a request may not approve it.

A request is an immutable value: every step returns the next one, so a service saves what the
domain decided and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from common.errors import FailedPrecondition, FieldViolation, InvalidArgument, PermissionDenied

MAX_APPROVALS = 3


class WriteOffState(StrEnum):
    DRAFT = "DRAFT"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    POSTED = "POSTED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    REVERSED = "REVERSED"


S = WriteOffState
TRANSITIONS: Mapping[WriteOffState, frozenset[WriteOffState]] = {
    S.DRAFT: frozenset({S.PENDING_APPROVAL, S.CANCELLED}),
    S.PENDING_APPROVAL: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.POSTED, S.CANCELLED}),
    S.POSTED: frozenset({S.REVERSED}),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REVERSED: frozenset(),
}
EDITABLE = frozenset({S.DRAFT, S.PENDING_APPROVAL})


class EntryKind(StrEnum):
    WRITE_OFF = "WRITE_OFF"
    WRITE_OFF_REVERSAL = "WRITE_OFF_REVERSAL"


@dataclass(frozen=True)
class Approver:
    user: str
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ApprovalLimit:
    """Either a role or a user may approve up to `max_minor` in `currency`."""

    currency: str
    max_minor: int
    role: str | None = None
    user: str | None = None

    def __post_init__(self) -> None:
        if (self.role is None) == (self.user is None):
            raise InvalidArgument.of("approval_limit", "names exactly one of role or user")
        if self.max_minor <= 0:
            raise InvalidArgument.of("approval_limit.max_amount", "must be greater than zero")

    def applies_to(self, approver: Approver) -> bool:
        return self.user == approver.user or (self.role is not None and self.role in approver.roles)


@dataclass(frozen=True)
class ApprovalPolicy:
    limits: tuple[ApprovalLimit, ...]

    def tiers(self, currency: str) -> list[int]:
        return sorted({limit.max_minor for limit in self.limits if limit.currency == currency})

    def required_approvals(self, amount_minor: int, currency: str) -> int:
        """1 up to the smallest limit, 2 above it, 3 above the next; refused above every limit."""
        tiers = self.tiers(currency)
        if not tiers or amount_minor > tiers[-1]:
            raise FailedPrecondition(
                f"no one may approve a write-off of {amount_minor} {currency} (minor units)",
                reason="ABOVE_APPROVAL_AUTHORITY",
                metadata={"amount_minor": amount_minor, "currency": currency},
            )
        exceeded = sum(1 for tier in tiers if amount_minor > tier)
        return min(1 + exceeded, MAX_APPROVALS)

    def authority(self, approver: Approver, currency: str) -> int:
        """The largest amount this approver may approve alone in `currency`; 0 for none."""
        return max(
            (
                limit.max_minor
                for limit in self.limits
                if limit.currency == currency and limit.applies_to(approver)
            ),
            default=0,
        )


@dataclass(frozen=True)
class InvoiceBalance:
    invoice_id: str
    open_minor: int
    held_minor: int  # a disputed part is written off through its dispute, not here


@dataclass(frozen=True)
class WriteOffLine:
    invoice_id: str
    amount_minor: int


@dataclass(frozen=True)
class Approval:
    user: str
    at: datetime
    limit_minor: int  # the approver's limit in the currency when approving


@dataclass(frozen=True)
class LedgerEntry:
    """What the ledger records; `entry_key` is unique there, so an entry is written once."""

    entry_key: str
    write_off_id: str
    invoice_id: str
    kind: EntryKind
    amount_minor: int  # negative for a reversal: it puts the amount back on the invoice
    currency: str
    reason_code: str
    at: datetime


@dataclass(frozen=True)
class WriteOff:
    write_off_id: str
    customer_id: str
    currency: str
    lines: tuple[WriteOffLine, ...]
    reason_code: str
    evidence: tuple[str, ...]
    requester: str
    editors: frozenset[str] = frozenset()
    state: WriteOffState = WriteOffState.DRAFT
    required_approvals: int = 0  # fixed when submitted
    approvals: tuple[Approval, ...] = ()
    decided_by: str | None = None  # who rejected or cancelled
    decision_note: str = ""

    @property
    def amount_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)


def _check_lines(
    lines: Sequence[WriteOffLine], balances: Mapping[str, InvoiceBalance], field: str = "lines"
) -> None:
    problems: list[tuple[str, str]] = []
    if not lines:
        problems.append((field, "a write-off needs at least one invoice"))
    seen: set[str] = set()
    for i, line in enumerate(lines):
        where = f"{field}[{i}]"
        if line.invoice_id in seen:
            problems.append((f"{where}.invoice", "an invoice appears once per write-off"))
        seen.add(line.invoice_id)
        balance = balances.get(line.invoice_id)
        if balance is None:
            problems.append((f"{where}.invoice", "not an open invoice of this customer"))
        elif line.amount_minor <= 0:
            problems.append((f"{where}.amount", "must be greater than zero"))
        elif line.amount_minor > balance.open_minor - balance.held_minor:
            problems.append((f"{where}.amount", "exceeds the invoice's open amount not disputed"))
    if problems:
        raise InvalidArgument(
            "the write-off lines are invalid",
            violations=[FieldViolation(path, text) for path, text in problems],
        )


def _move(request: WriteOff, target: WriteOffState, **changes: object) -> WriteOff:
    if target not in TRANSITIONS[request.state]:
        raise FailedPrecondition(
            f"a write-off in {request.state} cannot become {target}",
            reason="WRITE_OFF_STATE",
            metadata={"state": request.state, "target": target},
        )
    return replace(request, state=target, **changes)  # type: ignore[arg-type]


def draft(
    *,
    write_off_id: str,
    customer_id: str,
    currency: str,
    lines: Sequence[WriteOffLine],
    balances: Mapping[str, InvoiceBalance],
    reason_code: str,
    evidence: Iterable[str],
    requester: str,
) -> WriteOff:
    _check_lines(lines, balances)
    if not reason_code:
        raise InvalidArgument.of("reason_code", "a write-off needs a reason code")
    return WriteOff(
        write_off_id=write_off_id,
        customer_id=customer_id,
        currency=currency,
        lines=tuple(lines),
        reason_code=reason_code,
        evidence=tuple(evidence),
        requester=requester,
    )


def edit(
    request: WriteOff,
    *,
    editor: str,
    balances: Mapping[str, InvoiceBalance],
    lines: Sequence[WriteOffLine] | None = None,
    reason_code: str | None = None,
    evidence: Iterable[str] | None = None,
) -> WriteOff:
    """A change before approval; a pending request goes back to DRAFT, its approvals dropped
    (they approved something else), and the editor may no longer approve it."""
    if request.state not in EDITABLE:
        raise FailedPrecondition(
            f"a write-off in {request.state} can no longer be edited", reason="WRITE_OFF_STATE"
        )
    new_lines = tuple(lines) if lines is not None else request.lines
    _check_lines(new_lines, balances)
    if reason_code is not None and not reason_code:
        raise InvalidArgument.of("reason_code", "a write-off needs a reason code")
    return replace(
        request,
        lines=new_lines,
        reason_code=reason_code or request.reason_code,
        evidence=tuple(evidence) if evidence is not None else request.evidence,
        editors=request.editors | {editor},
        state=WriteOffState.DRAFT,
        required_approvals=0,
        approvals=(),
    )


def submit(request: WriteOff, policy: ApprovalPolicy) -> WriteOff:
    """Sends it for approval; the number of approvals its amount needs is fixed here."""
    required = policy.required_approvals(request.amount_minor, request.currency)
    return _move(request, WriteOffState.PENDING_APPROVAL, required_approvals=required)


def approve(
    request: WriteOff, approver: Approver, policy: ApprovalPolicy, at: datetime
) -> WriteOff:
    """Adds one approval; the request is APPROVED when it has as many as it needs and one of them
    came from someone whose limit covers the whole amount."""
    if request.state is not WriteOffState.PENDING_APPROVAL:
        raise FailedPrecondition(
            f"a write-off in {request.state} is not awaiting approval", reason="WRITE_OFF_STATE"
        )
    if approver.user == request.requester or approver.user in request.editors:
        raise PermissionDenied(
            "whoever requested or edited a write-off cannot approve it",
            reason="SEGREGATION_OF_DUTIES",
        )
    if any(approval.user == approver.user for approval in request.approvals):
        raise FailedPrecondition(
            "this approver has already approved the write-off", reason="ALREADY_APPROVED"
        )
    authority = policy.authority(approver, request.currency)
    if authority == 0:
        raise PermissionDenied(
            f"no approval limit in {request.currency}", reason="NO_APPROVAL_AUTHORITY"
        )
    approvals = (*request.approvals, Approval(approver.user, at, authority))
    covered = any(approval.limit_minor >= request.amount_minor for approval in approvals)
    remaining = request.required_approvals - len(approvals)
    if remaining <= 0 and covered:
        return _move(request, WriteOffState.APPROVED, approvals=approvals)
    if remaining <= 0:  # enough eyes, but the last one must be able to sign for the amount
        raise PermissionDenied(
            "the last approval must come from someone whose limit covers the amount",
            reason="NO_APPROVAL_AUTHORITY",
            metadata={"amount_minor": request.amount_minor, "limit_minor": authority},
        )
    return replace(request, approvals=approvals)


def reject(request: WriteOff, by: str, note: str) -> WriteOff:
    if by == request.requester or by in request.editors:
        raise PermissionDenied(
            "whoever requested or edited a write-off cannot decide on it",
            reason="SEGREGATION_OF_DUTIES",
        )
    return _move(request, WriteOffState.REJECTED, decided_by=by, decision_note=note)


def cancel(request: WriteOff, by: str, note: str = "") -> WriteOff:
    return _move(request, WriteOffState.CANCELLED, decided_by=by, decision_note=note)


def post(
    request: WriteOff, balances: Mapping[str, InvoiceBalance], at: datetime
) -> tuple[WriteOff, tuple[LedgerEntry, ...]]:
    """The entries that take the amounts out of the invoices, checked against the balances read
    in the posting transaction (a payment since approval may have reduced them)."""
    if request.state is not WriteOffState.APPROVED:
        raise FailedPrecondition(
            f"a write-off in {request.state} cannot be posted", reason="WRITE_OFF_STATE"
        )
    try:
        _check_lines(request.lines, balances)
    except InvalidArgument as changed:
        raise FailedPrecondition(
            "an invoice's balance changed since the write-off was approved",
            reason="BALANCE_CHANGED",
        ) from changed
    entries = tuple(_entry(request, line, EntryKind.WRITE_OFF, at) for line in request.lines)
    return _move(request, WriteOffState.POSTED), entries


def reverse(request: WriteOff, by: str, at: datetime) -> tuple[WriteOff, tuple[LedgerEntry, ...]]:
    """The entries that put every posted amount back: the same lines with the opposite sign."""
    moved = _move(request, WriteOffState.REVERSED, decided_by=by)
    return moved, tuple(
        _entry(request, line, EntryKind.WRITE_OFF_REVERSAL, at) for line in request.lines
    )


def _entry(request: WriteOff, line: WriteOffLine, kind: EntryKind, at: datetime) -> LedgerEntry:
    sign = 1 if kind is EntryKind.WRITE_OFF else -1
    return LedgerEntry(
        entry_key=f"{kind.lower()}:{request.write_off_id}:{line.invoice_id}",
        write_off_id=request.write_off_id,
        invoice_id=line.invoice_id,
        kind=kind,
        amount_minor=sign * line.amount_minor,
        currency=request.currency,
        reason_code=request.reason_code,
        at=at,
    )
