"""Reading the construct tree without a call into jsii where the Python side already knows the answer.

Every property read on a construct (``node``, ``node.path``, ``Stack.of``) is a round trip to the
jsii kernel, about 0.3 ms each; a dashboard over three environments makes thousands of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from constructs import IConstruct

ConstructT = TypeVar("ConstructT", bound=IConstruct)


def unique(items: Iterable[ConstructT]) -> list[ConstructT]:
    """``items`` without repeats, in order: one construct reached twice (through two observables) counts once.

    Two Python handles on the same construct share its jsii object reference (a handle the kernel
    returned is a new Python object each time, so identity is not enough); an object jsii has not
    seen yet has no reference and is told apart by its path.
    """
    seen: set[str] = set()
    result = []
    for item in items:
        reference = getattr(item, "__jsii_ref__", None)
        key = reference.ref if reference is not None else f"path:{item.node.path}"
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result
