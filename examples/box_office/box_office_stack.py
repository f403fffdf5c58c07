"""The box office, composed from serverless-patterns with its own code in every pluggable role.

- ``ShowsApi`` (``ApiBackend``): the shows API of ``box_office.shows``, signed-in staff only (Cognito).
- ``TicketOrders`` (``OrderWorkflow``): the saga charging the customer's prepaid wallet
  (``box_office.wallet``) and issuing the tickets (``box_office.tickets``); validation, stock,
  retries and compensation stay the pattern's. Stock is seats left per show (SKU = show id).
- ``SeatMaps`` (``EventPipeline``): venues' seat maps, checked by the box office's rules and
  counted per section (``box_office.seat_maps``).
- ``SalesReport`` (``FanOut``): revenue per show over any number of sales (``box_office.sales``).
- ``Operations`` (``ObservabilityDashboard``) over all four, every alarm to the ``OpsAlerts`` topic.

The wallets and tickets tables are the box office's own; the stack grants the roles that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import (
    Acknowledgment,
    CfnOutput,
    RemovalPolicy,
    Stack,
    Validations,
    aws_dynamodb as dynamodb,
    aws_logs as logs,
)
from constructs import Construct

from serverless_patterns import (
    AlarmThresholds,
    AlarmTopic,
    ApiAuth,
    ApiBackend,
    ApiSettings,
    EventPipeline,
    FanOut,
    FanOutSettings,
    FunctionSettings,
    HandlerCode,
    ObservabilityDashboard,
    OrderWorkflow,
    PatternDefaults,
    PipelineSettings,
    WorkflowSettings,
)

CODE = Path(__file__).resolve().parent / "box_office"
# The variables box_office.storage reads (not imported: the stack never loads handler code).
WALLETS_TABLE_ENV = "BOX_OFFICE_WALLETS_TABLE"
TICKETS_TABLE_ENV = "BOX_OFFICE_TICKETS_TABLE"
DELETION_PROTECTION_FINDING = "ServerlessPatterns::ServerlessPatterns-DynamoDBDeletionProtection"


@dataclass(frozen=True)
class BoxOfficeProps:
    """What the box office decides; the patterns' secure defaults cover everything else.

    :param ops_emails: who receives every alarm and its recovery.
    :param allowed_origins: the box office front end's browser origins (exact ``https://host`` values).
    :param production: retain data, keep logs longer and protect tables from deletion; off for a
        personal or test stack.
    :param max_order_cents: the most one order may cost (the saga declines more before charging).
    """

    ops_emails: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    production: bool = False
    max_order_cents: int = 200_000


class BoxOfficeStack(Stack):
    """Shows, ticket orders, seat maps and sales reports, watched by one dashboard."""

    def __init__(self, scope: Construct, construct_id: str, *, props: BoxOfficeProps, **kwargs: Any) -> None:
        """Compose the patterns.

        :param props: the box office's settings (see ``BoxOfficeProps``).
        :param kwargs: passed to ``Stack`` (``env``, ``description``, ...).
        """
        super().__init__(scope, construct_id, **kwargs)
        defaults = PatternDefaults(
            metrics_namespace="BoxOffice",
            thresholds=AlarmThresholds(api_p99_latency_ms=1_000),
            log_retention=logs.RetentionDays.SIX_MONTHS if props.production else logs.RetentionDays.ONE_WEEK,
            removal_policy=RemovalPolicy.RETAIN if props.production else RemovalPolicy.DESTROY,
            point_in_time_recovery=props.production,
            development=not props.production,
        )
        self.wallets = self._table("Wallets", "pk", props=props)
        self.tickets = self._table("Tickets", "order_id", props=props)
        wallets = {WALLETS_TABLE_ENV: self.wallets.table_name}

        self.shows_api = ApiBackend(
            self,
            "ShowsApi",
            defaults=defaults,
            settings=ApiSettings(auth=ApiAuth.COGNITO, cors_origins=props.allowed_origins, throttle_rate=50),
            handlers={"api": HandlerCode.from_package(CODE, "box_office.shows.handler")},
            service="shows-api",
        )

        self.orders = OrderWorkflow(
            self,
            "TicketOrders",
            defaults=defaults,
            settings=WorkflowSettings(max_charge_cents=props.max_order_cents),
            handlers={
                "charge_payment": HandlerCode.from_package(CODE, "box_office.wallet.charge", environment=wallets),
                "refund_payment": HandlerCode.from_package(CODE, "box_office.wallet.refund", environment=wallets),
                "send_confirmation": HandlerCode.from_package(
                    CODE, "box_office.tickets.handler", environment={TICKETS_TABLE_ENV: self.tickets.table_name}
                ),
            },
            service="ticket-orders",
        )
        for role in ("charge_payment", "refund_payment"):
            self.wallets.grant_read_write_data(self.orders.functions[role].role)
        self.tickets.grant_read_write_data(self.orders.functions["send_confirmation"].role)

        self.seat_maps = EventPipeline(
            self,
            "SeatMaps",
            defaults=defaults,
            settings=PipelineSettings(
                upload_prefix="seat-maps/", upload_suffixes=(".csv",), allowed_extensions=(".csv",), batch_size=5
            ),
            functions={"process": FunctionSettings(memory_mb=512, timeout_seconds=60)},
            handlers={
                "validate": HandlerCode.from_package(CODE, "box_office.seat_maps.validate.handler"),
                "process": HandlerCode.from_package(CODE, "box_office.seat_maps.process.handler"),
            },
            service="seat-maps",
        )

        self.sales_report = FanOut(
            self,
            "SalesReport",
            defaults=defaults,
            settings=FanOutSettings(chunk_size=50, max_items=50_000),
            handlers={
                "worker": HandlerCode.from_package(CODE, "box_office.sales.worker.handler"),
                "aggregator": HandlerCode.from_package(CODE, "box_office.sales.aggregator.handler"),
            },
            service="sales-report",
        )

        self.alarm_topic = AlarmTopic(
            self, "OpsAlerts", emails=props.ops_emails, removal_policy=defaults.removal_policy
        )
        self.operations = ObservabilityDashboard(
            self,
            "Operations",
            observables=[self.shows_api, self.orders, self.seat_maps, self.sales_report],
            environment_name="BoxOffice",
            defaults=defaults,
            existing_alarm_topic=self.alarm_topic,
        )
        self._outputs()

    def _table(self, construct_id: str, key: str, *, props: BoxOfficeProps) -> dynamodb.TableV2:
        """A table of the box office's own: encrypted, recoverable, protected from deletion in production."""
        table = dynamodb.TableV2(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=key, type=dynamodb.AttributeType.STRING),
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=props.production,
            removal_policy=RemovalPolicy.RETAIN if props.production else RemovalPolicy.DESTROY,
        )
        if not props.production:
            reason = "A test stack's table is deleted with the stack; production protects it."
            Validations.of(table).acknowledge(Acknowledgment(id=DELETION_PROTECTION_FINDING, reason=reason))
        return table

    def _outputs(self) -> None:
        for name, value in {
            "ShowsApiUrl": self.shows_api.url,
            "WalletsTableName": self.wallets.table_name,
            "TicketsTableName": self.tickets.table_name,
            "OrderStateMachineArn": self.orders.state_machine.state_machine_arn,
            "SeatsTableName": self.orders.inventory_table.table_name,
            "OrdersTableName": self.orders.orders_table.table_name,
            "SeatMapBucketName": self.seat_maps.upload_bucket.bucket_name,
            "SeatMapResultsBucketName": self.seat_maps.results_bucket.bucket_name,
            "SeatMapDlqArn": self.seat_maps.dead_letter_queue.queue_arn,
            "SalesReportFunction": self.sales_report.master.alias.function_arn,
            "SalesReportStatusFunction": self.sales_report.status_reader.alias.function_arn,
            "DashboardUrl": self.operations.dashboard_url,
        }.items():
            CfnOutput(self, name, value=value)
