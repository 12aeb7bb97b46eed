"""The escalation vocabulary: teams, severities, states. Plain enums, no I/O."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Team(StrEnum):
    SALES = "SALES"
    GBS = "GBS"
    LEGAL = "LEGAL"
    TEAM_LEAD = "TEAM_LEAD"


class Severity(IntEnum):
    """Ordered, so 'never goes down' is a comparison. Stored as the rank."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


class State(StrEnum):
    OPEN = "OPEN"
    CLAIMED = "CLAIMED"
    INFO_REQUESTED = "INFO_REQUESTED"
    RESPONDED = "RESPONDED"
    RESOLVED = "RESOLVED"
    HANDED_BACK = "HANDED_BACK"

    @property
    def closed(self) -> bool:
        return self in CLOSED_STATES


CLOSED_STATES = frozenset({State.RESOLVED, State.HANDED_BACK})
# Roles whose holders belong to one receiving team and see only its escalations.
TEAM_ROLES = {"sales": Team.SALES, "gbs": Team.GBS, "legal": Team.LEGAL}
