"""The deployed event handler, `entrypoints.lambda_handler.handler`: a door into `aws_lambda`.

The templates and the operators' runbooks name this path, so it stays; the code lives in
`entrypoints.aws_lambda.event_handler`.
"""

from __future__ import annotations

from entrypoints.aws_lambda.event_handler import (
    RecordFailed,
    handler,
    logger,
    metrics,
    processor,
    use_container_factory,
)

__all__ = ["RecordFailed", "handler", "logger", "metrics", "processor", "use_container_factory"]
