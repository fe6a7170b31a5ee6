"""What the end-to-end tests know of one run of the local pipeline."""

from __future__ import annotations

from attrs import frozen

from entrypoints.local.pipeline import LocalReport

__all__ = ["PipelineRun"]


@frozen
class PipelineRun:
    """The report of one run, and the process state around it."""

    report: LocalReport
    environment_before: dict[str, str]
    environment_after: dict[str, str]
    default_session_before: object
    default_session_after: object
    threads_before: frozenset[int]
    threads_after: frozenset[int]
