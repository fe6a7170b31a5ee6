"""Writing a small source tree, for the tests of module discovery."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_module"]


def write_module(root: Path, name: str, source: str) -> Path:
    """A module ``name`` (dotted) with ``source`` under ``root``, with its packages."""
    parts = name.split(".")
    for depth in range(1, len(parts)):
        init = root.joinpath(*parts[:depth], "__init__.py")
        init.parent.mkdir(parents=True, exist_ok=True)
        init.touch()
    path = root.joinpath(*parts).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return path
