"""The second outside app, ``examples/box_office``: all five patterns with its own code in every pluggable role.

Built as a user builds it: the wheel installed in a fresh venv, the app synthesized from a folder
outside the repository with no feature flags in its cdk.json, under the compliance gates, then its
own tests run on the local cloud through the pytest plugin the wheel installs.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.package.wheel_env import BOX_OFFICE, isolated_env

# Every role the patterns let a user replace, and the box office's handler for it.
OWN_HANDLERS = {
    "ShowsApi/Api": "box_office.shows.handler",
    "TicketOrders/ChargePayment": "box_office.wallet.charge",
    "TicketOrders/RefundPayment": "box_office.wallet.refund",
    "TicketOrders/SendConfirmation": "box_office.tickets.handler",
    "SeatMaps/Validate": "box_office.seat_maps.validate.handler",
    "SeatMaps/Process": "box_office.seat_maps.process.handler",
    "SalesReport/Worker": "box_office.sales.worker.handler",
    "SalesReport/Aggregator": "box_office.sales.aggregator.handler",
}


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        key: value["Properties"]
        for key, value in template["Resources"].items()
        if value["Type"] == "AWS::Lambda::Function"
    }


def test_the_app_sets_no_feature_flags_and_passes_the_compliance_gates(box_office_assembly: Path) -> None:
    assert "context" not in json.loads((BOX_OFFICE / "cdk.json").read_text())
    report = json.loads((box_office_assembly / "validation-report.json").read_text())
    conclusions = {plugin["pluginName"]: plugin["conclusion"] for plugin in report["pluginReports"]}
    assert conclusions == {"AwsSolutions": "success", "Serverless": "success", "ServerlessPatterns": "success"}


def test_every_pluggable_role_runs_the_apps_own_code_staged_beside_the_runtime(
    box_office_template: dict[str, Any], box_office_assembly: Path
) -> None:
    handlers = {properties["Handler"]: properties for properties in _functions(box_office_template).values()}
    assert set(OWN_HANDLERS.values()) <= set(handlers)
    assets = json.loads((box_office_assembly / "BoxOffice.assets.json").read_text())["files"]
    for handler in OWN_HANDLERS.values():
        asset_dir = (
            box_office_assembly / assets[handlers[handler]["Code"]["S3Key"].removesuffix(".zip")]["source"]["path"]
        )
        module = handler.rsplit(".", 1)[0].replace(".", "/")
        assert (asset_dir / f"{module}.py").is_file(), handler
        assert (asset_dir / "serverless_patterns" / "lambdas" / "shared").is_dir(), handler
        assert not (asset_dir / "serverless_patterns" / "constructs").exists(), handler
    # The built-in roles keep the pattern's code.
    assert "serverless_patterns.lambdas.order_workflow.inventory.handler" in handlers
    assert "serverless_patterns.lambdas.fan_out.master.handler" in handlers


def test_the_apps_own_tables_reach_only_the_roles_that_use_them(box_office_template: dict[str, Any]) -> None:
    functions = _functions(box_office_template)
    uses_wallets = {
        properties["Handler"]
        for properties in functions.values()
        if "BOX_OFFICE_WALLETS_TABLE" in properties.get("Environment", {}).get("Variables", {})
    }
    assert uses_wallets == {"box_office.wallet.charge", "box_office.wallet.refund"}
    tables = [
        key
        for key, value in box_office_template["Resources"].items()
        if value["Type"] == "AWS::DynamoDB::GlobalTable" and key.startswith(("Wallets", "Tickets"))
    ]
    assert len(tables) == 2
    policies = [
        value
        for value in box_office_template["Resources"].values()
        if value["Type"] == "AWS::IAM::Policy"
        and any(table in json.dumps(value["Properties"]["PolicyDocument"]) for table in tables)
    ]
    # Charge, refund (wallets) and the confirmation step (tickets): no other role's policy names them.
    assert len(policies) == 3


def test_one_dashboard_and_every_alarm_to_the_apps_topic(box_office_template: dict[str, Any]) -> None:
    resources = box_office_template["Resources"]
    (topic,) = [
        key for key, value in resources.items() if value["Type"] == "AWS::SNS::Topic" and key.startswith("OpsAlerts")
    ]
    alarms = [value for value in resources.values() if value["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarms) >= 20
    assert all({"Ref": topic} in alarm["Properties"]["AlarmActions"] for alarm in alarms)
    assert [value["Type"] for value in resources.values()].count("AWS::CloudWatch::Dashboard") == 1
    assert [value["Type"] for value in resources.values()].count("AWS::ApiGateway::Account") <= 1


def test_the_apps_own_tests_drive_every_pattern_on_the_local_cloud(
    wheel_python: Path, box_office_app: Path, box_office_assembly: Path
) -> None:
    command = [str(wheel_python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(  # noqa: S603
        [*command, "--local-cloud-app", str(box_office_assembly)],
        cwd=box_office_app,
        env=isolated_env(wheel_python),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "24 passed" in result.stdout, result.stdout[-2000:]
