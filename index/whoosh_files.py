"""Whoosh's compound segment files, read in place: no copy of a segment's postings in memory.

Whoosh 2.7.4 memory-maps a compound segment (`.seg`) and hands each file inside it out as a `BufferFile` over a
memoryview of the map. But `BufferFile.__init__` also wraps the view in `BytesIO(buf)`, and BytesIO copies a
memoryview: opening an index copied its whole term and posting files onto the heap (620 MB of anonymous memory
for a 100k-article index whose segment is 568 MB; 2.8 GB of heap at 500k articles). `ViewBufferFile` gives the
same file a seekable reader over the view itself, so the pages stay the kernel's to drop: 66 MB instead of 620 MB
on that index, and opening is faster. Installed once, when index.store (which opens every index) is imported;
`check_whoosh()` fails loudly, naming what moved, if an installed Whoosh is not the one this was written for.
"""
from __future__ import annotations

import pickle
import warnings
from io import BytesIO

import whoosh.filedb.compound as _compound
from whoosh.filedb.structfile import BufferFile


PICKLE_SLICE = 2048          # bytes unpickled at once (a posting block header is a few hundred)


class ViewStream:
    """A read-only, seekable file over a memoryview, without copying it."""

    def __init__(self, view):
        self._view, self._pos = view, 0

    def read(self, n: int | None = -1) -> bytes:
        end = len(self._view) if n is None or n < 0 else min(len(self._view), self._pos + n)
        out = bytes(self._view[self._pos:end])
        self._pos = max(self._pos, end)
        return out

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def readline(self, limit: int | None = -1) -> bytes:
        end = len(self._view) if limit is None or limit < 0 else min(len(self._view), self._pos + limit)
        i = bytes(self._view[self._pos:end]).find(b"\n")
        return self.read(i + 1 if i >= 0 else end - self._pos)

    def seek(self, pos: int, whence: int = 0) -> int:
        self._pos = pos if whence == 0 else (self._pos + pos if whence == 1 else len(self._view) + pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        """Nothing to release: the map belongs to the compound file."""

    def __iter__(self):
        while line := self.readline():
            yield line


class ViewBufferFile(BufferFile):
    """Whoosh's BufferFile with a ViewStream where it made a BytesIO copy (everything else is Whoosh's)."""

    def __init__(self, buf, name=None, onclose=None):
        self._buf = buf
        self._name = name
        self.file = ViewStream(buf)
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    def read_pickle(self, protocol=-1):
        """One pickle from the current position. pickle.load() on a Python file calls read() once per opcode (a
        posting block's header: dozens of calls); here it unpickles a slice held in a (C) BytesIO, a larger one
        when the object runs past it."""
        stream, size = self.file, PICKLE_SLICE
        while True:
            chunk = bytes(self._buf[stream.tell():stream.tell() + size])
            held = BytesIO(chunk)
            try:
                obj = pickle.load(held)
            except Exception:
                if len(chunk) < size:   # the whole rest of the file: a real error
                    raise
                size *= 16
                continue
            stream.seek(held.tell(), 1)
            return obj


def check_whoosh() -> None:
    """Raise RuntimeError naming what differs when the installed Whoosh is not laid out as this module expects."""
    import inspect
    source = inspect.getsource(BufferFile.__init__)
    for needed in ("self._buf = buf", "self.file = BytesIO(buf)", "self.is_real = False"):
        if needed not in source:
            raise RuntimeError(f"whoosh.filedb.structfile.BufferFile.__init__ changed: no {needed!r}; "
                               f"index/whoosh_files.py must be revised for this Whoosh")
    if getattr(_compound, "BufferFile", None) not in (BufferFile, ViewBufferFile):
        raise RuntimeError("whoosh.filedb.compound no longer uses BufferFile; index/whoosh_files.py must be revised")


def install() -> None:
    """Make Whoosh's compound files hand out ViewBufferFiles (idempotent). Against a Whoosh laid out otherwise,
    Whoosh's own copying files stay (slower, never wrong) and a warning says why; tests/test_whoosh_files.py
    fails on such a Whoosh."""
    try:
        check_whoosh()
    except RuntimeError as exc:
        warnings.warn(f"{exc}; segments are copied into memory when opened", RuntimeWarning)
        return
    _compound.BufferFile = ViewBufferFile
