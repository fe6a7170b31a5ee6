"""botocore's errors translated into the ports' errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from application.errors import ConflictError, TransientError

__all__ = ["error_code", "translated"]

_CONDITION_FAILED = "ConditionalCheckFailedException"


def error_code(error: ClientError) -> str:
    """The AWS error code of a `ClientError` (empty when the response has none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Raise `ConflictError` for a failed condition, `TransientError` for any other AWS error.

    Throttling, 5xx, denied access and timeouts reach here only after botocore's own
    retries; failing the record lets SQS retry it later and finally park it in the DLQ.
    """
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        if code == _CONDITION_FAILED:
            raise ConflictError(f"{what}: the record changed since it was read") from error
        raise TransientError(f"{what}: {code or 'error'}: {error}") from error
    except BotoCoreError as error:
        raise TransientError(f"{what}: {error}") from error
