"""The catalog team's service, composed from serverless-patterns with the team's own props.

- ``CatalogApi``: the items API (``ApiBackend``) over the team's EXISTING catalog table,
  imported by name, not created: the table's data, backups and capacity stay the team's.
- ``PriceLists``: an ``EventPipeline`` running the team's OWN processing code
  (``price_lists/``) on supplier price lists uploaded under ``price-lists/``.
- ``OpsAlerts``: the team's own alarm topic (its recipients, its removal policy) that every
  alarm of both patterns notifies, through an ``ObservabilityDashboard`` over both; the one
  composite "service health" alarm also pages the on-call topic the team already has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import (
    CfnOutput,
    RemovalPolicy,
    Stack,
    aws_cloudwatch_actions as actions,
    aws_dynamodb as dynamodb,
    aws_logs as logs,
    aws_sns as sns,
)
from constructs import Construct

from serverless_patterns import (
    AlarmThresholds,
    AlarmTopic,
    ApiAuth,
    ApiBackend,
    ApiSettings,
    EventPipeline,
    FunctionSettings,
    HandlerCode,
    ObservabilityDashboard,
    PatternDefaults,
    PipelineSettings,
)

PROCESSOR_PACKAGE = Path(__file__).resolve().parent / "price_lists"


@dataclass(frozen=True)
class CatalogServiceProps:
    """What the catalog team decides; the patterns' secure defaults cover everything else.

    :param catalog_table_name: the existing DynamoDB table the API serves (partition key ``id``, string).
    :param price_list_currency: the only currency a price list may use (the processor parks other lists).
    :param ops_emails: who receives every alarm and its recovery (the team's own ``AlarmTopic``).
    :param pager_topic_arn: an existing SNS topic that pages on-call; only the composite service-health
        alarm goes there, so one incident pages once.
    :param allowed_origins: browser origins of the catalog front end (exact ``https://host`` values).
    :param production: retain data and logs longer and keep tables on delete; off for a personal stack.
    :param function_sizing: memory/timeout per function role (``api``, ``validate``, ``process``).
    """

    catalog_table_name: str
    price_list_currency: str = "EUR"
    ops_emails: tuple[str, ...] = ()
    pager_topic_arn: str | None = None
    allowed_origins: tuple[str, ...] = ()
    production: bool = False
    function_sizing: dict[str, FunctionSettings] = field(
        default_factory=lambda: {
            "api": FunctionSettings(memory_mb=512, timeout_seconds=10),
            "validate": FunctionSettings(memory_mb=256, timeout_seconds=15),
            "process": FunctionSettings(memory_mb=512, timeout_seconds=60),
        }
    )


class CatalogServiceStack(Stack):
    """The catalog API and the price-list pipeline, watched by one dashboard and one alarm topic."""

    def __init__(self, scope: Construct, construct_id: str, *, props: CatalogServiceProps, **kwargs: Any) -> None:
        """Compose the patterns.

        :param props: the team's settings (see ``CatalogServiceProps``).
        :param kwargs: passed to ``Stack`` (``env``, ``description``, ...).
        """
        super().__init__(scope, construct_id, **kwargs)
        defaults = PatternDefaults(
            metrics_namespace="Catalog",
            thresholds=AlarmThresholds(api_p99_latency_ms=800, queue_oldest_message_seconds=900),
            log_retention=logs.RetentionDays.THREE_MONTHS if props.production else logs.RetentionDays.TWO_WEEKS,
            removal_policy=RemovalPolicy.RETAIN if props.production else RemovalPolicy.DESTROY,
            point_in_time_recovery=props.production,
            debug_log_sample_rate=0.01,
            # Anything but production is a development environment: disposable tables, no web ACL.
            development=not props.production,
        )

        catalog = dynamodb.Table.from_table_name(self, "CatalogTable", props.catalog_table_name)
        self.api = ApiBackend(
            self,
            "CatalogApi",
            defaults=defaults,
            settings=ApiSettings(
                auth=ApiAuth.IAM, cors_origins=props.allowed_origins, throttle_rate=50, throttle_burst=100
            ),
            functions={"api": props.function_sizing["api"]},
            existing_table=catalog,
            service="catalog-api",
        )

        self.price_lists = EventPipeline(
            self,
            "PriceLists",
            settings=PipelineSettings(
                upload_prefix="price-lists/",
                upload_suffixes=(".csv",),
                allowed_extensions=(".csv",),
                batch_size=5,
                max_concurrency=4,
                max_file_bytes=10 * 1024 * 1024,
            ),
            functions={role: props.function_sizing[role] for role in EventPipeline.ROLES},
            defaults=defaults,
            service="price-lists",
            handlers={
                "process": HandlerCode.from_package(
                    PROCESSOR_PACKAGE,
                    "price_lists.handler.handler",
                    environment={"PRICE_LIST_CURRENCY": props.price_list_currency},
                )
            },
        )

        self.alarm_topic = AlarmTopic(
            self, "OpsAlerts", emails=props.ops_emails, removal_policy=defaults.removal_policy
        )
        self.operations = ObservabilityDashboard(
            self,
            "Operations",
            observables=[self.api, self.price_lists],
            environment_name="Catalog",
            defaults=defaults,
            existing_alarm_topic=self.alarm_topic,
            extra_log_groups=[self.api.access_logs],
        )
        if props.pager_topic_arn:
            pager = sns.Topic.from_topic_arn(self, "Pager", props.pager_topic_arn)
            self.operations.service_health.add_alarm_action(actions.SnsAction(pager))

        CfnOutput(self, "ApiUrl", value=self.api.url)
        CfnOutput(self, "PriceListBucketName", value=self.price_lists.upload_bucket.bucket_name)
        CfnOutput(self, "PriceListResultsBucketName", value=self.price_lists.results_bucket.bucket_name)
        CfnOutput(self, "PriceListDlqArn", value=self.price_lists.dead_letter_queue.queue_arn)
        CfnOutput(self, "DashboardUrl", value=self.operations.dashboard_url)
