"""OrderWorkflow: the order saga on Step Functions (validate, charge, reserve, confirm; refund on failure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from aws_cdk import (
    Duration,
    Names,
    aws_cloudwatch as cloudwatch,
    aws_dynamodb as dynamodb,
    aws_events as events,
    aws_events_targets as targets,
    aws_iam as iam,
    aws_lambda as lambda_,
    aws_logs as logs,
    aws_secretsmanager as secretsmanager,
    aws_sqs as sqs,
    aws_stepfunctions as sfn,
)
from constructs import Construct

from serverless_patterns.config import FunctionSettings, PatternDefaults, WorkflowSettings
from serverless_patterns.config.checks import check_type
from serverless_patterns.constructs.circuit_breaker import CircuitBreakers
from serverless_patterns.constructs.compliance import (
    acknowledge,
)
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.constructs.handler_code import HandlerCode, merged_environment
from serverless_patterns.constructs.lambda_code import handler_code, handler_path
from serverless_patterns.constructs.order_workflow_definition import (
    WorkflowFunctions,
    build_definition,
)
from serverless_patterns.constructs.order_workflow_handlers import connect_payment_gateway, has_own_provider
from serverless_patterns.constructs.order_workflow_monitoring import (
    configure_logs_and_tracing,
    create_alarms,
    dashboard_widgets,
)
from serverless_patterns.constructs.props import (
    existing_or_props,
    owner_name,
    resolve_defaults,
    resolve_functions,
    resolve_handlers,
    resolve_settings,
)
from serverless_patterns.constructs.scope import claim_service, pin_feature_flags
from serverless_patterns.constructs.storage import DLQ_RETENTION, idempotency_table, queue_with_dlq, secure_table
from serverless_patterns.lambdas.order_workflow import names

PACKAGE = "order_workflow"
# role -> (handler module, description); the roles are the keys of EnvironmentConfig.functions.
FUNCTION_ROLES: Mapping[str, tuple[str, str]] = {
    "validate_order": ("validate", "Order saga: validate the order and record it"),
    "charge_payment": ("charge", "Order saga: charge the payment exactly once"),
    "update_inventory": ("inventory", "Order saga: reserve stock in one transaction"),
    "send_confirmation": ("confirm", "Order saga: confirm the order and emit OrderConfirmed"),
    "refund_payment": ("refund", "Order saga: compensate (close the order, refund the charge)"),
}
# Roles whose business outcomes (invalid order, decline, out of stock) are exceptions the state
# machine catches: they count as Lambda errors, so their errors alarm uses the workflow's threshold.
BUSINESS_ERROR_ROLES = frozenset({"validate_order", "charge_payment", "update_inventory"})
ENTRY_RETRY_ATTEMPTS = 8
ENTRY_MAX_EVENT_AGE = Duration.hours(6)
CONFIRMATION_BATCH_SIZE = 10
CONFIRMATION_MAX_CONCURRENCY = 2


class OrderWorkflow(Construct):
    """The order saga: ValidateOrder -> ChargePayment -> UpdateInventory -> SendConfirmation.

    A Standard state machine (Express through ``settings.express``) whose tasks invoke the
    five functions' ``live`` aliases. Declines (PaymentError) and invalid orders
    (ValidationError) end in Fail states without retries; transient failures retry with
    backoff; a failure after the charge runs the compensation (close the order, refund the
    charge) and ends in OrderFailed with the error and its reason. A confirmation that keeps
    failing is handed to a queue the confirmation function drains, so a paid, reserved
    order is never dropped.

    Orders start through ``grant_start_execution`` (StartExecution with the order as
    input, ideally named after the order id) or by putting an ``OrderPlaced`` event (detail =
    the order) on ``event_bus``. Charges are exactly-once: Powertools idempotency on the order
    id, then a payments ledger that holds at most one charge per order. Tables: orders
    (``order_id``; status transitions with history), inventory (``sku``, ``stock``), payments
    ledger (``order_id`` + ``entry``), idempotency (Powertools layout).

    The payment gateway is our own ledger by default, or your provider (``handlers``, see
    ``serverless_patterns.lambdas.order_workflow.custom``). With ``settings.payment_gateway="http"``
    ChargePayment and RefundPayment call a provider's REST API at ``settings.payment_gateway_url``
    through ``circuit_breakers`` (breaker ``payment-gateway``), with credentials from a Secrets
    Manager secret; both tasks then retry ``PaymentGatewayUnavailable`` for two breaker
    cooldowns (``order_workflow_definition.gateway_unavailable_retry``) before compensating.
    """

    ROLES: ClassVar[tuple[str, ...]] = tuple(FUNCTION_ROLES)
    FUNCTION_DEFAULTS: ClassVar[Mapping[str, FunctionSettings]] = dict.fromkeys(FUNCTION_ROLES, FunctionSettings())

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        defaults: PatternDefaults | None = None,
        settings: WorkflowSettings | None = None,
        functions: Mapping[str, FunctionSettings] | None = None,
        handlers: Mapping[str, HandlerCode] | None = None,
        orders_table_props: dynamodb.TablePropsV2 | None = None,
        existing_inventory_table: dynamodb.ITable | None = None,
        inventory_table_props: dynamodb.TablePropsV2 | None = None,
        payments_table_props: dynamodb.TablePropsV2 | None = None,
        existing_event_bus: events.IEventBus | None = None,
        service: str | None = None,
        circuit_breakers: CircuitBreakers | None = None,
        existing_payment_gateway_secret: secretsmanager.ISecret | None = None,
    ) -> None:
        """Build the workflow.

        :param defaults: the environment's cross-cutting settings (retention, removal, tracing, thresholds).
        :param settings: ``WorkflowSettings``: state machine type, logging of execution data, timeout,
            payment gateway and limits.
        :param functions: ``FunctionSettings`` per role (``ROLES``: ``validate_order``,
            ``charge_payment``, ``update_inventory``, ``send_confirmation``, ``refund_payment``).
        :param handlers: your code per role, built with ``serverless_patterns.lambdas.order_workflow.custom``:
            ``charge_payment`` and ``refund_payment`` with your payment provider, always both and never
            with the ``http`` adapter's settings (``build_charge_handler(provider)``,
            ``build_refund_handler(provider)``: exactly-once charges, the per-order limit, the ledger and
            compensation stay the workflow's) and ``send_confirmation``
            (``build_confirmation_handler(your_step)``: the CONFIRMED status, OrderConfirmed and the
            confirmation queue stay the workflow's).
        :param orders_table_props: ``dynamodb.TablePropsV2`` merged over the orders table's defaults.
        :param existing_inventory_table: an existing stock table (partition key ``sku`` (S), number
            attribute ``stock``) when stock is owned elsewhere.
        :param inventory_table_props: ``dynamodb.TablePropsV2`` merged over the created stock table's defaults.
        :param payments_table_props: ``dynamodb.TablePropsV2`` merged over the payments ledger's defaults.
        :param existing_event_bus: an existing bus for OrderPlaced/OrderConfirmed; otherwise one is created.
        :param service: Powertools service name (the business metrics' dimension); unique per metrics
            namespace in a Stage; by default the construct id in kebab case.
        :param circuit_breakers: the service's breakers, declaring ``payment-gateway``; required with
            the ``http`` gateway, whose calls they guard (shared state, opened-alarm, timeouts), and
            refused with any other gateway or your own provider, where they would guard nothing.
        :param existing_payment_gateway_secret: the secret with the provider's HTTP headers (a JSON object
            such as ``{"Authorization": "Bearer ..."}``), when it is not found by
            ``settings.payment_gateway_secret_name`` (e.g. one created in the same app). Only
            ChargePayment and RefundPayment may read it.
        """
        super().__init__(scope, construct_id)
        pin_feature_flags(self)
        owner = owner_name(self)
        defaults = resolve_defaults(self, defaults)
        self.settings = settings = resolve_settings(self, "settings", settings, WorkflowSettings)
        sizing = resolve_functions(self, self.FUNCTION_DEFAULTS, functions)
        self._handlers = resolve_handlers(self, self.ROLES, handlers)
        self._own_provider = has_own_provider(owner, self._handlers, settings, secret=existing_payment_gateway_secret)
        existing_or_props(
            self, "existing_inventory_table", existing_inventory_table, "inventory_table_props", inventory_table_props
        )
        for name, value, hint in (
            ("existing_inventory_table", existing_inventory_table, dynamodb.ITable),
            ("existing_event_bus", existing_event_bus, events.IEventBus),
            ("circuit_breakers", circuit_breakers, CircuitBreakers),
            ("existing_payment_gateway_secret", existing_payment_gateway_secret, secretsmanager.ISecret),
        ):
            check_type(owner, name, value, hint | None)
        self.defaults = defaults
        self.service = claim_service(self, service, namespace=defaults.metrics_namespace)

        self.orders_table = secure_table(
            self,
            "OrdersTable",
            defaults=defaults,
            partition_key="order_id",
            props=orders_table_props,
            props_name="orders_table_props",
        )
        self.inventory_table: dynamodb.ITable = existing_inventory_table or secure_table(
            self,
            "InventoryTable",
            defaults=defaults,
            partition_key="sku",
            props=inventory_table_props,
            props_name="inventory_table_props",
        )
        self.payments_table = secure_table(
            self,
            "PaymentsTable",
            defaults=defaults,
            partition_key="order_id",
            sort_key="entry",
            props=payments_table_props,
            props_name="payments_table_props",
        )
        self.idempotency_table = idempotency_table(self, "IdempotencyTable", defaults=defaults)
        self.event_bus: events.IEventBus = existing_event_bus or events.EventBus(
            self, "EventBus", description="Order events: OrderPlaced starts the workflow, OrderConfirmed ends it"
        )

        self.functions = self._create_functions(sizing)
        self.validate_order = self.functions["validate_order"]
        self.charge_payment = self.functions["charge_payment"]
        self.update_inventory = self.functions["update_inventory"]
        self.send_confirmation = self.functions["send_confirmation"]
        self.refund_payment = self.functions["refund_payment"]
        self._grant_data_access()
        self.circuit_breakers = circuit_breakers
        gateway_retry, self.payment_gateway_secret = connect_payment_gateway(
            self, circuit_breakers, existing_payment_gateway_secret, own_provider=self._own_provider
        )

        self.confirmation_queue, self.confirmation_dlq = queue_with_dlq(
            self,
            "ConfirmationQueue",
            # AWS's rule for SQS sources: six times the function timeout.
            visibility_timeout=Duration.seconds(6 * sizing["send_confirmation"].timeout_seconds),
            max_receive_count=settings.confirmation_max_receive_count,
            removal_policy=defaults.removal_policy,
            retention_period=Duration.days(14),
        )
        self.confirmation_source = lambda_.EventSourceMapping(
            self,
            "ConfirmationQueueSource",
            target=self.send_confirmation.alias,
            event_source_arn=self.confirmation_queue.queue_arn,
            batch_size=CONFIRMATION_BATCH_SIZE,
            report_batch_item_failures=True,
            max_concurrency=CONFIRMATION_MAX_CONCURRENCY,
        )
        # The mapping is validated against the role's permissions when it is created.
        self.confirmation_queue.grant_consume_messages(self.send_confirmation.role).apply_before(
            self.confirmation_source
        )
        acknowledge(
            self.confirmation_source,
            (
                "Serverless::Serverless-LambdaEventSourceMappingDestination",
                "SQS sources take no on-failure destination: failed records go to the queue's DLQ "
                "after maxReceiveCount (ConfirmationDlqAlarm).",
            ),
        )

        self.log_group = logs.LogGroup(
            self,
            "ExecutionLogs",
            # The vendedlogs prefix keeps CloudWatch Logs' resource policy small as workflows multiply.
            log_group_name=f"/aws/vendedlogs/states/{Names.unique_resource_name(self, max_length=200, separator='-')}",
            retention=defaults.log_retention,
            removal_policy=defaults.removal_policy,
        )
        definition = build_definition(
            Construct(self, "Definition"),
            functions=WorkflowFunctions(
                validate_order=self.validate_order.invocable,
                charge_payment=self.charge_payment.invocable,
                update_inventory=self.update_inventory.invocable,
                send_confirmation=self.send_confirmation.invocable,
                refund_payment=self.refund_payment.invocable,
            ),
            confirmation_queue=self.confirmation_queue,
            gateway_retry=gateway_retry,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "Resource",
            comment="Order saga: validate, charge, reserve, confirm; refund on failure",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.EXPRESS if settings.express else sfn.StateMachineType.STANDARD,
            timeout=Duration.minutes(settings.execution_timeout_minutes),
        )
        configure_logs_and_tracing(self)

        self.entry_dlq = sqs.Queue(
            self,
            "OrderPlacedDlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
            removal_policy=defaults.removal_policy,
        )
        acknowledge(
            self.entry_dlq,
            ("AwsSolutions::AwsSolutions-SQS3", "This queue is the OrderPlaced rule target's dead-letter queue."),
            ("Serverless::Serverless-SQSRedrivePolicy", "This queue is a dead-letter queue itself."),
        )
        self.order_placed_rule = events.Rule(
            self,
            "OrderPlacedRule",
            event_bus=self.event_bus,
            description="Starts the order workflow for every OrderPlaced event (detail = the order)",
            event_pattern=events.EventPattern(source=[names.EVENT_SOURCE], detail_type=[names.ORDER_PLACED]),
            targets=[
                targets.SfnStateMachine(
                    self.state_machine,
                    input=events.RuleTargetInput.from_event_path("$.detail"),
                    dead_letter_queue=self.entry_dlq,
                    retry_attempts=ENTRY_RETRY_ATTEMPTS,
                    max_event_age=ENTRY_MAX_EVENT_AGE,
                )
            ],
        )
        self._alarms = create_alarms(self)

    # -- public API -------------------------------------------------------------------------

    @property
    def alarms(self) -> Sequence[cloudwatch.Alarm]:
        """Executions failed/timed out/throttled, both DLQs, deferred confirmations, every function's."""
        function_alarms = [alarm for function in self.functions.values() for alarm in function.alarms]
        return [*self._alarms, *function_alarms]

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` (an API, a producer) to start orders directly."""
        return self.state_machine.grant_start_execution(grantee)

    def grant_submit_orders(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to put OrderPlaced events on the workflow's bus (the decoupled entry point)."""
        return self.event_bus.grant_put_events_to(grantee)

    def grant_read_orders(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to read order status (e.g. an API's GET /orders/{id})."""
        return self.orders_table.grant_read_data(grantee)

    def metric_business(self, metric_name: str) -> cloudwatch.Metric:
        """A business metric the handlers emit (``names``: PaymentsDeclined, OrdersConfirmed, ...)."""
        return cloudwatch.Metric(
            namespace=self.defaults.metrics_namespace,
            metric_name=metric_name,
            dimensions_map={"service": self.service},
            statistic="Sum",
            period=self._period,
        )

    def metric_payment_declines(self) -> cloudwatch.Metric:
        """Declined payments per period (a business signal, not an alarm)."""
        return self.metric_business(names.PAYMENTS_DECLINED)

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        """Executions, business outcomes, the functions, the queues and the tables."""
        return dashboard_widgets(self)

    # -- construction -----------------------------------------------------------------------

    @property
    def _period(self) -> Duration:
        return Duration.seconds(self.defaults.thresholds.period_seconds)

    def _create_functions(self, sizing: Mapping[str, FunctionSettings]) -> dict[str, ServerlessFunction]:
        code = handler_code(PACKAGE)
        owner = owner_name(self)
        orders = {names.ORDERS_TABLE_ENV: self.orders_table.table_name}
        # Your provider replaces the built-in adapters: no PAYMENT_GATEWAY naming one; the limit stays.
        gateway = {
            **({} if self._own_provider else {names.PAYMENT_GATEWAY_ENV: self.settings.payment_gateway}),
            names.MAX_CHARGE_ENV: str(self.settings.max_charge_cents),
        }
        environments = {
            "validate_order": {**orders, names.INVENTORY_TABLE_ENV: self.inventory_table.table_name},
            "charge_payment": {
                **orders,
                **gateway,
                names.PAYMENTS_TABLE_ENV: self.payments_table.table_name,
                names.IDEMPOTENCY_TABLE_ENV: self.idempotency_table.table_name,
                names.IDEMPOTENCY_TTL_ENV: str(self.settings.charge_idempotency_hours * 3600),
            },
            "update_inventory": {**orders, names.INVENTORY_TABLE_ENV: self.inventory_table.table_name},
            "send_confirmation": {**orders, names.EVENT_BUS_ENV: self.event_bus.event_bus_name},
            "refund_payment": {**orders, **gateway, names.PAYMENTS_TABLE_ENV: self.payments_table.table_name},
        }
        return {
            role: ServerlessFunction(
                self,
                _pascal(role),
                code=own.bind(PACKAGE) if (own := self._handlers.get(role)) else code,
                handler=own.handler if own else handler_path(PACKAGE, module),
                settings=sizing[role],
                role=role,
                service=self.service,
                defaults=self.defaults,
                environment=merged_environment(f"{owner}: handlers[{role!r}]", environments[role], own),
                description=description,
                errors_alarm_threshold=(
                    self.settings.failed_executions_threshold if role in BUSINESS_ERROR_ROLES else None
                ),
            )
            for role, (module, description) in FUNCTION_ROLES.items()
        }

    def _grant_data_access(self) -> None:
        """Exactly the calls each handler makes, nothing broader."""
        read, put, update, query = "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"
        for role in ("charge_payment", "update_inventory", "send_confirmation", "refund_payment"):
            self.orders_table.grant(self.functions[role].role, read, update)
        self.orders_table.grant(self.validate_order.role, read, put)
        self.inventory_table.grant(self.validate_order.role, "dynamodb:BatchGetItem")
        # TransactWriteItems is authorized per item: UpdateItem on every table it touches.
        self.inventory_table.grant(self.update_inventory.role, update)
        for role in ("charge_payment", "refund_payment"):
            self.payments_table.grant(self.functions[role].role, query, put)
        self.idempotency_table.grant(self.charge_payment.role, read, put, update, "dynamodb:DeleteItem")
        self.event_bus.grant_put_events_to(self.send_confirmation.role)


def _pascal(role: str) -> str:
    return "".join(part.capitalize() for part in role.split("_"))
