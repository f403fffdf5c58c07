"""Our own rule pack over the synthesized templates: what cdk-nag's packs do not see.

- **DynamoDB tables of every kind.** cdk-nag's DynamoDB rules read ``AWS::DynamoDB::Table`` only;
  the patterns create ``AWS::DynamoDB::GlobalTable`` (``TableV2``). Every table, of either type and
  on every replica, must have point-in-time recovery and deletion protection. A development
  environment's tables are acknowledged where they are created (``storage.secure_table``), so the
  rules hold everywhere else.
- **SnapStart that deploys.** A function with SnapStart on its published versions runs a runtime
  SnapStart supports (Python 3.12+), keeps ephemeral storage at most 512 MB and mounts no EFS
  file system: Lambda refuses anything else at deployment (``FunctionSettings`` refuses
  SnapStart with provisioned concurrency already).
- **Service principals in resource policies.** A statement that lets an AWS service act on a key,
  queue, topic, bucket, event bus, secret or log group, and a Lambda permission for a service,
  must say on whose behalf (``aws:SourceAccount`` or ``aws:SourceArn``): otherwise any account's
  use of that service could reach our resource (the confused deputy).

The pack is a CDK validation plugin like cdk-nag's, so its findings fail synthesis and are
acknowledged the same way, e.g. ``ServerlessPatterns::ServerlessPatterns-DynamoDBPointInTimeRecovery``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
)

PACK_NAME = "ServerlessPatterns"
CONFUSED_DEPUTY_KEYS = frozenset({"aws:sourceaccount", "aws:sourcearn"})
# Resource types whose policy lets principals act on the resource, and where their statements are.
POLICY_DOCUMENTS: Mapping[str, str] = {
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SecretsManager::ResourcePolicy": "ResourcePolicy",
    "AWS::Logs::ResourcePolicy": "PolicyDocument",
    "AWS::Events::EventBusPolicy": "Statement",
    "AWS::Events::EventBus": "Policy",
}
TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
SNAPSTART_MAX_EPHEMERAL_MB = 512
# Runtimes Lambda SnapStart supports, by prefix and lowest version: Java 11+, Python 3.12+, .NET 8+.
SNAPSTART_RUNTIMES: Mapping[str, tuple[int, ...]] = {"java": (11,), "python": (3, 12), "dotnet": (8,)}

Resource = Mapping[str, Any]
Rule = Callable[[Resource], str | None]


def _table_settings(resource: Resource, key: str) -> Iterator[Any]:
    """The setting ``key`` of a table, once per replica for a global table."""
    properties = resource.get("Properties", {})
    if resource["Type"] == "AWS::DynamoDB::GlobalTable":
        for replica in properties.get("Replicas", []) or [{}]:
            yield replica.get(key)
    else:
        yield properties.get(key)


def point_in_time_recovery(resource: Resource) -> str | None:
    """Every table (every replica of a global table) has point-in-time recovery on."""
    if resource["Type"] not in TABLE_TYPES:
        return None
    for specification in _table_settings(resource, "PointInTimeRecoverySpecification"):
        if not isinstance(specification, dict) or specification.get("PointInTimeRecoveryEnabled") is not True:
            return "point-in-time recovery is off"
    return None


def deletion_protection(resource: Resource) -> str | None:
    """Every table (every replica of a global table) is deletion-protected."""
    if resource["Type"] not in TABLE_TYPES:
        return None
    for enabled in _table_settings(resource, "DeletionProtectionEnabled"):
        if enabled is not True:
            return "deletion protection is off"
    return None


def _snapstart_runtime(runtime: Any) -> bool:
    """Whether Lambda SnapStart supports ``runtime`` (``python3.13``, ``java21``, ``dotnet8``...)."""
    match = re.fullmatch(r"([a-z]+)(\d+(?:\.\d+)*)", str(runtime))
    if match is None or match.group(1) not in SNAPSTART_RUNTIMES:
        return False
    version = tuple(int(part) for part in match.group(2).split("."))
    return version >= SNAPSTART_RUNTIMES[match.group(1)]


def snapstart_compatible(resource: Resource) -> str | None:
    """A function with SnapStart has what Lambda requires of one (runtime, ephemeral storage, no EFS)."""
    properties = resource.get("Properties", {})
    snap_start = properties.get("SnapStart")
    if resource["Type"] != "AWS::Lambda::Function" or not isinstance(snap_start, dict):
        return None
    if snap_start.get("ApplyOn") != "PublishedVersions":
        return None
    if not _snapstart_runtime(properties.get("Runtime")):
        return f"SnapStart does not support the runtime {properties.get('Runtime')!r} (Python 3.12+, Java 11+, .NET 8+)"
    size = (properties.get("EphemeralStorage") or {}).get("Size", SNAPSTART_MAX_EPHEMERAL_MB)
    if isinstance(size, int) and size > SNAPSTART_MAX_EPHEMERAL_MB:
        return f"SnapStart allows at most {SNAPSTART_MAX_EPHEMERAL_MB} MB of ephemeral storage, the function has {size}"
    if properties.get("FileSystemConfigs"):
        return "SnapStart does not support an Amazon EFS file system"
    return None


def _statements(document: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return
    if isinstance(document, list):
        yield from (statement for statement in document if isinstance(statement, dict))
    elif isinstance(document, dict):
        statements = document.get("Statement", document if "Principal" in document else [])
        yield from _statements(statements if isinstance(statements, list) else [statements])


def _services(principal: Any) -> list[str]:
    if not isinstance(principal, dict):
        return []
    services = principal.get("Service", [])
    return [str(service) for service in (services if isinstance(services, list) else [services])]


def _condition_keys(condition: Any) -> set[str]:
    if not isinstance(condition, dict):
        return set()
    return {key.lower() for operands in condition.values() if isinstance(operands, dict) for key in operands}


def service_principal_conditions(resource: Resource) -> str | None:
    """A service may use a resource only on behalf of a named account or source (no confused deputy)."""
    properties = resource.get("Properties", {})
    if resource["Type"] == "AWS::Lambda::Permission":
        principal = str(properties.get("Principal", ""))
        if principal.endswith(".amazonaws.com") and not ({"SourceAccount", "SourceArn"} & set(properties)):
            return f"the permission for {principal} names neither SourceAccount nor SourceArn"
        return None
    field = POLICY_DOCUMENTS.get(resource["Type"])
    if field is None:
        return None
    for statement in _statements(properties.get(field)):
        services = _services(statement.get("Principal"))
        bound = CONFUSED_DEPUTY_KEYS & _condition_keys(statement.get("Condition"))
        if services and statement.get("Effect", "Allow") == "Allow" and not bound:
            return f"the statement for {', '.join(services)} has no aws:SourceAccount or aws:SourceArn condition"
    return None


# rule name -> (rule, what it protects, how to fix a finding)
RULES: Mapping[str, tuple[Rule, str, str]] = {
    "DynamoDBPointInTimeRecovery": (
        point_in_time_recovery,
        "DynamoDB tables (GlobalTable included) keep 35 days of point-in-time backups.",
        "Enable point-in-time recovery on the table and every replica (PatternDefaults.point_in_time_recovery).",
    ),
    "DynamoDBDeletionProtection": (
        deletion_protection,
        "DynamoDB tables (GlobalTable included) cannot be deleted by a stack change or a stray call.",
        "Enable deletion protection on the table and every replica (PatternDefaults.removal_policy=RETAIN).",
    ),
    "SnapStartCompatible": (
        snapstart_compatible,
        "A function with SnapStart deploys: Lambda refuses SnapStart with other runtimes, more than 512 MB of "
        "ephemeral storage or an EFS file system.",
        "Turn FunctionSettings.snap_start off, or keep the function on Python 3.12+ with at most 512 MB of "
        "ephemeral storage and no file system.",
    ),
    "ServicePrincipalCondition": (
        service_principal_conditions,
        "An AWS service acts on our resources only on behalf of our account or our named source.",
        "Add an aws:SourceAccount and/or aws:SourceArn condition (SourceAccount/SourceArn on a Lambda permission).",
    ),
}


def findings(template: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """``(rule name, logical id, what is wrong)`` for every finding in one template."""
    for logical_id, resource in template.get("Resources", {}).items():
        for rule_name, (rule, _, _) in RULES.items():
            problem = rule(resource)
            if problem is not None:
                yield rule_name, logical_id, problem


@jsii.implements(IPolicyValidationPlugin)
class ServerlessPatternsChecks:
    """The pack as a CDK validation plugin: ``Validations.of(stage).add_plugins(ServerlessPatternsChecks())``."""

    @property
    def name(self) -> str:
        """The pack's name, the namespace of its rule ids in acknowledgments."""
        return PACK_NAME

    @property
    def rule_ids(self) -> list[str]:
        """The rule ids the pack reports, e.g. ``ServerlessPatterns-DynamoDBDeletionProtection``."""
        return [f"{PACK_NAME}-{rule_name}" for rule_name in RULES]

    @property
    def version(self) -> str | None:
        """The plugin has no version of its own (it ships with the package)."""
        return None

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        """Check every template of the stage; one violation per rule with every resource that breaks it."""
        violating: dict[str, list[PolicyViolatingResource]] = {}
        for template_path in context.template_paths:
            template = json.loads(Path(template_path).read_text())
            for rule_name, logical_id, problem in findings(template):
                violating.setdefault(rule_name, []).append(
                    PolicyViolatingResource(
                        resource_logical_id=logical_id, template_path=template_path, locations=[problem]
                    )
                )
        violations = [
            PolicyViolation(
                rule_name=f"{PACK_NAME}-{rule_name}",
                description=RULES[rule_name][1],
                fix=RULES[rule_name][2],
                severity="error",
                violating_resources=resources,
            )
            for rule_name, resources in violating.items()
        ]
        return PolicyValidationPluginReport(success=not violations, violations=violations)
