"""`elm rules list/add/fill-types`: read and register rules in `Config-Master`.

A rule without `ResourceTypes` is never a candidate of AWS Config's own deletion records
(they name no rule, only the resource's type): `list` marks those rules, and `fill-types`
copies the types AWS Config's scope lists for them (a dry run unless `--apply`).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from application.rule_types import FillRuleTypes, RuleTypesFill, TypesOutcome
from domain.events import is_region_name
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.cli import app
from entrypoints.cli._aws import reported, tables
from entrypoints.cli._console import WideConsole
from entrypoints.cli._errors import BAD_INPUT, fail

__all__ = ["rules_app"]

rules_app = typer.Typer(
    name="rules", help="Read and register rules in the rules table.", no_args_is_help=True
)
app.add_typer(rules_app)


_NONE = "[yellow]none[/yellow]"


def _document(rule: Rule) -> dict[str, object]:
    document: dict[str, object] = {
        "RuleId": rule.rule_id,
        "RuleName": rule.name,
        "ExceptionFormat": rule.exception_format.value,
        "ExceptionType": rule.exception_type.value,
    }
    if rule.resource_types:
        document["ResourceTypes"] = sorted(rule.resource_types)
    return document


@rules_app.command("list")
def list_rules(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List every rule."""
    catalog = tables().catalog()
    with reported():
        rules = catalog.list_rules()
        unreadable = catalog.unreadable()
    if as_json:
        documents: list[dict[str, object]] = [_document(r) for r in rules]
        documents += [{"Item": u.item, "Unreadable": u.reason} for u in unreadable]
        typer.echo(json.dumps(documents, indent=2))
        return
    table = Table(title=f"{catalog.table_name}: {len(rules)} rule(s)")
    for column in ("RuleId", "RuleName", "ExceptionFormat", "ExceptionType"):
        table.add_column(column, no_wrap=True)
    table.add_column("ResourceTypes", overflow="fold")
    for rule in rules:
        table.add_row(
            str(rule.rule_id),
            rule.name,
            rule.exception_format.value,
            rule.exception_type.value,
            ", ".join(sorted(rule.resource_types)) or _NONE,
        )
    WideConsole().print(table)
    lacking = [r.name for r in rules if not r.resource_types]
    if lacking:
        WideConsole().print(
            f"{len(lacking)} rule(s) list no ResourceTypes ({', '.join(lacking)}): AWS "
            "Config's own deletion records cannot reach their exceptions. Fill them in with "
            "`elm rules fill-types --region REGION` (a dry run first)."
        )
    if unreadable:
        skipped = Table(title=f"{len(unreadable)} unreadable item(s), skipped: repair them")
        skipped.add_column("Item")
        skipped.add_column("Problem", overflow="fold")
        for item in unreadable:
            skipped.add_row(item.item, item.reason)
        WideConsole().print(skipped)


@rules_app.command("add")
def add_rule(
    rule_id: Annotated[int, typer.Option("--rule-id", min=0, help="RuleId (the key).")],
    name: Annotated[str, typer.Option("--name", help="The Config rule name in events.")],
    exception_format: Annotated[
        ExceptionFormat, typer.Option("--format", help="How exceptions name resources.")
    ],
    exception_type: Annotated[
        ExceptionType, typer.Option("--type", help="One resource, or a group.")
    ],
    resource_types: Annotated[
        list[str] | None,
        typer.Option("--resource-type", help="A resource type the rule evaluates (repeatable)."),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite a rule with the same RuleId.")
    ] = False,
) -> None:
    """Register a rule."""
    if not name.strip():
        raise fail("--name must not be empty", BAD_INPUT)
    rule = Rule(
        rule_id, name.strip(), exception_format, exception_type, frozenset(resource_types or ())
    )
    catalog = tables().catalog()
    with reported():
        existing = catalog.get(rule_id)
        # Readable rules and unreadable items that show their name: an item whose name
        # cannot be read does not stop a registration (only events fail on it).
        same_name = next((r for r in catalog.list_rules() if r.name == rule.name), None)
        held = [u.item for u in catalog.unreadable() if u.rule_name == rule.name]
        if existing is not None and not replace:
            raise fail(f"rule {rule_id} already exists ({existing.name}); use --replace")
        if same_name is not None and same_name.rule_id != rule_id:
            raise fail(f"rule name {rule.name!r} is already rule {same_name.rule_id}")
        if held:
            raise fail(f"rule name {rule.name!r} is held by unreadable item {held[0]}: repair it")
        catalog.add(rule)
    typer.echo(f"rule {rule_id} ({rule.name}) written to {catalog.table_name}")


@rules_app.command("fill-types")
def fill_types(
    region: Annotated[
        str, typer.Option("--region", help="Region of AWS Config whose rules are read.")
    ],
    apply: Annotated[
        bool, typer.Option("--apply", help="Write the types (without it: a dry run).")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Also overwrite ResourceTypes that differ from Config's."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fill in ResourceTypes from AWS Config's rule scopes (DescribeConfigRules).

    Reads the rules of AWS Config in REGION of the account your credentials are in
    (config:DescribeConfigRules), and for each rule of the rules table with the same name
    copies `Scope.ComplianceResourceTypes`. A dry run unless --apply.
    """
    if not is_region_name(region):
        raise fail(f"--region is not a region name (got {region!r})", BAD_INPUT)
    configured = tables()
    with reported():
        use_case = FillRuleTypes(configured.catalog(), configured.rule_scopes(region))
        results = use_case.execute(apply=apply, replace=replace)
    if as_json:
        typer.echo(json.dumps([_fill_document(r) for r in results], indent=2))
        return
    verb = "written" if apply else "would be written (dry run: --apply writes)"
    table = Table(title=f"ResourceTypes from AWS Config in {region}: {verb}")
    for column in ("RuleId", "RuleName", "outcome"):
        table.add_column(column, no_wrap=True)
    for column in ("ResourceTypes", "AWS Config lists"):
        table.add_column(column, overflow="fold")
    for result in results:
        table.add_row(
            str(result.rule.rule_id),
            result.rule.name,
            result.outcome.value,
            ", ".join(sorted(result.rule.resource_types)) or "-",
            ", ".join(sorted(result.config_types)) or "-",
        )
    WideConsole().print(table)
    lacking = [r.rule.name for r in results if r.lacks_types]
    changes = sum(r.outcome in (TypesOutcome.FILLED, TypesOutcome.REPLACED) for r in results)
    typer.echo(
        f"{changes} rule(s) {'changed' if apply else 'to change'}; "
        f"{len(lacking)} rule(s) still without ResourceTypes"
        + (f": {', '.join(lacking)}" if lacking else "")
    )


def _fill_document(result: RuleTypesFill) -> dict[str, object]:
    return {
        "RuleId": result.rule.rule_id,
        "RuleName": result.rule.name,
        "Outcome": result.outcome.value,
        "ResourceTypes": sorted(result.rule.resource_types),
        "ConfigResourceTypes": sorted(result.config_types),
        "Written": result.written,
    }
