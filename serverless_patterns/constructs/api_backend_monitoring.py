"""What ApiBackend shows operations: its metrics, its alarms and its dashboard row.

The same for the items API and for your own routes: requests, errors and latency as API
Gateway measures them, the tables' throttles, then the function's own row. The business
metrics graphed are the handler's (the items API's by default; none for your own routes,
graph yours with ``ApiBackend.metric_business``).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, aws_apigateway as apigw, aws_cloudwatch as cloudwatch, aws_dynamodb as dynamodb
from constructs import Construct

from serverless_patterns.config import PatternDefaults
from serverless_patterns.constructs.alarms import threshold_alarm
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.constructs.web_acl import ApiWebAcl

# Rates over fewer requests than this per period are noise (1 error in 2 requests is 50%).
RATE_ALARM_MIN_REQUESTS = 10
_TABLE_OPERATIONS = (
    dynamodb.Operation.GET_ITEM,
    dynamodb.Operation.PUT_ITEM,
    dynamodb.Operation.UPDATE_ITEM,
    dynamodb.Operation.DELETE_ITEM,
)


class ApiMonitoring:
    """The metrics, alarms (created in ``scope``, the ApiBackend) and dashboard row of one API.

    :param scope: the ApiBackend; the alarms are its children.
    :param api: the REST API.
    :param table: the table the handler scans and writes.
    :param idempotency_table: the idempotency records table.
    :param handler: the API function (its row closes the dashboard's).
    :param defaults: thresholds, period and metrics namespace.
    :param service: the metric dimension of the handler's EMF metrics.
    :param business_metrics: the handler's business metrics to graph.
    :param web_acl: the API's own web ACL (its blocks alarm and its row join the API's), if any.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        api: apigw.RestApi,
        table: dynamodb.ITable,
        idempotency_table: dynamodb.ITable,
        handler: ServerlessFunction,
        defaults: PatternDefaults,
        service: str,
        business_metrics: Sequence[str],
        web_acl: ApiWebAcl | None = None,
    ) -> None:
        self._api = api
        self._table = table
        self._idempotency_table = idempotency_table
        self._handler = handler
        self._defaults = defaults
        self._service = service
        self._business_metrics = tuple(business_metrics)
        self._web_acl = web_acl
        self.warning_alarms: Sequence[cloudwatch.Alarm] = ()
        self.alarms: Sequence[cloudwatch.Alarm] = self._create_alarms(scope)

    @property
    def period(self) -> Duration:
        """The metrics' period (the environment's alarm period)."""
        return Duration.seconds(self._defaults.thresholds.period_seconds)

    def metric_server_error_rate(self) -> cloudwatch.IMetric:
        """Percentage of requests answered 5XX (0 while traffic is below the noise floor)."""
        return self._error_rate(self._api.metric_server_error(period=self.period, statistic="Sum"), "5XX rate (%)")

    def metric_client_error_rate(self) -> cloudwatch.IMetric:
        """Percentage of requests answered 4XX (0 while traffic is below the noise floor)."""
        return self._error_rate(self._api.metric_client_error(period=self.period, statistic="Sum"), "4XX rate (%)")

    def metric_latency(self, statistic: str = "p99") -> cloudwatch.Metric:
        """End-to-end latency as API Gateway measures it, in milliseconds."""
        return self._api.metric_latency(statistic=statistic, period=self.period)

    def metric_business(self, name: str) -> cloudwatch.Metric:
        """One of the handler's EMF business metrics, summed per period."""
        return cloudwatch.Metric(
            namespace=self._defaults.metrics_namespace,
            metric_name=name,
            dimensions_map={"service": self._service},
            statistic="Sum",
            period=self.period,
        )

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        """Requests and errors, latency, DynamoDB, business metrics (if any); then the function's row."""
        period = self.period
        table = self._table
        table_width = 4 if self._business_metrics else 6  # whole rows of 24 either way
        widgets: list[cloudwatch.IWidget] = [
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[self._api.metric_count(period=period, statistic="Sum")],
                right=[
                    self._api.metric_client_error(period=period, statistic="Sum"),
                    self._api.metric_server_error(period=period, statistic="Sum"),
                ],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="API latency (ms)",
                left=[self.metric_latency(statistic) for statistic in ("p50", "p90", "p99")],
                right=[self._api.metric_integration_latency(statistic="p99", period=period)],
                width=6,
            ),
            # One throttle expression per graph: the per-operation ids of two tables would collide.
            cloudwatch.GraphWidget(
                title="Idempotency table throttles",
                left=[self._table_throttles(self._idempotency_table)],
                width=table_width,
            ),
            cloudwatch.GraphWidget(
                title="Items table throttles and p99 latency",
                left=[self._table_throttles(table)],
                right=[
                    table.metric_successful_request_latency(
                        dimensions_map={"TableName": table.table_name, "Operation": operation.value},
                        statistic="p99",
                        period=period,
                    )
                    for operation in (dynamodb.Operation.GET_ITEM, dynamodb.Operation.UPDATE_ITEM)
                ],
                width=table_width,
            ),
        ]
        if self._business_metrics:
            widgets.append(
                cloudwatch.GraphWidget(
                    title="Items business metrics",
                    left=[self.metric_business(name) for name in self._business_metrics],
                    width=4,
                )
            )
        if self._web_acl:
            widgets.extend(self._web_acl.dashboard_widgets())
        return [*widgets, *self._handler.dashboard_widgets()]

    def _create_alarms(self, scope: Construct) -> list[cloudwatch.Alarm]:
        thresholds = self._defaults.thresholds
        path = scope.node.path
        alarms = [
            threshold_alarm(
                scope,
                "ServerErrorRateAlarm",
                self.metric_server_error_rate(),
                thresholds.api_5xx_rate_percent,
                f"{path}: 5XX responses above {thresholds.api_5xx_rate_percent}% of requests",
                thresholds,
            ),
            threshold_alarm(
                scope,
                "LatencyAlarm",
                self.metric_latency("p99"),
                thresholds.api_p99_latency_ms,
                f"{path}: p99 latency above {thresholds.api_p99_latency_ms} ms",
                thresholds,
            ),
            threshold_alarm(
                scope,
                "TableThrottlesAlarm",
                self._table_throttles(self._table),
                thresholds.dynamodb_throttles,
                f"{path}: items table requests throttled",
                thresholds,
            ),
            threshold_alarm(
                scope,
                "IdempotencyTableThrottlesAlarm",
                self._table_throttles(self._idempotency_table),
                thresholds.dynamodb_throttles,
                f"{path}: idempotency table requests throttled",
                thresholds,
            ),
        ]
        warning = threshold_alarm(
            scope,
            "ClientErrorRateWarning",
            self.metric_client_error_rate(),
            thresholds.api_4xx_rate_percent,
            f"WARNING {path}: 4XX responses above {thresholds.api_4xx_rate_percent}% of requests "
            "(client misuse, auth failures or throttling)",
            thresholds,
        )
        web_acl_alarms = self._web_acl.alarms if self._web_acl else ()
        self.warning_alarms = (*web_acl_alarms, warning)
        return [*alarms, *web_acl_alarms, warning]

    def _error_rate(self, errors: cloudwatch.Metric, label: str) -> cloudwatch.MathExpression:
        period = self.period
        return cloudwatch.MathExpression(
            expression=f"IF(requests >= {RATE_ALARM_MIN_REQUESTS}, 100 * errors / requests, 0)",
            using_metrics={"requests": self._api.metric_count(period=period, statistic="Sum"), "errors": errors},
            label=label,
            period=period,
        )

    def _table_throttles(self, table: dynamodb.ITable) -> cloudwatch.IMetric:
        operations = [*_TABLE_OPERATIONS, dynamodb.Operation.SCAN] if table is self._table else list(_TABLE_OPERATIONS)
        return table.metric_throttled_requests_for_operations(operations=operations, period=self.period)
