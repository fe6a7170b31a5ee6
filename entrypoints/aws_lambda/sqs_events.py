"""The Lambda SQS event (and `aws sqs receive-message` output) as queued messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from application.ports import Message

__all__ = ["NotAnSqsBatch", "messages_from_receive_output", "messages_from_sqs_event"]


class NotAnSqsBatch(ValueError):
    """The event is not an SQS batch; the message says what is wrong with it."""


def messages_from_sqs_event(event: object) -> list[Message]:
    """The records of a Lambda SQS event (``{"Records": [{messageId, body, ...}]}``)."""
    return _messages(event, "Records", "messageId", "body")


def messages_from_receive_output(output: object) -> list[Message]:
    """The messages of `sqs receive-message` output (``{"Messages": [{MessageId, Body}]}``)."""
    return _messages(output, "Messages", "MessageId", "Body")


def _messages(event: object, records_key: str, id_key: str, body_key: str) -> list[Message]:
    if not isinstance(event, Mapping):
        raise NotAnSqsBatch(f"event must be a JSON object with {records_key} (got {_kind(event)})")
    if records_key not in event:
        raise NotAnSqsBatch(f"event has no {records_key}: not an SQS batch")
    records = event[records_key]
    if not isinstance(records, list):
        raise NotAnSqsBatch(f"{records_key} must be a list (got {_kind(records)})")
    messages = []
    for index, record in enumerate(records):
        where = f"{records_key}[{index}]"
        if not isinstance(record, Mapping):
            raise NotAnSqsBatch(f"{where} must be an object (got {_kind(record)})")
        message_id = record.get(id_key)
        body = record.get(body_key)
        if not isinstance(message_id, str) or not message_id:
            raise NotAnSqsBatch(f"{where}.{id_key} is missing or not a string")
        if not isinstance(body, str):
            raise NotAnSqsBatch(f"{where}.{body_key} is missing or not a string")
        messages.append(Message(message_id, body))
    return messages


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
