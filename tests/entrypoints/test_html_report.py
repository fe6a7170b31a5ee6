"""`--report FILE.html`: the run as a page that opens offline; a real browser reads it back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entrypoints.cli import app
from entrypoints.cli.html_report import RunPage, render
from tests.browser.headless import figures_in
from tests.entrypoints.test_cli_reconcile import ACCOUNT, OTHER_ACCOUNT, RULE, Estate


def test_elm_reconcile_writes_a_page_whose_numbers_are_the_runs(tmp_path: Path) -> None:
    estate = Estate()
    page = tmp_path / "sweep.html"
    result = CliRunner().invoke(
        app, ["reconcile", "--json", "--report", str(page)], obj=estate.container()
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)

    title, shown = figures_in(page)

    assert title.startswith("elm reconcile: ")
    assert {
        k.removeprefix("outcome:"): int(v) for k, v in shown.items() if k.startswith("outcome:")
    } == summary["outcomes"]
    assert int(shown["bars"]) == len(summary["outcomes"])
    assert int(shown[f"change:{ACCOUNT}|{RULE.name}"]) == 1
    assert int(shown[f"change:{OTHER_ACCOUNT}|{RULE.name}"]) == 1


def test_the_page_needs_nothing_from_the_network() -> None:
    text = render(RunPage("t", "s", {"closed": 2}, {("111122223333", "r"): 2}, {"closed": 1}))
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text
    assert "<script" not in text
    assert "<link" not in text


def test_text_from_the_tables_is_escaped() -> None:
    text = render(RunPage("<b>", "s", {"closed": 1}, {("111122223333", "<img src=x>"): 1}))
    assert "<img src=x>" not in text
    assert "&lt;img src=x&gt;" in text


@pytest.mark.parametrize(
    ("path", "reason"),
    [("report.txt", "name it FILE.html"), ("missing/report.html", "does not exist")],
)
def test_a_report_path_that_cannot_be_written_is_refused_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, reason: str
) -> None:
    monkeypatch.chdir(tmp_path)
    estate = Estate()
    result = CliRunner().invoke(app, ["reconcile", "--report", path], obj=estate.container())
    assert result.exit_code == 2
    assert reason in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (
        not any(estate.closed(k) for k in estate.store.scan_all_keys())
        if hasattr(estate.store, "scan_all_keys")
        else True
    )
