"""A request guard for Powertools REST resolvers: JSON only, bounded size and shape, refused before parsing.

Powertools' validation middleware runs first in a resolver's middleware stack and parses the body
by its content type (JSON, form, multipart), so limits must be applied before ``app.resolve``
and inside the JSON parser. ``RequestGuard`` does both, for any resolver:

* ``guard.resolve(app, event, context, refuse=...)`` in the Lambda handler, instead of
  ``app.resolve``: a body with another content type is refused with 415 and an oversize body
  with 413, before anything parses it; ``refuse`` builds the error response in the API's shape;
* ``json_body_deserializer=guard.parse_json`` on the resolver: nesting depth is checked before
  parsing (Python's parser recurses), number length while parsing (Python refuses to convert
  integers longer than 4,300 digits), string, array and object sizes right after; each refusal
  is a 400 naming the limit.

Every refusal is a ``RequestRefusedError`` carrying its HTTP status and a message that names
the limit and never repeats the input.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
    from aws_lambda_powertools.utilities.typing import LambdaContext

JSON_MEDIA_TYPE = "application/json"
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class RequestRefusedError(Exception):
    """A request the guard refuses; ``status`` is its HTTP status, the message names the limit."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RequestLimits:
    """What a request may carry. Every limit applies to every request that has a body.

    :param max_body_bytes: the body's size in bytes (after base64 decoding); larger is 413.
    :param max_depth: nesting of JSON arrays and objects; ``{"a": {"b": 1}}`` is 2 deep.
    :param max_number_length: characters of one JSON number.
    :param max_string_length: characters of one JSON string (member names included).
    :param max_array_items: elements of one JSON array.
    :param max_object_members: members of one JSON object.
    """

    max_body_bytes: int = 32 * 1024
    max_depth: int = 16
    max_number_length: int = 32
    max_string_length: int = 4_096
    max_array_items: int = 256
    max_object_members: int = 256

    def describe(self) -> str:
        """The limits as a Markdown list, for the API's documentation."""
        return (
            f"- every request body must be `{JSON_MEDIA_TYPE}` (optionally `; charset=utf-8`), else **415**;\n"
            f"- at most {self.max_body_bytes} bytes, else **413**;\n"
            f"- JSON nested at most {self.max_depth} levels, numbers of at most {self.max_number_length} "
            f"characters, strings of at most {self.max_string_length} characters, arrays of at most "
            f"{self.max_array_items} elements and objects of at most {self.max_object_members} members, "
            "else **400** naming the limit."
        )


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` (lower case, as Powertools parses it), with no parameter but ``charset=utf-8``."""
    if content_type is None:
        return False
    media_type, *parameters = (part.strip() for part in content_type.split(";"))
    return media_type == JSON_MEDIA_TYPE and all(
        parameter.lower().replace(" ", "") in ("charset=utf-8", "") for parameter in parameters
    )


class RequestGuard:
    """Applies ``RequestLimits`` to requests of a Powertools REST resolver."""

    def __init__(self, limits: RequestLimits | None = None) -> None:
        self.limits = limits or RequestLimits()

    def check(self, event: Mapping[str, Any]) -> None:
        """Refuse a proxy event's body before anything parses it: content type, size, encoding."""
        body = event.get("body")
        if not body:
            return
        if not is_json_media_type(_header(event.get("headers"), "content-type")):
            raise RequestRefusedError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"send the body as {JSON_MEDIA_TYPE}")
        raw = str(body).encode("utf-8", errors="surrogatepass")
        if event.get("isBase64Encoded"):
            try:
                raw = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise RequestRefusedError(HTTPStatus.BAD_REQUEST, "the body is not valid base64") from None
        if len(raw) > self.limits.max_body_bytes:
            raise RequestRefusedError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body larger than {self.limits.max_body_bytes} bytes"
            )
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestRefusedError(HTTPStatus.BAD_REQUEST, "the body is not UTF-8 text") from None

    def parse_json(self, text: str) -> Any:
        """The body as JSON within the limits (the resolver's ``json_body_deserializer``).

        Malformed JSON raises ``json.JSONDecodeError`` (Powertools turns it into its ``json_invalid``
        validation error); a body beyond a limit raises ``RequestRefusedError``.
        """
        limits = self.limits
        if len(text.encode("utf-8", errors="surrogatepass")) > limits.max_body_bytes:
            raise RequestRefusedError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body larger than {limits.max_body_bytes} bytes"
            )
        depth = deepest = 0
        for bracket in _BRACKET.finditer(_STRING.sub('""', text)):
            depth += 1 if bracket.group() in "[{" else -1
            if depth > deepest:
                deepest = depth
                if deepest > limits.max_depth:
                    raise self._over_limit(f"JSON nested deeper than {limits.max_depth} levels")
        value = json.loads(
            text,
            parse_int=self._number(int),
            parse_float=self._number(float),
            parse_constant=self._no_constant,
        )
        self._check_sizes(value)
        return value

    def resolve(
        self,
        app: APIGatewayRestResolver,
        event: dict[str, Any],
        context: LambdaContext,
        *,
        refuse: Callable[[RequestRefusedError, str], Response[Any]],
        cors: CORSConfig | None = None,
    ) -> dict[str, Any]:
        """``app.resolve``, after ``check``: a refused request is answered by ``refuse(error, request_id)``."""
        try:
            self.check(event)
        except RequestRefusedError as refusal:
            from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder
            from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

            request_id = str((event.get("requestContext") or {}).get("requestId") or "")
            builder = ResponseBuilder[APIGatewayProxyEvent](refuse(refusal, request_id))
            return builder.build(APIGatewayProxyEvent(event), cors)
        return app.resolve(event, context)

    # --- internals --------------------------------------------------------------------------

    @staticmethod
    def _over_limit(message: str) -> RequestRefusedError:
        return RequestRefusedError(HTTPStatus.BAD_REQUEST, message)

    def _number(self, convert: Callable[[str], Any]) -> Callable[[str], Any]:
        limit = self.limits.max_number_length

        def parse(literal: str) -> Any:
            if len(literal) > limit:
                raise self._over_limit(f"a JSON number longer than {limit} characters")
            return convert(literal)

        return parse

    @staticmethod
    def _no_constant(name: str) -> Any:
        raise json.JSONDecodeError(f"{name} is not JSON", name, 0)

    def _check_string(self, text: str) -> None:
        if len(text) > self.limits.max_string_length:
            raise self._over_limit(f"a JSON string longer than {self.limits.max_string_length} characters")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise self._over_limit("a JSON string holds an unpaired surrogate (not Unicode text)") from None

    def _check_sizes(self, value: Any) -> None:
        """Walk the parsed value (its depth is already bounded) checking every container and string."""
        limits = self.limits
        pending = [value]
        while pending:
            current = pending.pop()
            if isinstance(current, str):
                self._check_string(current)
            elif isinstance(current, list):
                if len(current) > limits.max_array_items:
                    raise self._over_limit(f"a JSON array with more than {limits.max_array_items} elements")
                pending.extend(current)
            elif isinstance(current, dict):
                if len(current) > limits.max_object_members:
                    raise self._over_limit(f"a JSON object with more than {limits.max_object_members} members")
                for name, member in current.items():
                    self._check_string(name)
                    pending.append(member)
