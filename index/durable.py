"""Files replaced whole, and durably: a reader sees the old file or the new one, never half of one, and a crash
after the rename keeps the new one.

Every file newsdex writes beside Whoosh's (the CURRENT and PREVIOUS pointers, the checksum list, the archives list,
each segment's values file, the stories base, log and map) is written by `write_atomically`: a temporary file in
the same folder (`.NAME.PID.tmp`, which store.recover removes when a run dies before the rename), fsynced, renamed
over the file, and with `sync_dir` the folder fsynced too (the rename itself durable).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, IO


def temp_name(path: str | os.PathLike) -> Path:
    """The temporary file a write of `path` goes to first (`.NAME.PID.tmp` beside it)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_atomically(path: str | os.PathLike, write: Callable[[IO], None], *, text: bool = False,
                     tmp: str | os.PathLike | None = None, sync_dir: bool = False) -> None:
    """Replace `path` with what `write(file)` writes (a text file with `text`, UTF-8; else binary). `tmp`: the
    temporary file's name when not `temp_name(path)`. The temporary file is removed if anything fails."""
    path = Path(path)
    tmp = Path(tmp) if tmp is not None else temp_name(path)
    try:
        with (open(tmp, "w", encoding="utf-8") if text else open(tmp, "wb")) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        if sync_dir:
            fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def fsync_dir(path: str | os.PathLike) -> None:
    """fsync a folder: the names in it (a rename, a new file) made durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
