"""What happened to one event: a closed set of values the entrypoints turn into logs and metrics."""

from __future__ import annotations

from enum import Enum

__all__ = ["Outcome"]


class Outcome(Enum):
    """The result of carrying one event through the decision flow (docs/behaviour.md)."""

    CLOSED = "closed"
    MEMBER_DELETED = "member-deleted"
    DUPLICATE = "duplicate"
    NO_MATCH = "no-match"
    NOT_CONFIRMED = "not-confirmed"
    IGNORED = "ignored"
    REJECTED = "rejected"
    INVALID = "invalid"
    FAILED = "failed"

    @property
    def fails_record(self) -> bool:
        """True when the SQS record must be reported as failed so that SQS retries it."""
        return self in (Outcome.INVALID, Outcome.FAILED)

    @property
    def writes(self) -> bool:
        """True when the outcome changed an exception record."""
        return self in (Outcome.CLOSED, Outcome.MEMBER_DELETED)
