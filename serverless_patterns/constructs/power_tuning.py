"""PowerTuning: AWS Lambda Power Tuning, the public Serverless Application Repository app, for right-sizing.

Memory is the one knob of a Lambda function: it buys CPU and network too, so a function can
get cheaper *and* faster with more of it. Power Tuning measures that instead of guessing: a
Step Functions state machine republishes the function at each memory value, invokes it
``num`` times with your payload, and reports cost and speed per value (plus a chart URL).
Apply what it finds in ``EnvironmentConfig.functions`` (per role), never in the console.

The app is nested as ``AWS::Serverless::Application`` (the stack gets the SAM transform).
Its IAM policies are scoped with ``lambdaResource`` to this stack's functions (physical names
start with the stack name), not ``*``. Opt-in and Dev only (``PowerTuningSettings``): a run
invokes real handlers with real side effects. The local cloud does not emulate it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import ArnFormat, Stack, aws_sam as sam
from constructs import Construct

from serverless_patterns.config import PowerTuningSettings

APPLICATION_ID = "arn:aws:serverlessrepo:us-east-1:451282441545:applications/aws-lambda-power-tuning"
STRATEGIES = ("cost", "speed", "balanced")


class PowerTuning(Construct):
    """The Power Tuning state machine, allowed to tune only this stack's functions.

    ``state_machine_arn`` is what a run starts (``aws stepfunctions start-execution``); build
    its input with ``tuning_input``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: PowerTuningSettings,
        lambda_resource: str | None = None,
    ) -> None:
        """Nest the app.

        :param settings: versions, memory values and timeouts (``EnvironmentConfig.power_tuning``).
        :param lambda_resource: the function ARN (or ``*``-prefix) the tuner may republish and
            invoke; by default every function of this stack (their names start with its name).
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.lambda_resource = lambda_resource or stack.format_arn(
            service="lambda",
            resource="function",
            resource_name=f"{stack.stack_name}-*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.settings = settings
        self.application = sam.CfnApplication(
            self,
            "Resource",
            location=sam.CfnApplication.ApplicationLocationProperty(
                application_id=APPLICATION_ID, semantic_version=settings.semantic_version
            ),
            parameters={
                "lambdaResource": self.lambda_resource,
                "PowerValues": ",".join(str(value) for value in settings.power_values),
                "totalExecutionTimeout": str(settings.total_execution_timeout_seconds),
                "logGroupRetentionInDays": str(settings.log_retention_days),
            },
        )

    @property
    def state_machine_arn(self) -> str:
        """The tuner's state machine (the nested app's ``StateMachineARN`` output)."""
        return self.application.get_att("Outputs.StateMachineARN").to_string()


def tuning_input(
    function_arn: str,
    payload: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    power_values: Sequence[int] | None = None,
    num: int = 20,
    strategy: str = "cost",
    parallel_invocation: bool = False,
) -> dict[str, Any]:
    """The execution input of one tuning run of ``function_arn`` (the function, not its alias).

    ``payload`` is the event each invocation gets (a list means weighted payloads, each
    ``{"payload": ..., "weight": n}``). ``num`` invocations per memory value; serial by default,
    because parallel runs measure a burst of cold starts rather than the steady state.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    if num < 5:
        raise ValueError("num must be >= 5: fewer invocations say little about a memory value")
    tuning: dict[str, Any] = {
        "lambdaARN": function_arn,
        "num": num,
        "payload": payload if isinstance(payload, Mapping) else list(payload),
        "parallelInvocation": parallel_invocation,
        "strategy": strategy,
        "autoOptimize": False,
    }
    if power_values:
        tuning["powerValues"] = list(power_values)
    return tuning
