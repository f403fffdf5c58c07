"""WorkflowSettings guards what the state machine and handlers can honour."""

from __future__ import annotations

import pytest

from serverless_patterns.config import WorkflowSettings


def test_defaults_are_a_standard_workflow_without_execution_data() -> None:
    settings = WorkflowSettings()
    assert (settings.express, settings.log_execution_data, settings.execution_timeout_minutes) == (False, False, 5)
    assert settings.payment_gateway == "ledger"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"express": True, "execution_timeout_minutes": 6}, "1..5"),
        ({"execution_timeout_minutes": 0}, "execution_timeout_minutes"),
        ({"max_charge_cents": 0}, "max_charge_cents"),
        ({"charge_idempotency_hours": 0}, "charge_idempotency_hours"),
        ({"failed_executions_threshold": 0}, "failed_executions_threshold"),
    ],
)
def test_impossible_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkflowSettings(**kwargs)  # type: ignore[arg-type]
