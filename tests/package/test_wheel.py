"""The package as its users get it: built into a wheel, installed into a fresh venv, used from outside.

The example app in ``examples/catalog_service`` is synthesized by that venv's python from a
directory outside the repository (``conftest.py``; how the venv is made: ``wheel_env.py``).
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import sys
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest

from tests.package.wheel_env import (
    BOX_OFFICE,
    CATALOG_TABLE,
    EXAMPLE,
    OPS_EMAIL,
    PACKAGE,
    PAGER_TOPIC,
    ROOT,
    new_venv,
    probe,
    run,
)

PUBLIC_CONSTRUCTS = {
    "AlarmTopic",
    "ApiBackend",
    "CircuitBreakers",
    "EventPipeline",
    "FanOut",
    "ObservabilityDashboard",
    "OrderWorkflow",
    "ServerlessFunction",
}
CONFIG_TYPES = {
    "AlarmThresholds",
    "ApiAuth",
    "CircuitBreakerSettings",
    "EnvironmentConfig",
    "FanOutSettings",
    "FunctionSettings",
    "PatternDefaults",
    "PipelineSettings",
    "WorkflowSettings",
}


def _resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == resource_type}


def _function(template: dict[str, Any], handler: str) -> tuple[str, dict[str, Any]]:
    matches = [
        (key, value["Properties"])
        for key, value in _resources(template, "AWS::Lambda::Function").items()
        if value["Properties"].get("Handler") == handler
    ]
    assert len(matches) == 1, f"expected one function with handler {handler}, got {[key for key, _ in matches]}"
    return matches[0]


# --- the wheel --------------------------------------------------------------------------------------


def test_the_wheel_ships_every_module_and_data_file_of_the_package(wheel: Path, clone: Path) -> None:
    expected = {
        path.relative_to(clone).as_posix()
        for path in (clone / PACKAGE).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    shipped = {name for name in names if name.startswith(f"{PACKAGE}/")}
    assert expected - shipped == set(), "files of the package missing from the wheel"
    assert f"{PACKAGE}/py.typed" in shipped
    for handler_package in ("api_backend", "event_pipeline", "fan_out", "order_workflow", "shared"):
        assert f"{PACKAGE}/lambdas/{handler_package}/__init__.py" in shipped
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {PACKAGE, wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}


def test_the_wheel_metadata_names_the_version_license_and_runtime_dependencies(wheel: Path, clone: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (metadata_name,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
    source_version = next(
        line.split("=", 1)[1].strip().strip('"')
        for line in (clone / PACKAGE / "__init__.py").read_text().splitlines()
        if line.startswith("__version__")
    )
    assert metadata["Name"] == "serverless-patterns"
    assert metadata["Version"] == source_version
    assert metadata["License-Expression"] == "MIT-0"
    assert metadata["Requires-Python"] == ">=3.11"
    requirements = {
        line.split(";")[0].split("<")[0].split(">")[0].strip() for line in metadata.get_all("Requires-Dist") or []
    }
    assert {"aws-cdk-lib", "constructs", "cdk-nag"} <= requirements
    assert "Typing :: Typed" in (metadata.get_all("Classifier") or [])


# --- installed from the wheel ---------------------------------------------------------------------


def test_the_installed_wheel_is_imported_from_site_packages_with_its_public_api(
    wheel_python: Path, wheel_facts: dict[str, Any]
) -> None:
    facts = wheel_facts
    venv_dir = wheel_python.parent.parent
    assert Path(facts["file"]).is_relative_to(venv_dir), facts["file"]
    assert not Path(facts["file"]).is_relative_to(ROOT)
    assert facts["version"] == facts["metadata_version"]
    assert facts["py_typed"]
    assert set(facts["constructs"]) >= PUBLIC_CONSTRUCTS
    assert CONFIG_TYPES | {"HandlerCode", "add_compliance_checks", "Observable"} <= set(facts["exports"])
    assert not facts["cdk_after_package_import"], "importing serverless_patterns must not import aws_cdk"
    assert not facts["cdk_after_handler_imports"], "handler modules must not import aws_cdk"


def test_handler_assets_are_staged_from_site_packages(wheel_python: Path, wheel_facts: dict[str, Any]) -> None:
    assert Path(wheel_facts["lambdas_root"]).is_relative_to(wheel_python.parent.parent)
    staged = wheel_facts["staged_files"]
    assert "serverless_patterns/lambdas/api_backend/handler.py" in staged["api_backend"]
    assert "serverless_patterns/lambdas/event_pipeline/process.py" in staged["event_pipeline"]
    for files in staged.values():
        assert "serverless_patterns/lambdas/shared/observability.py" in files
        # Each asset carries the handler helpers, never the CDK side of the package.
        assert not any(name.startswith("serverless_patterns/constructs/") for name in files)


# --- the example app, synthesized from the installed wheel ---------------------------------------


def test_the_example_passes_the_compliance_gates(example_assembly: Path) -> None:
    report = json.loads((example_assembly / "validation-report.json").read_text())
    conclusions = {plugin["pluginName"]: plugin["conclusion"] for plugin in report["pluginReports"]}
    assert conclusions == {"AwsSolutions": "success", "Serverless": "success", "ServerlessPatterns": "success"}


def test_the_example_serves_its_existing_table_through_the_api(template: dict[str, Any]) -> None:
    _, api = _function(template, "serverless_patterns.lambdas.api_backend.handler.handler")
    assert api["Environment"]["Variables"]["TABLE_NAME"] == CATALOG_TABLE
    # The catalog table is imported, not created: the only tables are the two idempotency tables.
    tables = _resources(template, "AWS::DynamoDB::GlobalTable")
    assert len(tables) == 2
    assert all(
        table["Properties"]["TimeToLiveSpecification"]["AttributeName"] == "expiration" for table in tables.values()
    )
    policies = json.dumps(_resources(template, "AWS::IAM::Policy"))
    assert f":table/{CATALOG_TABLE}" in policies


def test_the_example_pipeline_runs_its_own_processing_code(template: dict[str, Any], example_assembly: Path) -> None:
    _, process = _function(template, "price_lists.handler.handler")
    assert process["Environment"]["Variables"]["PRICE_LIST_CURRENCY"] == "USD"
    assets = json.loads((example_assembly / "CatalogService.assets.json").read_text())["files"]
    asset_hash = process["Code"]["S3Key"].removesuffix(".zip")
    asset_dir = example_assembly / assets[asset_hash]["source"]["path"]
    assert (asset_dir / "price_lists" / "handler.py").is_file()
    assert (asset_dir / "serverless_patterns" / "lambdas" / "event_pipeline" / "process.py").is_file()
    assert "aws_cdk" not in (asset_dir / "serverless_patterns" / "__init__.py").read_text()
    (notifications,) = _resources(template, "Custom::S3BucketNotifications").values()
    (configuration,) = notifications["Properties"]["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    rules = {rule["Name"]: rule["Value"] for rule in configuration["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "price-lists/", "suffix": ".csv"}


def test_every_alarm_notifies_the_examples_own_topic_and_health_pages_on_call(template: dict[str, Any]) -> None:
    topics = _resources(template, "AWS::SNS::Topic")
    (topic_id,) = [key for key in topics if key.startswith("OpsAlerts")]
    (subscription,) = _resources(template, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == OPS_EMAIL
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic_id}
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 10
    for key, alarm in alarms.items():
        assert {"Ref": topic_id} in alarm["Properties"]["AlarmActions"], key
    (health,) = _resources(template, "AWS::CloudWatch::CompositeAlarm").values()
    assert health["Properties"]["AlarmActions"] == [{"Ref": topic_id}, PAGER_TOPIC]
    assert len(_resources(template, "AWS::CloudWatch::Dashboard")) == 1


def test_the_example_turns_price_lists_into_records_on_the_local_cloud(example_assembly: Path) -> None:
    """Its own processing code, staged from the wheel, runs inside the pipeline: valid lists summarised,
    bad ones parked with the row and reason."""
    from serverless_patterns.local import LocalCloud

    with LocalCloud.deploy(example_assembly) as cloud:
        uploads, results = cloud.outputs["PriceListBucketName"], cloud.outputs["PriceListResultsBucketName"]
        cloud.put_object(uploads, "price-lists/acme.csv", "sku,price,currency\nA-1,1.00,USD\nB-2,2.50,usd\n")
        cloud.put_object(uploads, "price-lists/globex.csv", "sku,price,currency\nA-1,1.00,USD\nA-1,1.10,USD\n")
        cloud.put_object(uploads, "price-lists/notes.txt", "not a price list")  # outside the .csv suffix filter
        cloud.drain()
        s3 = cloud.client("s3")
        keys = sorted(item["Key"] for item in s3.list_objects_v2(Bucket=results).get("Contents", []))
        assert keys == ["processed/price-lists/acme.csv.json", "rejected/price-lists/globex.csv.json"]
        processed = json.loads(s3.get_object(Bucket=results, Key=keys[0])["Body"].read())
        rejected = json.loads(s3.get_object(Bucket=results, Key=keys[1])["Body"].read())
        dlq_url = cloud.client("sqs").get_queue_url(QueueName=cloud.outputs["PriceListDlqArn"].split(":")[-1])
        dead_letters = cloud.read_queue(dlq_url["QueueUrl"])
    assert processed["summary"] == {
        "currency": "USD",
        "skus": 2,
        "lowest_price": "1.00",
        "highest_price": "2.50",
        "total_list_price": "3.50",
    }
    assert rejected["reason"] == {"code": "malformed", "detail": "row 3: SKU A-1 is listed twice"}
    assert dead_letters == []


# --- installed from the git repository ------------------------------------------------------------


def test_pip_install_from_the_git_repository_gives_the_same_package(
    clone: Path, workspace: Path, wheel_python: Path
) -> None:
    repository = workspace / "repository"
    shutil.copytree(clone, repository)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"]
    run([*git, "init", "--quiet"], cwd=repository)
    run([*git, "add", "--all"], cwd=repository)
    run([*git, "commit", "--quiet", "--message", "snapshot"], cwd=repository)
    python = new_venv(workspace / "venv-git", f"serverless-patterns @ git+file://{repository}")
    facts = probe(python, workspace, "--without-cdk")
    assert Path(facts["file"]).is_relative_to(python.parent.parent)
    assert facts["version"] == facts["metadata_version"]
    assert facts["py_typed"]
    assert not facts["cdk_after_package_import"]
    from_wheel = probe(wheel_python, workspace, "--without-cdk")
    assert facts["handler_modules"] == from_wheel["handler_modules"], "the git install and the wheel differ"
    for handler_package in ("api_backend", "event_pipeline", "fan_out", "order_workflow", "shared"):
        assert f"lambdas/{handler_package}/__init__.py" in facts["handler_modules"]


@pytest.mark.parametrize("example", [EXAMPLE, BOX_OFFICE], ids=lambda path: path.name)
def test_the_examples_requirements_install_serverless_patterns_from_the_clone(tmp_path: Path, example: Path) -> None:
    """``pip install -r requirements.txt`` in an example's folder resolves (it failed on PyPI before)."""
    report = tmp_path / "report.json"
    run(
        [
            *(sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--disable-pip-version-check"),
            *("--no-deps", "--no-build-isolation", "--no-index", "--report", str(report)),
            *("-r", "requirements.txt"),
        ],
        cwd=example,
    )
    installs = json.loads(report.read_text())["install"]
    assert [(item["metadata"]["name"], item["metadata"]["version"]) for item in installs] == [
        ("serverless-patterns", importlib.metadata.version("serverless-patterns"))
    ]
