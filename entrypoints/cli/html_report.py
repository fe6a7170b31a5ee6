"""A run as one self-contained HTML page: outcomes (with a chart), changes per account and
rule, and what the sweep found. No scripts, fonts or styles from elsewhere: it opens offline.

Every number sits in an element with a ``data-figure`` attribute naming it, so a test (and a
reader's tooling) can read the page back.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import typer
from attrs import frozen

from application.sweep_report import SweepOutcome, SweepReport
from entrypoints.cli._errors import BAD_INPUT, fail
from entrypoints.local.pipeline import LocalReport

__all__ = ["RunPage", "check_report_path", "local_page", "render", "sweep_page", "write_report"]

_CLOSING = frozenset({"closed", "member-deleted"})
_COLOURS = {
    "closed": "#2e7d32",
    "member-deleted": "#558b2f",
    "duplicate": "#757575",
    "not-confirmed": "#f9a825",
    "no-match": "#9e9e9e",
    "failed": "#c62828",
    "rejected": "#ad1457",
    "invalid": "#6a1b9a",
}


@frozen
class RunPage:
    """What the page shows: counts by outcome, changes by account and rule, the sweep's."""

    title: str
    subtitle: str
    outcomes: Mapping[str, int]
    changes: Mapping[tuple[str, str], int]
    """(account, rule) → records ELM closed or advanced there."""
    sweep: Mapping[str, int] | None = None
    notes: tuple[str, ...] = ()


def local_page(report: LocalReport, elapsed: float) -> RunPage:
    """The page of an `elm local` run."""
    changes: Counter[tuple[str, str]] = Counter()
    for event in report.events:
        if event.log is None:
            continue
        rule = str(event.log.get("rule") or event.rule_name)
        for record in event.log.get("matched_records") or ():
            if record.get("outcome") in _CLOSING:
                changes[(event.account_id, rule)] += 1
    sweep = None
    if report.sweep is not None:
        sweep = _sweep_counts(report.sweep)
        changes.update(_sweep_changes(report.sweep))
    return RunPage(
        title=f"elm local: {report.scenario.source}",
        subtitle=(
            f"{len(report.events)} events through the local pipeline, "
            f"{len(report.published)} of ELM's own events published; {elapsed:.1f} s"
        ),
        outcomes=dict(sorted(report.counts.items())),
        changes=dict(changes),
        sweep=sweep,
        notes=("AWS Config's inventory is simulated from the scenario.",),
    )


def sweep_page(report: SweepReport, where: str) -> RunPage:
    """The page of an `elm reconcile` run."""
    changes = _sweep_changes(report)
    counts = _sweep_counts(report)
    return RunPage(
        title=f"elm reconcile: {report.run_id}",
        subtitle=(
            f"{where}: {report.records_scanned} records scanned, {report.groups} groups, "
            f"{report.config_calls} AWS Config calls"
            + (" (DRY RUN: nothing written)" if report.dry_run else "")
        ),
        outcomes=counts,
        changes=dict(changes),
        sweep=None,
        notes=() if report.complete else ("The run did not cover the whole table.",),
    )


def check_report_path(path: Path) -> None:
    """Refuse, before any work, a report path that cannot be written (a one-line error)."""
    if path.suffix.lower() not in (".html", ".htm"):
        raise fail(f"--report {path}: the report is an HTML page; name it FILE.html", BAD_INPUT)
    if path.is_dir():
        raise fail(f"--report {path}: is a folder; name a file", BAD_INPUT)
    if not path.parent.is_dir():
        raise fail(f"--report {path}: folder {path.parent} does not exist", BAD_INPUT)


def write_report(page: RunPage, path: Path) -> None:
    """Write the page, and say where on stderr; a one-line error when it cannot."""
    try:
        path.write_text(render(page), encoding="utf-8")
    except OSError as error:
        raise fail(f"--report {path}: {error.strerror or error}") from None
    typer.echo(f"HTML report written to {path}", err=True)


def _sweep_changes(report: SweepReport) -> Counter[tuple[str, str]]:
    """(account, rule) → records the sweep closed or advanced there."""
    return Counter(
        (note.record_key.account_id, note.rule_name or f"rule {note.record_key.rule_id}")
        for note in report.changes
        if note.outcome in (SweepOutcome.CLOSED, SweepOutcome.MEMBER_DELETED)
    )


def _sweep_counts(report: SweepReport) -> dict[str, int]:
    return {o.value: report.count(o) for o in SweepOutcome if report.count(o)}


def render(page: RunPage) -> str:
    """The page's HTML."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(page.title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{e(page.title)}</h1>",
        f"<p class=sub>{e(page.subtitle)}</p>",
        *(f"<p class=note>{e(n)}</p>" for n in page.notes),
        "<h2>Outcomes</h2>",
        _chart(page.outcomes),
        _table(("outcome", "count"), page.outcomes.items(), "outcome"),
        "<h2>Changes by account and rule</h2>",
    ]
    if page.changes:
        rows = sorted(page.changes.items(), key=lambda item: (-item[1], item[0]))
        parts.append(
            _table(
                ("account", "rule", "closed or advanced"),
                ((f"{a}", f"{r}", n) for (a, r), n in rows),
                "change",
            )
        )
    else:
        parts.append('<p data-figure="no-changes">No exception was changed.</p>')
    if page.sweep is not None:
        parts += ["<h2>What the sweep found</h2>"]
        parts.append(_table(("outcome", "records"), page.sweep.items(), "sweep"))
    parts.append("</body></html>")
    return "\n".join(parts)


def _table(head: Sequence[str], rows: Iterable[Sequence[object]], figure: str) -> str:
    e = html.escape
    out = [f'<table data-table="{figure}"><thead><tr>']
    out += [f"<th>{e(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        *labels, count = row
        key = "|".join(str(label) for label in labels)
        out.append("<tr>")
        out += [f"<td>{e(str(label))}</td>" for label in labels]
        out.append(f'<td class=n data-figure="{e(figure)}:{e(key)}">{count}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _chart(counts: Mapping[str, int]) -> str:
    """A horizontal bar chart, inline SVG."""
    if not counts:
        return "<p>No outcomes.</p>"
    width, bar, gap, label = 640, 22, 8, 140
    top = max(counts.values()) or 1
    height = len(counts) * (bar + gap)
    out = [
        f'<svg role="img" aria-label="outcomes" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, (outcome, count) in enumerate(counts.items()):
        y = index * (bar + gap)
        length = round((width - label - 60) * count / top)
        colour = _COLOURS.get(outcome, "#1565c0")
        name = html.escape(outcome)
        out.append(
            f'<text x="{label - 8}" y="{y + bar - 6}" text-anchor="end">{name}</text>'
            f'<rect x="{label}" y="{y}" width="{max(length, 1)}" height="{bar}" '
            f'fill="{colour}"><title>{name}: {count}</title></rect>'
            f'<text x="{label + length + 6}" y="{y + bar - 6}">{count}</text>'
        )
    out.append("</svg>")
    return "".join(out)


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#212121}"
    "h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}"
    ".sub{color:#555}.note{color:#8d6e00}"
    "table{border-collapse:collapse;margin-top:.5rem}"
    "th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;white-space:nowrap}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "svg text{font-size:13px;fill:#212121}"
)
