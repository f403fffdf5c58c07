"""A payment provider on 127.0.0.1 speaking the ``http_gateway`` contract, idempotent per Idempotency-Key."""

from __future__ import annotations

from typing import Any

from tests.handlers.local_service import Call, LocalService

API = "/v1"
TOKEN = "Bearer sk_test_local_provider"


class PaymentProvider:
    """Takes each charge and refund once per Idempotency-Key; answers a repeat with the first result.

    ``decline_code`` declines every charge (402); ``status`` answers every request with it (e.g.
    401, as a provider does for a wrong key, or 409 while a request is in progress).
    """

    def __init__(self) -> None:
        self.charges: dict[str, str] = {}
        self.refunds: dict[str, str] = {}
        self.decline_code: str | None = None
        self.status: int | None = None
        self.service = LocalService(self.route)

    @property
    def url(self) -> str:
        return self.service.url + API

    def route(self, call: Call) -> tuple[int, Any]:
        if call.headers.get("Authorization") != TOKEN:
            return 401, {"error": "invalid api key"}
        if self.status is not None:
            return self.status, {"error": "as configured"}
        if (call.method, call.path) == ("POST", f"{API}/charges"):
            if self.decline_code:
                return 402, {"decline_code": self.decline_code}
            key = call.headers["Idempotency-Key"]
            charge_id = self.charges.setdefault(key, f"ch_{len(self.charges) + 1:04d}")
            return 200, {"charge_id": charge_id, "amount_cents": call.body["amount_cents"]}
        if (call.method, call.path) == ("POST", f"{API}/refunds"):
            key = call.headers["Idempotency-Key"]
            if call.body["charge_id"] not in self.charges.values():
                return 400, {"error": "no such charge"}
            return 200, {"refund_id": self.refunds.setdefault(key, f"re_{len(self.refunds) + 1:04d}")}
        if (call.method, call.path) == ("GET", f"{API}/charges"):
            found = self.charges.get(call.query.get("idempotency_key", ""))
            return (200, {"charge_id": found}) if found else (404, {"error": "no such charge"})
        return 404, {"error": "no such route"}

    def charge_calls(self) -> list[Call]:
        """The charge requests that reached the provider (whatever it answered)."""
        return [call for call in self.service.calls if (call.method, call.path) == ("POST", f"{API}/charges")]
