"""The sweep's use case on the composition root: installed by `build_container` unless the
caller (the event Lambda) never sweeps, so that one need not import the sweep at all."""

from __future__ import annotations

from injector import Module, provider, singleton

from application.announce import PublishEvents
from application.ports import Clock, ExceptionStore, ResourceInventory, RuleCatalog, Timer
from application.reconcile import Reconcile
from entrypoints.composition.settings import Settings

__all__ = ["SweepModule"]


class SweepModule(Module):
    """`Reconcile`, wired to whatever adapters the other module provides."""

    @singleton
    @provider
    def reconcile(
        self,
        rules: RuleCatalog,
        store: ExceptionStore,
        inventory: ResourceInventory,
        clock: Clock,
        timer: Timer,
        settings: Settings,
        publish: PublishEvents,
    ) -> Reconcile:
        return Reconcile(
            rules,
            store,
            inventory,
            clock,
            timer,
            settings.policy,
            settings.sweep_limits,
            publish=publish,
        )
