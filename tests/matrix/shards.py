"""Split the combinations between CI runners: shard i of n takes every n-th one.

Round robin over the catalog's stable order: every combination lands in exactly one shard, shard
sizes differ by at most one, and since the order goes from small combinations to large ones,
each shard gets a similar mix of cheap and expensive ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    index: int
    """1-based, as people and CI matrices count."""
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/4"`` is the second of four shards; anything else is refused with the reason."""
        index, slash, count = text.strip().partition("/")
        if not (slash and index.isdigit() and count.isdigit()):
            raise ValueError(f"a matrix shard is written i/n (e.g. 2/4), not {text!r}")
        shard = cls(int(index), int(count))
        if not 1 <= shard.index <= shard.count:
            raise ValueError(f"matrix shard {text!r}: i must be between 1 and n")
        return shard

    def select(self, items: Sequence[T]) -> list[T]:
        mine = self.index - 1
        return [item for position, item in enumerate(items) if position % self.count == mine]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
