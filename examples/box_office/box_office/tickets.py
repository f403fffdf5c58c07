"""The confirmation step: tickets issued once per paid, reserved order (``box_office.tickets.handler``).

The workflow runs it while the order is RESERVED and records the order CONFIRMED afterwards; a
retry after a crash finds the tickets already issued and issues none again.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from serverless_patterns.lambdas.order_workflow.custom import Order, TransientError, build_confirmation_handler

from .storage import TICKETS_TABLE_ENV, busy_or_raise, client, error_code, table


def issue_tickets(order: Order) -> None:
    """One ticket per seat ordered, under the order's id (written once, whatever the retries)."""
    seats = sum(line.quantity for line in order.lines)
    shows = sorted({line.sku for line in order.lines})
    item = {
        "order_id": {"S": order.order_id},
        "customer_id": {"S": order.customer_id},
        "seats": {"N": str(seats)},
        "shows": {"SS": shows},
    }
    try:
        client().put_item(
            TableName=table(TICKETS_TABLE_ENV), Item=item, ConditionExpression="attribute_not_exists(order_id)"
        )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return  # issued by an earlier run of this step
        raise TransientError(f"tickets table unavailable: {busy_or_raise(error)}") from error


handler = build_confirmation_handler(issue_tickets)
