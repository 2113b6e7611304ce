"""A response cache for /sparql: the dataset is read-only between builds, so an answer stays right
until the dataset's version changes.

Entries are keyed by the dataset version, the normalized query text and everything else that picks
the answer's bytes (protocol dataset, Accept, format, base IRI) — the same key as the ETag — and the
cache holds at most ``max_bytes`` of answers, dropping the least recently used first. One cache per
server process (gunicorn worker); only successful answers are kept.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass


def normalize(query: str) -> str:
    """The query text as cached: surrounding whitespace and line-ending style do not change the answer.

    Whitespace inside the query is kept: it may sit inside a string literal, where it is data.
    """
    return query.replace("\r\n", "\n").replace("\r", "\n").strip()


def answer_key(version: str, query: str, default_graphs=(), named_graphs=(), accept: str = "", formats=(),
               base: str | None = None) -> str:
    """The cache key and ETag of an answer: a hash of the version, the normalized query and the request's
    dataset, Accept and format parameters, and base IRI."""
    key = "\x1f".join([version, normalize(query), *default_graphs, "\x1e", *named_graphs, "\x1e",
                       accept, *formats, base or ""])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Entry:
    media_type: str
    body: bytes
    form: str | None
    rows: int | None
    engine: str | None


class ResponseCache:
    """A thread-safe LRU of answers bounded by their total size in bytes (0 disables it)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: str, entry: Entry) -> None:
        size = len(entry.body)
        if size > self.max_bytes // 4:  # one huge answer must not flush everything else
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= len(old.body)
            self._entries[key] = entry
            self.size += size
            while self.size > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self.size -= len(dropped.body)

    def __len__(self) -> int:
        return len(self._entries)
