"""`elm package`: the Lambda zip holds the handlers and their dependencies, and nothing else.

These tests build the real package once (pip fetches the pinned dependencies for the Lambda
platform, or takes them from its cache).
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entrypoints.cli import app
from entrypoints.local.lambda_zip import (
    HANDLER_MODULES,
    LAMBDA_PLATFORM,
    LAMBDA_PYTHON,
    PROVIDED_BY_RUNTIME,
    PackageReport,
)

pytestmark = pytest.mark.slow

_INFRA = Path(__file__).resolve().parents[2] / "infra" / "elm-status-update.yaml"


def _names(report: PackageReport) -> list[str]:
    with zipfile.ZipFile(report.path) as archive:
        return archive.namelist()


def _top_levels(report: PackageReport) -> set[str]:
    return {name.split("/")[0] for name in _names(report)}


def test_the_package_holds_both_handlers_and_the_code_they_import(
    built_package: PackageReport,
) -> None:
    names = set(_names(built_package))

    assert {
        "entrypoints/lambda_handler.py",
        "entrypoints/sweep_run_handler.py",
        "entrypoints/__init__.py",
        "domain/__init__.py",
        "application/handle_change.py",
        "application/reconcile.py",
        "adapters/aws/dynamo_store.py",
    } <= names
    assert "entrypoints.lambda_handler" in built_package.modules


def test_the_package_leaves_out_tests_the_cli_and_what_the_runtime_provides(
    built_package: PackageReport,
) -> None:
    names = _names(built_package)
    tops = _top_levels(built_package)

    assert not [n for n in names if n.startswith(("tests/", "entrypoints/cli/", "benchmarks/"))]
    assert "entrypoints/local/pipeline.py" not in names
    assert "entrypoints/local/scenario/" not in names
    for cli_only in ("typer", "rich", "yaml", "moto", "click", "pytest"):
        assert cli_only not in tops
    for provided in ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil"):
        assert provided not in tops
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


def test_the_package_carries_the_installed_versions_of_the_runtime_requirements(
    built_package: PackageReport,
) -> None:
    tops = _top_levels(built_package)

    for distribution in ("attrs", "injector", "aws-lambda-powertools"):
        pin = f"=={metadata.version(distribution)}"
        assert any(d.endswith(pin) for d in built_package.dependencies), distribution
    assert {"attr", "attrs", "injector", "aws_lambda_powertools"} <= tops
    assert not {d.split("==")[0].lower() for d in built_package.dependencies} & set(
        PROVIDED_BY_RUNTIME
    )


def test_every_entry_has_a_fixed_time_and_read_only_permissions(
    built_package: PackageReport,
) -> None:
    with zipfile.ZipFile(built_package.path) as archive:
        infos = archive.infolist()

    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_the_handlers_import_from_the_package_alone_with_the_runtime_sdk(
    built_package: PackageReport, tmp_path: Path
) -> None:
    # The Lambda runtime provides boto3 and its dependencies: link only those from this venv.
    provided = tmp_path / "runtime"
    provided.mkdir()
    for top in ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six.py"):
        source = Path(sys.prefix).glob(f"lib/python*/site-packages/{top}")
        for path in source:
            (provided / path.name).symlink_to(path)
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(built_package.path)!r}, {str(provided)!r}]\n"
        "import entrypoints.lambda_handler, entrypoints.sweep_run_handler\n"
        "assert callable(entrypoints.lambda_handler.handler)\n"
        "assert callable(entrypoints.sweep_run_handler.planner)\n"
        "assert callable(entrypoints.sweep_run_handler.worker)\n"
        "import typer\n"
    )

    # -S: no site-packages, -I: no PYTHONPATH or user site. The final import must fail:
    # it proves the venv's packages were out of reach.
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "-S", "-I", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert completed.returncode == 1, completed.stderr
    assert completed.stderr.strip().endswith("No module named 'typer'"), completed.stderr


def test_the_package_targets_the_handlers_and_runtime_the_template_declares() -> None:
    template = _INFRA.read_text(encoding="utf-8")
    handlers = set(re.findall(r"^\s+Handler: ([\w.]+)\.\w+$", template, flags=re.M))
    runtimes = set(re.findall(r"^\s+Runtime: (\S+)$", template, flags=re.M))
    architectures = set(re.findall(r"^\s+Architectures: (.+)$", template, flags=re.M))

    assert handlers == set(HANDLER_MODULES)
    assert runtimes == {f"python{LAMBDA_PYTHON}"}
    assert architectures == {"[arm64]"}
    assert LAMBDA_PLATFORM.endswith("aarch64")


def test_elm_package_builds_the_same_bytes_again_and_prints_their_size(
    built_package: PackageReport, tmp_path: Path
) -> None:
    output = tmp_path / "dist" / "elm-lambda.zip"

    result = CliRunner().invoke(app, ["package", "--output", str(output)])

    assert result.exit_code == 0, result.output
    assert output.read_bytes() == built_package.path.read_bytes()
    assert f"({output.stat().st_size:,} bytes)" in result.output
    assert str(output) in result.output


_RUN_BOTH_HANDLERS = """
import json, os, sys
unzipped = sys.argv[1]
sys.path.insert(0, unzipped)
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                  AWS_DEFAULT_REGION="us-east-1", ELM_SWEEP_CALLS_PER_SECOND="100")
from moto import mock_aws

class Context:
    function_name = "elm"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:elm"
    aws_request_id = "00000000-0000-0000-0000-000000000001"
    def get_remaining_time_in_millis(self):
        return 300_000

with mock_aws():
    import boto3
    from adapters.aws.tables import create_tables
    from entrypoints.composition.settings import Settings
    settings = Settings.from_env(os.environ)
    create_tables(boto3.client("dynamodb"), settings.exceptions_table, settings.rules_table)
    from adapters.aws.sweep_run import create_run_table
    create_run_table(boto3.client("dynamodb"), "elm-sweep-runs")
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="elm-sweep.fifo", Attributes={"FifoQueue": "true"})
    os.environ.update(ELM_SWEEP_QUEUE_URL=queue["QueueUrl"], ELM_SWEEP_RUNS_TABLE="elm-sweep-runs")
    from entrypoints import lambda_handler, sweep_run_handler
    compliant = {"version": "0", "id": "e-1", "detail-type": "Config Rules Compliance Change",
                 "source": "aws.config", "account": "111122223333", "region": "us-east-1",
                 "detail": {"awsAccountId": "111122223333", "awsRegion": "us-east-1",
                            "configRuleName": "r", "resourceType": "AWS::EC2::SecurityGroup",
                            "resourceId": "sg-1", "messageType": "ComplianceChangeNotification",
                            "newEvaluationResult": {"complianceType": "COMPLIANT"}}}
    record = {"messageId": "m-1", "receiptHandle": "h", "body": json.dumps(compliant),
              "attributes": {}, "messageAttributes": {}, "md5OfBody": "",
              "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
              "awsRegion": "us-east-1"}
    print("RESULT", json.dumps(lambda_handler.handler({"Records": [record]}, Context())))
    started = sweep_run_handler.planner({}, Context())
    failures = []
    while messages := sqs.receive_message(
        QueueUrl=queue["QueueUrl"], MaxNumberOfMessages=1, AttributeNames=["All"]
    ).get("Messages", []):
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"], "attributes": m["Attributes"],
                    "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
                    "awsRegion": "us-east-1"} for m in messages]
        failures += sweep_run_handler.worker({"Records": records}, Context())["batchItemFailures"]
        for m in messages:
            sqs.delete_message(QueueUrl=queue["QueueUrl"], ReceiptHandle=m["ReceiptHandle"])
    from adapters.aws.sweep_run import DynamoRunLedger
    summary = DynamoRunLedger(boto3.client("dynamodb"), "elm-sweep-runs").summary(started["run"])
    print("RESULT", json.dumps({"started": started, "failures": failures, "summary": summary}))
packaged = ("aws_lambda_powertools", "attr", "attrs", "injector", "typing_extensions",
            "domain", "application", "adapters", "entrypoints")
outside = sorted(
    name for name, module in list(sys.modules.items())
    if name.split(".")[0] in packaged and getattr(module, "__file__", None)
    and not module.__file__.startswith(unzipped)
)
print("RESULT", json.dumps(outside))
"""


def test_the_unzipped_package_runs_both_handlers(
    built_package: PackageReport, tmp_path: Path
) -> None:
    """The processor, and the sweep's planner and worker, each handle invocations with only
    the packaged code and dependencies: a run of an empty table is planned, its segments
    worked from the FIFO queue, and its summary written.

    The package is unzipped as Lambda does ("Deploying Python Lambda functions with .zip
    file archives", https://docs.aws.amazon.com/lambda/latest/dg/python-package.html) and
    run first on the path of a fresh interpreter (no bytecode written); moto stands in for
    AWS. Every module of the packaged distributions the run loads comes from the package,
    so the Powertools modules the trim left out are not needed.
    """
    unzipped = tmp_path / "task"
    with zipfile.ZipFile(built_package.path) as archive:
        archive.extractall(unzipped)

    completed = subprocess.run(  # noqa: S603
        [sys.executable, "-B", "-c", _RUN_BOTH_HANDLERS, str(unzipped)],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )

    assert completed.returncode == 0, completed.stderr
    results = [
        json.loads(line.removeprefix("RESULT "))
        for line in completed.stdout.splitlines()
        if line.startswith("RESULT ")
    ]
    batch, sweep, outside = results
    assert batch == {"batchItemFailures": []}
    assert sweep["started"]["segments"] >= 1
    assert sweep["failures"] == []
    assert sweep["summary"]["workItems"] == sweep["started"]["segments"]
    assert outside == []


def test_the_package_leaves_out_the_powertools_the_handlers_never_import(
    built_package: PackageReport,
) -> None:
    names = _names(built_package)

    assert built_package.size <= 500 * 1024
    assert not [n for n in names if n.startswith("aws_lambda_powertools/event_handler/")]
    assert "aws_lambda_powertools/utilities/batch/base.py" in names
    assert "aws_lambda_powertools/logging/logger.py" in names
    for licence in (
        "aws_lambda_powertools-*.dist-info/licenses/LICENSE",
        "attrs-*.dist-info/licenses/LICENSE",
        "injector-*.dist-info/licenses/COPYING",
    ):
        assert [n for n in names if Path(n).match(licence)], licence


def test_each_distribution_record_lists_exactly_its_packaged_files(
    built_package: PackageReport,
) -> None:
    """A RECORD names the files installed ("Recording installed projects", Python Packaging
    User Guide, https://packaging.python.org/en/latest/specifications/recording-installed-packages/):
    after the trim it names none that were left out, and still names those kept."""
    names = set(_names(built_package))
    records = [n for n in names if n.endswith(".dist-info/RECORD")]

    assert len(records) == len(built_package.dependencies)
    with zipfile.ZipFile(built_package.path) as archive:
        for record in records:
            listed = {
                row[0]
                for row in csv.reader(io.StringIO(archive.read(record).decode("utf-8")))
                if row
            }
            assert listed <= names, (record, sorted(listed - names)[:3])
            assert record in listed
            assert len(listed) > 2, record
    powertools = next(r for r in records if r.startswith("aws_lambda_powertools-"))
    with zipfile.ZipFile(built_package.path) as archive:
        text = archive.read(powertools).decode("utf-8")
    assert "aws_lambda_powertools/utilities/batch/base.py," in text
    assert "aws_lambda_powertools/event_handler/" not in text
