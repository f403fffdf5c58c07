"""A regional WAFv2 web ACL in front of a REST API stage: AWS managed rules and a per-client rate limit."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Names, Stack, aws_apigateway as apigw, aws_cloudwatch as cloudwatch, aws_wafv2 as wafv2
from constructs import Construct

from serverless_patterns.config import AlarmThresholds
from serverless_patterns.constructs.alarms import threshold_alarm

RATE_LIMIT_RULE = "RateLimitPerIp"
# The common rule set blocks bodies over 8 KB (SizeRestrictions_BODY). The API takes bodies up to
# 32 KiB and answers larger ones 413 itself (request_guard), so that rule only counts: the API's
# documented limit holds, and the counted requests show on the dashboard.
COUNTED_RULES = {"CommonRuleSet": ("SizeRestrictions_BODY",)}
RATE_LIMIT_WINDOW = Duration.minutes(5)
WAF_NAMESPACE = "AWS/WAFV2"


class ApiWebAcl(Construct):
    """A web ACL associated with one API Gateway stage, with its metrics and a blocked-requests alarm.

    Rules, first match wins: the Amazon IP reputation list; a rate limit of ``rate_limit`` requests per
    client IP per 5 minutes (the client is blocked until its rate drops); AWS's known-bad-inputs and
    common rule sets (``SizeRestrictions_BODY`` counted only, see ``COUNTED_RULES``). Everything else is
    allowed on to API Gateway, whose auth, throttling and the handler's request guard still apply.
    Blocked requests get API Gateway's 403. Every rule writes CloudWatch metrics and sampled requests.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: apigw.Stage,
        rate_limit: int,
        thresholds: AlarmThresholds,
    ) -> None:
        """Create the web ACL, associate it with ``stage`` and alarm on blocked requests.

        :param stage: the REST API stage to protect.
        :param rate_limit: requests one client IP may send per 5 minutes before it is blocked (10..2e9).
        :param thresholds: the environment's alarm evaluation settings and period; ``waf_blocked_requests``
            blocked requests per period raise the (warning) alarm.
        """
        super().__init__(scope, construct_id)
        # One name for the ACL and its metric dimension: CloudWatch's WebACL dimension is the metric name.
        self.name = Names.unique_resource_name(self, max_length=128, separator="-")
        self._period = Duration.seconds(thresholds.period_seconds)
        rules = [
            _managed_rule("IpReputation", "AWSManagedRulesAmazonIpReputationList", 0),
            _rate_limit_rule(rate_limit, 1),
            _managed_rule("KnownBadInputs", "AWSManagedRulesKnownBadInputsRuleSet", 2),
            _managed_rule("CommonRuleSet", "AWSManagedRulesCommonRuleSet", 3),
        ]
        self.rule_names: Sequence[str] = [rule.name for rule in rules]
        self.web_acl = wafv2.CfnWebACL(
            self,
            "Resource",
            name=self.name,
            scope="REGIONAL",
            description=f"Managed rules and a per-IP rate limit in front of {stage.node.path}",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(self.name),
            rules=rules,
        )
        self.arn: str = self.web_acl.attr_arn
        self.association = wafv2.CfnWebACLAssociation(
            self, "Association", resource_arn=stage.stage_arn, web_acl_arn=self.arn
        )
        self.rate_limit = rate_limit
        self.blocked_requests_alarm = threshold_alarm(
            self,
            "BlockedRequestsWarning",
            self.metric_blocked_requests(),
            thresholds.waf_blocked_requests,
            f"WARNING {self.node.path}: the web ACL blocked {thresholds.waf_blocked_requests} or more requests per "
            "period (an attack, a client over the rate limit, or a rule blocking legitimate traffic: see the "
            "sampled requests)",
            thresholds,
        )

    @property
    def alarms(self) -> Sequence[cloudwatch.Alarm]:
        """The blocked-requests warning."""
        return [self.blocked_requests_alarm]

    def metric(self, metric_name: str, rule: str = "ALL") -> cloudwatch.Metric:
        """A WAF metric (``AllowedRequests``, ``BlockedRequests``, ``CountedRequests``) of one rule or ``ALL``."""
        return cloudwatch.Metric(
            namespace=WAF_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"WebACL": self.name, "Region": Stack.of(self).region, "Rule": rule},
            statistic="Sum",
            period=self._period,
        )

    def metric_blocked_requests(self, rule: str = "ALL") -> cloudwatch.Metric:
        """Requests the web ACL blocked, all rules or one (e.g. ``RateLimitPerIp``)."""
        return self.metric("BlockedRequests", rule)

    def metric_allowed_requests(self) -> cloudwatch.Metric:
        """Requests the web ACL let through to API Gateway."""
        return self.metric("AllowedRequests")

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        """Allowed and blocked requests, blocks per rule, and the requests only counted."""
        return [
            cloudwatch.GraphWidget(
                title="Web ACL: allowed and blocked",
                left=[self.metric_allowed_requests()],
                right=[self.metric_blocked_requests()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Web ACL: blocked per rule",
                left=[self.metric_blocked_requests(rule).with_(label=rule) for rule in self.rule_names],
                width=8,
            ),
            cloudwatch.AlarmWidget(title="Web ACL: blocked requests", alarm=self.blocked_requests_alarm, width=8),
        ]


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


def _rate_limit_rule(limit: int, priority: int) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=RATE_LIMIT_RULE,
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                aggregate_key_type="IP", limit=limit, evaluation_window_sec=int(RATE_LIMIT_WINDOW.to_seconds())
            )
        ),
        visibility_config=_visibility(RATE_LIMIT_RULE),
    )


def _managed_rule(name: str, group: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
    counted = COUNTED_RULES.get(name, ())
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name=group,
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                    )
                    for rule in counted
                ]
                or None,
            )
        ),
        visibility_config=_visibility(name),
    )
