"""The policies of a deployment, as CloudFormation deployed them: identity, resource and key policies.

Read from the deployment's resource records (their properties resolved by the deployer:
Refs and GetAtts are the deployed ARNs and names):

* **identity policies** per role: the role's inline ``Policies``, every ``AWS::IAM::Policy``
  and ``AWS::IAM::ManagedPolicy`` attached to it, and its ``ManagedPolicyArns`` (AWS managed
  policies' documents come from moto's copy of them);
* **resource policies** per resource ARN: ``AWS::SQS::QueuePolicy``, ``AWS::SNS::TopicPolicy``
  (a topic without one has SNS's default policy), ``AWS::S3::BucketPolicy`` (for the bucket and
  its objects), ``AWS::Lambda::Permission`` (one statement per permission, on the function,
  version or alias it names), an event bus's ``Policy`` and ``AWS::Events::EventBusPolicy``,
  ``AWS::SecretsManager::ResourcePolicy``;
* **key policies** of ``AWS::KMS::Key`` (AWS's default key policy when none is given), and
  which queue, topic, bucket, table or secret is encrypted with which customer managed key
  (by key id, ARN, or an ``AWS::KMS::Alias``; ``alias/aws/...`` keys are AWS managed);
* who runs as which role: functions (``Role``) and state machines (``RoleArn``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from serverless_patterns.local.permissions import catalog
from serverless_patterns.local.permissions.policy import Statement, as_list

SNS_DEFAULT_ACTIONS = [
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
]


@dataclass
class Role:
    """An execution role and its identity policies' statements."""

    arn: str
    name: str
    path: str  # construct path of the role
    statements: list[Statement] = field(default_factory=list)


@functools.cache
def _aws_managed_policies() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    parsed: dict[str, Any] = json.loads(aws_managed_policies_data)
    return parsed


def aws_managed_policy(policy_arn: str) -> dict[str, Any] | None:
    """The document of an AWS managed policy (``arn:aws:iam::aws:policy/...``), if moto knows it."""
    if ":iam::aws:policy/" not in policy_arn:
        return None
    entry = _aws_managed_policies().get(policy_arn.rsplit("/", 1)[-1])
    return dict(entry["Document"]) if entry else None


def _document(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def statements(document: Any, source: str) -> list[Statement]:
    """The statements of a policy document, each labelled ``source#index``."""
    raw = _document(document).get("Statement", [])
    return [Statement.parse(item, f"{source}#{index}") for index, item in enumerate(as_list(raw))]


@dataclass
class PolicyStore:
    """Every policy of a deployment, indexed for the authorizer."""

    account: str
    region: str
    roles: dict[str, Role] = field(default_factory=dict)  # by role ARN
    function_roles: dict[str, str] = field(default_factory=dict)  # function name -> role ARN
    state_machine_roles: dict[str, str] = field(default_factory=dict)  # state machine ARN -> role ARN
    resource_policies: dict[str, list[Statement]] = field(default_factory=dict)  # by resource ARN
    key_policies: dict[str, list[Statement]] = field(default_factory=dict)  # by key ARN
    encryption: dict[str, str] = field(default_factory=dict)  # resource ARN -> customer managed key ARN
    aliases: dict[str, str] = field(default_factory=dict)  # alias name -> key ARN
    warnings: list[str] = field(default_factory=list)

    # -- lookups --------------------------------------------------------------------------

    def role_by_name(self, name: str) -> Role | None:
        """The role with this name."""
        return next((r for r in self.roles.values() if r.name == name), None)

    def resource_policy(self, resource: str) -> list[Statement]:
        """The resource policy governing ``resource`` (an S3 object's is its bucket's)."""
        if resource.startswith("arn:aws:s3:::"):
            resource = resource.split("/", 1)[0]
        return self.resource_policies.get(resource, [])

    def key_of(self, resource: str) -> str | None:
        """The customer managed key encrypting ``resource`` (an S3 object: its bucket's default), if any."""
        if resource.startswith("arn:aws:s3:::"):
            resource = resource.split("/", 1)[0]
        if resource.startswith("arn:aws:dynamodb:") and "/index/" in resource:
            resource = resource.split("/index/", 1)[0]
        return self.encryption.get(resource)

    # -- building -------------------------------------------------------------------------

    @classmethod
    def from_records(cls, records: Iterable[Any], *, account: str, region: str) -> PolicyStore:
        """From the deployment's resource records (``cloudformation.ResourceRecord``)."""
        store = cls(account=account, region=region)
        records = list(records)
        by_type: dict[str, list[Any]] = {}
        for record in records:
            if record.outcome != "failed":
                by_type.setdefault(record.resource_type, []).append(record)
        store._read_roles(by_type)
        store._read_keys(by_type)
        for resource_type, reader in _RESOURCE_POLICY_READERS.items():
            for record in by_type.get(resource_type, []):
                reader(store, record)
        store._read_encryption(by_type)
        for record in by_type.get("AWS::Lambda::Function", []):
            if record.properties.get("Role"):
                store.function_roles[record.physical_id] = str(record.properties["Role"])
        for record in by_type.get("AWS::StepFunctions::StateMachine", []):
            store.state_machine_roles[record.physical_id] = str(record.properties.get("RoleArn", ""))
        return store

    def _read_roles(self, by_type: Mapping[str, list[Any]]) -> None:
        managed = {r.physical_id for r in by_type.get("AWS::IAM::ManagedPolicy", [])}  # customer managed, by ARN
        for record in by_type.get("AWS::IAM::Role", []):
            props = record.properties
            path = str(props.get("Path", "/"))
            role = Role(f"arn:aws:iam::{self.account}:role{path}{record.physical_id}", record.physical_id, record.path)
            for policy in props.get("Policies", []):
                role.statements += statements(policy["PolicyDocument"], f"{record.path} inline {policy['PolicyName']}")
            for policy_arn in props.get("ManagedPolicyArns", []):
                if policy_arn in managed:
                    continue  # read below, from its own record
                document = aws_managed_policy(str(policy_arn))
                if document is None:
                    self.warnings.append(f"{record.path}: managed policy {policy_arn} unknown, not evaluated")
                    continue
                role.statements += statements(document, f"{policy_arn}")
            self.roles[role.arn] = role
        for record in by_type.get("AWS::IAM::Policy", []) + by_type.get("AWS::IAM::ManagedPolicy", []):
            attached = {str(name) for name in record.properties.get("Roles", [])}
            if record.resource_type == "AWS::IAM::ManagedPolicy":
                attached |= {
                    r.physical_id
                    for r in by_type.get("AWS::IAM::Role", [])
                    if record.physical_id in r.properties.get("ManagedPolicyArns", [])
                }
            for name in attached:
                role_record = self.role_by_name(name.rsplit("/", 1)[-1])
                if role_record is not None:
                    role_record.statements += statements(record.properties["PolicyDocument"], record.path)

    def _read_keys(self, by_type: Mapping[str, list[Any]]) -> None:
        for record in by_type.get("AWS::KMS::Key", []):
            key_arn = self.key_arn(record.physical_id)
            document = record.properties.get("KeyPolicy") or {
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{self.account}:root"}, "Action": "kms:*"}
                ]
            }
            self.key_policies[key_arn] = statements(document, record.path)
        for record in by_type.get("AWS::KMS::Alias", []):
            target = str(record.properties.get("TargetKeyId", ""))
            self.aliases[str(record.properties.get("AliasName"))] = self.key_arn(target)

    def key_arn(self, key: str) -> str:
        """A key's ARN from its id or ARN."""
        return key if key.startswith("arn:") else f"arn:aws:kms:{self.region}:{self.account}:key/{key}"

    def customer_key(self, reference: Any) -> str | None:
        """The customer managed key a resource's key property names (None: none, or AWS managed)."""
        if not reference:
            return None
        text = str(reference)
        alias = text.split(":", 5)[-1] if text.startswith("arn:") and ":alias/" in text else text
        if alias.startswith("alias/"):
            return self.aliases.get(alias)  # alias/aws/... is AWS managed: None
        key = self.key_arn(text)
        if key not in self.key_policies:
            self.warnings.append(f"key {text} is not deployed by this app: its key policy is not evaluated")
            return None
        return key

    def _read_encryption(self, by_type: Mapping[str, list[Any]]) -> None:
        for record in by_type.get("AWS::SQS::Queue", []):
            queue = next(iter(catalog.needs("sqs", "X", {"QueueUrl": record.physical_id}, **self._where())))
            self._encrypted(queue.resource, record.properties.get("KmsMasterKeyId"))
        for record in by_type.get("AWS::SNS::Topic", []):
            self._encrypted(record.physical_id, record.properties.get("KmsMasterKeyId"))
        for record in by_type.get("AWS::SecretsManager::Secret", []):
            self._encrypted(record.physical_id, record.properties.get("KmsKeyId"))
        for record in by_type.get("AWS::S3::Bucket", []):
            rules = (record.properties.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration", [])
            for rule in rules:
                default = rule.get("ServerSideEncryptionByDefault") or {}
                if str(default.get("SSEAlgorithm", "")).startswith("aws:kms"):
                    self._encrypted(f"arn:aws:s3:::{record.physical_id}", default.get("KMSMasterKeyID"))
        for record in by_type.get("AWS::DynamoDB::Table", []) + by_type.get("AWS::DynamoDB::GlobalTable", []):
            props = record.properties
            keys = [(props.get("SSESpecification") or {}).get("KMSMasterKeyId")]
            keys += [(r.get("SSESpecification") or {}).get("KMSMasterKeyId") for r in props.get("Replicas", [])]
            table = f"arn:aws:dynamodb:{self.region}:{self.account}:table/{record.physical_id}"
            self._encrypted(table, next((k for k in keys if k), None))

    def _encrypted(self, resource: str, reference: Any) -> None:
        key = self.customer_key(reference)
        if key is not None:
            self.encryption[resource] = key

    def _where(self) -> dict[str, Any]:
        return {"region": self.region, "account": self.account, "resolve": catalog.Resolver()}

    def observe(self, prefix: str, operation: str, params: Mapping[str, Any]) -> None:
        """A resource policy set through the API after the deployment (a bucket, queue or topic policy)."""
        source = f"{prefix}:{operation} at run time"
        if (prefix, operation) == ("s3", "PutBucketPolicy"):
            self.resource_policies[f"arn:aws:s3:::{params['Bucket']}"] = statements(params["Policy"], source)
        elif (prefix, operation) == ("sqs", "SetQueueAttributes") and "Policy" in (params.get("Attributes") or {}):
            queue = catalog.needs("sqs", operation, params, **self._where())[0].resource
            self.resource_policies[queue] = statements(params["Attributes"]["Policy"], source)
        elif (prefix, operation) == ("sns", "SetTopicAttributes") and params.get("AttributeName") == "Policy":
            self.resource_policies[str(params["TopicArn"])] = statements(params["AttributeValue"], source)

    def add_resource_policy(self, resource: str, document: Any, source: str) -> None:
        """Attach a policy document's statements to ``resource``."""
        self.resource_policies.setdefault(resource, []).extend(statements(document, source))


def _queue_policy(store: PolicyStore, record: Any) -> None:
    for url in record.properties.get("Queues", []):
        queue = catalog.needs("sqs", "X", {"QueueUrl": url}, **store._where())[0].resource
        store.add_resource_policy(queue, record.properties["PolicyDocument"], record.path)


def _topic_policy(store: PolicyStore, record: Any) -> None:
    for topic in record.properties.get("Topics", []):
        store.add_resource_policy(str(topic), record.properties["PolicyDocument"], record.path)


def _topic(store: PolicyStore, record: Any) -> None:
    """SNS's default topic policy: the owner account's services may publish (replaced by a TopicPolicy)."""
    if str(record.physical_id) in store.resource_policies:
        return
    default = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": SNS_DEFAULT_ACTIONS,
                "Resource": record.physical_id,
                "Condition": {"StringEquals": {"AWS:SourceOwner": store.account}},
            }
        ]
    }
    store.add_resource_policy(str(record.physical_id), default, f"{record.path} (SNS default topic policy)")


def _bucket_policy(store: PolicyStore, record: Any) -> None:
    bucket = str(record.properties["Bucket"])
    store.add_resource_policy(f"arn:aws:s3:::{bucket}", record.properties["PolicyDocument"], record.path)


def _lambda_permission(store: PolicyStore, record: Any) -> None:
    props = record.properties
    function = catalog.needs("lambda", "Invoke", {"FunctionName": props["FunctionName"]}, **store._where())[0]
    principal = str(props["Principal"])
    kind = "Service" if principal.endswith((".amazonaws.com", ".amazonaws.com.cn")) else "AWS"
    conditions: dict[str, dict[str, str]] = {}
    if props.get("SourceArn"):
        conditions["ArnLike"] = {"AWS:SourceArn": str(props["SourceArn"])}
    if props.get("SourceAccount"):
        conditions.setdefault("StringEquals", {})["AWS:SourceAccount"] = str(props["SourceAccount"])
    if props.get("PrincipalOrgID"):
        conditions.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = str(props["PrincipalOrgID"])
    statement = {
        "Effect": "Allow",
        "Principal": "*" if principal == "*" else {kind: principal},
        "Action": str(props["Action"]),
        "Resource": function.resource,
        **({"Condition": conditions} if conditions else {}),
    }
    store.add_resource_policy(function.resource, {"Statement": [statement]}, record.path)


def _event_bus(store: PolicyStore, record: Any) -> None:
    if record.properties.get("Policy"):
        bus = f"arn:aws:events:{store.region}:{store.account}:event-bus/{record.physical_id}"
        store.add_resource_policy(bus, record.properties["Policy"], record.path)


def _event_bus_policy(store: PolicyStore, record: Any) -> None:
    props = record.properties
    name = str(props.get("EventBusName") or "default")
    bus = name if name.startswith("arn:") else f"arn:aws:events:{store.region}:{store.account}:event-bus/{name}"
    if props.get("Statement"):
        store.add_resource_policy(bus, {"Statement": [props["Statement"]]}, record.path)
    else:
        store.warnings.append(f"{record.path}: an EventBusPolicy without Statement is not evaluated")


def _secret_policy(store: PolicyStore, record: Any) -> None:
    store.add_resource_policy(str(record.properties["SecretId"]), record.properties["ResourcePolicy"], record.path)


_RESOURCE_POLICY_READERS: dict[str, Callable[[PolicyStore, Any], None]] = {
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::SNS::Topic": _topic,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::Lambda::Permission": _lambda_permission,
    "AWS::Events::EventBus": _event_bus,
    "AWS::Events::EventBusPolicy": _event_bus_policy,
    "AWS::SecretsManager::ResourcePolicy": _secret_policy,
}
