"""Dashboard widgets the patterns share."""

from __future__ import annotations

from aws_cdk import Duration, aws_cloudwatch as cloudwatch, aws_dynamodb as dynamodb


def table_widget(table: dynamodb.ITable, *, title: str, period: Duration, width: int = 24) -> cloudwatch.GraphWidget:
    """Consumed capacity, system errors and p99 read/write latency of one table."""
    return cloudwatch.GraphWidget(
        title=title,
        left=[
            table.metric_consumed_read_capacity_units(period=period),
            table.metric_consumed_write_capacity_units(period=period),
        ],
        right=[
            table.metric_successful_request_latency(
                dimensions_map={"TableName": table.table_name, "Operation": operation},
                statistic="p99",
                period=period,
            )
            for operation in ("GetItem", "UpdateItem")
        ],
        width=width,
    )
