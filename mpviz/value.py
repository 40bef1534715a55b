"""A value that is its fields, as ``@dataclass(frozen=True)`` makes one, without importing dataclasses.

The command line's own classes (a text in two languages, a lesson's
parameter, the program to run) are made before a watched program starts:
dataclasses' import costs that start ~7 ms, and each class it makes ~0.3 ms.
A subclass names its fields in order in ``__match_args__`` (its ``__slots__``
too) and sets them in its ``__init__``, once: it is compared, hashed and
shown by them, and ``match`` takes them in that order.
Nothing stops a later assignment, as ``frozen=True`` did; none is made.
"""

from __future__ import annotations


class Value:
    __match_args__: tuple[str, ...] = ()
    __slots__ = ()

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Value)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
        return f"{self.__class__.__qualname__}({fields})"
