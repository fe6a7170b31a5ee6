"""Fill in the rules' `ResourceTypes` from what AWS Config says each rule evaluates.

AWS Config's record of a deleted resource names no rule: the rules it concerns are those
whose `ResourceTypes` list the resource's type, so a rule without them is never closed by
that signal (nor can the sweep tell its records' types). A rule's scope in AWS Config
(`Scope.ComplianceResourceTypes`) lists the types it evaluates; this use case copies them
into `Config-Master` for the rules that lack them, as a dry run unless told to write.
"""

from __future__ import annotations

from enum import Enum

from attrs import evolve, frozen

from application.ports import RuleCatalog, RuleScopes
from domain.rules import Rule

__all__ = ["FillRuleTypes", "RuleTypesFill", "TypesOutcome"]


class TypesOutcome(Enum):
    """What became of one rule."""

    FILLED = "filled"
    """It had no `ResourceTypes`; AWS Config's are written (or would be, in a dry run)."""
    REPLACED = "replaced"
    """Its `ResourceTypes` differed from AWS Config's and were replaced (asked for)."""
    DIFFERS = "differs"
    """Its `ResourceTypes` differ from AWS Config's; left as they are."""
    UNCHANGED = "unchanged"
    """Its `ResourceTypes` are AWS Config's already."""
    NO_SCOPE = "no-scope"
    """AWS Config's rule lists no resource types (periodic, or scoped by tag only)."""
    NOT_IN_CONFIG = "not-in-config"
    """No rule of that name in this account and region of AWS Config."""


@frozen
class RuleTypesFill:
    """One rule of `Config-Master`, and what AWS Config lists for it."""

    rule: Rule
    outcome: TypesOutcome
    config_types: frozenset[str] = frozenset()
    written: bool = False

    @property
    def lacks_types(self) -> bool:
        """True when the rule has no `ResourceTypes` after this run."""
        return not (self.rule.resource_types or (self.written and self.config_types))


@frozen
class FillRuleTypes:
    """Compare every rule with AWS Config's scope and fill in the missing `ResourceTypes`."""

    rules: RuleCatalog
    scopes: RuleScopes

    def execute(self, *, apply: bool = False, replace: bool = False) -> tuple[RuleTypesFill, ...]:
        """One result per rule, by `RuleId`; writes only when ``apply`` (a dry run otherwise).

        ``replace`` also overwrites `ResourceTypes` that differ from AWS Config's; without it
        they are reported as `DIFFERS` and left alone (an adopter may have narrowed them).
        """
        config = self.scopes.compliance_resource_types()
        results = []
        for rule in self.rules.list_rules():
            types = config.get(rule.name)
            if types is None:
                results.append(RuleTypesFill(rule, TypesOutcome.NOT_IN_CONFIG))
                continue
            if not types:
                results.append(RuleTypesFill(rule, TypesOutcome.NO_SCOPE))
                continue
            if rule.resource_types == types:
                results.append(RuleTypesFill(rule, TypesOutcome.UNCHANGED, types))
                continue
            if rule.resource_types and not replace:
                results.append(RuleTypesFill(rule, TypesOutcome.DIFFERS, types))
                continue
            outcome = TypesOutcome.REPLACED if rule.resource_types else TypesOutcome.FILLED
            if apply:
                self.rules.add(evolve(rule, resource_types=types))
            results.append(RuleTypesFill(rule, outcome, types, written=apply))
        return tuple(results)
