"""Deploy and invoke: asset publishing, stack creation, aliases, the in-process runtime."""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from serverless_patterns.lambdas.shared import settings as host_settings
from serverless_patterns.local import LocalCloud
from serverless_patterns.local.assets import select_assembly
from serverless_patterns.local.cloudformation import EMULATED, FAILED, SKIPPED


def test_assets_are_published_to_the_bootstrap_bucket(cloud: LocalCloud) -> None:
    s3 = cloud.client("s3")
    (asset,) = [a for a in cloud.stacks[0].assets if a.packaging == "zip"]
    assert asset.bucket_name == f"cdk-hnb659fds-assets-{cloud.account_id}-{cloud.region}"
    body = s3.get_object(Bucket=asset.bucket_name, Key=asset.object_key)["Body"].read()
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert "local_cloud_fixtures/handlers.py" in names
    assert "serverless_patterns/lambdas/shared/settings.py" in names

    function = cloud.client("lambda").get_function(FunctionName=cloud.outputs["EchoAlias"])
    assert function["Configuration"]["CodeSha256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()


def test_a_top_level_cdk_out_is_narrowed_to_the_requested_environment(machinery_assembly: Path) -> None:
    assert select_assembly(machinery_assembly.parent, "machinery") == machinery_assembly
    assert select_assembly(machinery_assembly, None) == machinery_assembly
    with pytest.raises(ValueError, match="nested assemblies"):
        select_assembly(machinery_assembly.parent, "prod")


def test_stack_is_created_with_outputs_and_nothing_skipped(cloud: LocalCloud) -> None:
    stack = cloud.client("cloudformation").describe_stacks(StackName="Machinery-Machinery")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert set(cloud.outputs) >= {"TableName", "QueueUrl", "DlqUrl", "StateMachineArn", "BucketName", "EchoAlias"}
    assert cloud.client("dynamodb").describe_table(TableName=cloud.outputs["TableName"])["Table"]["TableStatus"]
    assert not cloud.failed
    assert not cloud.skipped
    counts = cloud.resource_counts()
    in_template = Counter(r["Type"] for r in cloud.stacks[0].template["Resources"].values())
    for emulated in ("AWS::Lambda::Alias", "AWS::CloudWatch::Alarm", "Custom::S3BucketNotifications"):
        assert counts[(emulated, EMULATED)] == in_template[emulated] > 0
    assert FAILED not in {outcome for _, outcome in counts}
    assert SKIPPED not in {outcome for _, outcome in counts}


def test_alias_references_resolve_to_the_alias_arn(cloud: LocalCloud) -> None:
    alias = cloud.resource("Echo/LiveAlias", "AWS::Lambda::Alias")
    assert alias.physical_id == cloud.outputs["EchoAlias"]
    assert alias.physical_id.endswith(":live")
    configuration = cloud.client("lambda").get_alias(FunctionName=alias.physical_id.split(":")[6], Name="live")
    assert configuration["FunctionVersion"] == "1"


def test_invoke_runs_the_handler_with_context_and_environment(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_CLOUD_LEAK_PROBE", "visible only to the test process")
    response = cloud.invoke(cloud.outputs["EchoAlias"], {"hello": "world"})

    assert response.status_code == 200
    assert response.function_error is None
    assert response.executed_version == "1"
    payload = response.payload
    assert payload["event"] == {"hello": "world"}
    assert payload["invoked_function_arn"] == cloud.outputs["EchoAlias"]
    assert payload["function_version"] == "1"
    assert payload["memory_limit_in_mb"] == 256
    assert 0 < payload["remaining_ms"] <= 10_000
    assert payload["greeting"] == "hello from Echo"
    assert payload["lambda_function_name"] == payload["function_name"]
    assert payload["leak_probe"] is None


def test_errors_come_back_as_the_python_runtime_payload(cloud: LocalCloud) -> None:
    response = cloud.invoke(cloud.outputs["EchoAlias"], {"raise": "OrderRejected", "message": "out of stock"})

    assert response.function_error == "Unhandled"
    assert response.payload["errorType"] == "OrderRejected"
    assert response.payload["errorMessage"] == "out of stock"
    assert any("local_cloud_fixtures/handlers.py" in frame for frame in response.payload["stackTrace"])
    assert not any("lambda_runtime.py" in frame for frame in response.payload["stackTrace"])
    assert cloud.invocations[-1].error_type == "OrderRejected"


def test_an_unserializable_result_is_a_marshal_error(cloud: LocalCloud) -> None:
    response = cloud.invoke(cloud.outputs["EchoAlias"], {"unserializable": True})
    assert response.function_error == "Unhandled"
    assert response.payload["errorType"] == "Runtime.MarshalError"


def test_each_function_has_its_own_module_namespace(cloud: LocalCloud) -> None:
    host_module = sys.modules["serverless_patterns.lambdas.shared.settings"]
    host_cache = host_settings.load_settings.cache_info().currsize

    first = cloud.invoke(cloud.outputs["EchoAlias"], {}).payload
    second = cloud.invoke(cloud.outputs["EchoAlias"], {}).payload
    twin = cloud.invoke(cloud.outputs["TwinAlias"], {}).payload

    assert second["invocations"] == first["invocations"] + 1  # warm container keeps its module state
    assert twin["invocations"] == 1  # another function: another container
    assert twin["greeting"] == "hello from EchoTwin"  # load_settings' cache did not leak across functions
    assert sys.modules["serverless_patterns.lambdas.shared.settings"] is host_module
    assert host_settings.load_settings.cache_info().currsize == host_cache
    assert "local_cloud_fixtures" not in sys.modules


def test_invocation_logs_go_to_the_functions_log_group(cloud: LocalCloud) -> None:
    cloud.invoke(cloud.outputs["EchoAlias"], {"raise": "ValueError"})
    log_group = cloud.resource("Echo/LogGroup/Resource", "AWS::Logs::LogGroup").physical_id
    events = cloud.client("logs").filter_log_events(logGroupName=log_group)["events"]
    messages = "\n".join(e["message"] for e in events)
    assert "START RequestId" in messages
    assert "ValueError" in messages


def test_buckets_are_versioned_as_the_template_says_and_no_more(cloud: LocalCloud) -> None:
    s3 = cloud.client("s3")
    versioned = cloud.resource("Uploads", "AWS::S3::Bucket")
    plain = cloud.resource("Unversioned", "AWS::S3::Bucket")
    assert versioned.properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert s3.get_bucket_versioning(Bucket=versioned.physical_id).get("Status") == "Enabled"
    assert "VersioningConfiguration" not in plain.properties
    assert s3.get_bucket_versioning(Bucket=plain.physical_id).get("Status") is None
    assert s3.put_object(Bucket=plain.physical_id, Key="k", Body=b"x").get("VersionId") is None
