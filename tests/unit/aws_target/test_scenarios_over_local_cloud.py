"""Every scenario, driven through AwsTarget, against the real Dev stage deployed in the local cloud.

This is what ``pytest -m aws`` does to a deployed stage, with the local cloud standing in for
the account: AwsTarget reads the stack through moto's CloudFormation, invokes, uploads and
runs executions through the same APIs, and waits with ``settle``; while it waits, virtual
time passes (the local cloud drains). Only the HTTPS hop is replaced: requests, signed as for
the real API, go to the local cloud's API Gateway. A scenario that works only with LocalCloud
(not through the Target protocol, or relying on something a real stage does not do) fails here.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator

import boto3
import pytest
from botocore.awsrequest import AWSRequest

from serverless_patterns.local import LocalCloud
from serverless_patterns.scenarios import Scenario, discover, run_scenario
from serverless_patterns.scenarios.aws_target import AwsTarget, Polling, SynthesizedStack
from serverless_patterns.scenarios.target import HttpResponse
from serverless_patterns.stacks.stage import ServiceStage

SCENARIOS = discover()


class DrainingClock:
    """Polling's clock: each wait is virtual time in which the local cloud delivers what is pending."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.cloud.drain()


@pytest.fixture(scope="module")
def target(stages: dict[str, ServiceStage]) -> Iterator[AwsTarget]:
    with LocalCloud.deploy(stages["dev"]) as cloud:

        def to_local_api(request: AWSRequest, data: bytes | None, timeout_seconds: float) -> HttpResponse:
            url = urllib.parse.urlsplit(str(request.url))
            assert url.geturl().startswith(cloud.outputs["ApiUrl"].rstrip("/"))
            _, _stage, path = url.path.split("/", 2)
            response = cloud.api_request(
                str(request.method),
                "/" + urllib.parse.unquote(path),
                headers=dict(request.headers.items()),
                query=dict(urllib.parse.parse_qsl(url.query)) or None,
                body=data.decode() if data is not None else None,
            )
            return HttpResponse(response.status_code, dict(response.headers), response.body)

        waiting = DrainingClock(cloud)
        aws = AwsTarget(
            SynthesizedStack.from_stage(stages["dev"]),
            session=boto3.Session(region_name=cloud.region),
            polling=Polling(sleep=waiting.sleep, clock=waiting.clock),
            transport=to_local_api,
        )
        aws.ensure_deployed()
        yield aws


def test_the_local_deployment_is_the_whole_stage(target: AwsTarget) -> None:
    assert target.stack.stack_name == "Dev-Service"
    assert target.missing_resources() == []


@pytest.mark.parametrize("item", SCENARIOS, ids=[f"{s.pattern}.{s.function.__name__}" for s in SCENARIOS])
def test_the_scenario_passes_through_aws_target(target: AwsTarget, item: Scenario) -> None:
    if not target.has_construct(item.pattern):
        pytest.skip(f"{item.pattern} is not part of Dev")
    result = run_scenario(target, item)
    failed = [f"{c.name}: {c.detail}" for c in result.checks if not c.passed]
    assert result.passed, failed
