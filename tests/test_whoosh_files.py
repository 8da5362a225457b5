"""index/whoosh_files.py: compound segments read in place, and a loud failure if Whoosh is not the expected one."""
from __future__ import annotations

import io
import random

import pytest

from index import store, whoosh_files
from search.snapshot import Snapshot
from tests.conftest import SAMPLES, write_index


def test_the_installed_whoosh_is_the_one_the_patch_was_written_for():
    whoosh_files.check_whoosh()   # raises RuntimeError naming what moved


def test_view_stream_reads_like_bytesio():
    rng = random.Random(7)
    data = bytes(rng.choice(b"abc\n\x00\xff") for _ in range(5000))
    view, copy = whoosh_files.ViewStream(memoryview(data)), io.BytesIO(data)
    for _ in range(300):
        op = rng.choice(["read", "readline", "seek", "seek1", "seek2", "tell", "readinto"])
        n = rng.choice([-1, 0, 1, 7, 100, 6000])
        if op == "read":
            assert view.read(n) == copy.read(n)
        elif op == "readline":
            assert view.readline(n) == copy.readline(n)
        elif op == "seek":
            pos = rng.randrange(0, 6000)
            assert view.seek(pos) == copy.seek(pos)
        elif op == "seek1":
            k = rng.randrange(0, 50)
            assert view.seek(k, 1) == copy.seek(k, 1)
        elif op == "seek2":
            assert view.seek(-10, 2) == copy.seek(-10, 2)
        elif op == "readinto":
            a, b = bytearray(n if n > 0 else 3), bytearray(n if n > 0 else 3)
            assert view.readinto(a) == copy.readinto(b) and a == b
        assert view.tell() == copy.tell()
    view.seek(0)
    copy.seek(0)
    assert list(view) == list(copy)


def test_an_opened_index_reads_its_segment_in_place(tmp_path):
    root = write_index(tmp_path / "ix", SAMPLES)
    snap = Snapshot(root)
    try:
        (sub, _), = snap.leaves
        postfile = sub._terms._postfile
        assert isinstance(postfile, whoosh_files.ViewBufferFile)
        assert isinstance(postfile.file, whoosh_files.ViewStream)   # not a BytesIO copy of the postings
        assert len(snap.postings("body", "budget").ids) == 3   # hostile, budget-2024, fr-budget
    finally:
        snap.close()


def test_a_changed_whoosh_is_named(monkeypatch):
    monkeypatch.setattr(whoosh_files._compound, "BufferFile", object)
    with pytest.raises(RuntimeError, match="whoosh.filedb.compound"):
        whoosh_files.check_whoosh()
    with pytest.warns(RuntimeWarning, match="copied into memory"):
        whoosh_files.install()
    assert whoosh_files._compound.BufferFile is object   # left as it was
    assert store.whoosh_files is whoosh_files


def test_pickles_are_read_whole_whatever_their_size():
    import pickle
    objs = [1, "x" * 10, list(range(3000)), {"k": b"\x00" * 50_000}, None]
    data = b"".join(pickle.dumps(o, protocol=2) for o in objs) + b"tail"
    f = whoosh_files.ViewBufferFile(memoryview(data))
    assert [f.read_pickle() for _ in objs] == objs
    assert f.read(4) == b"tail"
    with pytest.raises(Exception):
        whoosh_files.ViewBufferFile(memoryview(pickle.dumps(list(range(3000)))[:-10])).read_pickle()
