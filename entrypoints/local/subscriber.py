"""A queue subscribed to ELM's own events on a bus, as another team's system would be.

`elm local` uses it to show what ELM published; the tests use it to see what reached a
subscriber through EventBridge and SQS.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["drain", "subscribe"]


def subscribe(events: Any, sqs: Any, bus: str, name: str) -> str:
    """Queue ``name``, fed by rule ``name`` on ``bus`` for every event of ``source: elm``;
    its URL. The bus must exist (``default`` always does)."""
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["elm"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every event the queue holds, as it received them, each deleted once read."""
    received: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return received
