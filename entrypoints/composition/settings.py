"""Settings from the environment (docs/behaviour.md); a bad value names its variable."""

from __future__ import annotations

import re
from collections.abc import Mapping

from attrs import field, frozen

from application.handle_change import Policy
from application.sweep_limits import SweepLimits
from domain.events import is_account_id

__all__ = ["Settings", "SettingsError"]

DEFAULT_EXCEPTIONS_TABLE = "Config-ResourceExceptions"
DEFAULT_RULES_TABLE = "Config-Master"
DEFAULT_CONFIG_ROLE_NAME = "Role-Config-Mgmt"
DEFAULT_RETENTION_DAYS = 90
DEFAULT_DEADLINE_MARGIN_SECONDS = 10
DEFAULT_EVENTS_BUS = "default"
# The Lambda timeout is at most 900 s: a larger margin would fail every record.
_MAX_DEADLINE_MARGIN_SECONDS = 900

_ROLE_NAME_RE = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
# A bus name, or a bus ARN (a bus of another account or region).
_BUS_RE = re.compile(
    r"[/.\-_A-Za-z0-9]{1,256}|arn:[\w-]+:events:[\w-]+:\d{12}:event-bus/[/.\-_A-Za-z0-9]{1,256}"
)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


class SettingsError(ValueError):
    """A setting has a value ELM cannot use; the message names the variable."""


@frozen
class Settings:
    """Everything ELM reads from its environment."""

    exceptions_table: str = DEFAULT_EXCEPTIONS_TABLE
    rules_table: str = DEFAULT_RULES_TABLE
    config_role_name: str = DEFAULT_CONFIG_ROLE_NAME
    rule_prefix: str = ""
    retention_days: int = DEFAULT_RETENTION_DAYS
    allowed_accounts: frozenset[str] | None = None
    dry_run: bool = False
    endpoint_url: str | None = None
    deadline_margin_seconds: int = DEFAULT_DEADLINE_MARGIN_SECONDS
    sweep_limits: SweepLimits = field(factory=SweepLimits)
    events_bus: str = DEFAULT_EVENTS_BUS
    """The bus of ELM's own events (ELM_EVENTS_BUS); empty: ELM publishes none."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read the settings; raise `SettingsError` naming the first bad variable."""
        return cls(
            exceptions_table=_name(env, "ELM_EXCEPTIONS_TABLE", DEFAULT_EXCEPTIONS_TABLE),
            rules_table=_name(env, "ELM_RULES_TABLE", DEFAULT_RULES_TABLE),
            config_role_name=_role_name(env),
            rule_prefix=env.get("ELM_RULE_PREFIX", "").strip(),
            retention_days=_retention(env.get("ELM_RETENTION_DAYS")),
            allowed_accounts=_accounts(env.get("ELM_ALLOWED_ACCOUNTS")),
            dry_run=_flag(env, "ELM_DRY_RUN"),
            endpoint_url=_endpoint(env.get("AWS_ENDPOINT_URL")),
            deadline_margin_seconds=_deadline_margin(env.get("ELM_DEADLINE_MARGIN_SECONDS")),
            sweep_limits=_sweep_limits(env),
            events_bus=_events_bus(env.get("ELM_EVENTS_BUS")),
        )

    @property
    def policy(self) -> Policy:
        """The decision settings the use case needs."""
        return Policy(
            rule_prefix=self.rule_prefix,
            allowed_accounts=self.allowed_accounts,
            retention_days=self.retention_days,
            dry_run=self.dry_run,
        )


def _name(env: Mapping[str, str], variable: str, default: str) -> str:
    value = env.get(variable, default).strip()
    if not value:
        raise SettingsError(f"{variable} must not be empty")
    return value


def _endpoint(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    scheme, _, rest = value.partition("://")
    if scheme not in ("http", "https") or not rest or rest.startswith("/"):
        raise SettingsError(
            f"AWS_ENDPOINT_URL must be a URL such as http://localhost:5000 (got {value[:80]!r})"
        )
    return value


def _role_name(env: Mapping[str, str]) -> str:
    value = _name(env, "ELM_CONFIG_ROLE_NAME", DEFAULT_CONFIG_ROLE_NAME)
    # Only the name: the role ARN is built from it (arn:<partition>:iam::<account>:role/<name>).
    if not _ROLE_NAME_RE.fullmatch(value):
        raise SettingsError(
            "ELM_CONFIG_ROLE_NAME must be an IAM role name: up to 64 letters, digits and "
            f"+=,.@_- with no path (got {value[:80]!r})"
        )
    return value


def _events_bus(raw: str | None) -> str:
    if raw is None:
        return DEFAULT_EVENTS_BUS
    value = raw.strip()
    if value and not _BUS_RE.fullmatch(value):
        raise SettingsError(
            "ELM_EVENTS_BUS must be an event bus name or ARN, or empty to publish nothing "
            f"(got {value[:80]!r})"
        )
    return value


def _retention(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw.strip())
    except ValueError:
        raise SettingsError(
            f"ELM_RETENTION_DAYS must be a whole number of days (got {raw!r})"
        ) from None
    if not 1 <= days <= 3650:
        raise SettingsError(f"ELM_RETENTION_DAYS must be between 1 and 3650 (got {days})")
    return days


def _deadline_margin(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return DEFAULT_DEADLINE_MARGIN_SECONDS
    try:
        seconds = int(raw.strip())
    except ValueError:
        raise SettingsError(
            f"ELM_DEADLINE_MARGIN_SECONDS must be a whole number of seconds (got {raw!r})"
        ) from None
    if not 0 <= seconds <= _MAX_DEADLINE_MARGIN_SECONDS:
        raise SettingsError(
            f"ELM_DEADLINE_MARGIN_SECONDS must be between 0 and {_MAX_DEADLINE_MARGIN_SECONDS} "
            f"(got {seconds})"
        )
    return seconds


def _accounts(raw: str | None) -> frozenset[str] | None:
    if raw is None or not raw.strip():
        return None
    accounts = [a.strip() for a in raw.split(",") if a.strip()]
    bad = [a for a in accounts if not is_account_id(a)]
    if bad:
        raise SettingsError(
            f"ELM_ALLOWED_ACCOUNTS must be comma-separated 12-digit account ids (bad: {bad[0]!r})"
        )
    return frozenset(accounts)


def _flag(env: Mapping[str, str], variable: str) -> bool:
    raw = env.get(variable, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingsError(f"{variable} must be true or false (got {raw!r})")


def _sweep_limits(env: Mapping[str, str]) -> SweepLimits:
    """The reconciliation sweep's bounds (ELM_SWEEP_*); unset ones keep their defaults."""
    defaults = SweepLimits()
    return SweepLimits(
        page_size=int(_number(env, "ELM_SWEEP_PAGE_SIZE", defaults.page_size, 1, 1000, whole=True)),
        max_calls_per_second=_number(
            env, "ELM_SWEEP_CALLS_PER_SECOND", defaults.max_calls_per_second, 0.01, 100
        ),
        budget_seconds=_number(env, "ELM_SWEEP_BUDGET_SECONDS", defaults.budget_seconds, 1, 86400),
    )


def _number(
    env: Mapping[str, str],
    variable: str,
    default: float,
    low: float,
    high: float,
    *,
    whole: bool = False,
) -> float:
    raw = env.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise SettingsError(f"{variable} must be {kind} (got {raw!r})") from None
    if not low <= value <= high:
        raise SettingsError(f"{variable} must be between {low:g} and {high:g} (got {raw})")
    return value
