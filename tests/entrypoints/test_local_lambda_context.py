"""The Lambda context the local stack gives the handlers: what Powertools reads of it."""

from __future__ import annotations

from typing import cast

from entrypoints.local.lambda_context import LocalContext, lambda_context
from entrypoints.local.moto_aws import PRODUCTION_ACCOUNT, PRODUCTION_REGION


def test_a_context_names_the_deployed_function_and_gives_its_whole_timeout() -> None:
    context = lambda_context("elm-sweep-worker-prod", "req-1", 300, memory_mb=512)

    assert context.function_name == "elm-sweep-worker-prod"
    assert context.invoked_function_arn == (
        f"arn:aws:lambda:{PRODUCTION_REGION}:{PRODUCTION_ACCOUNT}:function:elm-sweep-worker-prod"
    )
    assert context.aws_request_id == "req-1"
    assert context.get_remaining_time_in_millis() == 300_000
    assert context.memory_limit_in_mb == 512


def test_each_invocation_of_a_function_has_its_own_request_id_and_the_same_limits() -> None:
    first = cast(LocalContext, lambda_context("elm-sweep-worker-prod", "", 300, memory_mb=512))

    second = first.invocation("elm-local-worker-2")

    assert second.aws_request_id == "elm-local-worker-2"
    assert second.invoked_function_arn == first.invoked_function_arn
    assert second.get_remaining_time_in_millis() == 300_000
    assert second.memory_limit_in_mb == 512
