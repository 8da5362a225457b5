"""Changes to Whoosh 2.7.4's reading that newsdex depends on, applied once when index.store is imported.

Compound segments (`MAIN_<id>.seg`) are memory-mapped by Whoosh's CompoundStorage, but each file inside is then
opened as a `BufferFile`, whose `BytesIO(view)` copies it: opening a reader copied every segment's term index,
postings and columns into the process's own memory (400 MB for a 100,000-article index; 5 GB at 1,000,000, in
every process that opened one: each worker of an `add`, the server). Here a BufferFile reads straight from the
mapping (`_ViewFile`: a position of its own, reads are slices of the mapping), so opening a reader costs what it
reads, and the pages are the kernel's to drop.

`check()` fails loudly, naming what it misses, if the installed Whoosh differs from the one this was written for
(tests/test_whoosh_patches.py runs it).
"""
from __future__ import annotations

from whoosh.filedb import structfile

_APPLIED = False
_ORIGINAL_INIT = structfile.BufferFile.__init__


class _ViewFile:
    """A read-only file over a buffer (a memoryview of a mapped compound file), without copying it."""

    __slots__ = ("_view", "_pos", "_len")

    def __init__(self, view):
        self._view = view
        self._pos = 0
        self._len = len(view)

    def read(self, size: int | None = -1) -> bytes:
        start = self._pos
        end = self._len if size is None or size < 0 else min(self._len, start + size)
        self._pos = end
        return bytes(self._view[start:end])

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        start, limit = self._pos, self._len if size is None or size < 0 else min(self._len, self._pos + size)
        end = start
        while end < limit:   # (pickles of protocol 2 and up rarely read lines: a short scan is enough)
            chunk = bytes(self._view[end:min(limit, end + 256)])
            cut = chunk.find(b"\n")
            if cut >= 0:
                end += cut + 1
                break
            end += len(chunk)
        self._pos = end
        return bytes(self._view[start:end])

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, self._len)[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._view = b""
        self._len = self._pos = 0

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line


def _buffer_file_init(self, buf, name=None, onclose=None):
    """BufferFile.__init__, reading from `buf` instead of a BytesIO copy of it."""
    self._buf = buf
    self._name = name
    self.file = _ViewFile(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


def check() -> None:
    """Raise AssertionError naming what differs if Whoosh is not the version these changes were made for."""
    import whoosh
    from whoosh.filedb import compound
    assert whoosh.versionstring() == "2.7.4", f"whoosh {whoosh.versionstring()} installed, patches made for 2.7.4"
    for attr in ("__init__", "get", "subset", "get_array"):
        assert attr in vars(structfile.BufferFile), f"whoosh.filedb.structfile.BufferFile.{attr} is gone"
    assert "BufferFile(buf, name=name)" in _source(compound.CompoundStorage.open_file), \
        "whoosh.filedb.compound.CompoundStorage.open_file no longer opens a BufferFile"


def _source(fn) -> str:
    import inspect
    return inspect.getsource(fn)


def apply() -> None:
    """Install the changes (once)."""
    global _APPLIED
    if _APPLIED:
        return
    structfile.BufferFile.__init__ = _buffer_file_init
    _APPLIED = True
