"""Paging of the list routes whose documented answer is a bare array (README, "API: paging").

`take` and `cursor` are our own optional query parameters, so the body stays the documented
array: the cursor of the next page travels in the `X-Next-Cursor` and `Link: <…>; rel="next"`
headers, absent on the last page. A client that sends neither gets the first `DEFAULT_TAKE`
items, which is every item for today's teams. The cursor is opaque (`db/paging.py` makes it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.models.base import RequestModel

T = TypeVar("T")
U = TypeVar("U")

DEFAULT_TAKE = 100
# One BatchGetItem holds 100 keys: a page's follow-up reads stay one call per kind.
MAX_TAKE = 100

Cursor = Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=r"^[A-Za-z0-9_-]+$")]


class PageQuery(RequestModel):
    """`?take=&cursor=` of a paged list; other parameters are ignored, as before paging existed."""

    model_config = ConfigDict(extra="ignore")

    take: int = Field(
        DEFAULT_TAKE, ge=1, le=MAX_TAKE, description=f"Items per page (default {DEFAULT_TAKE}, at most {MAX_TAKE})."
    )
    cursor: Cursor | None = Field(
        None, description="Where the page starts: the previous page's `X-Next-Cursor` header, as given."
    )


@dataclass
class Page(Generic[T]):
    """One page of a list and the cursor of the next one (None on the last page)."""

    items: list[T]
    cursor: str | None = None

    def map(self, shape: Callable[[T], U]) -> Page[U]:
        return Page([shape(item) for item in self.items], self.cursor)

    def sorted(self, key: Callable[[T], Any], reverse: bool = False) -> Page[T]:
        """The page in the order its list had before paging (pages themselves follow key order)."""
        return Page(sorted(self.items, key=key, reverse=reverse), self.cursor)
