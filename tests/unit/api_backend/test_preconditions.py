"""If-Match / expectedVersion rules of optimistic locking."""

from __future__ import annotations

import pytest

from serverless_patterns.lambdas.api_backend.errors import InvalidPreconditionError, PreconditionRequiredError
from serverless_patterns.lambdas.api_backend.preconditions import (
    Precondition,
    entity_tag,
    expected_version,
    parse_if_match,
)


@pytest.mark.parametrize(("header", "version"), [('"3"', 3), ('"12"', 12), ('"999999999999999"', 999_999_999_999_999)])
def test_parse_if_match(header: str, version: int) -> None:
    assert parse_if_match(header) == version


@pytest.mark.parametrize("header", ['W/"3"', '"0"', "*", '"3', "abc", '"3", "4"', "", "3", '"03"', ' "3" '])
def test_parse_if_match_rejects(header: str) -> None:
    with pytest.raises(InvalidPreconditionError):
        parse_if_match(header)


def test_entity_tag_round_trips() -> None:
    assert parse_if_match(entity_tag(7)) == 7


def test_expected_version_from_either_source_and_they_must_agree() -> None:
    assert expected_version('"2"', None) == Precondition(2, from_header=True)
    assert expected_version(None, 5) == Precondition(5, from_header=False)
    assert expected_version('"5"', 5) == Precondition(5, from_header=True)
    with pytest.raises(InvalidPreconditionError):
        expected_version('"2"', 5)
    with pytest.raises(PreconditionRequiredError):
        expected_version(None, None)
