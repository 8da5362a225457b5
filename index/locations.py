"""Where a file sits inside its archive: the *key* an article's id is made from when it has no id or URL of its own.

A key is the file's path inside its archive folder ("2026-11/x.txt": "/" between folders, Unicode NFC), never the
archive's own location, so an archive moved, renamed or mounted elsewhere keeps every id, and an edited file
keeps its id too (content is not part of it). The archive folder is the folder given to `reindex` (for a file
given, its folder; for a folder given inside another given one, the outer one). A generation remembers the real
paths of its archive folders (ARCHIVES_FILE), and `add PATH` keys PATH's files:

- relative to the innermost remembered archive folder PATH is in: `add ~/archive/2026-11` after
  `reindex ~/archive` keys its files "2026-11/...", as the reindex did;
- else (the archive moved, or a new one) as if PATH were the archive folder itself, or its subfolder `name/`,
  `parent/name/`, ... (the last folders of PATH), whichever gives the most of a sample of its files the id of an
  article already in the index; when none does, PATH is a new archive folder. It is remembered either way.

Files in a remembered archive folder inside PATH keep the keys they had (relative to that folder).
"""
from __future__ import annotations

import json
import os
from itertools import islice
from pathlib import Path

from index import durable
from index.integrity import ARCHIVES_FILE   # (one name for the file: integrity checks it)
from index.model import key_id
from index.readers import key_of, walk

MAX_ARCHIVES = 100     # remembered archive folders (the oldest are forgotten first)
SAMPLE_FILES = 2000    # files of a moved archive looked at to find where it fits
MAX_LIFT = 8           # folders above PATH tried as its archive's place


def _folder_of(given: str) -> str:
    """The real folder a given path stands for (a file's folder)."""
    path = os.path.abspath(given)
    return os.path.realpath(path if os.path.isdir(path) else os.path.dirname(path))


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _prefix(folder: str, archive: str) -> str:
    """The key prefix of a folder inside an archive folder ("" for the archive folder itself)."""
    rel = os.path.relpath(folder, archive)
    return "" if rel == "." else key_of(rel) + "/"


class Keys:
    """(path given, file's path relative to it) -> the file's key; `archives` is what the generation remembers."""

    def __init__(self, archives=()):
        self.archives: list[str] = list(archives)
        self.rules: dict[str, list[tuple[str, str]]] = {}   # given -> [(relative prefix, key prefix)], longest first

    def __call__(self, given: str, rel: str) -> str:
        rel = key_of(rel)
        for inner, prefix in self.rules.get(given, ()):
            if rel.startswith(inner):
                return prefix + rel[len(inner):]
        return rel

    @classmethod
    def for_rebuild(cls, paths: list[str]) -> "Keys":
        """Keys of a rebuild: each folder given is an archive folder, unless it is inside another one given; a file
        given belongs to the archive folder it is in, else its own folder is one."""
        folders = {_folder_of(p) for p in paths if os.path.isdir(p)}
        keys = cls(sorted(f for f in folders if not any(_inside(f, o) and f != o for o in folders)))
        for given in filter(os.path.exists, paths):   # a missing one is reported by the reader
            folder = _folder_of(given)
            holders = [a for a in keys.archives if _inside(folder, a)]
            if not holders:
                keys.archives.append(folder)
                holders = [folder]
            keys.rules[given] = [("", _prefix(folder, min(holders, key=len)))]
        return keys

    @classmethod
    def for_add(cls, paths: list[str], archives: list[str], known: dict) -> "Keys":
        """Keys of an add into an index that remembers `archives` and holds the ids in `known`."""
        keys = cls(archives)
        for given in paths:
            if not os.path.exists(given):
                continue   # reported as missing by the reader; nothing to place or remember
            folder = _folder_of(given)
            holders = [a for a in keys.archives if _inside(folder, a)]
            if holders:
                prefix = _prefix(folder, max(holders, key=len))
            else:
                prefix, archive = _place(given, folder, known)
                keys.archives.append(archive)
            inner = sorted((a for a in keys.archives if _inside(a, folder) and a != folder), key=len, reverse=True)
            keys.rules[given] = [(_prefix(a, folder), "") for a in inner] + [("", prefix)]
        keys.archives = list(dict.fromkeys(keys.archives))[-MAX_ARCHIVES:]
        return keys


def _place(given: str, folder: str, known: dict) -> tuple[str, str]:
    """(key prefix, archive folder) for a path outside every remembered archive folder: the place among its last
    folders where most of its files are already indexed, else the path itself as a new archive folder."""
    sample = [key_of(rel) for _, kind, rel in islice(walk([given]), SAMPLE_FILES) if kind in ("text", "html")]
    parts = Path(folder).parts[1:]   # without the file system root
    best, best_count = 0, 0
    for lift in range(min(MAX_LIFT, len(parts)) + 1):
        prefix = "".join(f"{key_of(p)}/" for p in parts[len(parts) - lift:]) if lift else ""
        count = sum(key_id(prefix + rel) in known for rel in sample)
        if count > best_count:
            best, best_count = lift, count
    archive = str(Path(folder).parents[best - 1]) if best else folder
    return _prefix(folder, archive), archive


def read_archives(gen: Path) -> list[str]:
    """The archive folders a generation remembers (none for one made before they were)."""
    try:
        data = json.loads((Path(gen) / ARCHIVES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [a for a in data if isinstance(a, str)] if isinstance(data, list) else []


def write_archives(gen: Path, archives: list[str]) -> None:
    """Save the archive folders atomically (a temp file first: `.NAME.PID.tmp`, removed by recovery if left)."""
    durable.write_atomically(Path(gen) / ARCHIVES_FILE,
                             lambda fh: json.dump(archives, fh, ensure_ascii=False, indent=0), text=True)
