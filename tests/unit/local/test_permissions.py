"""The permission checks' parts: the policy language, the operation -> action/resource catalog, the decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from serverless_patterns.local.permissions import catalog
from serverless_patterns.local.permissions.enforcer import Enforcer
from serverless_patterns.local.permissions.policy import Principal, Statement, evaluate, wildcard_match
from serverless_patterns.local.permissions.report import AccessReport, Acknowledgement
from serverless_patterns.local.permissions.store import PolicyStore

ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Handler"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Items"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234"
ROLE_PRINCIPAL = Principal("AWS", ROLE, ACCOUNT, f"arn:aws:sts::{ACCOUNT}:assumed-role/Handler/fn")
CONTEXT = {"aws:securetransport": "true"}


def statement(**raw: Any) -> Statement:
    return Statement.parse({"Effect": "Allow", **raw}, "test#0")


# -- the policy language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "value", "ignore_case", "expected"),
    [
        ("dynamodb:*", "dynamodb:PutItem", True, True),
        ("DynamoDB:putitem", "dynamodb:PutItem", True, True),
        ("dynamodb:Get*", "dynamodb:PutItem", True, False),
        ("arn:aws:s3:::bucket/incoming/*", "arn:aws:s3:::bucket/incoming/a/b.csv", False, True),
        ("arn:aws:s3:::bucket/incoming/*", "arn:aws:s3:::bucket/Incoming/a.csv", False, False),
        ("arn:aws:logs:*:*:log-group:g:*", "arn:aws:logs:r:1:log-group:g:log-stream:s", False, True),
        ("s3:GetObject?ersion", "s3:GetObjectVersion", True, True),
        ("a[1]", "a[1]", False, True),  # brackets are literal in IAM
    ],
)
def test_wildcards(pattern: str, value: str, ignore_case: bool, expected: bool) -> None:
    assert wildcard_match(pattern, value, ignore_case=ignore_case) is expected


def test_not_action_and_not_resource_cover_everything_else() -> None:
    allow_all_but = statement(NotAction=["iam:*"], NotResource=[TABLE])
    assert allow_all_but.matches("sqs:SendMessage", QUEUE, CONTEXT)
    assert not allow_all_but.matches("iam:PassRole", QUEUE, CONTEXT)
    assert not allow_all_but.matches("sqs:SendMessage", TABLE, CONTEXT)


@pytest.mark.parametrize(
    ("condition", "context", "holds"),
    [
        ({"Bool": {"aws:SecureTransport": "false"}}, CONTEXT, False),
        ({"Bool": {"aws:SecureTransport": "true"}}, CONTEXT, True),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::up*"}}, {"aws:sourcearn": "arn:aws:s3:::uploads"}, True),
        ({"ArnEquals": {"aws:SourceArn": "arn:aws:events:r:1:rule/a"}}, {}, False),  # missing key: false
        ({"StringNotEquals": {"aws:SourceAccount": "1"}}, {}, True),  # negated and missing: true
        ({"StringEqualsIfExists": {"aws:SourceAccount": "1"}}, {}, True),
        ({"StringEquals": {"aws:SourceAccount": ["2", "1"]}}, {"aws:sourceaccount": "1"}, True),  # values: OR
        ({"StringNotLike": {"aws:SourceArn": ["a*", "b*"]}}, {"aws:sourcearn": "b1"}, False),  # negated: NOR
        ({"Null": {"aws:SourceArn": "true"}}, {}, True),
        ({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "5"}, True),
        ({"ForAllValues:StringEquals": {"dynamodb:Attributes": ["a", "b"]}}, {"dynamodb:attributes": ["a"]}, True),
        ({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, {"aws:currenttime": "2030"}, False),
    ],
)
def test_conditions(condition: dict[str, Any], context: dict[str, Any], holds: bool) -> None:
    assert statement(Action="*", Resource="*", Condition=condition).conditions_hold(context) is holds


def test_an_unsupported_operator_leaves_the_statement_out_and_says_so() -> None:
    parsed = statement(Action="*", Resource="*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    assert parsed.unsupported == ("IpAddress",)
    assert not parsed.matches("s3:GetObject", "arn:aws:s3:::b/k", CONTEXT)


def test_principals_name_the_role_its_session_or_its_account() -> None:
    by_role = statement(Principal={"AWS": ROLE}, Action="*", Resource="*")
    by_session = statement(Principal={"AWS": ROLE_PRINCIPAL.session_arn}, Action="*", Resource="*")
    by_account = statement(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, Action="*", Resource="*")
    by_service = statement(Principal={"Service": "sns.amazonaws.com"}, Action="*", Resource="*")
    assert by_role.principal_match(ROLE_PRINCIPAL) == "direct"
    assert by_session.principal_match(ROLE_PRINCIPAL) == "direct"
    assert by_account.principal_match(ROLE_PRINCIPAL) == "account"
    assert by_service.principal_match(ROLE_PRINCIPAL) is None
    assert statement(Principal="*", Action="*", Resource="*").principal_match(ROLE_PRINCIPAL) == "direct"


def test_an_explicit_deny_wins_over_any_allow() -> None:
    statements = [
        statement(Action="sqs:*", Resource="*"),
        Statement.parse({"Effect": "Deny", "Action": "sqs:SendMessage", "Resource": QUEUE}, "deny#0"),
    ]
    result = evaluate(statements, ROLE_PRINCIPAL, "sqs:SendMessage", QUEUE, CONTEXT)
    assert result.denied_by is not None
    assert result.denied_by.source == "deny#0"
    assert not result.allows
    assert evaluate(statements, ROLE_PRINCIPAL, "sqs:ReceiveMessage", QUEUE, CONTEXT).allows


# -- the catalog (the Service Authorization Reference) ----------------------------------------------


def needs(prefix: str, operation: str, **params: Any) -> list[tuple[str, str]]:
    found = catalog.needs(prefix, operation, params, region=REGION, account=ACCOUNT, resolve=catalog.Resolver())
    return [(n.action, n.resource) for n in found]


def test_operations_map_to_the_references_actions_and_resource_formats() -> None:
    assert needs("dynamodb", "PutItem", TableName="Items") == [("dynamodb:PutItem", TABLE)]
    assert needs("dynamodb", "Query", TableName="Items", IndexName="ByDate") == [
        ("dynamodb:Query", f"{TABLE}/index/ByDate")
    ]
    assert needs("sqs", "SendMessageBatch", QueueUrl=f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/jobs") == [
        ("sqs:SendMessage", QUEUE)
    ]
    assert needs("s3", "ListObjectsV2", Bucket="b") == [("s3:ListBucket", "arn:aws:s3:::b")]
    assert needs("s3", "HeadObject", Bucket="b", Key="k/1") == [("s3:GetObject", "arn:aws:s3:::b/k/1")]
    assert needs("s3", "GetObject", Bucket="b", Key="k", VersionId="v1") == [
        ("s3:GetObjectVersion", "arn:aws:s3:::b/k")
    ]
    assert needs("lambda", "Invoke", FunctionName="fn", Qualifier="live") == [
        ("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn:live")
    ]
    assert needs("cloudwatch", "PutMetricData", Namespace="x") == [("cloudwatch:PutMetricData", "*")]
    assert needs("xray", "PutTraceSegments", TraceSegmentDocuments=[]) == [("xray:PutTraceSegments", "*")]
    assert needs("events", "PutEvents", Entries=[{"EventBusName": "orders"}, {}]) == [
        ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"),
        ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders"),
    ]


def test_batches_and_transactions_need_each_tables_action() -> None:
    transaction = [
        {"Put": {"TableName": "Items"}},
        {"ConditionCheck": {"TableName": "Jobs"}},
        {"Update": {"TableName": "Items"}},
    ]
    assert needs("dynamodb", "TransactWriteItems", TransactItems=transaction) == [
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:ConditionCheckItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Jobs"),
        ("dynamodb:UpdateItem", TABLE),
    ]
    assert needs("dynamodb", "BatchGetItem", RequestItems={"Items": {}, "Jobs": {}}) == [
        ("dynamodb:BatchGetItem", TABLE),
        ("dynamodb:BatchGetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Jobs"),
    ]
    assert needs("s3", "CopyObject", Bucket="to", Key="b", CopySource="from/a") == [
        ("s3:GetObject", "arn:aws:s3:::from/a"),
        ("s3:PutObject", "arn:aws:s3:::to/b"),
    ]


# -- decisions -------------------------------------------------------------------------------------


@dataclass
class Record:
    resource_type: str
    physical_id: str
    properties: dict[str, Any]
    path: str = ""
    logical_id: str = ""
    outcome: str = "created"
    detail: str = field(default="")


def _store(*, key_policy: list[dict[str, Any]], identity: list[dict[str, Any]]) -> PolicyStore:
    records = [
        Record("AWS::IAM::Role", "Handler", {}, "/Stack/Role"),
        Record(
            "AWS::IAM::Policy", "p", {"Roles": ["Handler"], "PolicyDocument": {"Statement": identity}}, "/Stack/Policy"
        ),
        Record("AWS::KMS::Key", "1234", {"KeyPolicy": {"Statement": key_policy}}, "/Stack/Key"),
        Record("AWS::SQS::Queue", f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/jobs", {"KmsMasterKeyId": KEY}),
        Record("AWS::Lambda::Function", "fn", {"Role": ROLE}),
    ]
    return PolicyStore.from_records(records, account=ACCOUNT, region=REGION)


ROOT = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}
SEND = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE}
USE_KEY = {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": KEY}


def _send(enforcer: Enforcer) -> str | None:
    caller = enforcer.function_caller("fn")
    assert caller is not None
    found = enforcer.check_request(
        caller, "sqs", "SendMessage", {"QueueUrl": f"https://x.{REGION}.a.com/{ACCOUNT}/jobs"}, REGION
    )
    return None if found is None else f"{found[0].action} {'key' if found[1] else ''}".strip()


def test_a_customer_managed_key_needs_the_callers_grant_and_a_key_policy_that_allows_it() -> None:
    assert _send(Enforcer(_store(key_policy=[ROOT], identity=[SEND, USE_KEY]))) is None
    assert _send(Enforcer(_store(key_policy=[ROOT], identity=[SEND]))) == "kms:GenerateDataKey key"
    assert _send(Enforcer(_store(key_policy=[], identity=[SEND, USE_KEY]))) == "kms:GenerateDataKey key"
    direct = {**USE_KEY, "Principal": {"AWS": ROLE}}
    assert _send(Enforcer(_store(key_policy=[direct], identity=[SEND]))) is None
    assert _send(Enforcer(_store(key_policy=[ROOT], identity=[USE_KEY]))) == "sqs:SendMessage"


def test_the_report_counts_used_unused_and_acknowledged_grants() -> None:
    unused = {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": TABLE}
    enforcer = Enforcer(_store(key_policy=[ROOT], identity=[SEND, USE_KEY, unused]))
    assert _send(enforcer) is None
    report = AccessReport.build(enforcer)
    by_action = {(g.action, g.owner): g for g in report.grants}
    assert by_action[("sqs:SendMessage", "/Stack/Role")].uses == 1
    assert by_action[("kms:*", "key policy")].uses == 2  # GenerateDataKey and Decrypt, delegated to IAM
    assert [g.action for g in report.unused] == ["dynamodb:Scan"]
    assert "1 unused (warnings)" in report.summary()
    acknowledged = AccessReport.build(enforcer, [Acknowledgement("/Stack/Policy", "dynamodb:*", "a reason")])
    assert acknowledged.unused == []
    assert "1 unused but acknowledged, 0 unused (warnings)" in acknowledged.summary()
