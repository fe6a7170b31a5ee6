"""The deployed sweep handler, `entrypoints.sweep_handler.handler`: a door into `aws_lambda`.

The production template names this path, so it stays; the code lives in
`entrypoints.aws_lambda.sweep_handler`.
"""

from __future__ import annotations

from entrypoints.aws_lambda.sweep_handler import (
    MAX_LISTED,
    SAFETY_MARGIN_SECONDS,
    SweepFailed,
    handler,
    logger,
    metrics,
    use_container_factory,
)

__all__ = [
    "MAX_LISTED",
    "SAFETY_MARGIN_SECONDS",
    "SweepFailed",
    "handler",
    "logger",
    "metrics",
    "use_container_factory",
]
