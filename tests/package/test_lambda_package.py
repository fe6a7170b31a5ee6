"""`elm package`: the Lambda zip holds the handlers and their dependencies, and nothing else.

These tests build the real package once (pip fetches the pinned dependencies for the Lambda
platform, or takes them from its cache). Where this machine has a Python of the runtime's
version the package holds bytecode compiled by it, and the tests that run the package run
it in that interpreter; elsewhere the package holds source and they run it in this one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from adapters.aws.sweep_run import create_run_table
from adapters.aws.tables import create_tables
from entrypoints.cli import app
from entrypoints.cli.package import code_form_text
from entrypoints.composition.settings import Settings
from entrypoints.local import lambda_zip
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


def _module(report: PackageReport, source: str) -> str:
    """The entry that holds the module of ``source`` (a ``.py`` path) in this package."""
    return source + "c" if report.bytecode_python is not None else source


def _python(report: PackageReport) -> str:
    """The interpreter that can run the package: the one that compiled it, or this one."""
    return str(report.bytecode_python or sys.executable)


def _runtime_sdk(folder: Path) -> Path:
    """What the Lambda runtime provides, boto3 and its dependencies, linked from this venv."""
    folder.mkdir()
    for top in ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six.py"):
        for path in Path(sys.prefix).glob(f"lib/python*/site-packages/{top}"):
            (folder / path.name).symlink_to(path)
    return folder


def test_the_package_holds_both_handlers_and_the_code_they_import(
    built_package: PackageReport,
) -> None:
    names = set(_names(built_package))

    assert {
        _module(built_package, source)
        for source in (
            "entrypoints/lambda_handler.py",
            "entrypoints/sweep_run_handler.py",
            "entrypoints/__init__.py",
            "domain/__init__.py",
            "application/handle_change.py",
            "application/reconcile.py",
            "adapters/aws/dynamo_store.py",
        )
    } <= names
    assert "entrypoints.lambda_handler" in built_package.modules


def test_the_package_leaves_out_tests_the_cli_and_what_the_runtime_provides(
    built_package: PackageReport,
) -> None:
    names = _names(built_package)
    tops = _top_levels(built_package)

    assert not [n for n in names if n.startswith(("tests/", "entrypoints/cli/", "benchmarks/"))]
    assert _module(built_package, "entrypoints/local/pipeline.py") not in names
    assert not [n for n in names if n.startswith("entrypoints/local/scenario/")]
    for cli_only in ("typer", "rich", "yaml", "moto", "click", "pytest"):
        assert cli_only not in tops
    for provided in ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil"):
        assert provided not in tops
    assert not [n for n in names if "__pycache__" in n]


def test_the_package_holds_one_form_of_each_module_and_says_which(
    built_package: PackageReport,
) -> None:
    """Bytecode in place of source, or source alone: never both, never a __pycache__."""
    names = _names(built_package)
    sources = [n for n in names if n.endswith(".py")]
    compiled = [n for n in names if n.endswith(".pyc")]

    if built_package.bytecode_python is None:
        assert sources
        assert not compiled
    else:
        assert compiled
        assert not sources


def test_the_bytecode_is_for_the_runtimes_python_and_needs_no_source(
    built_package: PackageReport,
) -> None:
    """Each ``.pyc`` starts with the magic number of the runtime's Python, whose bytecode
    alone it reads, and says it carries an unchecked source hash: no timestamp to differ
    between builds, and nothing to check against a source that is not there ("PEP 552 --
    Deterministic pycs", https://peps.python.org/pep-0552/)."""
    if built_package.bytecode_python is None:
        pytest.skip(f"no Python {LAMBDA_PYTHON} on this machine: the package holds source")
    magic = subprocess.run(  # noqa: S603
        [
            _python(built_package),
            "-I",
            "-c",
            "import importlib.util as u; print(u.MAGIC_NUMBER.hex())",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    with zipfile.ZipFile(built_package.path) as archive:
        headers = {n: archive.read(n)[:8] for n in archive.namelist() if n.endswith(".pyc")}

    assert {h[:4].hex() for h in headers.values()} == {magic}
    # Flags word: bit 0 set (hash-based), bit 1 clear (the hash is not checked).
    assert {int.from_bytes(h[4:8], "little") for h in headers.values()} == {0b01}


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
    provided = _runtime_sdk(tmp_path / "runtime")
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
        [_python(built_package), "-S", "-I", "-c", code],
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
    assert f"  {code_form_text(built_package)}\n" in result.output


_RUN_BOTH_HANDLERS = """
import json, os, sys
unzipped = sys.argv[1]
sys.path[:0] = [unzipped, sys.argv[2]]

class Context:
    function_name = "elm"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:elm"
    aws_request_id = "00000000-0000-0000-0000-000000000001"
    def get_remaining_time_in_millis(self):
        return 300_000

from entrypoints import lambda_handler, sweep_run_handler
import boto3
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
sqs, queue_url = boto3.client("sqs"), os.environ["ELM_SWEEP_QUEUE_URL"]
failures = []
while messages := sqs.receive_message(
    QueueUrl=queue_url, MaxNumberOfMessages=1, AttributeNames=["All"]
).get("Messages", []):
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"], "attributes": m["Attributes"],
                "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
                "awsRegion": "us-east-1"} for m in messages]
    failures += sweep_run_handler.worker({"Records": records}, Context())["batchItemFailures"]
    for m in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
from adapters.aws.sweep_run import DynamoRunLedger
summary = DynamoRunLedger(boto3.client("dynamodb"), os.environ["ELM_SWEEP_RUNS_TABLE"]).summary(
    started["run"])
print("RESULT", json.dumps({"started": started, "failures": failures, "summary": summary}))
packaged = ("aws_lambda_powertools", "attr", "attrs", "injector", "typing_extensions",
            "domain", "application", "adapters", "entrypoints")
loaded = {name: module for name, module in list(sys.modules.items())
          if name.split(".")[0] in packaged and getattr(module, "__file__", None)}
print("RESULT", json.dumps(sorted(
    name for name, module in loaded.items() if not module.__file__.startswith(unzipped))))
print("RESULT", json.dumps(sorted({type(m.__spec__.loader).__name__ for m in loaded.values()})))
print("RESULT", json.dumps("%d.%d" % sys.version_info[:2]))
"""


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A moto server on the loopback address with ELM's tables, the sweep's run table and
    queue: the environment another process needs to use them."""
    for name, value in _FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
        # moto's state is this process's: start from none, and leave none behind.
        _reset(endpoint)
        settings = Settings.from_env({})
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        create_tables(client, settings.exceptions_table, settings.rules_table)
        create_run_table(client, "elm-sweep-runs")
        sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
        queue = sqs.create_queue(QueueName="elm-sweep.fifo", Attributes={"FifoQueue": "true"})
        yield {
            "AWS_ENDPOINT_URL": endpoint,
            "ELM_SWEEP_QUEUE_URL": queue["QueueUrl"],
            "ELM_SWEEP_RUNS_TABLE": "elm-sweep-runs",
        }
        _reset(endpoint)
    finally:
        server.stop()


def _reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass


_FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _run_both_handlers(
    zip_path: Path, python: str, work: Path, aws: Mapping[str, str]
) -> list[Any]:
    """Both handlers run from the unzipped package by ``python``, the runtime's SDK beside it.

    -S -I: no site-packages and no PYTHON* variables, so nothing but the package and the
    SDK is on the path; -B: no bytecode written, as on Lambda's read-only /var/task.
    """
    unzipped = work / "task"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(unzipped)
    provided = _runtime_sdk(work / "runtime")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ELM_"))}
    env.update(_FAKE_AWS, **aws, ELM_SWEEP_CALLS_PER_SECOND="100")
    completed = subprocess.run(  # noqa: S603
        [python, "-S", "-I", "-B", "-c", _RUN_BOTH_HANDLERS, str(unzipped), str(provided)],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
        env=env,
    )
    assert completed.returncode == 0, completed.stderr
    return [
        json.loads(line.removeprefix("RESULT "))
        for line in completed.stdout.splitlines()
        if line.startswith("RESULT ")
    ]


def test_the_unzipped_package_runs_both_handlers(
    built_package: PackageReport, tmp_path: Path, moto_aws: dict[str, str]
) -> None:
    """The processor, and the sweep's planner and worker, each handle invocations with only
    the packaged code and dependencies: a run of an empty table is planned, its segments
    worked from the FIFO queue, and its summary written.

    The package is unzipped as Lambda does ("Deploying Python Lambda functions with .zip
    file archives", https://docs.aws.amazon.com/lambda/latest/dg/python-package.html) and
    run first on the path of a fresh interpreter of the runtime's Python where this machine
    has one (the package then holds bytecode for it), beside only the SDK the runtime
    provides; a moto server on the loopback address stands in for AWS. Every module of the
    packaged distributions the run loads comes from the package, so the Powertools modules
    the trim left out are not needed, and from its bytecode where it holds bytecode.
    """
    python = _python(built_package)

    batch, sweep, outside, loaders, version = _run_both_handlers(
        built_package.path, python, tmp_path, moto_aws
    )

    assert batch == {"batchItemFailures": []}
    assert sweep["started"]["segments"] >= 1
    assert sweep["failures"] == []
    assert sweep["summary"]["workItems"] == sweep["started"]["segments"]
    assert outside == []
    if built_package.bytecode_python is not None:
        assert version == LAMBDA_PYTHON
        assert loaders == ["SourcelessFileLoader"]
    else:
        assert loaders == ["SourceFileLoader"]


def test_this_machine_builds_the_package_for_the_runtimes_python() -> None:
    """The runs above are in the runtime's Python only where this machine has one."""
    if lambda_zip.runtime_python() is None:
        pytest.skip(
            f"no Python {LAMBDA_PYTHON} on this machine (python{LAMBDA_PYTHON} on the PATH or "
            "under pyenv): the package holds source and is run by the build's Python"
        )
    assert lambda_zip.runtime_python() is not None


def test_without_the_runtimes_python_the_package_is_source_that_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_aws: dict[str, str]
) -> None:
    """`elm package` on a machine without the runtime's Python: source, said in one line."""
    monkeypatch.setattr(lambda_zip, "runtime_python", lambda: None)
    output = tmp_path / "elm-lambda.zip"

    result = CliRunner().invoke(app, ["package", "--output", str(output)])

    assert result.exit_code == 0, result.output
    said = [line.strip() for line in result.output.splitlines() if "source only" in line]
    assert said == [
        f"source only: no Python {LAMBDA_PYTHON} found here (python{LAMBDA_PYTHON} on the "
        "PATH or under pyenv), so the Lambda compiles it on every cold start"
    ]
    with zipfile.ZipFile(output) as archive:
        names = archive.namelist()
    assert "entrypoints/lambda_handler.py" in names
    assert not [n for n in names if n.endswith(".pyc")]
    batch, _sweep, outside, loaders, _version = _run_both_handlers(
        output, sys.executable, tmp_path, moto_aws
    )
    assert batch == {"batchItemFailures": []}
    assert (outside, loaders) == ([], ["SourceFileLoader"])


def test_the_package_leaves_out_the_powertools_the_handlers_never_import(
    built_package: PackageReport,
) -> None:
    names = _names(built_package)

    assert built_package.size <= 500 * 1024
    assert not [n for n in names if n.startswith("aws_lambda_powertools/event_handler/")]
    assert _module(built_package, "aws_lambda_powertools/utilities/batch/base.py") in names
    assert _module(built_package, "aws_lambda_powertools/logging/logger.py") in names
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
    assert _module(built_package, "aws_lambda_powertools/utilities/batch/base.py") + "," in text
    assert "aws_lambda_powertools/event_handler/" not in text
