"""A page of a listing, as every read use case of this service returns it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """``items`` of ``total`` matching ones, from ``offset``, at most ``limit`` of them."""

    items: list[T]
    total: int
    limit: int
    offset: int
