"""Stories at index time: the builder clusters copies of one story, incrementally, and search groups them."""
import json
from pathlib import Path

from index import store
from index.builder import build_index, delete_articles
from index.dedup import STORIES_FILE, STORY_MAP_FILE, read_story_map
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
