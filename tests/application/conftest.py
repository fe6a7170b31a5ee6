"""Fixtures of the use-case tests."""

from __future__ import annotations

import pytest

from tests.application.estate import Estate, new_estate


@pytest.fixture
def estate() -> Estate:
    """An estate that knows the four rules and holds nothing else yet."""
    return new_estate()
