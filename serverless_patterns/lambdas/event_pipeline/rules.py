"""Your validation rules: plain functions of an ``Upload`` that raise ``InvalidUploadError`` to park it.

They run after the pipeline's own checks (a file name, size limits, type, the format check of
the first bytes), only on uploads that passed them, in the order given; the first rule that
raises decides. A rule that fails in any other way is a bug, not a verdict on the upload: the
validator fails the event (``ValidationRuleError``), Lambda retries it, and then hands it to the
validator's on-failure queue, from which ``python -m serverless_patterns.ops replay-failures``
re-sends it once the rule is fixed. The upload is never parked, queued or lost because a rule crashed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from serverless_patterns.lambdas.event_pipeline.errors import InvalidContentError
from serverless_patterns.lambdas.event_pipeline.formats import DataFormat
from serverless_patterns.lambdas.event_pipeline.models import Rejection, RejectionCode


@dataclass(frozen=True)
class Upload:
    """What a validation rule sees of one upload version (nothing is read beyond the first bytes).

    :param bucket: the upload bucket.
    :param key: the object key, decoded (``incoming/2024/orders.csv``).
    :param version_id: the version validated (None in an unversioned bucket).
    :param size: the object's size in bytes (at least 1: empty uploads were parked already).
    :param content_type: the ``Content-Type`` the uploader set, if any.
    :param extension: the key's extension, lower case with its dot (``".csv"``), or ``""``.
    :param format: the format the pipeline detected and checked (``csv`` or ``jsonl``).
    :param first_bytes: the first ``PipelineSettings.format_sample_bytes`` bytes (all of a smaller
        file); the last line may be cut unless ``is_whole_file``.
    :param metadata: the uploader's user metadata (``x-amz-meta-*``, names in lower case, without
        the prefix).
    """

    bucket: str
    key: str
    version_id: str | None
    size: int
    content_type: str | None
    extension: str
    format: DataFormat
    first_bytes: bytes
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_whole_file(self) -> bool:
        """``first_bytes`` holds the whole upload."""
        return len(self.first_bytes) >= self.size


ValidationRule = Callable[[Upload], None]


class ValidationRuleError(Exception):
    """A validation rule failed with an error other than ``InvalidUploadError``: a bug in the rule.

    The event is retried, then kept in the validator's on-failure queue; the upload stays as it is.
    """


def checked_rules(rules: object) -> tuple[ValidationRule, ...]:
    """``rules`` as a tuple, or a TypeError saying what is wrong (checked when the handler is built)."""
    if callable(rules) or isinstance(rules, str | bytes) or not isinstance(rules, Sequence):
        raise TypeError(
            f"rules must be a list of functions taking an Upload, got {type(rules).__name__}"
            + (" (wrap the one rule in a list)" if callable(rules) else "")
        )
    for rule in rules:
        if isinstance(rule, type) or not callable(rule):
            raise TypeError(f"each rule must be a function taking an Upload, got {type(rule).__name__} {rule!r}")
    return tuple(rules)


def rule_name(rule: ValidationRule) -> str:
    """How records and logs name a rule: its qualified name, else its class's."""
    return str(getattr(rule, "__qualname__", None) or type(rule).__name__)


def apply_rules(rules: Sequence[ValidationRule], upload: Upload) -> Rejection | None:
    """The first rule's rejection of ``upload``, or None when every rule returns normally."""
    for rule in rules:
        try:
            rule(upload)
        except InvalidContentError as invalid:
            return Rejection(code=RejectionCode.RULE, detail=f"{rule_name(rule)}: {invalid}")
        except Exception as error:
            raise ValidationRuleError(
                f"validation rule {rule_name(rule)} failed on {upload.key} with {type(error).__name__}: {error}"
            ) from error
    return None
