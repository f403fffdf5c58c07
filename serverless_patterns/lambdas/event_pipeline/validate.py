"""S3 upload notification -> validate each upload -> queue it, or park it with its reason.

Invoked asynchronously by S3: an exception makes Lambda retry the event (bounded by the
function's retry attempts) and then hand it to the on-failure destination, so a failure of the
validator itself (or of one of your rules) is never lost either.

``handler`` runs the pipeline's checks; ``build_handler(rules)`` adds yours after them
(``custom.build_validate_handler``). Only the validation path is imported here: none of the
processor's batch or idempotency machinery.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.event_pipeline.models import S3Notification, ValidateSettings
from serverless_patterns.lambdas.event_pipeline.rules import ValidationRule, checked_rules
from serverless_patterns.lambdas.event_pipeline.validation import validate_notification
from serverless_patterns.lambdas.shared.observability import observed
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.warmup import LambdaHandler, warmup_aware


def build_handler(rules: Sequence[ValidationRule] = ()) -> LambdaHandler:
    """The validator's handler, running ``rules`` (checked now) after the pipeline's own checks."""
    checked = checked_rules(rules)

    @warmup_aware
    @observed()  # each upload is logged under its decoded key (``s3_key``), the pipeline's correlation id
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
        """Validate every upload named in the notification; return how many went each way."""
        notification = S3Notification.model_validate(event)
        return validate_notification(notification, load_settings(ValidateSettings), checked).as_dict()

    return cast(LambdaHandler, handler)


handler = build_handler()
