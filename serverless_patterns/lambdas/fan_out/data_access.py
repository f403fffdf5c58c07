"""The fan-out's AWS side: the jobs table (and, in ``services``, the work queue, the input bucket, the aggregator).

This module, with ``chunk_store`` (chunks, completion shards, failures), ``table`` (the plumbing)
it builds on and ``services``, is the only one that talks to AWS. Every write that decides something is
conditional, so concurrent and repeated deliveries agree: a chunk is counted once by one
transaction (conditional put of its record + ADD to its shard's counter), a complete shard adds to
the job's count once, the job leaves RUNNING for AGGREGATING by one conditional update, and the job
is SUCCEEDED or FAILED by conditional updates that name the state they leave. Clients are created
once per container, on first use (``job_store()`` and friends are cached per name).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from serverless_patterns.lambdas.fan_out import contract
from serverless_patterns.lambdas.fan_out.chunk_store import ChunkStore, shard_puts
from serverless_patterns.lambdas.fan_out.models import JobRecord, JobStatus, JsonObject, NewJob
from serverless_patterns.lambdas.fan_out.services import aggregator_invoker, chunk_queue, items_reader
from serverless_patterns.lambdas.fan_out.table import CONDITION_FAILED, error_code, job_key, job_record

if TYPE_CHECKING:
    pass


_DESERIALIZER = TypeDeserializer()


@dataclass(frozen=True)
class AggregationStart:
    """The outcome of trying to move a job to AGGREGATING: ``started``, or the job as it was."""

    started: bool
    job: JobRecord | None


class JobStore(ChunkStore):
    """Jobs, their dispatch and aggregation, and (``ChunkStore``) their chunks, shards and failures."""

    # --- the job item -------------------------------------------------------------------------

    def create_job(self, job: NewJob) -> bool:
        """Record a new RUNNING job (and its completion shards, in the same transaction); False if a job
        with this id already exists."""
        item: dict[str, Any] = {
            **job_key(job.job_id),
            "status": JobStatus.RUNNING.value,
            "total_items": job.total_items,
            "total_chunks": job.total_chunks,
            "chunk_size": job.chunk_size,
            "completion_shards": job.completion_shards,
            "completed_chunks": 0,
            "dispatched_chunks": 0,
            "dispatch_lease_until": job.dispatch_lease_until,
            "request_digest": job.request_digest,
            "created_at": job.created_at,
            "updated_at": job.created_at,
            contract.DEADLINE_ATTRIBUTE: job.deadline_at,
            contract.OPEN_JOBS_KEY: contract.OPEN_JOBS_VALUE,
            contract.TTL_ATTRIBUTE: job.expires_at,
        }
        condition = "attribute_not_exists(pk)"
        if job.completion_shards:
            put = {"TableName": self.table_name, "Item": item, "ConditionExpression": condition}
            return not self._transact([{"Put": put}, *shard_puts(self.table_name, job)])
        try:
            self._table.put_item(Item=item, ConditionExpression=condition)
        except ClientError as error:
            if error_code(error) == f"{CONDITION_FAILED}Exception":
                return False
            raise
        return True

    def get_job(self, job_id: str) -> JobRecord | None:
        """The job as it is now (strongly consistent), or None.

        While a sharded job runs (or is FAILED), ``completed_chunks`` also counts the chunks of the
        shards not closed yet (read after the job item, so it may lag a closing shard, never lead).
        """
        item = self._get(job_key(job_id))
        if item is None:
            return None
        job = job_record(item)
        open_job = job.status in (JobStatus.RUNNING, JobStatus.FAILED)
        if job.completion_shards and open_job and job.completed_chunks < job.total_chunks:
            pending = self.open_shard_progress(job_id, job.completion_shards)
            job = job.model_copy(update={"completed_chunks": job.completed_chunks + pending})
        return job

    def fail_job(
        self, job_id: str, *, reason: str, now_iso: str, from_status: JobStatus, deadline_before: int | None = None
    ) -> bool:
        """Mark the job FAILED with ``reason`` if it is still in ``from_status`` (and, if given, overdue)."""
        condition = "#status = :from"
        values: dict[str, Any] = {
            ":from": from_status.value,
            ":failed": JobStatus.FAILED.value,
            ":reason": reason,
            ":now": now_iso,
        }
        if deadline_before is not None:
            condition += f" AND {contract.DEADLINE_ATTRIBUTE} < :deadline"
            values[":deadline"] = deadline_before
        updated, _ = self._update_job(
            Key=job_key(job_id),
            UpdateExpression=(
                "SET #status = :failed, failure_reason = :reason, finished_at = :now, updated_at = :now "
                f"REMOVE {contract.OPEN_JOBS_KEY}"
            ),
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )
        return updated

    # --- dispatch -----------------------------------------------------------------------------

    def advance_dispatch(self, job_id: str, dispatched: int, *, now_iso: str, done: bool) -> None:
        """Move the dispatch watermark up to ``dispatched`` (never down); ``done`` releases the lease."""
        self._update_job(
            Key=job_key(job_id),
            UpdateExpression="SET dispatched_chunks = :n, updated_at = :now"
            + (" REMOVE dispatch_lease_until" if done else ""),
            ConditionExpression="dispatched_chunks < :n",
            ExpressionAttributeValues={":n": dispatched, ":now": now_iso},
        )

    def claim_dispatch(self, job_id: str, *, dispatched: int, now: int, lease_until: int) -> bool:
        """Take over an unfinished dispatch whose dispatcher is gone; True for exactly one claimant.

        Only a RUNNING job still at watermark ``dispatched`` and with no live lease can be claimed.
        """
        claimed, _ = self._update_job(
            Key=job_key(job_id),
            UpdateExpression="SET dispatch_lease_until = :until",
            ConditionExpression=(
                "#status = :running AND dispatched_chunks = :dispatched AND dispatched_chunks < total_chunks "
                "AND (attribute_not_exists(dispatch_lease_until) OR dispatch_lease_until < :now)"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":running": JobStatus.RUNNING.value,
                ":dispatched": dispatched,
                ":now": now,
                ":until": lease_until,
            },
        )
        return claimed

    def release_dispatch(self, job_id: str) -> None:
        """Give up the dispatch lease (after a failure), so a resubmission can resume at once."""
        self._update_job(Key=job_key(job_id), UpdateExpression="REMOVE dispatch_lease_until")

    # --- aggregation --------------------------------------------------------------------------

    def try_start_aggregation(
        self, job_id: str, chunk_index: int, *, now: int, deadline_at: int, now_iso: str
    ) -> AggregationStart:
        """Move the job to AGGREGATING if every chunk is complete; exactly one caller ever succeeds.

        Allowed from RUNNING, and from FAILED when the job never reached aggregation (its failed
        chunks were redriven and completed). The winning chunk and the time are recorded so that
        a redelivery of that chunk can finish the hand-over if the winner crashed.
        """
        started, old = self._update_job(
            Key=job_key(job_id),
            UpdateExpression=(
                "SET #status = :aggregating, aggregation_trigger = :index, aggregation_claimed_at = :now, "
                f"{contract.DEADLINE_ATTRIBUTE} = :deadline, {contract.OPEN_JOBS_KEY} = :open, "
                "updated_at = :now_iso "
                "REMOVE failure_reason, failed_chunks, finished_at"
            ),
            ConditionExpression=(
                "completed_chunks = total_chunks AND "
                "(#status = :running OR (#status = :failed AND attribute_not_exists(aggregation_trigger)))"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":aggregating": JobStatus.AGGREGATING.value,
                ":running": JobStatus.RUNNING.value,
                ":failed": JobStatus.FAILED.value,
                ":index": chunk_index,
                ":now": now,
                ":deadline": deadline_at,
                ":open": contract.OPEN_JOBS_VALUE,
                ":now_iso": now_iso,
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        if started:
            return AggregationStart(started=True, job=None)
        item = {name: _DESERIALIZER.deserialize(value) for name, value in old.items()}
        return AggregationStart(started=False, job=job_record(item) if item else None)

    def reclaim_aggregation(self, job_id: str, chunk_index: int, *, now: int, claimed_before: int) -> bool:
        """Take over the hand-over to the aggregator from a winner that did not confirm it in time."""
        updated, _ = self._update_job(
            Key=job_key(job_id),
            UpdateExpression="SET aggregation_claimed_at = :now",
            ConditionExpression=(
                "#status = :aggregating AND aggregation_trigger = :index "
                "AND attribute_not_exists(aggregation_dispatched) AND aggregation_claimed_at < :before"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":aggregating": JobStatus.AGGREGATING.value,
                ":index": chunk_index,
                ":now": now,
                ":before": claimed_before,
            },
        )
        return updated

    def confirm_aggregation_dispatched(self, job_id: str) -> None:
        """Note that the aggregator was invoked, so no redelivery invokes it again."""
        self._update_job(
            Key=job_key(job_id),
            UpdateExpression="SET aggregation_dispatched = :true",
            ExpressionAttributeValues={":true": True},
        )

    def complete_job(self, job_id: str, *, result: JsonObject, now_iso: str) -> bool:
        """AGGREGATING -> SUCCEEDED with ``result``; False if the job is not aggregating any more."""
        updated, _ = self._update_job(
            Key=job_key(job_id),
            UpdateExpression=(
                "SET #status = :succeeded, #result = :result, finished_at = :now, updated_at = :now "
                f"REMOVE {contract.OPEN_JOBS_KEY}"
            ),
            ConditionExpression="#status = :aggregating",
            ExpressionAttributeNames={"#status": "status", "#result": "result"},
            ExpressionAttributeValues={
                ":succeeded": JobStatus.SUCCEEDED.value,
                ":aggregating": JobStatus.AGGREGATING.value,
                ":result": result,
                ":now": now_iso,
            },
        )
        return updated

    # --- the sweeper --------------------------------------------------------------------------

    def overdue_job_ids(self, index_name: str, *, now: int) -> list[str]:
        """Ids of open jobs whose deadline has passed (the sparse index holds open jobs only)."""
        job_ids: list[str] = []
        query: dict[str, Any] = {
            "IndexName": index_name,
            "KeyConditionExpression": Key(contract.OPEN_JOBS_KEY).eq(contract.OPEN_JOBS_VALUE)
            & Key(contract.DEADLINE_ATTRIBUTE).lt(now),
        }
        while True:
            page = self._table.query(**query)
            job_ids.extend(str(item[contract.PARTITION_KEY]) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return job_ids
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@functools.cache
def job_store(table_name: str) -> JobStore:
    """The container's JobStore for ``table_name``."""
    return JobStore(table_name)


def reset_clients() -> None:
    """Forget the cached clients (tests switch between mocked accounts)."""
    for factory in (job_store, chunk_queue, items_reader, aggregator_invoker):
        factory.cache_clear()
