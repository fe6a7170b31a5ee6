"""Which exception keys a deleted resource matches (SPEC §5): exact, never a substring."""

from __future__ import annotations

from attrs import frozen

from domain.rules import ExceptionFormat

__all__ = ["Arn", "ResourceIdentity", "key_matches", "partition_of"]

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
    """A resource as the event and AWS Config name it."""

    resource_type: str
    resource_id: str
    resource_name: str | None = None

    def is_named(self, value: str) -> bool:
        """True when ``value`` is exactly the resource's ID or its name."""
        return value == self.resource_id or (
            self.resource_name is not None and value == self.resource_name
        )


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
    """True when an exception key (or a composite member) names the deleted resource."""
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
    return resource.is_named(arn.resource_name)
