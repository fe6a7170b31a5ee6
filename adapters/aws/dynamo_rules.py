"""`Config-Master` on DynamoDB: the `RuleCatalog` port, served from an in-process cache."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adapters.aws.dynamo_items import RULES_HASH_KEY, MalformedItemError, rule_from_item
from adapters.aws.errors import translated
from application.ports import UnreadableRule, unreadable_rule_error
from domain.rules import Rule, rules_by_name, rules_by_resource_type

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

__all__ = ["DEFAULT_CACHE_SECONDS", "DynamoRuleCatalog"]

DEFAULT_CACHE_SECONDS = 300.0
# By id, by name, the unreadable items, by resource type.
_Indexes = tuple[
    dict[int, Rule], dict[str, Rule], list["UnreadableRule"], dict[str, tuple[Rule, ...]]
]
_LOG = logging.getLogger(__name__)


class DynamoRuleCatalog:
    """The rules table, read whole at most once per ``cache_seconds``.

    Events name a rule by `RuleName`, but the table is keyed by `RuleId` and existing
    adopters' tables have no index on the name, so a lookup by name cannot be a GetItem
    or a Query. The table is small (one item per Config rule), so one paginated Scan per
    cache period serves every lookup of a warm Lambda; a rule added in the console is seen
    within ``cache_seconds``.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._table = table_name
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        # Replaced whole on refresh so readers never see a half-made index.
        self._rules: _Indexes | None = None
        self._loaded_at = 0.0

    @property
    def table_name(self) -> str:
        """The table's name."""
        return self._table

    def find_by_name(self, rule_name: str) -> Rule | None:
        """The rule of that name, or None."""
        _, by_name, unreadable, _ = self._cached()
        rule = by_name.get(rule_name)
        if rule is None and (error := unreadable_rule_error(rule_name, unreadable)):
            raise error
        return rule

    def get(self, rule_id: int) -> Rule | None:
        """The rule of that id, or None."""
        return self._cached()[0].get(rule_id)

    def find_by_resource_type(self, resource_type: str) -> list[Rule]:
        """The rules listing ``resource_type`` in their `ResourceTypes`, from the cache."""
        return list(self._cached()[3].get(resource_type, ()))

    def list_rules(self) -> list[Rule]:
        """Every rule, by id."""
        return sorted(self._cached()[0].values(), key=lambda r: r.rule_id)

    def unreadable(self) -> list[UnreadableRule]:
        """The items skipped as unreadable at the last read of the table."""
        return list(self._cached()[2])

    def add(self, rule: Rule) -> None:
        """Register (or replace) a rule and drop the cache.

        An UpdateItem, not a PutItem, so attributes ELM does not model survive a replace.
        """
        names = {
            "#name": "RuleName",
            "#format": "ExceptionFormat",
            "#type": "ExceptionType",
            "#types": "ResourceTypes",
        }
        values: dict[str, AttributeValueTypeDef] = {
            ":name": {"S": rule.name},
            ":format": {"S": rule.exception_format.value},
            ":type": {"S": rule.exception_type.value},
        }
        expression = "SET #name = :name, #format = :format, #type = :type"
        if rule.resource_types:
            values[":types"] = {"SS": sorted(rule.resource_types)}
            expression += ", #types = :types"
        else:
            expression += " REMOVE #types"
        with translated(f"write rule {rule.rule_id} to {self._table}"):
            self._client.update_item(
                TableName=self._table,
                Key={RULES_HASH_KEY: {"N": str(rule.rule_id)}},
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        self.invalidate()

    def invalidate(self) -> None:
        """Forget the cached rules; the next lookup reads the table."""
        with self._lock:
            self._rules = None

    def _cached(self) -> _Indexes:
        with self._lock:
            now = self._monotonic()
            if self._rules is None or now - self._loaded_at >= self._cache_seconds:
                by_id, unreadable = self._load()
                self._rules = (
                    by_id,
                    rules_by_name(by_id.values()),
                    unreadable,
                    rules_by_resource_type(by_id.values()),
                )
                self._loaded_at = now
            return self._rules

    def _load(self) -> tuple[dict[int, Rule], list[UnreadableRule]]:
        """Every readable rule; an unreadable item is skipped and logged once per read."""
        rules: dict[int, Rule] = {}
        unreadable: list[UnreadableRule] = []
        start: dict[str, AttributeValueTypeDef] | None = None
        while True:
            request: dict[str, Any] = {"TableName": self._table, "ConsistentRead": True}
            if start:
                request["ExclusiveStartKey"] = start
            with translated(f"scan {self._table}"):
                page = self._client.scan(**request)
            for item in page.get("Items", []):
                try:
                    rule = rule_from_item(item)
                except MalformedItemError as error:
                    name = item.get("RuleName", {}).get("S") or None
                    unreadable.append(UnreadableRule(error.item, str(error), name))
                    _LOG.warning("skipping unreadable item of %s: %s", self._table, error)
                    continue
                rules[rule.rule_id] = rule
            start = page.get("LastEvaluatedKey")
            if not start:
                return rules, unreadable
