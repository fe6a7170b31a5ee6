"""The Lambda context the local stack hands ELM's handlers, as Lambda would."""

from __future__ import annotations

from typing import cast

from attrs import frozen
from aws_lambda_powertools.utilities.typing import LambdaContext

from entrypoints.local.moto_aws import PRODUCTION_ACCOUNT, PRODUCTION_REGION

__all__ = ["LocalContext", "lambda_context"]


@frozen
class LocalContext:
    """What the handlers (Powertools' `inject_lambda_context`) read of a Lambda context."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    remaining_ms: int
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    log_group_name: str = ""
    log_stream_name: str = "elm-local"

    def get_remaining_time_in_millis(self) -> int:
        """The invocation's time left: its whole timeout (the local clock does not run)."""
        return self.remaining_ms

    def invocation(self, request_id: str) -> LambdaContext:
        """The same function's context for another invocation."""
        return lambda_context(
            self.function_name, request_id, self.remaining_ms // 1000, self.memory_limit_in_mb
        )


def lambda_context(
    name: str, request_id: str, timeout_seconds: int, memory_mb: int = 256
) -> LambdaContext:
    """The context of one invocation of the deployed function ``name``."""
    arn = f"arn:aws:lambda:{PRODUCTION_REGION}:{PRODUCTION_ACCOUNT}:function:{name}"
    return cast(
        LambdaContext,
        LocalContext(name, arn, request_id, timeout_seconds * 1000, memory_limit_in_mb=memory_mb),
    )
