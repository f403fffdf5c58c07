"""Deploys synthesized templates with moto's CloudFormation, filling in the resource types it lacks.

moto's CloudFormation resolves Ref/GetAtt/Join/Split/Select/Sub and creates the types it
models (queues, tables, buckets, roles, functions...). Every resource goes through one
hook here (``resource_class_from_type``) so that:

* a type with an entry in ``EMULATORS`` is created by that small function instead, through
  the service's own API where moto has one (``lambda.create_alias``, ``put_metric_alarm``,
  ``create_stage``...), or only recorded where AWS's behaviour has no API in moto; its
  Ref/GetAtt resolve to what AWS returns (an alias's Ref is the alias ARN);
* a type moto models is created by moto;
* anything else, and every custom resource without an emulator, is *skipped* (never a
  hanging custom-resource call) and listed as skipped in the inventory and the report.

Adding a type is one decorated function::

    @emulates("AWS::Service::Thing")
    def thing(ctx: ResourceContext) -> Emulated:
        response = ctx.client("service").create_thing(Name=ctx.properties.get("Name", ctx.physical_name))
        return Emulated(response["ThingArn"], {"Arn": response["ThingArn"]})
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from moto.cloudformation import parsing

from serverless_patterns.local.assets import StackArtifact
from serverless_patterns.local.async_invoke import InvokeConfig
from serverless_patterns.local.event_sources import SqsMapping

CREATED = "created"  # by moto's CloudFormation
EMULATED = "emulated"  # by an emulator, through the service's API
RECORDED = "recorded"  # no service behind it in the emulator; kept so references resolve
SKIPPED = "skipped"  # type not supported: listed in the report
FAILED = "failed"  # creation raised


@dataclass
class ResourceRecord:
    """One template resource and what the deployment made of it."""

    stack_name: str
    logical_id: str
    resource_type: str
    path: str
    properties: dict[str, Any]
    physical_id: str
    outcome: str
    detail: str = ""


@dataclass
class DeploymentState:
    """What the emulators registered, read by the runtime parts of the cloud."""

    records: list[ResourceRecord] = field(default_factory=list)
    sqs_mappings: list[SqsMapping] = field(default_factory=list)
    invoke_configs: dict[tuple[str, str | None], InvokeConfig] = field(default_factory=dict)

    def by_physical_id(self, physical_id: str, resource_type: str | None = None) -> ResourceRecord | None:
        """The record with this physical id (and type)."""
        for record in self.records:
            if record.physical_id == physical_id and resource_type in (None, record.resource_type):
                return record
        return None


class Emulated:
    """What an emulator returns to moto: the physical id (Ref) and the GetAtt attributes."""

    def __init__(
        self,
        physical_resource_id: str,
        attributes: dict[str, Any] | None = None,
        *,
        outcome: str = EMULATED,
        detail: str = "",
    ) -> None:
        self.physical_resource_id = physical_resource_id
        self.attributes = dict(attributes or {})
        self.outcome = outcome
        self.detail = detail

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        """GetAtt; an attribute the emulator did not provide resolves to the physical id."""
        return self.attributes.get(attribute_name, self.physical_resource_id)

    def is_created(self) -> bool:
        """Always ready: nothing is pending in the emulator."""
        return True

    @property
    def type(self) -> str:
        """What moto's stack-resource listing prints."""
        return str(getattr(self, "cf_resource_type", ""))


@dataclass
class ResourceContext:
    """Everything an emulator needs to create one resource."""

    stack_name: str
    logical_id: str
    resource_type: str
    properties: dict[str, Any]
    physical_name: str
    account_id: str
    region: str
    state: DeploymentState
    client: Callable[[str], Any]
    moto_create: Callable[[], Any] | None

    def arn(self, service: str, resource: str) -> str:
        """An ARN in this cloud's account and region."""
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"


Emulator = Callable[[ResourceContext], Any]
EMULATORS: dict[str, Emulator] = {}


def emulates(*resource_types: str) -> Callable[[Emulator], Emulator]:
    """Register the decorated function as the emulator of ``resource_types``."""

    def register(emulator: Emulator) -> Emulator:
        for resource_type in resource_types:
            EMULATORS[resource_type] = emulator
        return emulator

    return register


def recorded(ctx: ResourceContext, detail: str, attributes: dict[str, Any] | None = None) -> Emulated:
    """A resource kept only so that references to it resolve."""
    return Emulated(ctx.physical_name, attributes, outcome=RECORDED, detail=detail)


class _ResourceFactory:
    """Stands in for a moto model class in the ResourceMap: one per resource type."""

    def __init__(self, deployer: Deployer, resource_type: str, moto_class: Any) -> None:
        self.deployer = deployer
        self.resource_type = resource_type
        self.moto_class = moto_class

    @staticmethod
    def has_cfn_attr(attr: str) -> bool:
        return True

    def create_from_cloudformation_json(
        self, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        logical_id = str(kwargs["LogicalId"])
        properties = cloudformation_json.get("Properties") or {}
        moto_class = self.moto_class

        def moto_create() -> Any:
            return moto_class.create_from_cloudformation_json(
                resource_name, cloudformation_json, account_id, region_name, **kwargs
            )

        ctx = ResourceContext(
            stack_name=self.deployer.current_stack.stack_name,
            logical_id=logical_id,
            resource_type=self.resource_type,
            properties=properties,
            physical_name=resource_name,
            account_id=account_id,
            region=region_name,
            state=self.deployer.state,
            client=self.deployer.client,
            moto_create=moto_create if moto_class is not None else None,
        )
        try:
            resource, outcome, detail = self._create(ctx)
        except Exception as exc:
            resource = Emulated(resource_name, outcome=FAILED, detail=f"{type(exc).__name__}: {exc}")
            outcome, detail = FAILED, resource.detail
        physical = getattr(resource, "physical_resource_id", None)
        self.deployer.state.records.append(
            ResourceRecord(
                stack_name=ctx.stack_name,
                logical_id=logical_id,
                resource_type=self.resource_type,
                path=self.deployer.current_stack.construct_paths.get(logical_id, logical_id),
                properties=properties,
                physical_id=str(physical if physical is not None else resource_name),
                outcome=outcome,
                detail=detail,
            )
        )
        return resource

    def _create(self, ctx: ResourceContext) -> tuple[Any, str, str]:
        emulator = EMULATORS.get(self.resource_type)
        if emulator is not None:
            resource = emulator(ctx)
            if isinstance(resource, Emulated):
                return resource, resource.outcome, resource.detail
            return resource, CREATED, ""
        if ctx.moto_create is not None:
            return ctx.moto_create(), CREATED, ""
        kind = "custom resource without an emulator" if _is_custom(self.resource_type) else "not supported"
        return Emulated(ctx.physical_name, outcome=SKIPPED, detail=kind), SKIPPED, kind


def _is_custom(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource"


class Deployer:
    """Creates stacks in moto's CloudFormation with the emulators in place."""

    def __init__(self, *, client: Callable[[str], Any], state: DeploymentState) -> None:
        self.client = client
        self.state = state
        self._current: StackArtifact | None = None

    @property
    def current_stack(self) -> StackArtifact:
        """The stack being created."""
        if self._current is None:
            raise RuntimeError("no stack is being deployed")
        return self._current

    def _resource_class(self, resource_type: str) -> _ResourceFactory:
        moto_class = None
        if not _is_custom(resource_type) and resource_type not in parsing.NULL_MODELS:
            moto_class = parsing.get_model_map().get(resource_type)
        return _ResourceFactory(self, resource_type, moto_class)

    def deploy(self, stack: StackArtifact) -> dict[str, str]:
        """Create ``stack``; return its outputs."""
        cloudformation = self.client("cloudformation")
        self._current = stack
        try:
            with mock.patch.object(parsing, "resource_class_from_type", self._resource_class):
                cloudformation.create_stack(
                    StackName=stack.stack_name,
                    TemplateBody=json.dumps(stack.template),
                    Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
                )
        finally:
            self._current = None
        described = cloudformation.describe_stacks(StackName=stack.stack_name)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
