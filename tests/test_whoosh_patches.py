"""index.whoosh_patches: the installed Whoosh is the one the changes were made for, and opening a reader of
compound segments reads from their mapping instead of copying every file into memory."""
from __future__ import annotations

import tracemalloc

from whoosh.filedb.structfile import BufferFile

from index import store, whoosh_patches
from index.builder import build_index
from tests.test_builder import make_folder

ORIGINAL_INIT = whoosh_patches._ORIGINAL_INIT


def test_the_installed_whoosh_is_the_one_patched():
    whoosh_patches.check()


def test_a_buffer_file_reads_without_copying_its_buffer():
    data = bytearray(b"header\n" + bytes(range(256)) * 4)
    f = BufferFile(memoryview(data), name="x")
    assert f.readline() == b"header\n"
    assert f.read(3) == bytes([0, 1, 2]) and f.tell() == 10
    assert f.get(7, 4) == bytes([0, 1, 2, 3])
    f.seek(-2, 2)
    assert f.read() == bytes([254, 255]) and f.read(5) == b""
    data[7] = 99   # the file reads the buffer itself
    f.seek(7)
    assert f.read(1) == b"c"


def test_opening_a_reader_does_not_copy_the_segments(tmp_path, monkeypatch):
    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "in", 300)], root, workers=1)
    size = sum(p.stat().st_size for p in store.current_generation(root).glob("MAIN_*.seg"))
    patched = reader_allocation(root)
    monkeypatch.setattr(BufferFile, "__init__", ORIGINAL_INIT)   # Whoosh as it is: a BytesIO copy of each file
    copied = reader_allocation(root)
    # unpatched, the term index and postings files (about half of a segment here) are copied at opening
    assert copied - patched > 0.4 * size > 150_000, (copied, patched, size)


def reader_allocation(root) -> int:
    """Peak bytes allocated while opening a reader and reading a posting list."""
    ix = store.open_index(root)
    tracemalloc.start()
    try:
        reader = ix.reader()
        assert reader.doc_count() == 300 and reader.doc_frequency("body", "newsdex") == 300
        assert len(list(reader.postings("body", "newsdex").all_ids())) == 300
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        reader.close()
