"""The one rule for every process-wide cache: bounded, locked, evicted.

A class shares one server process, so whatever one session caches is there for every session, read
and written from many threads at once. So every process-wide cache of mnistviz is a `BoundedCache`:
- bounded: at most `size` entries, whatever the sessions ask for;
- locked: every read and write holds its lock, so no session sees it half-changed;
- evicted: the least recently used entry goes first, and owners drop entries whose source is gone.
A value is computed outside the lock: a slow computation never blocks the other sessions' reads
(two sessions missing the same key may both compute it; the values are equal, the later one stays).

The same rule elsewhere: a page's `st.cache_resource` always sets `max_entries` (Streamlit locks and
evicts it). The one exception is `jobs.get_manager`'s job manager per runs folder: it owns the
queue and follows the training processes, so it lives as long as the process.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class BoundedCache:
    """A thread-safe least-recently-used map of at most `size` entries."""

    def __init__(self, size: int):
        if size < 1:
            raise ValueError("a cache holds at least one entry")
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            if key not in self._entries:
                return default
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached value of `key`, computed (outside the lock) and kept when missing."""
        missing = object()
        value = self.get(key, missing)
        if value is missing:
            value = compute()
            self.put(key, value)
        return value

    def discard(self, keep: Callable[[Hashable], bool]) -> None:
        """Drop every entry whose key `keep` refuses (a deleted run, say)."""
        with self._lock:
            for key in [key for key in self._entries if not keep(key)]:
                del self._entries[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries
