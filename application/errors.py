"""Errors the ports raise; adapters translate their SDK's errors into these."""

from __future__ import annotations

__all__ = ["ConflictError", "TransientError"]


class TransientError(Exception):
    """A failure worth retrying later: throttled, denied, timed out, unavailable.

    The handler fails the record on it, so SQS delivers it again (and in the end to the DLQ).
    """


class ConflictError(Exception):
    """A conditional write lost a race: the record changed since it was read."""
