"""A container's log as the agent reports it, whatever the engine: bounded, decoded, secrets masked.

Engines hand over bytes with an RFC 3339 timestamp before each line (Docker one request per stream,
Kubernetes one for the pod's container). `LineReader` splits them into lines as they arrive and keeps
only what can be shown: the newest `tail` lines, LINE_BYTES of each and READ_BYTES in all, so a huge
log never fills the agent's memory. `render` decodes them (invalid UTF-8 replaced), masks the
container's secret values, orders the streams by time and keeps the newest lines that fit
LOG_MAX_BYTES as JSON (the answer says `truncated` when that, or a cut line, left something out).

A line is cut at 16 KiB, timestamp included: below Docker's own split of long lines (which starts the
rest with another timestamp), so a secret value is never shown in two pieces; a cut line also loses
an ending that is the start of a secret value.
"""

from __future__ import annotations

import codecs
import json
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from chalicelib.contracts.agent import LOG_MAX_BYTES, MASKED, ContainerLog, LogLine

LINE_BYTES = 16 * 1024  # raw bytes kept of one line, its timestamp included
READ_BYTES = 4 * LOG_MAX_BYTES  # raw bytes kept of one stream while reading (the newest lines stay)
LINE_OVERHEAD = 64  # what a line's time, stream and keys add to its JSON
Stream = Literal["stdout", "stderr"]
_TIMESTAMP = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) ")


@dataclass(frozen=True)
class RawLine:
    data: bytes
    cut: bool  # longer than LINE_BYTES: the rest was dropped
    stream: Stream | None


class LineReader:
    """One stream's bytes, fed as they arrive, as its newest lines (memory stays bounded)."""

    def __init__(self, tail: int, stream: Stream | None = None) -> None:
        self.stream = stream
        self.lines: deque[RawLine] = deque(maxlen=max(tail, 1))
        self.dropped = False  # lines within `tail` left out to stay within READ_BYTES
        self._kept = 0
        self._partial = bytearray()
        self._cut = False

    def feed(self, chunk: bytes) -> None:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            self._extend(chunk[start:end])
            self._end_line()
            start = end + 1
        self._extend(chunk[start:])

    def close(self) -> list[RawLine]:
        """The lines read, oldest first (a last line without a line break included)."""
        if self._partial or self._cut:
            self._end_line()
        return list(self.lines)

    def _extend(self, piece: bytes) -> None:
        room = LINE_BYTES - len(self._partial)
        if len(piece) > room:
            self._cut = True
            piece = piece[:room]
        self._partial += piece

    def _end_line(self) -> None:
        if len(self.lines) == self.lines.maxlen:
            self._kept -= len(self.lines[0].data)  # the deque drops it: beyond the tail
        self.lines.append(RawLine(bytes(self._partial), self._cut, self.stream))
        self._kept += len(self._partial)
        while self._kept > READ_BYTES and len(self.lines) > 1:
            self._kept -= len(self.lines.popleft().data)
            self.dropped = True
        self._partial, self._cut = bytearray(), False


class Masker:
    """Replaces every secret value (and each line of a multi-line one) in a text by MASKED."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = {part for secret in secrets for part in (secret, *secret.splitlines()) if part}
        self.values = sorted(values, key=len, reverse=True)  # the longest wins where two overlap
        self.pattern = re.compile("|".join(map(re.escape, self.values))) if self.values else None

    def __call__(self, text: str, cut: bool = False) -> str:
        if self.pattern is None:
            return text
        text = self.pattern.sub(MASKED, text)
        return self._without_secret_start(text) if cut else text

    def _without_secret_start(self, text: str) -> str:
        """A cut text without an ending that begins a secret value (its rest was cut off)."""
        longest = 0
        for value in self.values:
            for size in range(min(len(value) - 1, len(text)), longest, -1):
                if text.endswith(value[:size]):
                    longest = size
                    break
        return text[: len(text) - longest]


def render(readers: Iterable[LineReader], tail: int, secrets: Iterable[str], since: datetime | None) -> ContainerLog:
    """The newest `tail` lines of the readers' streams, oldest first, within LOG_MAX_BYTES as JSON."""
    readers = list(readers)
    mask = Masker(secrets)
    raw = [line for reader in readers for line in reader.close()]
    wanted = _ordered([_line(line, mask) for line in raw], len(readers) > 1, since)[-tail:]
    kept = _within_budget(wanted)
    dropped = len(kept) < len(wanted) or any(reader.dropped for reader in readers)
    return ContainerLog(lines=kept, truncated=dropped or any(line.cut for line in raw))


def _ordered(lines: list[LogLine], merged: bool, since: datetime | None) -> list[LogLine]:
    """Lines of several streams ordered by time (stable: a stream's own order stays); none before `since`."""
    if merged:
        lines.sort(key=lambda line: line.time or _EPOCH)
    if since is None:
        return lines
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    return [line for line in lines if line.time is None or line.time >= since]


def _within_budget(lines: list[LogLine]) -> list[LogLine]:
    """The newest of `lines` whose JSON takes at most LOG_MAX_BYTES (escapes counted as sent)."""
    budget, start = LOG_MAX_BYTES, len(lines)
    while start > 0:
        cost = len(json.dumps(lines[start - 1].text)) + LINE_OVERHEAD
        if cost > budget:
            break
        budget -= cost
        start -= 1
    return lines[start:]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _line(raw: RawLine, mask: Masker) -> LogLine:
    match = _TIMESTAMP.match(raw.data)
    body = raw.data[match.end() :] if match else raw.data
    # A cut line may end inside a character: that part is dropped, not replaced.
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(body, final=not raw.cut)
    return LogLine(time=_time(match) if match else None, stream=raw.stream, text=mask(text.removesuffix("\r"), raw.cut))


def _time(match: re.Match[bytes]) -> datetime:
    """`2024-05-01T10:00:00.123456789Z` → an aware datetime (to the microsecond)."""
    seconds, fraction, zone = (part.decode() if part else "" for part in match.groups())
    offset = "+00:00" if zone == "Z" else zone
    return datetime.fromisoformat(f"{seconds}.{fraction[:6].ljust(6, '0')}{offset}").astimezone(UTC)
