"""The container of one Lambda runtime: built at the first invocation, reused by later ones."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial

from aws_lambda_powertools import Logger
from injector import Injector

from entrypoints.composition.container import (
    PROCESSOR_SESSION_NAME,
    SWEEP_SESSION_NAME,
    AwsModule,
    build_container,
)
from entrypoints.composition.settings import Settings

__all__ = ["RuntimeContainer", "container_from_env"]


def container_from_env(*, sweep: bool = True) -> Injector:
    """The production wiring: AWS adapters, settings from the environment (docs/behaviour.md);
    without the sweep's use case when ``sweep`` is False (see `build_container`)."""
    session_name = SWEEP_SESSION_NAME if sweep else PROCESSOR_SESSION_NAME
    module = AwsModule(Settings.from_env(os.environ), session_name=session_name)
    return build_container(module, sweep=sweep)


class RuntimeContainer:
    """Builds the container once per Lambda container; tests swap the factory.

    ``sweep``: whether the production container has `Reconcile`. Only the sweep's Lambda
    asks for it; the event Lambda's cold start skips importing the sweep.
    """

    def __init__(self, logger: Logger, *, sweep: bool = False) -> None:
        self._logger = logger
        self._from_env: Callable[[], Injector] = partial(container_from_env, sweep=sweep)
        self._factory: Callable[[], Injector] = self._from_env
        self._container: Injector | None = None

    def use_factory(self, factory: Callable[[], Injector] | None = None) -> None:
        """Build with ``factory`` at the next invocation (None: from the environment)."""
        self._factory = factory or self._from_env
        self._container = None

    def get(self) -> Injector:
        """The container, built on first use; a bad setting is logged and raised."""
        if self._container is None:
            try:
                self._container = self._factory()
            except ValueError:
                # A bad setting (SettingsError names the variable): nothing could succeed.
                self._logger.exception("ELM cannot start: bad configuration")
                raise
        return self._container
