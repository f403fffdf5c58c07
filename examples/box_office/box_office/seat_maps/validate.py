"""The seat maps' validation rules: ``box_office.seat_maps.validate.handler`` (``EventPipeline``, role ``validate``)."""

from __future__ import annotations

from serverless_patterns.lambdas.event_pipeline.custom import (
    DataFormat,
    InvalidUploadError,
    Upload,
    build_validate_handler,
)

from . import COLUMNS, VENUE_METADATA


def names_its_venue(upload: Upload) -> None:
    """The uploader says which venue the map is of."""
    if not upload.metadata.get(VENUE_METADATA, "").strip():
        raise InvalidUploadError(f"no venue: upload with x-amz-meta-{VENUE_METADATA} set to the venue's name")


def has_seat_columns(upload: Upload) -> None:
    """A CSV whose header is exactly ``section,row,seat``."""
    if upload.format is not DataFormat.CSV:
        raise InvalidUploadError("a seat map is a CSV file")
    header = upload.first_bytes.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").rstrip("\r")
    if tuple(name.strip().lower() for name in header.split(",")) != COLUMNS:
        raise InvalidUploadError(f"the header is {header[:80]!r}, not {','.join(COLUMNS)!r}")


handler = build_validate_handler([names_its_venue, has_seat_columns])
