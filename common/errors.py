"""Domain errors: what went wrong, in the business's words. No grpc import here.

The gRPC edge (`common.grpc.status`) maps each class to one status code; services raise these and
never build statuses themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldViolation:
    field: str  # path in the request, e.g. "invoice.lines[2].amount"
    description: str


class DomainError(Exception):
    """Base of every error a caller is meant to see. `reason` is a stable UPPER_SNAKE code."""

    reason: str = "DOMAIN_ERROR"

    def __init__(self, message: str, *, reason: str | None = None, metadata: dict | None = None):
        super().__init__(message)
        self.message = message
        if reason:
            self.reason = reason
        self.metadata: dict[str, str] = {k: str(v) for k, v in (metadata or {}).items()}


class InvalidArgument(DomainError):
    """The request itself is wrong; nothing was changed."""

    reason = "INVALID_ARGUMENT"

    def __init__(self, message: str = "the request is invalid", *, violations=(), **kw):
        super().__init__(message, **kw)
        self.violations: tuple[FieldViolation, ...] = tuple(violations)

    @classmethod
    def of(cls, field_path: str, description: str) -> InvalidArgument:
        return cls(
            f"{field_path}: {description}", violations=[FieldViolation(field_path, description)]
        )


class NotFound(DomainError):
    reason = "NOT_FOUND"


class AlreadyExists(DomainError):
    reason = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    """The resource is in a state where this is not allowed (wrong status, would overdraw...)."""

    reason = "FAILED_PRECONDITION"


class Aborted(DomainError):
    """Optimistic concurrency: the etag sent is not the current one. Re-read and retry."""

    reason = "STALE_ETAG"


class PermissionDenied(DomainError):
    reason = "PERMISSION_DENIED"


class Unauthenticated(DomainError):
    reason = "UNAUTHENTICATED"


class Unavailable(DomainError):
    """A dependency (database, another service) did not answer; safe to retry."""

    reason = "UNAVAILABLE"


@dataclass
class Violations:
    """Collects field violations so a request reports all its problems at once."""

    items: list[FieldViolation] = field(default_factory=list)

    def add(self, field_path: str, description: str) -> None:
        self.items.append(FieldViolation(field_path, description))

    def require(self, condition: bool, field_path: str, description: str) -> None:
        if not condition:
            self.add(field_path, description)

    def raise_if_any(self, message: str = "the request is invalid") -> None:
        if self.items:
            detail = "; ".join(f"{v.field}: {v.description}" for v in self.items[:5])
            raise InvalidArgument(f"{message}: {detail}", violations=self.items)
