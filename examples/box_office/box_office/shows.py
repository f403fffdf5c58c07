"""The shows API: ``box_office.shows.handler`` (``ApiBackend``, role ``api``).

A show is created once per ``Idempotency-Key``, listed in signed pages, read with its ``ETag``
and taken off sale under optimistic locking (``If-Match``). The construct's table holds the
shows; everything around the routes (auth, CORS, throttling, error shapes, logs, metrics)
is the pattern's.
"""

from __future__ import annotations

from http import HTTPStatus
from uuid import uuid4

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import Field

from serverless_patterns.lambdas.api_backend.custom import (
    CREATED_HEADERS,
    DEFAULT_PAGE_SIZE,
    ETAG_HEADER,
    ApiApp,
    ApiError,
    ApiModel,
    IdempotencyKey,
    IdempotentCreate,
    IfMatch,
    InputModel,
    ItemNotFoundError,
    PageCursor,
    PageSize,
    VersionedRepository,
    caller_principal,
    created_location,
    documented,
    expected_version,
    metrics,
    versioned_response,
)

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated
SHOWS = VersionedRepository(kind="show")
ISO_DATE = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"


class ShowInput(InputModel):
    """A new show (camelCase on the wire, unknown fields refused)."""

    title: str = Field(min_length=1, max_length=200)
    venue: str = Field(min_length=1, max_length=100)
    date: str = Field(pattern=ISO_DATE, description="The day of the show, YYYY-MM-DD.")
    price_cents: int = Field(ge=0, le=1_000_000)
    capacity: int = Field(ge=1, le=100_000)


class Show(ApiModel):
    """A show as stored and served."""

    id: str
    title: str
    venue: str
    date: str
    price_cents: int
    capacity: int
    on_sale: bool
    version: int


class ShowPage(ApiModel):
    """One page of shows and the cursor of the next."""

    shows: list[Show]
    next_cursor: str | None = None


class SalesClosedError(ApiError):
    """The show is already off sale: a 409 with this message."""

    status = HTTPStatus.CONFLICT


def store_show(data: ShowInput) -> Show:
    """Store a new show, on sale."""
    show = Show(id=str(uuid4()), **data.model_dump(), on_sale=True, version=1)
    SHOWS.create(show.model_dump(by_alias=True))
    metrics.add_metric(name="ShowsCreated", unit=MetricUnit.Count, value=1)
    return show


create_once = IdempotentCreate(store_show, item_model=Show, key_prefix="shows-create")


def read_show(show_id: str) -> Show:
    """The show, or a 404."""
    row = SHOWS.get(show_id)
    if row is None:
        raise ItemNotFoundError(show_id, kind="show")
    return Show.model_validate(row)


@router.post(
    "/shows",
    status_code=201,
    responses=documented(HTTPStatus.CREATED, Show, HTTPStatus.CONFLICT, headers=CREATED_HEADERS),
)
def create_show(show: ShowInput, idempotency_key: IdempotencyKey = None) -> Response[Show]:
    """Put a show on sale; a retry with the same ``Idempotency-Key`` gets the same show."""
    event = router.current_event
    created = create_once(
        show, key=idempotency_key, principal=caller_principal(event), lambda_context=router.lambda_context
    )
    return versioned_response(
        created.item,
        status=HTTPStatus.CREATED,
        replayed=created.replayed,
        location=created_location(event, created.item.id),
    )


@router.get("/shows", responses=documented(HTTPStatus.OK, ShowPage))
def list_shows(limit: PageSize = DEFAULT_PAGE_SIZE, cursor: PageCursor = None) -> ShowPage:
    """Shows in table order, a page at a time."""
    rows, next_cursor = SHOWS.scan_page(limit, cursor)
    return ShowPage(shows=[Show.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.get("/shows/<show_id>", responses=documented(HTTPStatus.OK, Show, HTTPStatus.NOT_FOUND, headers=ETAG_HEADER))
def get_show(show_id: str) -> Response[Show]:
    """One show, with its ``ETag``."""
    return versioned_response(read_show(show_id))


@router.post(
    "/shows/<show_id>/close",
    responses=documented(
        HTTPStatus.OK,
        Show,
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
        HTTPStatus.PRECONDITION_FAILED,
        HTTPStatus.PRECONDITION_REQUIRED,
        headers=ETAG_HEADER,
        descriptions={HTTPStatus.CONFLICT: "Conflict: the show is already off sale, or changed meanwhile."},
    ),
)
def close_sales(show_id: str, if_match: IfMatch = None) -> Response[Show]:
    """Take a show off sale, only at the version the caller saw (``If-Match``, else 428)."""
    precondition = expected_version(if_match, None)
    if not read_show(show_id).on_sale:
        raise SalesClosedError(f"sales of show {show_id!r} are already closed")
    row = SHOWS.replace(show_id, {"onSale": False}, precondition=precondition)
    return versioned_response(Show.model_validate(row))


api = ApiApp(router, title="Box office API", version="1.0.0", description="Shows, on sale and off.")
handler = api.handler
