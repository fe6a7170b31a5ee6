"""The deployed sweep handlers, `entrypoints.sweep_run_handler.planner` and `.worker`: a door
into `aws_lambda`.

The production template names these paths (the scheduled planner and the queue's workers);
the code lives in `entrypoints.aws_lambda.sweep_run_handler`.
"""

from __future__ import annotations

from entrypoints.aws_lambda.sweep_run_handler import (
    SAFETY_MARGIN_SECONDS,
    logger,
    metrics,
    planner,
    processor,
    use_parts_factory,
    worker,
)

__all__ = [
    "SAFETY_MARGIN_SECONDS",
    "logger",
    "metrics",
    "planner",
    "processor",
    "use_parts_factory",
    "worker",
]
