"""Which exception keys a deleted resource matches (docs/matching.md): exact, never a substring."""

from __future__ import annotations

from collections.abc import Collection

from attrs import frozen

from domain.arn_formats import ARN_FORMATS
from domain.rules import ExceptionFormat

__all__ = [
    "Arn",
    "DeletedResource",
    "NamesakeAsk",
    "ResourceIdentity",
    "is_live_namesake",
    "key_matches",
    "namesake_asks",
    "partition_of",
    "type_matches",
]

# Region-name prefixes of the partitions other than `aws`, longest first.
_PARTITIONS = (
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-iso-", "aws-iso"),
    ("us-gov-", "aws-us-gov"),
    ("cn-", "aws-cn"),
)


def partition_of(region: str) -> str:
    """The ARN partition of a region: ``aws-cn`` for ``cn-north-1``, ``aws`` for most."""
    return next((p for prefix, p in _PARTITIONS if region.startswith(prefix)), "aws")


@frozen
class ResourceIdentity:
    """A deleted resource as the event and AWS Config name it.

    ``resource_type`` and ``resource_id`` come from every deletion signal; ``resource_name``
    when AWS Config records one for the type (from the configuration item, or asked of
    Config); ``arn`` where known: the ARN AWS Config records in the configuration item of a
    deletion. A compliance-change event carries no ARN, so it is None there.
    """

    resource_type: str
    resource_id: str
    resource_name: str | None = None
    arn: str | None = None

    def is_named(self, value: str) -> bool:
        """True when ``value`` is exactly the resource's ID or its name."""
        return value == self.resource_id or (
            self.resource_name is not None and value == self.resource_name
        )


DeletedResource = ResourceIdentity
"""The name the matching rules use for what was deleted (an alias of `ResourceIdentity`)."""


def type_matches(record_type: str | None, rule_types: Collection[str], resource_type: str) -> bool:
    """The type test of matching: the record's type (when set) is the resource's, and the
    rule's types (when listed) include it."""
    if record_type and record_type != resource_type:
        return False
    return not rule_types or resource_type in rule_types


@frozen
class Arn:
    """A parsed ARN: ``arn:partition:service:region:account:resource``."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, text: str) -> Arn | None:
        """The ARN's parts, or None when ``text`` is not a well-formed ARN."""
        parts = text.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn":
            return None
        _, partition, service, region, account, resource = parts
        if not partition or not service or not resource:
            return None
        if account and not (len(account) == 12 and account.isdigit() and account.isascii()):
            return None
        return cls(partition, service, region, account, resource)

    @property
    def resource_name(self) -> str:
        """The resource part after the last ``/``, or after the last ``:`` without a ``/``."""
        if "/" in self.resource:
            return self.resource.rsplit("/", 1)[1]
        return self.resource.rsplit(":", 1)[-1]


def key_matches(
    key: str,
    exception_format: ExceptionFormat,
    resource: ResourceIdentity,
    *,
    account_id: str,
    region: str,
) -> bool:
    """True when an exception key (or a composite member) names the deleted resource.

    An ID key equals the resource's ID or name (whether a name is unique is for the caller
    to ask AWS Config). An ARN key is well formed, in the event's partition, account (or
    none) and region (or none), and either equals the recorded ARN or the resource ID, or
    has the service and resource path of the resource's type (`domain.arn_formats`) with
    the resource's ID or name as its last part (its ID only, for types whose ARN carries
    the ID: a security group's name is not unique). Exact comparison, never a substring.
    """
    if exception_format is ExceptionFormat.RESOURCE_ID:
        return resource.is_named(key)
    arn = Arn.parse(key)
    if arn is None:
        return False
    if arn.account not in ("", account_id) or arn.region not in ("", region):
        return False
    # A region-less ARN (S3, IAM) still names its partition: a resource of the event's
    # region lives in that region's partition only.
    if arn.partition != partition_of(region):
        return False
    if key == resource.resource_id or (resource.arn is not None and key == resource.arn):
        return True
    shape = ARN_FORMATS.get(resource.resource_type)
    if shape is None or arn.service != shape.service:
        return False
    if not arn.resource.startswith(shape.prefix):
        return False
    rest = arn.resource[len(shape.prefix) :]
    if shape.suffix and rest.endswith(shape.suffix):
        rest = rest[: -len(shape.suffix)]
    if shape.path:
        rest = rest.rsplit("/", 1)[-1]
    if shape.by_id:
        return bool(rest) and rest == resource.resource_id
    return bool(rest) and resource.is_named(rest)


@frozen
class NamesakeAsk:
    """A question for AWS Config before an ID key may close: is a live resource of this
    type reported under this ID (``by_name`` False) or this exact name (``by_name`` True)?"""

    resource_type: str
    value: str
    by_name: bool


def namesake_asks(
    key: str,
    exception_format: ExceptionFormat,
    resource: ResourceIdentity,
    *,
    record_type: str | None,
    rule_types: Collection[str],
) -> tuple[NamesakeAsk, ...]:
    """What to ask AWS Config before a key that matched ``resource`` may close.

    An ARN names one resource: nothing to ask. An ID key that matched by the resource's
    name: names are not unique (security groups named ``web`` in two VPCs), so ask for a
    live resource of that name and type. A record without a type under a rule of several
    types: the same ID or name may be another type's (a bucket and a function both called
    ``logs``), so ask each other type by ID and by name.
    """
    if exception_format is ExceptionFormat.RESOURCE_ARN:
        return ()
    asks: list[NamesakeAsk] = []
    if key != resource.resource_id:
        asks.append(NamesakeAsk(resource.resource_type, key, by_name=True))
    if not record_type and len(rule_types) > 1:
        for other in sorted(set(rule_types) - {resource.resource_type}):
            asks.append(NamesakeAsk(other, key, by_name=False))
            asks.append(NamesakeAsk(other, key, by_name=True))
    return tuple(asks)


def is_live_namesake(
    ask: NamesakeAsk,
    resource: ResourceIdentity,
    *,
    found_type: str,
    found_id: str,
    found_name: str | None,
    deleted: bool,
) -> bool:
    """True when what AWS Config reported for ``ask`` is a live resource other than the
    deleted one, with exactly the asked ID or name (never a substring)."""
    if deleted or (found_type, found_id) == (resource.resource_type, resource.resource_id):
        return False
    return found_name == ask.value if ask.by_name else found_id == ask.value
