"""``shapes.field(strict=True)`` and a ``_check`` that names the fields at fault."""

from __future__ import annotations

from decimal import Decimal

import pytest

from serverless_patterns.lambdas.shared.shapes import Shape, ShapeError, field


class _Amounts(Shape):
    count: int = field(strict=True, ge=0)
    counts: list[int] = field(default_factory=list, strict=True)
    maybe: int | None = field(default=None, strict=True)
    ratio: float = field(default=0.0, strict=True)
    enabled: bool = field(default=False, strict=True)
    lax: int = 0


@pytest.mark.parametrize("value", [True, "2", 2.0, Decimal(2)], ids=["bool", "string", "float", "decimal"])
@pytest.mark.parametrize("name", ["count", "maybe"])
def test_a_strict_int_takes_only_an_int(name: str, value: object) -> None:
    data = {"count": 1, name: value}
    with pytest.raises(ShapeError) as refused:
        _Amounts.model_validate(data)
    assert refused.value.errors() == [{"loc": (name,), "msg": "Input should be a valid integer"}]


def test_strictness_reaches_the_items_of_a_list_and_keeps_the_other_rules() -> None:
    with pytest.raises(ShapeError) as refused:
        _Amounts.model_validate({"count": -1, "counts": [1, "2", 3.0]})
    assert [problem["loc"] for problem in refused.value.errors()] == [("count",), ("counts", 1), ("counts", 2)]


def test_strict_floats_and_bools_refuse_strings_and_other_types() -> None:
    with pytest.raises(ShapeError) as refused:
        _Amounts.model_validate({"count": 1, "ratio": "0.5", "enabled": 1})
    assert [problem["loc"] for problem in refused.value.errors()] == [("ratio",), ("enabled",)]
    accepted = _Amounts.model_validate({"count": 1, "ratio": 1, "enabled": True, "lax": "7", "maybe": None})
    assert (accepted.ratio, accepted.enabled, accepted.lax, accepted.maybe) == (1.0, True, 7, None)


class _Range(Shape, extra="forbid"):
    low: int
    high: int

    def _check(self) -> None:
        if self.high < self.low:
            raise ShapeError(type(self).__name__, [(("high",), "Value error, below low")])


class _Holder(Shape):
    ranges: list[_Range]


def test_a_check_may_name_the_field_at_fault_relative_to_its_record() -> None:
    with pytest.raises(ShapeError) as refused:
        _Holder.model_validate({"ranges": [{"low": 1, "high": 2}, {"low": 3, "high": 2}]})
    assert refused.value.errors() == [{"loc": ("ranges", 1, "high"), "msg": "Value error, below low"}]
