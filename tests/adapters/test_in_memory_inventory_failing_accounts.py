"""The in-memory inventory can fail one account's lookups while the others answer."""

from __future__ import annotations

import pytest

from adapters.in_memory import InMemoryInventory
from application.errors import TransientError


def test_a_failing_account_raises_a_transient_error_and_the_others_answer() -> None:
    inventory = InMemoryInventory(failing_accounts={"444455556666": "AccessDenied: denied"})
    inventory.put("111122223333", "eu-west-1", "AWS::EC2::Volume", "vol-1", deleted=True)
    inventory.put("444455556666", "eu-west-1", "AWS::EC2::Volume", "vol-2", deleted=True)

    with pytest.raises(TransientError, match="AccessDenied: denied"):
        inventory.lookup("444455556666", "eu-west-1", "AWS::EC2::Volume", ["vol-2"])
    found = inventory.lookup("111122223333", "eu-west-1", "AWS::EC2::Volume", ["vol-1"])

    assert found["vol-1"].deleted is True
