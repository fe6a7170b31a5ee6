"""The container of one Lambda runtime: built at the first invocation, reused by later ones."""

from __future__ import annotations

import os
from collections.abc import Callable

from aws_lambda_powertools import Logger
from injector import Injector

from entrypoints.container import AwsModule, build_container
from entrypoints.settings import Settings

__all__ = ["RuntimeContainer", "container_from_env"]


def container_from_env() -> Injector:
    """The production wiring: AWS adapters, settings from the environment (SPEC §7)."""
    return build_container(AwsModule(Settings.from_env(os.environ)))


class RuntimeContainer:
    """Builds the container once per Lambda container; tests swap the factory."""

    def __init__(self, logger: Logger) -> None:
        self._logger = logger
        self._factory: Callable[[], Injector] = container_from_env
        self._container: Injector | None = None

    def use_factory(self, factory: Callable[[], Injector] | None = None) -> None:
        """Build with ``factory`` at the next invocation (None: from the environment)."""
        self._factory = factory or container_from_env
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
