"""Settings come from the environment; a bad value stops the start and names its variable."""

from __future__ import annotations

import pytest

from entrypoints.composition.settings import Settings, SettingsError


def test_defaults_follow_the_spec() -> None:
    settings = Settings.from_env({})
    assert settings.exceptions_table == "Config-ResourceExceptions"
    assert settings.rules_table == "Config-Master"
    assert settings.config_role_name == "Role-Config-Mgmt"
    assert settings.rule_prefix == ""
    assert settings.retention_days == 90
    assert settings.allowed_accounts is None
    assert settings.dry_run is False
    assert settings.endpoint_url is None


def test_values_are_read_and_reach_the_policy() -> None:
    settings = Settings.from_env(
        {
            "ELM_RULE_PREFIX": "DEV-",
            "ELM_RETENTION_DAYS": "30",
            "ELM_ALLOWED_ACCOUNTS": "111122223333, 444455556666",
            "ELM_DRY_RUN": "TRUE",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
        }
    )
    policy = settings.policy
    assert policy.rule_prefix == "DEV-"
    assert policy.retention_days == 30
    assert policy.allowed_accounts == frozenset({"111122223333", "444455556666"})
    assert policy.dry_run is True
    assert settings.endpoint_url == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ELM_RETENTION_DAYS", "ninety"),
        ("ELM_RETENTION_DAYS", "0"),
        ("ELM_RETENTION_DAYS", "9.5"),
        ("ELM_ALLOWED_ACCOUNTS", "11112222333"),
        ("ELM_ALLOWED_ACCOUNTS", "111122223333,arn:aws:iam::1"),
        ("ELM_DRY_RUN", "maybe"),
        ("ELM_EXCEPTIONS_TABLE", " "),
        ("ELM_CONFIG_ROLE_NAME", "path/Role-Config-Mgmt"),
        ("ELM_CONFIG_ROLE_NAME", "arn:aws:iam::111122223333:role/Role-Config-Mgmt"),
        ("ELM_CONFIG_ROLE_NAME", "x" * 65),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable) as raised:
        Settings.from_env({variable: value})
    assert "\n" not in str(raised.value)


def test_the_sweep_limits_are_read_from_the_environment() -> None:
    limits = Settings.from_env(
        {
            "ELM_SWEEP_PAGE_SIZE": "250",
            "ELM_SWEEP_CALLS_PER_SECOND": "0.5",
            "ELM_SWEEP_BUDGET_SECONDS": "840",
        }
    ).sweep_limits
    assert (limits.page_size, limits.max_calls_per_second, limits.budget_seconds) == (
        250,
        0.5,
        840.0,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ELM_SWEEP_PAGE_SIZE", "1.5"),
        ("ELM_SWEEP_PAGE_SIZE", "0"),
        ("ELM_SWEEP_CALLS_PER_SECOND", "fast"),
        ("ELM_SWEEP_CALLS_PER_SECOND", "0"),
        ("ELM_SWEEP_BUDGET_SECONDS", "-5"),
    ],
)
def test_a_bad_sweep_limit_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})
