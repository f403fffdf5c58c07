"""EventPipeline's buckets: the access-logs bucket it creates and the lifecycle rules of the others."""

from __future__ import annotations

from aws_cdk import Duration, aws_s3 as s3
from constructs import Construct

from serverless_patterns.config import PatternDefaults, PipelineSettings
from serverless_patterns.constructs.storage import secure_bucket
from serverless_patterns.lambdas.event_pipeline.layout import STATUS_PROCESSED, STATUS_REJECTED, STATUS_TAG

MULTIPART_ABORT_DAYS = 7


def access_logs_bucket(scope: Construct, defaults: PatternDefaults, settings: PipelineSettings) -> s3.Bucket:
    """The bucket (``AccessLogs`` in ``scope``) the created buckets write their server access logs to."""
    return secure_bucket(
        scope,
        "AccessLogs",
        defaults=defaults,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="ExpireLogs",
                expiration=Duration.days(settings.access_log_retention_days),
                noncurrent_version_expiration=Duration.days(1),
            )
        ],
    )


def noncurrent_rule(settings: PipelineSettings) -> s3.LifecycleRule:
    """Old versions, incomplete multipart uploads and expired delete markers go (both buckets)."""
    return s3.LifecycleRule(
        id="NoncurrentVersions",
        noncurrent_version_expiration=Duration.days(settings.noncurrent_retention_days),
        abort_incomplete_multipart_upload_after=Duration.days(MULTIPART_ABORT_DAYS),
        expired_object_delete_marker=True,
    )


def upload_lifecycle(settings: PipelineSettings) -> list[s3.LifecycleRule]:
    """Processed and rejected uploads expire by their status tag; then the noncurrent rule."""
    return [
        s3.LifecycleRule(
            id="ExpireProcessed",
            prefix=settings.upload_prefix,
            tag_filters={STATUS_TAG: STATUS_PROCESSED},
            expiration=Duration.days(settings.processed_retention_days),
        ),
        s3.LifecycleRule(
            id="ExpireRejected",
            prefix=settings.upload_prefix,
            tag_filters={STATUS_TAG: STATUS_REJECTED},
            expiration=Duration.days(settings.rejected_retention_days),
        ),
        noncurrent_rule(settings),
    ]
