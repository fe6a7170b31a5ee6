"""The README is a landing page; the rest lives in docs/, and nothing points outside the
repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def test_the_readme_is_a_landing_page_under_12_kb() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.encode()) < 12 * 1024
    assert "```mermaid" in text
    commands = re.findall(r"(?m)^make (\w+)", text)
    assert commands == ["demo", "test"], "exactly the two set-up commands"


def test_every_doc_the_readme_links_exists() -> None:
    links = re.findall(r"\]\((docs/[^)#]+)", README.read_text(encoding="utf-8"))
    assert len(links) >= 10
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert missing == []


def test_the_topics_each_have_their_file() -> None:
    for topic in (
        "scenarios",
        "local",
        "cli",
        "deploying",
        "sweep",
        "operations",
        "reliability",
        "performance",
        "design",
        "behaviour",
        "signals",
        "events",
        "dashboard",
        "matching",
    ):
        assert (ROOT / "docs" / f"{topic}.md").is_file(), topic


def test_nothing_in_the_repository_points_at_the_outside_contract() -> None:
    skipped = {"dist", "elm.egg-info", "node_modules", "__pycache__"}
    mentions = [
        path.relative_to(ROOT).as_posix()
        for path in ROOT.rglob("*")
        if path.is_file()
        and path.suffix in (".py", ".md", ".yaml", ".feature", ".toml", ".txt")
        and not any(
            part.startswith(".") or part in skipped for part in path.relative_to(ROOT).parts
        )
        and re.search(r"\bSPEC\b", path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert mentions == []
