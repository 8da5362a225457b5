"""Stories at index time: the builder clusters copies of one story, incrementally, and search groups them."""
import json
import struct
from datetime import datetime, timezone
from pathlib import Path

from index import store
from index.builder import build_index, delete_articles
from index.stories import STORIES_FILE, STORY_LOG_FILE, STORY_MAP_FILE, StoryIndex, read_story_map
from index.integrity import MANIFEST
from search import SearchRequest, Searcher

WIRE = ("The port authority of Kiel said on Monday that container traffic rose by a fifth in the first half of the "
        "year, helped by new ferry routes to Sweden and Finland and a recovery in car exports. Harbour master Ilse "
        "Brandt said the new quay would open in the spring. Dockers had warned of longer shifts during the peak "
        "season, and the union said talks on overtime pay would resume next week. Shipping lines have asked for "
        "deeper berths as larger vessels enter the Baltic trade.")
OTHER = ("Coffee growers in the south of Brazil expect a smaller harvest after frost damaged young plants in "
         "June, the growers' association said, adding that prices paid to farmers had risen for a third month in "
         "a row while exporters waited for clearer figures from the agriculture ministry before signing deals.")


def line(aid, text, source, date):
    return json.dumps({"id": aid, "text": text, "source": source, "date": date, "title": f"{source} story"})


def write_feed(folder: Path, name: str, records: list[str]) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("\n".join(records) + "\n", encoding="utf-8")


def grouped(root):
    searcher = Searcher(root)
    try:
        result = searcher.search(SearchRequest(q="", sort="oldest"))
        return result.total, {h.id: (h.story_id, h.story_size) for h in
                              searcher.search(SearchRequest(q="", all_articles=True)).hits}
    finally:
        searcher.close()


def test_rebuild_groups_copies_and_add_joins_a_new_copy(tmp_path):
    feed = tmp_path / "feed"
    write_feed(feed, "a.jsonl", [line("wire", WIRE, "Wire", "2025-05-01"),
                                 line("coffee", OTHER, "Farm News", "2025-05-01")])
    write_feed(feed, "b.jsonl", [line("post", "Republished by arrangement. " + WIRE.rsplit(".", 2)[0] + ".",
                                      "Harbour Post", "2025-05-02")])
    root = tmp_path / "ix"
    report = build_index([feed], root, workers=2)
    assert report.stories == {"articles": 3, "stories": 2, "duplicates": 1}
    gen = store.current_generation(root)
    assert (gen / STORIES_FILE).is_file() and read_story_map(gen) == {"post": "wire"}
    total, hits = grouped(root)
    assert total == 2
    assert hits == {"wire": ("wire", 2), "post": ("wire", 2), "coffee": ("coffee", 1)}

    write_feed(feed, "c.jsonl", [line("ledger", WIRE.replace("Monday", "Tuesday"), "Ledger", "2025-05-02")])
    report = build_index([feed / "c.jsonl"], root, mode="add", workers=1)
    assert (report.added, report.stories["duplicates"]) == (1, 2)
    assert grouped(root)[1]["ledger"] == ("wire", 3)

    deleted, missing = delete_articles(root, ["post"])
    assert (deleted, missing) == (["post"], [])
    assert read_story_map(store.current_generation(root)) == {"ledger": "wire"}
    assert grouped(root)[1]["wire"] == ("wire", 2)


def test_a_lost_stories_file_is_rebuilt_from_the_index(tmp_path):
    """In an index from before checksums (no list says the stories files should be there; with one, a lost file
    is damage: tests/test_faults_damage.py)."""
    feed = tmp_path / "feed"
    write_feed(feed, "a.jsonl", [line("wire", WIRE, "Wire", "2025-05-01")])
    root = tmp_path / "ix"
    build_index([feed], root, workers=1)
    gen = store.current_generation(root)
    (gen / STORIES_FILE).unlink()
    (gen / STORY_MAP_FILE).unlink()
    (gen / STORY_LOG_FILE).unlink()
    (gen / MANIFEST).unlink()
    write_feed(feed, "b.jsonl", [line("copy", WIRE + " Copyright Wire.", "Post", "2025-05-01")])
    report = build_index([feed / "b.jsonl"], root, mode="add", workers=1)
    assert report.stories == {"articles": 2, "stories": 1, "duplicates": 1}
    assert read_story_map(gen) == {"copy": "wire"}


def test_recovery_removes_a_half_written_story_file(tmp_path):
    feed = tmp_path / "feed"
    write_feed(feed, "a.jsonl", [line("wire", WIRE, "Wire", "2025-05-01")])
    root = tmp_path / "ix"
    build_index([feed], root, workers=1)
    leftover = store.current_generation(root) / ".story-map.json.4242.tmp"
    leftover.write_text("{")
    assert store.recover(root) == [f"removed 1 uncommitted file(s) of an interrupted add from "
                                   f"{store.current_generation(root).name}"]
    assert not leftover.exists()


def test_add_and_delete_log_their_stories_and_leave_the_base_alone(tmp_path):
    feed = tmp_path / "feed"
    write_feed(feed, "a.jsonl", [line("wire", WIRE, "Wire", "2025-05-01"), line("coffee", OTHER, "Farm", "2025-05-01")])
    root = tmp_path / "ix"
    build_index([feed], root, workers=1)
    gen = store.current_generation(root)
    base = (gen / STORIES_FILE).stat()
    log_size = (gen / STORY_LOG_FILE).stat().st_size
    write_feed(feed, "b.jsonl", [line("post", "Republished. " + WIRE, "Post", "2025-05-02")])
    assert build_index([feed / "b.jsonl"], root, mode="add", workers=1).stories["duplicates"] == 1
    assert delete_articles(root, ["coffee"]) == (["coffee"], [])
    after = (gen / STORIES_FILE).stat()
    assert (after.st_ino, after.st_mtime_ns) == (base.st_ino, base.st_mtime_ns)
    assert (gen / STORY_LOG_FILE).stat().st_size > log_size
    assert read_story_map(gen) == {"post": "wire"} and grouped(root)[1] == {"wire": ("wire", 2), "post": ("wire", 2)}


def test_stories_logged_for_a_commit_that_never_happened_are_dropped(tmp_path):
    feed = tmp_path / "feed"
    write_feed(feed, "a.jsonl", [line("wire", WIRE, "Wire", "2025-05-01")])
    root = tmp_path / "ix"
    build_index([feed], root, workers=1)
    gen = store.current_generation(root)
    toc = store.live_toc(gen)[0]
    killed = StoryIndex.open(gen, toc)   # a run killed between logging its stories and writing its TOC
    killed.assign("ghost", WIRE + " Copyright Ghost.", datetime(2025, 5, 1, tzinfo=timezone.utc))
    killed.log_changes(gen, toc + 1)
    assert read_story_map(gen) == {}
    write_feed(feed, "b.jsonl", [line("other", OTHER, "Farm", "2025-05-03")])
    report = build_index([feed / "b.jsonl"], root, mode="add", workers=1)
    assert report.stories == {"articles": 2, "stories": 2, "duplicates": 0}
    assert read_story_map(gen) == {} and "ghost" not in StoryIndex.open(gen, store.live_toc(gen)[0])


def test_a_stories_file_of_the_first_format_is_read_and_saved_in_the_current_one(tmp_path):
    feed = tmp_path / "feed"
    write_feed(feed, "a.jsonl", [line("wire", WIRE, "Wire", "2025-05-01")])
    root = tmp_path / "ix"
    build_index([feed], root, workers=1)
    gen = store.current_generation(root)
    write_first_format(gen / STORIES_FILE, StoryIndex.open(gen, store.live_toc(gen)[0]))
    (gen / STORY_LOG_FILE).unlink()
    write_feed(feed, "b.jsonl", [line("post", "Republished. " + WIRE, "Post", "2025-05-02")])
    assert build_index([feed / "b.jsonl"], root, mode="add", workers=1).stories["duplicates"] == 1
    assert (gen / STORIES_FILE).read_bytes()[16:80].find(b'"format": 2') >= 0
    assert read_story_map(gen) == {"post": "wire"}


def write_first_format(path, stories):
    """What StoryIndex.save wrote before the base and log (format 1: the whole clusterer, parsed at load)."""
    from array import array
    from dataclasses import asdict
    from index.stories import _params
    n = len(stories._ids)
    header = json.dumps({"format": 1, "count": n, "params": _params(), "thresholds": asdict(stories.thresholds),
                         "story_ids": {}}).encode()
    ids = "\n".join(stories._ids[o] for o in range(n)).encode()
    parts = [b"NEWSDEX-STORIES\n", struct.pack("<I", len(header)), header, struct.pack("<Q", len(ids)), ids,
             array("I", (stories._rep[o] for o in range(n))).tobytes(), bytes(stories._alive[o] for o in range(n)),
             array("Q", (stories._exact[o] for o in range(n))).tobytes(),
             array("I", (stories._tokens[o] for o in range(n))).tobytes(),
             array("I", (stories._shingles[o] for o in range(n))).tobytes(),
             array("d", (stories._time[o] for o in range(n))).tobytes(),
             b"".join(stories._bins_of(o) for o in range(n))]
    path.write_bytes(b"".join(parts))
