"""Errors the ports raise; adapters translate their SDK's errors into these."""

from __future__ import annotations

__all__ = ["ConflictError", "RecordFormatError", "TransientError"]


class TransientError(Exception):
    """A failure worth retrying later: throttled, denied, timed out, unavailable.

    The handler fails the record on it, so SQS delivers it again (and in the end to the DLQ).
    """


class ConflictError(Exception):
    """A conditional write lost a race: the record changed since it was read."""


class RecordFormatError(ValueError):
    """A stored item does not have its table's format; the message names the item and attribute.

    Retrying may not help, but failing the record sends it to the DLQ, where it waits for the
    item to be repaired instead of being lost.
    """
