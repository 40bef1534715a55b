"""A value got through a manager's proxy and changed at once (mpviz.sync.copies): told from the
caller's next instruction, on real frames; never for a value kept, written back or only read."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from mpviz.sync.copies import changed_at_once


class Getter:
    """Stands where a proxy does: hands out copies, and says what the caller does with each at once."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def __getitem__(self, key: Any) -> Any:
        value: Any = {"set": set(), "dict": {"n": 0}}.get(key, [0])
        self.said.append(changed_at_once(sys._getframe(1), "__getitem__", value))
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def get(self, key: Any) -> Any:
        value: list[int] = []
        self.said.append(changed_at_once(sys._getframe(1), "get", value))
        return value


def wrong(d: Any, x: list[Any]) -> None:
    d["k"].append(1)
    d["set"].add(1)
    d["dict"]["n"] = 1
    del d["k"][0]
    d.get("k").extend([1])
    print(d["k"].pop(), file=sys.stderr)  # (the item is taken from a copy: it stays in the container)


def right(d: Any, x: list[Any]) -> None:
    v = d["k"]
    v.append(1)
    d["k"] = v
    d["k"] += [1]  # read, added to, written back
    x[d["k"].count(1)] = d["k"]
    d["dict"]["n"] += 1  # (lost too, but not told: mpviz says only what it is sure of)
    n = len(d["k"]) + d["k"].count(1)
    f = d["k"].append  # (never called here)
    assert n >= 0 and f is not None
    d.get("k").copy()


@pytest.mark.parametrize(
    ("lines", "said"),
    [
        (wrong, ["append", "add", "__setitem__", "__delitem__", "extend", "pop"]),
        (right, [""] * 9),
    ],
)
def test_a_copy_changed_at_once_is_told_and_only_then(lines: Any, said: list[str]) -> None:
    d = Getter()
    lines(d, [None] * 3)
    assert d.said == said


def test_what_is_no_copy_of_a_container_is_never_told() -> None:
    class Proxy:
        def __getitem__(self, key: Any) -> Any:
            return changed_at_once(sys._getframe(1), "__getitem__", key)

        def pop(self, key: Any) -> Any:
            return changed_at_once(sys._getframe(1), "pop", [])

    p = Proxy()
    assert p["an int is no container"] == ""
    assert p.pop(0) == "", "what pop() returns is no longer in the container: the caller's to change"
