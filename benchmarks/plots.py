"""The figures as SVG plots, drawn with pygal (pure Python, SVG-native, log axes).

Each plot is one line per design and kind, both axes on a log scale: reads that do not
grow are flat, reads that follow the data rise with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pygal
from attrs import frozen
from pygal.style import Style

__all__ = ["PLOTS", "Point", "Series", "sweep_plot", "write_plot"]

PLOTS = Path(__file__).parent.parent / "docs" / "performance"
"""Where `make bench` writes the plots that docs/performance.md shows."""

_STYLE = Style(
    background="white",
    plot_background="white",
    font_family="sans-serif",
    colors=("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf"),
)


@frozen
class Point:
    """One measurement: the axis value and what was measured there."""

    x: float
    y: float


@frozen
class Series:
    """One line of a plot."""

    label: str
    points: tuple[Point, ...]
    dashed: bool = False


def render_plot(
    title: str, x_title: str, y_title: str, series: Iterable[Series], *, logarithmic: bool = True
) -> str:
    """The SVG text of an XY plot of ``series``."""
    chart = pygal.XY(
        title=title,
        x_title=x_title,
        y_title=y_title,
        logarithmic=logarithmic,
        style=_STYLE,
        width=800,
        height=480,
        dots_size=3,
        legend_at_bottom=True,
        legend_at_bottom_columns=2,
        truncate_legend=-1,
        disable_xml_declaration=False,
        js=(),
    )
    for line in series:
        # A log axis cannot show 0: a design that reads nothing is drawn at its floor.
        values = [(p.x, max(p.y, 0.01)) for p in line.points]
        chart.add(line.label, values, stroke_style={"dasharray": "6, 4"} if line.dashed else None)
    rendered: str | bytes = chart.render()
    return rendered.decode("utf-8") if isinstance(rendered, bytes) else rendered


def write_plot(
    path: Path,
    title: str,
    x_title: str,
    y_title: str,
    series: Sequence[Series],
    *,
    logarithmic: bool = True,
) -> Path:
    """Write the plot to ``path`` (its folder created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        render_plot(title, x_title, y_title, series, logarithmic=logarithmic), encoding="utf-8"
    )
    return path


def sweep_plot(path: Path, series: Sequence[Series]) -> Path | None:
    """Sweep time against workers, from the sweep figures (None when there are none).

    The sweep's benchmark (benchmarks/sweep.py) hands its measurements here: per estate
    size the modelled run and its two lower bounds (dashed); x = workers, y = seconds.
    """
    if not series:
        return None
    return write_plot(
        path,
        "Sweep time vs workers (AWS Config calls at ELM's pace per account-region)",
        "workers",
        "seconds",
        series,
    )
