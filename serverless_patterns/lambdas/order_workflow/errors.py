"""Domain errors. A class name is the Step Functions error name (the runtime's ``errorType``).

The state machine's Retry and Catch match these names, so renaming a class is a
change of the workflow's contract. Raise the classes themselves, not subclasses:
the error name is the concrete class's name.
"""

from __future__ import annotations


class OrderWorkflowError(Exception):
    """Base of every error the workflow routes on."""


class ValidationError(OrderWorkflowError):
    """The order is malformed or names unknown SKUs. Not retried: ends in ValidationFailed."""


class PaymentError(OrderWorkflowError):
    """The payment was declined (a business outcome). Not retried: ends in PaymentFailed."""


class TransientError(OrderWorkflowError):
    """A dependency is briefly unavailable (throttling, a transaction conflict). Retried with backoff."""


class PaymentGatewayUnavailable(TransientError):  # noqa: N818 (the Step Functions error name)
    """The payment gateway cannot be reached, times out, or its circuit breaker is open.

    Retried with backoff; when retries run out the order is compensated (refunded if charged).
    """


class OutOfStock(OrderWorkflowError):  # noqa: N818 (the Step Functions error name)
    """At least one line cannot be reserved. The payment is refunded and the order fails."""


class OrderStateError(OrderWorkflowError):
    """The order is not in a state that allows this step (e.g. it was already closed)."""
