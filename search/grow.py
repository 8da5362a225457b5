"""Per-document arrays that grow with the index, shared between the versions a server opens one after another.

A version after an `add` holds every array of the version before it plus the new documents' entries. Copying a
million-entry array into a new one costs little; the memory it lands in costs more: fresh pages are faulted in and
zeroed one by one, ~150 MB for a 1M-article index, and that was most of the first refresh after a process opened
the index (0.3-0.45 s against 0.15-0.2 s for the later ones, which reuse what the version before freed).

So each such array is a view of a buffer with room to spare (an eighth more). A newer version that keeps the
first `keep` entries appends its own after them in the same buffer, when nothing was written past `keep` yet:
the versions' views share the head, which no one writes once it is made, and each reads only its own length.
When the room runs out, or an older version's end is not the buffer's (a merge dropped its last documents, or two
versions were made from one), the extension is a copy into a new buffer, as before.

The one rule for callers: what `grown` returns may be written only past `keep`.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

SPARE_FRACTION = 8       # room for an eighth more entries ...
SPARE_MIN = 4096         # ... and at least this many

_LOCK = threading.Lock()
_CLAIMED: dict[int, list] = {}   # id(buffer) -> [weak reference to it, how many of its entries a version holds]


def _forget(key: int, ref: weakref.ref) -> None:
    entry = _CLAIMED.get(key)
    if entry is not None and entry[0] is ref:   # (a buffer is freed: its id may be given to a new one)
        del _CLAIMED[key]


def spare(n: int, dtype, fill=None) -> np.ndarray:
    """A new array of `n` entries (set to `fill`, else uninitialised) in a buffer with room to grow."""
    buf = np.empty(n + max(n // SPARE_FRACTION, SPARE_MIN), dtype=dtype)
    key = id(buf)
    ref = weakref.ref(buf, lambda r, key=key: _forget(key, r))
    with _LOCK:
        _CLAIMED[key] = [ref, n]
    out = buf[:n]
    if fill is not None:
        out.fill(fill)
    return out


def spared(a: np.ndarray) -> np.ndarray:
    """A copy of a one-dimensional array, in a buffer with room to grow."""
    out = spare(len(a), a.dtype)
    out[:] = a
    return out


def grown(old: np.ndarray, keep: int, n: int, share: bool = True) -> np.ndarray:
    """An array of `n` entries whose first `keep` are `old`'s, the rest uninitialised: the caller fills them, and
    writes nothing before `keep` (that part may be `old`'s own memory, which its version still reads). With
    `share` False, always a copy (the caller changes the head)."""
    base = old.base
    if (share and isinstance(base, np.ndarray) and old.ndim == 1 and base.ndim == 1 and old.dtype == base.dtype
            and old.strides == base.strides and old.ctypes.data == base.ctypes.data
            and keep <= len(old) and n <= len(base) and keep <= n):
        with _LOCK:
            entry = _CLAIMED.get(id(base))
            if entry is not None and entry[0]() is base and entry[1] == keep:
                entry[1] = n
                return base[:n]
    out = spare(n, old.dtype)
    out[:keep] = old[:keep]
    return out


def shares_memory(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays are views of one buffer (tests and benchmarks: was an extension in place?)."""
    return a.base is not None and a.base is b.base
