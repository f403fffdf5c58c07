"""What goes over the wire: camelCase JSON, strict inputs, and the one error body.

Base your own request and response models on these, so they read and write like the rest of
the API: JSON field names are camelCase (``createdAt``), Python names snake_case. Inputs forbid
unknown fields, so a misspelt field is a 422, not silently dropped, and are strict: ``"2"``,
``2.0`` or ``true`` is not an integer, ``3`` is not a string, and ``NaN`` or an infinity is
not a number.

Their validators are built on first use (``defer_build``), not at import: a cold start pays only
for the models its first request reads or writes (about 3 ms a model). A model pydantic cannot
build therefore fails on the first request that uses it, not at import; generating the OpenAPI
document (``openapi``) builds every model a route names, so run it in CI.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """camelCase on the wire, immutable in code."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, defer_build=True)


class InputModel(ApiModel):
    """A request body: unknown fields are errors, and nothing is coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ErrorBody(ApiModel):
    """Every error response: a message, the request id to quote to support, and field details if any."""

    message: str
    request_id: str
    detail: list[dict[str, Any]] | None = None
