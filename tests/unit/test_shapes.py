"""``shared.shapes``: the checks pydantic made, without pydantic; never another exception, never an echoed value."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Literal

import pytest
from hypothesis import given, settings, strategies as st

from serverless_patterns.lambdas.shared.shapes import Shape, ShapeError, field


class Colour(StrEnum):
    RED = "RED"
    BLUE = "BLUE"


class Source(Shape, extra="forbid"):
    key: str = field(min_length=1, max_length=8)
    version_id: str | None = None


class Job(Shape, extra="forbid"):
    job_id: str = field(pattern=r"^[a-z][a-z0-9-]{0,15}$")
    count: int = field(ge=0, le=100, default=0)
    ratio: float = field(gt=0, default=1.0)
    items: list[dict[str, Any]] = field(min_length=1)
    source: Source | None = None
    colour: Colour = Colour.RED
    tags: frozenset[str] = frozenset()
    kind: Literal["a", "b"] = "a"
    done: bool = False
    limit: ClassVar[int] = 3

    def _check(self) -> None:
        if self.count == 13:
            raise ValueError("13 is refused")


class Settings(Shape):
    table: str = field(key="TABLE_NAME")
    size: int = field(key="SIZE", ge=1)
    verbose: bool = field(key="VERBOSE", default=False)


class Event(Shape, camel=True):
    object_key: str
    uploaded_at: datetime | None = None
    sizes: tuple[int, ...] = ()

    @classmethod
    def _prepare(cls, data: Any) -> Any:
        return {"objectKey": data} if isinstance(data, str) else data


def _problems(shape: type[Shape], data: object) -> dict[str, str]:
    with pytest.raises(ShapeError) as raised:
        shape.model_validate(data)
    return {".".join(map(str, error["loc"])): error["msg"] for error in raised.value.errors()}


def test_a_valid_record_is_built_with_its_defaults_and_converted_numbers() -> None:
    job = Job.model_validate({"job_id": "j-1", "items": [{"a": 1}], "count": Decimal(7), "tags": ["x", "x"]})

    assert job == Job(job_id="j-1", items=[{"a": 1}], count=7, tags=frozenset({"x"}))
    assert (job.colour, job.kind, job.source, job.done, Job.limit) == (Colour.RED, "a", None, False, 3)
    assert hash(Source(key="k")) == hash(Source(key="k"))
    assert repr(Source(key="k")) == "Source(key='k', version_id=None)"


def test_every_problem_is_listed_by_location_with_pydantics_words() -> None:
    problems = _problems(
        Job,
        {
            "job_id": "Bad",
            "count": True,
            "ratio": 0,
            "items": [],
            "source": {"key": "", "extra": 1},
            "colour": "GREEN",
            "kind": "c",
            "done": "maybe",
            "unknown": 1,
        },
    )

    assert problems == {
        "job_id": "String should match pattern '^[a-z][a-z0-9-]{0,15}$'",
        "count": "Input should be a valid integer",
        "ratio": "Input should be greater than 0",
        "items": "List should have at least 1 item",
        "source.key": "String should have at least 1 character",
        "source.extra": "Extra inputs are not permitted",
        "colour": "Input should be 'RED' or 'BLUE'",
        "kind": "Input should be 'a' or 'b'",
        "done": "Input should be a valid boolean",
        "unknown": "Extra inputs are not permitted",
    }
    assert _problems(Job, {"items": [1]}) == {"job_id": "Field required", "items.0": "Input should be an object"}
    assert _problems(Job, {"job_id": "j", "items": [{}], "count": 101}) == {
        "count": "Input should be less than or equal to 100"
    }


def test_patterns_match_the_whole_string() -> None:
    assert _problems(Job, {"job_id": "ok\n", "items": [{}]}) == {
        "job_id": "String should match pattern '^[a-z][a-z0-9-]{0,15}$'"
    }


class Counted(Shape):
    indexes: list[int]

    @classmethod
    def _prepare(cls, data: Any) -> Any:
        return {"indexes": sorted(int(index) for index in data["indexes"])}


def test_a_prepare_hook_that_fails_on_the_input_reports_it() -> None:
    assert Counted.model_validate({"indexes": {"3", "1"}}).indexes == [1, 3]
    assert _problems(Counted, {"indexes": ["secret"]}) == {"": "Input could not be read (ValueError)"}
    assert _problems(Counted, {"indexes": [None]}) == {"": "Input could not be read (TypeError)"}


def test_the_record_check_runs_once_the_fields_are_valid() -> None:
    assert _problems(Job, {"job_id": "j", "items": [{}], "count": 13}) == {"": "Value error, 13 is refused"}


def test_settings_read_environment_names_and_convert_strings() -> None:
    settings = Settings.model_validate({"TABLE_NAME": "t", "SIZE": " 5 ", "VERBOSE": "TRUE", "PATH": "/bin"})

    assert (settings.table, settings.size, settings.verbose) == ("t", 5, True)
    assert Settings.model_validate({"table": "t", "size": 1}).size == 1  # the Python names are accepted too
    assert _problems(Settings, {"SIZE": "0"}) == {
        "TABLE_NAME": "Field required",
        "SIZE": "Input should be greater than or equal to 1",
    }
    assert _problems(Settings, {"TABLE_NAME": "t", "SIZE": "1.5"}) == {"SIZE": "Input should be a valid integer"}


def test_camel_shapes_read_either_name_and_write_camel_case() -> None:
    event = Event.model_validate({"objectKey": "k", "uploaded_at": "2026-01-02T03:04:05+00:00", "sizes": [1, 2]})

    assert event.uploaded_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert event.sizes == (1, 2)
    assert event.model_dump(mode="json") == {"objectKey": "k", "uploadedAt": "2026-01-02T03:04:05Z", "sizes": [1, 2]}
    assert event.model_dump(by_alias=False)["object_key"] == "k"
    assert Event.model_validate("plain").object_key == "plain"  # _prepare reshaped it


def test_records_are_frozen_and_copies_replace_fields() -> None:
    source = Source(key="k")
    with pytest.raises(AttributeError, match="frozen"):
        source.key = "other"  # type: ignore[misc]
    assert source.model_copy(update={"version_id": "v"}) == Source(key="k", version_id="v")
    with pytest.raises(TypeError, match="missing keyword argument 'key'"):
        Source()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword arguments: nope"):
        Source(key="k", nope=1)  # type: ignore[call-arg]


def test_json_in_and_out() -> None:
    job = Job.model_validate_json('{"job_id":"j","items":[{"n":1}],"colour":"BLUE","tags":["b","a"]}')

    assert json.loads(job.model_dump_json())["tags"] == ["a", "b"]
    written = Job(job_id="j", items=[{"name": "café", "score": float("nan"), "total": Decimal("1.50")}])
    assert '"items":[{"name":"café","score":null,"total":"1.50"}]' in written.model_dump_json()
    assert Job.model_validate_json(job.model_dump_json()) == job
    assert _problems_json("{") == {"": "Invalid JSON: Expecting property name enclosed in double quotes"}
    assert _problems_json(b"\xff") == {"": "Invalid JSON: not UTF-8"}
    assert _problems_json('{"count": ' + "9" * 5000 + "}") == {"": "Invalid JSON: a number with too many digits"}
    assert _problems(Settings, {"TABLE_NAME": "t", "SIZE": "9" * 5000}) == {"SIZE": "Input should be a valid integer"}


def _problems_json(text: str | bytes) -> dict[str, str]:
    with pytest.raises(ShapeError) as raised:
        Job.model_validate_json(text)
    return {".".join(map(str, error["loc"])): error["msg"] for error in raised.value.errors()}


def test_an_unsupported_field_type_is_refused_when_first_validated() -> None:
    class Odd(Shape):
        value: complex

    with pytest.raises(TypeError, match="not supported"):
        Odd.model_validate({"value": 1})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
MARKER = "zq-secret-zq"


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from([*Job.model_field_names(), "other"]), JSON, max_size=8) | JSON)
def test_any_json_is_a_record_or_a_shape_error_that_never_echoes_it(data: Any) -> None:
    if isinstance(data, dict):
        data = {key: MARKER if isinstance(value, str) else value for key, value in data.items()}
    problem: ShapeError | None = None
    try:
        job = Job.model_validate(data)
    except ShapeError as invalid:
        problem = invalid
    if problem is None:
        assert Job.model_validate_json(job.model_dump_json()) == job
    else:
        assert MARKER not in str(problem)
        assert problem.errors()
