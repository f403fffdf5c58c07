"""Chunk records, completion shards and chunk failures in the jobs table (``contract`` has the layout).

A job with ``completion_shards`` S counts chunk ``i`` in shard ``i % S``: the chunk's record and
the shard's counter share the shard's own partition (``<job id>#<shard>``), so a job's completions
spread over S partitions instead of one item. A shard that has counted all its chunks is *closed*
once, by a transaction that adds its count to the job item: the job item takes S writes per job,
not one per chunk. Jobs without shards (S = 0) keep the 0.2 layout: records under the job's own
``pk`` and a transaction per chunk on the job item. Every decision is a conditional write, so
concurrent and repeated deliveries agree (``logic``'s docstring has the protocol).
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from serverless_patterns.lambdas.fan_out import contract
from serverless_patterns.lambdas.fan_out.errors import ChunkRejectedError
from serverless_patterns.lambdas.fan_out.models import JobRecord, JobStatus, JsonObject, NewJob, ShardState
from serverless_patterns.lambdas.fan_out.table import CONDITION_FAILED, JobsTable, job_key, job_record

BATCH_GET_KEYS = 100


def chunk_key(job_id: str, chunk_index: int, shards: int = 0) -> dict[str, str]:
    """Key of a completed chunk's record: in its shard's partition, or under the job (no shards)."""
    shard = contract.completion_shard(chunk_index, shards) if shards else None
    partition = job_id if shard is None else contract.shard_partition_key(job_id, shard)
    return {contract.PARTITION_KEY: partition, contract.SORT_KEY: contract.chunk_sort_key(chunk_index)}


def shard_key(job_id: str, shard: int) -> dict[str, str]:
    """Key of a completion shard's counter."""
    partition = contract.shard_partition_key(job_id, shard)
    return {contract.PARTITION_KEY: partition, contract.SORT_KEY: contract.SHARD_SORT_KEY}


def shard_puts(table_name: str, job: NewJob) -> list[dict[str, Any]]:
    """The transaction items that create a new job's completion shards (none without shards)."""
    return [
        {
            "Put": {
                "TableName": table_name,
                "Item": {
                    **shard_key(job.job_id, shard),
                    "shards": job.completion_shards,
                    "total_chunks": job.total_chunks,
                    "expected": contract.shard_chunks(job.total_chunks, job.completion_shards, shard),
                    "completed": 0,
                    contract.TTL_ATTRIBUTE: job.expires_at,
                },
            }
        }
        for shard in range(job.completion_shards)
    ]


class ChunkStore(JobsTable):
    """Recording chunks once, counting them in shards (or on the job item), and chunk failures."""

    def chunk_recorded(self, job_id: str, chunk_index: int, shards: int = 0) -> bool:
        """Whether the chunk's result is already recorded (a repeated delivery need not redo the work)."""
        return self._get(chunk_key(job_id, chunk_index, shards), ProjectionExpression=contract.SORT_KEY) is not None

    def record_chunk(
        self,
        job_id: str,
        chunk_index: int,
        *,
        result: JsonObject,
        item_count: int,
        now_iso: str,
        expires_at: int,
        shards: int = 0,
    ) -> bool:
        """Store the chunk's result and count it (in its shard, or on the job item), atomically.

        False if it was already recorded. Raises ``ChunkRejectedError`` when the job does not exist,
        has no such chunk, or is not counted the way ``shards`` says.
        """
        record = {
            "Put": {
                "TableName": self.table_name,
                "Item": {
                    **chunk_key(job_id, chunk_index, shards),
                    "result": result,
                    "item_count": item_count,
                    "recorded_at": now_iso,
                    contract.TTL_ATTRIBUTE: expires_at,
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        codes = self._transact([record, self._count(job_id, chunk_index, shards, now_iso)])
        if not codes:
            return True
        if codes[0] == CONDITION_FAILED:
            return False
        raise ChunkRejectedError(
            f"job {job_id!r} does not exist or has no chunk {chunk_index} counted in {shards} shards"
        )

    def _count(self, job_id: str, chunk_index: int, shards: int, now_iso: str) -> dict[str, Any]:
        """The transaction item that counts one chunk: on its shard, or (no shards) on the job item."""
        if shards:
            return {
                "Update": {
                    "TableName": self.table_name,
                    "Key": shard_key(job_id, contract.completion_shard(chunk_index, shards)),
                    "UpdateExpression": "ADD completed :one SET updated_at = :now",
                    "ConditionExpression": "shards = :shards AND total_chunks > :index AND completed < expected",
                    "ExpressionAttributeValues": {":one": 1, ":now": now_iso, ":index": chunk_index, ":shards": shards},
                }
            }
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": job_key(job_id),
                # A redriven chunk that completes is no longer a failed one.
                "UpdateExpression": "ADD completed_chunks :one SET updated_at = :now DELETE failed_chunks :indexes",
                "ConditionExpression": "total_chunks > :index AND completed_chunks < total_chunks "
                "AND (attribute_not_exists(completion_shards) OR completion_shards = :zero)",
                "ExpressionAttributeValues": {
                    ":one": 1,
                    ":now": now_iso,
                    ":index": chunk_index,
                    ":indexes": {chunk_index},
                    ":zero": 0,
                },
            }
        }

    # --- shards -------------------------------------------------------------------------------

    def shard_state(self, job_id: str, shard: int) -> ShardState | None:
        """The shard as it is now (strongly consistent), or None if the job has no such shard."""
        item = self._get(shard_key(job_id, shard))
        if item is None:
            return None
        return ShardState(
            expected=int(item["expected"]),
            completed=int(item["completed"]),
            closed=bool(item.get("closed")),
            failed_chunks=frozenset(int(index) for index in item.get("failed_chunks", ())),
        )

    def close_shard(self, job_id: str, shard: int, *, chunks: int, now_iso: str) -> bool:
        """Add a complete shard's ``chunks`` to the job's count, once: True for the one caller that did."""
        codes = self._transact(
            [
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": shard_key(job_id, shard),
                        "UpdateExpression": "SET closed = :true, updated_at = :now",
                        "ConditionExpression": "completed = expected AND attribute_not_exists(closed)",
                        "ExpressionAttributeValues": {":true": True, ":now": now_iso},
                    }
                },
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": job_key(job_id),
                        "UpdateExpression": "ADD completed_chunks :chunks SET updated_at = :now",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":chunks": chunks, ":now": now_iso},
                    }
                },
            ]
        )
        if not codes:
            return True
        if codes[0] == CONDITION_FAILED:
            return False
        raise ChunkRejectedError(f"job {job_id!r} does not exist")

    def open_shard_progress(self, job_id: str, shards: int) -> int:
        """Chunks recorded in the shards not yet closed (what the job item's count does not show yet)."""
        keys: list[dict[str, str]] = [shard_key(job_id, shard) for shard in range(shards)]
        completed = 0
        while keys:
            batch, keys = keys[:BATCH_GET_KEYS], keys[BATCH_GET_KEYS:]
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": batch,
                    "ConsistentRead": True,
                    "ProjectionExpression": "#completed, #closed",
                    "ExpressionAttributeNames": {"#completed": "completed", "#closed": "closed"},
                }
            }
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    if not item.get("closed"):
                        completed += int(str(item.get("completed", 0)))
                request = dict(response.get("UnprocessedKeys") or {})
        return completed

    def chunk_results(self, job_id: str, shards: int = 0) -> list[tuple[int, JsonObject]]:
        """Every recorded chunk's ``(index, result)``, read consistently, in chunk order."""
        partitions = [contract.shard_partition_key(job_id, shard) for shard in range(shards)] if shards else [job_id]
        results: list[tuple[int, JsonObject]] = []
        for partition in partitions:
            query: dict[str, Any] = {
                "KeyConditionExpression": Key(contract.PARTITION_KEY).eq(partition)
                & Key(contract.SORT_KEY).begins_with(contract.CHUNK_PREFIX),
                "ConsistentRead": True,
                "ProjectionExpression": "sk, #result",
                "ExpressionAttributeNames": {"#result": "result"},
            }
            while True:
                page = self._table.query(**query)
                for item in page.get("Items", []):
                    index = int(str(item[contract.SORT_KEY]).removeprefix(contract.CHUNK_PREFIX))
                    results.append((index, dict(item["result"])))
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(results, key=lambda pair: pair[0])

    # --- failures -----------------------------------------------------------------------------

    def record_chunk_failure(
        self,
        job_id: str,
        chunk_index: int,
        *,
        reason: str,
        attempts: int,
        now_iso: str,
        expires_at: int,
        shards: int = 0,
    ) -> bool:
        """Record that the chunk exhausted its retries and fail the job with the first such reason.

        Atomic with a check that the chunk was not completed meanwhile by another delivery; False
        when it was, or when the job is gone or already past running. With shards, the shard notes
        the failed chunk too, so the delivery that completes it after a redrive clears it from the job.
        """
        items: list[dict[str, Any]] = [
            {
                "ConditionCheck": {
                    "TableName": self.table_name,
                    "Key": chunk_key(job_id, chunk_index, shards),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {
                        contract.PARTITION_KEY: job_id,
                        contract.SORT_KEY: contract.failure_sort_key(chunk_index),
                        "reason": reason,
                        "attempts": attempts,
                        "recorded_at": now_iso,
                        contract.TTL_ATTRIBUTE: expires_at,
                    },
                }
            },
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": job_key(job_id),
                    "UpdateExpression": (
                        "SET #status = :failed, failure_reason = if_not_exists(failure_reason, :reason), "
                        "finished_at = if_not_exists(finished_at, :now), updated_at = :now "
                        f"ADD failed_chunks :index REMOVE {contract.OPEN_JOBS_KEY}"
                    ),
                    "ConditionExpression": "#status IN (:running, :failed)",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":failed": JobStatus.FAILED.value,
                        ":running": JobStatus.RUNNING.value,
                        ":reason": reason,
                        ":now": now_iso,
                        ":index": {chunk_index},
                    },
                }
            },
        ]
        if shards:
            items.append(
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": shard_key(job_id, contract.completion_shard(chunk_index, shards)),
                        "UpdateExpression": "ADD failed_chunks :index",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":index": {chunk_index}},
                    }
                }
            )
        return not self._transact(items)

    def clear_chunk_failure(self, job_id: str, chunk_index: int, *, shards: int, now_iso: str) -> JobRecord | None:
        """A failed chunk of a sharded job was completed (after a redrive): it is no longer a failed one.

        The job first, then its shard, so a delivery that dies in between leaves the shard still
        naming the chunk and its redelivery clears it again (idempotent). The job as it is now.
        """
        updated, job = self._update_job(
            Key=job_key(job_id),
            UpdateExpression="DELETE failed_chunks :indexes SET updated_at = :now",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":indexes": {chunk_index}, ":now": now_iso},
            ReturnValues="ALL_NEW",
        )
        self._update_job(
            Key=shard_key(job_id, contract.completion_shard(chunk_index, shards)),
            UpdateExpression="DELETE failed_chunks :indexes",
            ExpressionAttributeValues={":indexes": {chunk_index}},
        )
        return job_record(job) if updated and job else None

    def chunk_failure_reason(self, job_id: str, chunk_index: int) -> str | None:
        """The reason recorded when the chunk exhausted its retries, if it did."""
        item = self._get({contract.PARTITION_KEY: job_id, contract.SORT_KEY: contract.failure_sort_key(chunk_index)})
        return str(item["reason"]) if item else None

    def set_failure_reason(self, job_id: str, *, reason: str, chunk_index: int, now_iso: str) -> bool:
        """Name ``chunk_index``'s failure as the job's reason, if the job is FAILED and that chunk still is."""
        updated, _ = self._update_job(
            Key=job_key(job_id),
            UpdateExpression="SET failure_reason = :reason, updated_at = :now",
            ConditionExpression="#status = :failed AND contains(failed_chunks, :index)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":failed": JobStatus.FAILED.value,
                ":reason": reason,
                ":index": chunk_index,
                ":now": now_iso,
            },
        )
        return updated
