"""The prefetch plan cache: bounded, and evicting the least recently used plan, not all."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from newsgraph.gql import prefetch


class _Path:
    def __init__(self, *keys: str) -> None:
        self.keys = list(keys)

    def as_list(self) -> list[str]:
        return self.keys


def _info(operation: object) -> Any:
    """What `_cached` reads of Strawberry's `Info`: the operation, the path, the selection."""
    return SimpleNamespace(operation=operation, path=_Path("articles"), selected_fields=[])


def test_a_hot_plan_survives_a_flood_of_one_off_operations() -> None:
    prefetch._PLANS.clear()
    builds: list[object] = []

    def build(_fields: list[Any]) -> object:
        plan = object()
        builds.append(plan)
        return plan

    hot_operation = object()
    hot_plan = prefetch._cached(_info(hot_operation), build)
    one_offs = [object() for _ in range(3 * prefetch.PLAN_CACHE_SIZE)]
    for n, operation in enumerate(one_offs):
        prefetch._cached(_info(operation), build)
        if n % 100 == 0:
            assert prefetch._cached(_info(hot_operation), build) is hot_plan
        assert len(prefetch._PLANS) <= prefetch.PLAN_CACHE_SIZE
    assert prefetch._cached(_info(hot_operation), build) is hot_plan
    assert len(builds) == 1 + len(one_offs)  # the hot plan was built once
    oldest = one_offs[0]
    assert prefetch._cached(_info(oldest), build) is builds[-1]  # evicted: built again
    prefetch._PLANS.clear()
