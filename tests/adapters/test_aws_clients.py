"""The client factory: one client per service, standard retries, explicit timeouts."""

from __future__ import annotations

import pytest

from adapters.aws import AwsClients, client_config
from application.ports import Clock, ExceptionStore, RuleCatalog
from entrypoints.composition.aws_wiring import aws_clients, exception_store, rule_catalog
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings

CREDENTIALS = ("AKIAEXAMPLE", "secret", "token")


def test_each_service_client_is_built_once(aws_credentials: None) -> None:
    clients = AwsClients()

    assert clients.dynamodb() is clients.dynamodb()
    assert clients.sts() is clients.sts()
    assert clients.dynamodb() is not clients.sts()


def test_clients_retry_in_standard_mode_with_explicit_timeouts(aws_credentials: None) -> None:
    config = AwsClients(config=client_config(max_attempts=4, read_timeout=7)).dynamodb().meta.config

    # botocore counts `max_attempts` as retries: four retries after the first attempt.
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}
    assert config.read_timeout == 7
    assert config.connect_timeout == 3.0


def test_config_clients_are_cached_per_credentials_and_region(aws_credentials: None) -> None:
    clients = AwsClients()

    first = clients.config(CREDENTIALS, "eu-west-1")

    assert clients.config(CREDENTIALS, "eu-west-1") is first
    assert clients.config(CREDENTIALS, "us-east-1") is not first
    assert clients.config(("AKIAOTHER", "s", "t"), "eu-west-1") is not first
    assert first.meta.region_name == "eu-west-1"


def test_aws_endpoint_url_from_the_environment_is_honoured(
    aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5999")

    assert AwsClients().dynamodb().meta.endpoint_url == "http://127.0.0.1:5999"
    assert AwsClients().config(CREDENTIALS, "eu-west-1").meta.endpoint_url == (
        "http://127.0.0.1:5999"
    )


def test_settings_name_the_tables_of_the_adapters(aws_credentials: None) -> None:
    settings = Settings(exceptions_table="Dev-Exceptions", rules_table="Dev-Master")
    clients = aws_clients(settings)

    assert exception_store(settings, clients).table_name == "Dev-Exceptions"
    assert rule_catalog(settings, clients).table_name == "Dev-Master"


def test_the_aws_module_provides_the_table_ports_once(aws_credentials: None) -> None:
    container = build_container(AwsModule(Settings(exceptions_table="E", rules_table="R")))

    store = container.get(ExceptionStore)  # type: ignore[type-abstract]
    rules = container.get(RuleCatalog)  # type: ignore[type-abstract]

    assert store is container.get(ExceptionStore)  # type: ignore[type-abstract]
    assert getattr(store, "table_name", None) == "E"
    assert getattr(rules, "table_name", None) == "R"
    assert container.get(Clock).now().tzinfo is not None  # type: ignore[type-abstract]


def test_sts_uses_the_regional_endpoint_even_where_the_global_one_is_asked_for(
    aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore before 1.36 defaults to the global endpoint, and `legacy` asks for it by name
    # ("AWS STS Regional endpoints", AWS SDKs and Tools Reference Guide): in us-east-1 that
    # is sts.amazonaws.com. ELM's client must be regional whatever the environment says.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_STS", raising=False)
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")

    sts = AwsClients(region_name="us-east-1").sts()

    assert sts.meta.endpoint_url == "https://sts.us-east-1.amazonaws.com"


@pytest.mark.parametrize(("sweep", "expected"), [(False, "elm-processor"), (True, "elm-sweep")])
def test_each_lambda_assumes_target_roles_under_its_own_session_name(
    aws_credentials: None, monkeypatch: pytest.MonkeyPatch, sweep: bool, expected: str
) -> None:
    from application.ports import ResourceInventory
    from entrypoints.aws_lambda.runtime import container_from_env

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    inventory = container_from_env(sweep=sweep).get(ResourceInventory)  # type: ignore[type-abstract]

    assert inventory._session_name == expected  # type: ignore[attr-defined]


def test_the_cli_assumes_target_roles_as_elm_cli_and_the_user(
    aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from application.ports import ResourceInventory

    monkeypatch.setenv("USER", "jane.doe")
    inventory = build_container(AwsModule(Settings())).get(ResourceInventory)  # type: ignore[type-abstract]

    assert inventory._session_name == "elm-cli-jane.doe"  # type: ignore[attr-defined]
