"""A view's list of rows, built one by one when first read, in order.

A report cut to a budget shows only its first rows: building every row first and then
cutting (the Markdown report at 1,000 keys: 21,597 finding rows, of which it shows about a
fifth) spent most of the render on rows nobody sees. Here the length is known up front (it is
the source's), a slice builds only up to its end, and a row is built once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar, overload

S = TypeVar("S")
T = TypeVar("T")


class LazyRows(Sequence[T], Generic[S, T]):
    """``tuple(build(s) for s in source)``, built up to the highest index read so far."""

    def __init__(self, source: Sequence[S], build: Callable[[S], T]) -> None:
        self._source = source
        self._build = build
        self._rows: list[T] = []

    @property
    def built(self) -> int:
        """How many rows have been built (for tests: the cut builds no more than it shows)."""
        return len(self._rows)

    def _upto(self, end: int) -> None:
        for item in self._source[len(self._rows):end]:
            self._rows.append(self._build(item))

    def __len__(self) -> int:
        return len(self._source)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                raise ValueError("LazyRows slices in order only")
            self._upto(stop)
            return tuple(self._rows[start:stop])
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        self._upto(index + 1)
        return self._rows[index]

    def __iter__(self) -> Iterator[T]:
        for i in range(len(self)):
            yield self[i]
