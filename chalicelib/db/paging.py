"""One page of a Query, and the opaque cursor that resumes it (README, "API: paging").

A page reads `take + 1` items: the extra one only tells that another page follows, so the last
page has no cursor and a client never fetches a trailing empty page. The cursor is the key of
the page's last item as base64url JSON, without the partition (the route supplies that), and it
is checked against the list's key prefix before DynamoDB sees it: a cursor from another list or
another team, or a tampered one, is a 400 on `cursor`, never a read elsewhere nor a 500.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from pynamodb.exceptions import QueryError

from chalicelib.db.table import BaseItem
from chalicelib.errors import BadRequestError
from chalicelib.models.paging import Page

_MAX_KEY_CHARS = 1024  # DynamoDB's sort key limit (bytes); ours are far shorter


def query_page(
    model: Any,
    partition: str,
    sk_prefix: str,
    take: int,
    cursor: str | None,
    *,
    index: Any = None,
    newest_first: bool = False,
) -> Page[Any]:
    """Items of `partition` whose sort key (of the table, or of `index`) begins with `sk_prefix`,
    in key order (descending with `newest_first`), `take` at most, starting after `cursor`."""
    names = _key_names(index)
    condition = getattr(BaseItem, names[1]).startswith(sk_prefix)
    results = (index or model).query(
        partition,
        condition,
        scan_index_forward=not newest_first,
        limit=take + 1,
        page_size=take + 1,
        last_evaluated_key=_start_key(cursor, partition, sk_prefix, names) if cursor else None,
    )
    items = _read(results, cursor)
    if len(items) <= take:
        return Page(items)
    return Page(items[:take], _cursor(items[take - 1], names))


def _key_names(index: Any) -> tuple[str, ...]:
    """Partition key, sort key and (for an index) the table keys that break ties in it."""
    if index is None:
        return ("PK", "SK")
    name = index.Meta.index_name
    return (f"{name}PK", f"{name}SK", "PK", "SK")


def _cursor(item: BaseItem, names: tuple[str, ...]) -> str:
    values = json.dumps([getattr(item, name) for name in names[1:]], separators=(",", ":"))
    return base64.urlsafe_b64encode(values.encode()).decode().rstrip("=")


def _start_key(cursor: str, partition: str, sk_prefix: str, names: tuple[str, ...]) -> dict[str, dict[str, str]]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, RecursionError):  # bad base64 (binascii.Error), UTF-8 or JSON; absurd nesting
        raise _invalid(cursor) from None
    if not (
        isinstance(values, list)
        and len(values) == len(names) - 1
        and all(isinstance(value, str) and 0 < len(value) <= _MAX_KEY_CHARS for value in values)
        and values[0].startswith(sk_prefix)
    ):
        raise _invalid(cursor)
    return {names[0]: {"S": partition}, **{name: {"S": value} for name, value in zip(names[1:], values, strict=True)}}


def _read(results: Any, cursor: str | None) -> list[Any]:
    try:
        return list(results)
    except QueryError as error:
        if cursor and getattr(error, "cause_response_code", None) == "ValidationException":
            raise _invalid(cursor) from None  # a start key DynamoDB refused (checked above; belt and braces)
        raise


def _invalid(cursor: str) -> BadRequestError:
    return BadRequestError(
        "Invalid cursor: pass the X-Next-Cursor of the previous page of this list unchanged.",
        property="cursor",
        value=cursor,
    )
