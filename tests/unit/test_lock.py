"""requirements/lock.txt pins every distribution ELM and its tools need, and the Makefile
installs with it, so that a fresh clone gets the versions CI tested."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "lock.txt"


def _pinned() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, separator, version = line.partition("==")
            assert separator, f"{LOCK}: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = version.strip()
    return pins


def _needed(name: str, extras: frozenset[str], seen: set[str]) -> None:
    key = canonicalize_name(name)
    if key in seen:
        return
    seen.add(key)
    for text in metadata.requires(name) or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is not None and not any(
            marker.evaluate({"extra": extra}) for extra in (extras or {""})
        ):
            continue
        _needed(requirement.name, frozenset(requirement.extras), seen)


def test_the_lock_pins_every_distribution_of_the_dev_install() -> None:
    needed: set[str] = set()
    _needed("elm", frozenset({"cli", "dev"}), needed)
    needed.discard("elm")

    missing = sorted(needed - set(_pinned()))

    assert missing == []


def test_every_install_in_the_makefile_uses_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [
        line
        for line in makefile.splitlines()
        if re.search(r"\$\(PIP\) ", line) and not line.lstrip().startswith("#")
    ]

    assert installs, "no install line found"
    assert all("-c $(LOCK)" in line for line in installs), installs
    assert "LOCK   := requirements/lock.txt" in makefile
