"""The results table: one row per figure, ELM and the reference side by side, the target."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum

from attrs import frozen

__all__ = ["Met", "Row", "Section", "machine", "not_measured", "ratio", "render"]


class Met(Enum):
    """Whether a figure meets its target."""

    YES = "yes"
    NO = "**no**"
    NONE = "—"
    NOT_MEASURED = "not measured"

    @classmethod
    def of(cls, ok: bool) -> Met:
        """YES when ``ok``, else NO."""
        return cls.YES if ok else cls.NO


@frozen
class Row:
    """One figure."""

    figure: str
    elm: str
    reference: str = "—"
    ratio: str = "—"
    target: str = "—"
    met: Met = Met.NONE


@frozen
class Section:
    """A numbered figure of the issue: its method, its rows, and notes on misses."""

    title: str
    method: str
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()


def not_measured(title: str, method: str, reason: str) -> Section:
    """A figure that could not be measured in this run, and why."""
    return Section(
        title,
        method,
        (Row(title, f"not measured: {reason}", met=Met.NOT_MEASURED),),
    )


def ratio(reference: float, elm: float) -> str:
    """How many times the reference's figure ELM's is (``x`` suffix)."""
    if elm == 0:
        return "∞" if reference else "—"
    value = reference / elm
    return f"{value:,.0f}x" if value >= 100 else f"{value:,.1f}x"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, fixed args
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()


def machine() -> str:
    """Date, machine and interpreter, for the table's heading."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · load average {load} · {platform.machine()} · "
        f"{os.cpu_count()} CPUs ({_cpu_model()}) · Python {platform.python_version()} · "
        f"{platform.system()} · commit {_commit()}"
    )


def render(sections: Sequence[Section], *, heading: str, quick: bool) -> str:
    """The markdown: the table, then each figure's method and notes."""
    mode = " · **quick mode** (small sizes, not the published figures)" if quick else ""
    lines = [
        f"# {heading}",
        "",
        f"{machine()}{mode}",
        "",
        "| # | figure | ELM | reference (scan-based) | ratio | target | met? |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, section in enumerate(sections, start=1):
        for row in section.rows:
            lines.append(
                f"| {number} | {row.figure} | {row.elm} | {row.reference} | {row.ratio} | "
                f"{row.target} | {row.met.value} |"
            )
    lines += ["", "## Method", ""]
    for number, section in enumerate(sections, start=1):
        lines.append(f"{number}. **{section.title}.** {section.method}")
        lines.extend(f"   - {note}" for note in section.notes)
    missed = [
        (n, s.title) for n, s in enumerate(sections, 1) if any(r.met is Met.NO for r in s.rows)
    ]
    unmeasured = [
        (n, s.title)
        for n, s in enumerate(sections, 1)
        if any(r.met is Met.NOT_MEASURED for r in s.rows)
    ]
    lines.append("")
    if missed:
        lines.append(
            "Missed targets: " + "; ".join(f"{n}. {t}" for n, t in missed) + " (reasons above)."
        )
    if unmeasured:
        lines.append("Not measured: " + "; ".join(f"{n}. {t}" for n, t in unmeasured) + ".")
    if not missed and not unmeasured:
        lines.append("Every figure meets its target.")
    return "\n".join(lines) + "\n"
