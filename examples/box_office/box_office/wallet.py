"""Prepaid wallets as the order saga's payment provider: ``box_office.wallet.charge`` / ``.refund``.

A charge takes the order's total from the customer's wallet and records the charge under its
idempotency key in one transaction, so a retried charge never takes the money twice; a refund
puts the whole charge back, once per key. A customer without a wallet, or without enough in it,
is a decline (``PaymentError``: the order ends PAYMENT_DECLINED, nothing is taken). A busy table
is ``PaymentGatewayUnavailable``: the workflow retries, then compensates.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from serverless_patterns.lambdas.order_workflow.custom import (
    ChargeRequest,
    PaymentError,
    PaymentGatewayUnavailable,
    ProviderReceipt,
    RefundRequest,
    build_charge_handler,
    build_refund_handler,
)

from .storage import WALLETS_TABLE_ENV, StorageBusy, busy_or_raise, client, error_code, read, table

CANCELLED = "TransactionCanceledException"
ONCE = "attribute_not_exists(pk)"  # an entry is written once per key


def wallet_key(customer_id: str) -> dict[str, str]:
    """The key of a customer's wallet (``balance_cents``: what is left to spend)."""
    return {"pk": f"wallet#{customer_id}"}


def _entry(kind: str, idempotency_key: str) -> str:
    return f"{kind}#{idempotency_key}"


class WalletProvider:
    """Charges and refunds against the wallets table, exactly once per idempotency key."""

    name = "box-office-wallet"

    def charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt:
        """Take ``amount_cents`` from the customer's wallet, once per key."""
        reference = _entry("charge", idempotency_key)
        amount = {"N": str(request.amount_cents)}
        record = {
            "pk": {"S": reference},
            "customer_id": {"S": request.customer_id},
            "order_id": {"S": request.order_id},
            "amount_cents": amount,
            "currency": {"S": request.currency},
        }
        debit = {
            "TableName": table(WALLETS_TABLE_ENV),
            "Key": {"pk": {"S": wallet_key(request.customer_id)["pk"]}},
            "UpdateExpression": "SET balance_cents = balance_cents - :amount",
            "ConditionExpression": "balance_cents >= :amount",
            "ExpressionAttributeValues": {":amount": amount},
        }
        written = {
            "TableName": table(WALLETS_TABLE_ENV),
            "Item": record,
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        if self._transact([{"Update": debit}, {"Put": written}]):
            return ProviderReceipt(reference=reference)
        # Cancelled: either this key was charged before (a retry), or the wallet cannot pay.
        if self._read(reference) is not None:
            return ProviderReceipt(reference=reference)
        wallet = self._read(wallet_key(request.customer_id)["pk"])
        if wallet is None:
            raise PaymentError(f"customer {request.customer_id} has no wallet")
        if int(wallet["balance_cents"]) < request.amount_cents:
            raise PaymentError(
                f"wallet of customer {request.customer_id} holds {wallet['balance_cents']} cents, "
                f"the order costs {request.amount_cents}"
            )
        raise PaymentGatewayUnavailable("the wallet changed during the charge; try again")

    def refund(self, request: RefundRequest, idempotency_key: str) -> ProviderReceipt:
        """Put the whole charge back into the wallet it came from, once per key."""
        charged = self._read(request.charge_reference)
        if charged is None:
            raise ValueError(f"no charge {request.charge_reference!r} to refund")  # a bug: retried, then logged
        if int(charged["amount_cents"]) != request.amount_cents:
            raise ValueError(f"refund of {request.amount_cents} cents for a charge of {charged['amount_cents']}")
        reference = _entry("refund", idempotency_key)
        credit = {
            "TableName": table(WALLETS_TABLE_ENV),
            "Key": {"pk": {"S": wallet_key(str(charged["customer_id"]))["pk"]}},
            "UpdateExpression": "SET balance_cents = balance_cents + :amount",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":amount": {"N": str(request.amount_cents)}},
        }
        record = {"pk": {"S": reference}, "charge_reference": {"S": request.charge_reference}}
        written = {
            "TableName": table(WALLETS_TABLE_ENV),
            "Item": record,
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        if self._transact([{"Update": credit}, {"Put": written}]) or self._read(reference) is not None:
            return ProviderReceipt(reference=reference)
        raise PaymentGatewayUnavailable("the wallet changed during the refund; try again")

    def find_charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt | None:
        """The charge taken under ``idempotency_key``, if any."""
        reference = _entry("charge", idempotency_key)
        return ProviderReceipt(reference=reference) if self._read(reference) is not None else None

    @staticmethod
    def _transact(items: list[dict[str, object]]) -> bool:
        """Run the transaction: True when it was written, False when a condition cancelled it."""
        try:
            client().transact_write_items(TransactItems=items)
        except ClientError as error:
            if error_code(error) == CANCELLED:
                return False
            raise PaymentGatewayUnavailable(f"wallets unavailable: {busy_or_raise(error)}") from error
        return True

    @staticmethod
    def _read(pk: str) -> dict[str, Any] | None:
        try:
            return read(WALLETS_TABLE_ENV, {"pk": pk})
        except StorageBusy as error:
            raise PaymentGatewayUnavailable(f"wallets unavailable: {error}") from error


provider = WalletProvider()
charge = build_charge_handler(provider)
refund = build_refund_handler(provider)
