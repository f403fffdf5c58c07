"""The order saga's state machine definition: states, Retry and Catch.

::

    ValidateOrder --ValidationError--> ValidationFailed (Fail)
      |
    ChargePayment --PaymentError--> PaymentFailed (Fail)
      |          \\--any other error, after retries--> RefundPayment
    UpdateInventory --OutOfStock / any error--> RefundPayment
      |                                            |--fulfilled--> SendConfirmation
      |                                            |--otherwise--> OrderFailed (Fail: error + reason)
      |                                            \\--refund failed--> CompensationFailed (Fail)
    SendConfirmation --any error, after retries--> QueueConfirmation --> ConfirmationQueued (Succeed)
      |
    OrderConfirmed (Succeed)

State names and error names are the workflow's contract (tests, the local cloud's
scenarios and operators' runbooks use them); the constants below are the only place
they are spelled. Every task retries Lambda's own transient errors first.

When a circuit breaker guards the payment gateway (the ``http`` adapter), ChargePayment and
RefundPayment retry ``PaymentGatewayUnavailable`` on their own schedule, long enough to outlast
the breaker's cooldown (``gateway_unavailable_retry``); otherwise they keep the seed's retry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aws_cdk import (
    Duration,
    aws_lambda as lambda_,
    aws_sqs as sqs,
    aws_stepfunctions as sfn,
    aws_stepfunctions_tasks as tasks,
)
from constructs import Construct

from serverless_patterns.lambdas.order_workflow.errors import (
    OrderStateError,
    OutOfStock,
    PaymentError,
    PaymentGatewayUnavailable,
    TransientError,
    ValidationError,
)

VALIDATE_ORDER = "ValidateOrder"
CHARGE_PAYMENT = "ChargePayment"
UPDATE_INVENTORY = "UpdateInventory"
SEND_CONFIRMATION = "SendConfirmation"
REFUND_PAYMENT = "RefundPayment"
CHECK_FULFILMENT = "CheckFulfilment"
QUEUE_CONFIRMATION = "QueueConfirmation"
ORDER_CONFIRMED = "OrderConfirmed"
CONFIRMATION_QUEUED = "ConfirmationQueued"
VALIDATION_FAILED = "ValidationFailed"
PAYMENT_FAILED = "PaymentFailed"
ORDER_FAILED = "OrderFailed"
COMPENSATION_FAILED = "CompensationFailed"

ALL_ERRORS = sfn.Errors.ALL
TASK_FAILED = sfn.Errors.TASKS_FAILED
# Lambda's own transient failures (AWS's recommended set, plus throttling of the invoke).
LAMBDA_SERVICE_ERRORS = (
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)


@dataclass(frozen=True)
class RetryPolicy:
    """One Retrier: which errors, how often, how far apart."""

    errors: tuple[str, ...]
    max_attempts: int
    interval_seconds: int = 2
    backoff_rate: float = 2.0
    max_delay_seconds: int | None = None
    jitter: bool = False

    def waits(self) -> list[float]:
        """The wait before each retry, in seconds (without jitter: the longest each may be)."""
        waits = [self.interval_seconds * self.backoff_rate**attempt for attempt in range(self.max_attempts)]
        return [min(wait, self.max_delay_seconds) if self.max_delay_seconds else wait for wait in waits]

    def apply(self, state: sfn.TaskStateBase) -> None:
        state.add_retry(
            errors=list(self.errors),
            max_attempts=self.max_attempts,
            interval=Duration.seconds(self.interval_seconds) if self.max_attempts else None,
            backoff_rate=self.backoff_rate if self.max_attempts else None,
            max_delay=Duration.seconds(self.max_delay_seconds) if self.max_delay_seconds else None,
            jitter_strategy=sfn.JitterType.FULL if self.jitter else None,
        )


LAMBDA_SERVICE_RETRY = RetryPolicy(LAMBDA_SERVICE_ERRORS, max_attempts=6)
# A decline is a business outcome and a closed order stays closed: never retried.
CHARGE_NO_RETRY = RetryPolicy((PaymentError.__name__, OrderStateError.__name__), max_attempts=0)
# The seed's retry (2 s, 3 attempts, backoff 2), safe because the charge is idempotent.
CHARGE_TRANSIENT_RETRY = RetryPolicy(
    (PaymentGatewayUnavailable.__name__, TransientError.__name__, TASK_FAILED), max_attempts=3
)
# The same, once PaymentGatewayUnavailable has a retrier of its own (gateway_unavailable_retry).
CHARGE_OTHER_TRANSIENT_RETRY = RetryPolicy((TransientError.__name__, TASK_FAILED), max_attempts=3)
VALIDATE_TRANSIENT_RETRY = RetryPolicy((TransientError.__name__,), max_attempts=3)
# Transaction conflicts on a hot SKU: short, jittered, so racing orders spread out.
INVENTORY_TRANSIENT_RETRY = RetryPolicy(
    (TransientError.__name__,), max_attempts=5, interval_seconds=1, max_delay_seconds=10, jitter=True
)
CONFIRMATION_RETRY = RetryPolicy((ALL_ERRORS,), max_attempts=5, max_delay_seconds=30)
REFUND_RETRY = RetryPolicy((ALL_ERRORS,), max_attempts=5, max_delay_seconds=30)
QUEUE_RETRY = RetryPolicy((ALL_ERRORS,), max_attempts=3, interval_seconds=1)


def gateway_unavailable_retry(cooldown_seconds: float) -> RetryPolicy:
    """How long a task keeps retrying a payment gateway whose circuit breaker may be open.

    The seed's 2, 4, 8 s (14 s in all) ends before a breaker's cooldown (30 s by default) does:
    every order that met an outage would fail while the breaker still refused calls, even when
    the gateway was back seconds later. Here the waits double from 2 s, each capped at one
    cooldown, until they add up to two cooldowns. The trial call comes at most one cooldown
    after the breaker opened, and every container sees the breaker closed within its
    ``cache_seconds`` (at most one cooldown) of that trial, so an order retried on this schedule
    gets through the first successful trial; the cap means no order waits much longer than one
    cooldown after recovery. Attempts while the breaker is open make no gateway call and fail
    in milliseconds, so the extra attempts cost little. No jitter: the span must be certain, and
    orders are spread already by when they started.
    """
    if cooldown_seconds <= 0:
        raise ValueError("cooldown_seconds must be > 0")
    cap = max(2, math.ceil(cooldown_seconds))
    waits: list[float] = []
    while sum(waits) < 2 * cooldown_seconds:
        waits.append(min(2 * 2 ** len(waits), cap))
    return RetryPolicy(
        (PaymentGatewayUnavailable.__name__,),
        max_attempts=len(waits),
        interval_seconds=2,
        backoff_rate=2.0,
        max_delay_seconds=cap,
    )


@dataclass(frozen=True)
class WorkflowFunctions:
    """What each task invokes: the functions' ``live`` aliases."""

    validate_order: lambda_.IFunction
    charge_payment: lambda_.IFunction
    update_inventory: lambda_.IFunction
    send_confirmation: lambda_.IFunction
    refund_payment: lambda_.IFunction


def _invoke(
    scope: Construct,
    state_name: str,
    function: lambda_.IFunction,
    *,
    comment: str,
    result_path: str,
    input_path: str | None = None,
    payload: sfn.TaskInput | None = None,
) -> tasks.LambdaInvoke:
    # payload_response_only: the task's Resource is the alias itself, so a handler's exception
    # reaches Retry/Catch as its class name (e.g. "PaymentError") and the result is the payload.
    task = tasks.LambdaInvoke(
        scope,
        state_name,
        lambda_function=function,
        payload_response_only=True,
        retry_on_service_exceptions=False,
        comment=comment,
        input_path=input_path,
        payload=payload,
        result_path=result_path,
    )
    LAMBDA_SERVICE_RETRY.apply(task)
    return task


def build_definition(
    scope: Construct,
    *,
    functions: WorkflowFunctions,
    confirmation_queue: sqs.IQueue,
    gateway_retry: RetryPolicy | None = None,
) -> sfn.IChainable:
    """The saga, ready for ``DefinitionBody.from_chainable``.

    State layout: ValidateOrder replaces the input with ``{"order": ...}``; later tasks add
    ``payment``, ``reservation``, ``confirmation``; a Catch adds ``failure`` (Error, Cause);
    RefundPayment adds ``compensation``, whose ``error`` and ``reason`` OrderFailed reports.
    ``gateway_retry`` (``gateway_unavailable_retry``) gives PaymentGatewayUnavailable its own
    retrier on ChargePayment and RefundPayment, ahead of the broader ones.
    """
    # The Catch replaces the state ("$"): the execution input may be any JSON (an array, a string,
    # null), and a ResultPath into it would end the execution in States.Runtime instead.
    validation_failed = sfn.Fail(scope, VALIDATION_FAILED, error=ValidationError.__name__, cause_path="$.Cause")
    payment_failed = sfn.Fail(scope, PAYMENT_FAILED, error=PaymentError.__name__, cause_path="$.failure.Cause")
    order_failed = sfn.Fail(scope, ORDER_FAILED, error_path="$.compensation.error", cause_path="$.compensation.reason")
    compensation_failed = sfn.Fail(
        scope,
        COMPENSATION_FAILED,
        comment="The order could not be closed or refunded: needs an operator (the execution can be redriven).",
        error=COMPENSATION_FAILED,
        cause_path="$.compensation_failure.Cause",
    )

    validate = _invoke(
        scope,
        VALIDATE_ORDER,
        functions.validate_order,
        comment="Parse the order, check its SKUs, record it as VALIDATED.",
        result_path="$",
    )
    VALIDATE_TRANSIENT_RETRY.apply(validate)
    validate.add_catch(validation_failed, errors=[ValidationError.__name__], result_path="$")

    charge = _invoke(
        scope,
        CHARGE_PAYMENT,
        functions.charge_payment,
        comment="Charge once per order (idempotent), record it in the payments ledger.",
        input_path="$.order",
        result_path="$.payment",
    )
    CHARGE_NO_RETRY.apply(charge)
    if gateway_retry is None:
        CHARGE_TRANSIENT_RETRY.apply(charge)
    else:
        # Ahead of States.TaskFailed, which would match PaymentGatewayUnavailable too.
        gateway_retry.apply(charge)
        CHARGE_OTHER_TRANSIENT_RETRY.apply(charge)

    reserve = _invoke(
        scope,
        UPDATE_INVENTORY,
        functions.update_inventory,
        comment="Take every line from stock in one transaction; stock never goes below zero.",
        input_path="$.order",
        result_path="$.reservation",
    )
    INVENTORY_TRANSIENT_RETRY.apply(reserve)

    confirm = _invoke(
        scope,
        SEND_CONFIRMATION,
        functions.send_confirmation,
        comment="Mark the order CONFIRMED and emit OrderConfirmed.",
        input_path="$.order",
        result_path="$.confirmation",
    )
    CONFIRMATION_RETRY.apply(confirm)

    refund = _invoke(
        scope,
        REFUND_PAYMENT,
        functions.refund_payment,
        comment="Compensation: close the order as FAILED with its reason and refund its charge.",
        payload=sfn.TaskInput.from_object(
            {"order": sfn.JsonPath.object_at("$.order"), "failure": sfn.JsonPath.object_at("$.failure")}
        ),
        result_path="$.compensation",
    )
    if gateway_retry is not None:
        gateway_retry.apply(refund)
    REFUND_RETRY.apply(refund)
    refund.add_catch(compensation_failed, errors=[ALL_ERRORS], result_path="$.compensation_failure")

    queue_confirmation = tasks.SqsSendMessage(
        scope,
        QUEUE_CONFIRMATION,
        comment="The order is paid and reserved: hand its confirmation to the queue, never drop it.",
        queue=confirmation_queue,
        message_body=sfn.TaskInput.from_json_path_at("$.order"),
        result_path=sfn.JsonPath.DISCARD,
    )
    QUEUE_RETRY.apply(queue_confirmation)
    queue_confirmation.next(sfn.Succeed(scope, CONFIRMATION_QUEUED))

    charge.add_catch(payment_failed, errors=[PaymentError.__name__], result_path="$.failure")
    charge.add_catch(refund, errors=[ALL_ERRORS], result_path="$.failure")
    reserve.add_catch(refund, errors=[OutOfStock.__name__], result_path="$.failure")
    reserve.add_catch(refund, errors=[ALL_ERRORS], result_path="$.failure")
    confirm.add_catch(queue_confirmation, errors=[ALL_ERRORS], result_path="$.confirmation_failure")

    refund.next(
        sfn.Choice(scope, CHECK_FULFILMENT, comment="Reserved after all (e.g. by a duplicate execution)?")
        .when(sfn.Condition.boolean_equals("$.compensation.fulfilled", True), confirm)
        .otherwise(order_failed)
    )
    return validate.next(charge).next(reserve).next(confirm).next(sfn.Succeed(scope, ORDER_CONFIRMED))
