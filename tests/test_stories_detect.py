"""Near-duplicate detection and story clustering (index/stories.py), on hand-written articles."""
import os
import pickle
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from index.stories import (STORIES_FILE, Signature, StoriesFileError, StoryIndex, Thresholds, signature, similarity,
                         tokens)

ROOT = Path(__file__).resolve().parent.parent
DAY1 = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)

HARBOUR = (
    "Port officials in Valmora said on Monday that the new container terminal would open six weeks late, after "
    "storms in February flooded the site and damaged two of the four cranes delivered from Rotterdam.\n\n"
    "The terminal, built by a consortium led by Keller Marine for 410 million euros, was meant to double the "
    "harbour's capacity to 1.2 million containers a year and relieve queues of ships waiting offshore.\n\n"
    "Harbour master Ilse Brandvik told reporters that repairs to the cranes had started and that the quay "
    "itself was undamaged. \"We lost time, not quality,\" she said, adding that insurers would cover most costs.\n\n"
    "Shipping lines have been told to expect the first scheduled calls in the second half of May. Two of them, "
    "Nordvik Lines and Cassar Shipping, said they would keep routing cargo through the old docks until then.\n\n"
    "Local businesses had hoped the terminal would bring around 900 permanent jobs to the region, where "
    "unemployment has stayed above nine percent for three years.")

# The same event reported independently: same names and numbers, different wording.
HARBOUR_OTHER = (
    "Valmora's long-awaited container terminal will not open on time. Storm damage in February has pushed the "
    "opening back by roughly a month and a half, the port authority announced on Monday.\n\n"
    "Flood water reached the construction site and two cranes shipped from Rotterdam need repairs, according "
    "to Ilse Brandvik, who runs the harbour. Insurance should pay for most of the work, she said.\n\n"
    "Keller Marine heads the group building the 410 million euro project, which aims to lift annual capacity "
    "to 1.2 million containers. Nordvik Lines and Cassar Shipping will stay at the old docks for now.")

SHORT = "Qtly div 12 cts vs 12 cts prior, pay April 15, record March 31, the Halvorsen Group said."


def paragraphs(text):
    return text.split("\n\n")


def syndicated(text):
    """A syndicated copy: a credit line added, the last paragraph cut, a few words edited."""
    body = "\n\n".join(paragraphs(text)[:-1])
    body = body.replace("said on Monday", "announced on Monday").replace("told reporters", "told journalists")
    return body + "\n\nThis article first appeared in the Coastal Ledger and is republished with permission."


# --- signatures ----------------------------------------------------------------------------------------------------

def test_tokens_are_normalised_words():
    assert tokens("The PORT’s “new” terminal — 1.2 million, Straße!") == [
        b"the", b"port", b"s", b"new", b"terminal", b"1", b"2", b"million", b"strasse"]
    assert tokens("港口新码头 opens") == [c.encode() for c in "港口新码头"] + [b"opens"]
    assert tokens("ราคา ขึ้น") == [c.encode() for c in "ราคาขึ้น"]   # Thai: no spaces between words


def test_signature_ignores_case_spacing_and_punctuation():
    a = signature(HARBOUR)
    b = signature(HARBOUR.upper().replace(",", "").replace("\n\n", "\n \n  "))
    assert a == b
    assert (a.tokens, a.shingles, len(a.bins)) == (166, 160, 256)


def test_signature_is_the_same_in_another_process():
    """Shingle hashes must not depend on the process (str hashes are salted; ours must not be)."""
    code = ("import pickle, sys; from index.stories import signature; "
            "sys.stdout.buffer.write(pickle.dumps(signature(sys.stdin.read())))")
    env = dict(os.environ, PYTHONHASHSEED="12345", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], input=HARBOUR.encode(), capture_output=True, env=env,
                         check=True, cwd=ROOT).stdout
    assert pickle.loads(out) == signature(HARBOUR)


def test_similarity_of_copy_and_of_other_report():
    j, c = similarity(signature(HARBOUR), signature(syndicated(HARBOUR)))
    assert c >= 0.8 and j >= 0.6
    j, c = similarity(signature(HARBOUR), signature(HARBOUR_OTHER))
    assert c < 0.2


# --- clustering ----------------------------------------------------------------------------------------------------

def test_exact_duplicates_share_a_story():
    ix = StoryIndex()
    assert ix.assign("a", HARBOUR, DAY1) == "a"
    assert ix.assign("b", "  " + HARBOUR.replace("\n\n", "\n") + " ", DAY1) == "a"
    assert ix.story_sizes() == {"a": 2}
    assert ix.stats() == {"articles": 2, "stories": 1, "duplicates": 1}


def test_near_duplicates_share_a_story():
    ix = StoryIndex()
    ix.assign("orig", HARBOUR, DAY1)
    trimmed = "\n\n".join(paragraphs(HARBOUR)[:3])
    boilerplate = "By staff writers\n\n" + HARBOUR + "\n\n(c) 2026 Coastal Ledger. All rights reserved."
    edited = HARBOUR.replace("six weeks", "6 weeks").replace("Monday", "Tuesday").replace("around 900", "about 900")
    for i, body in enumerate([syndicated(HARBOUR), trimmed, boilerplate, edited]):
        assert ix.assign(f"copy{i}", body, DAY1 + timedelta(hours=i)) == "orig", i
    assert ix.story_sizes() == {"orig": 5}
    assert ix.members("orig") == ["orig", "copy0", "copy1", "copy2", "copy3"]
    assert ix.duplicate_pairs() == [("orig", "copy0"), ("orig", "copy1"), ("orig", "copy2"), ("orig", "copy3")]


def test_a_copy_that_arrives_first_is_the_story():
    ix = StoryIndex()
    assert ix.assign("copy", syndicated(HARBOUR), DAY1) == "copy"
    assert ix.assign("orig", HARBOUR, DAY1) == "copy"


def test_same_event_written_independently_is_not_merged():
    ix = StoryIndex()
    ix.assign("a", HARBOUR, DAY1)
    assert ix.assign("b", HARBOUR_OTHER, DAY1) == "b"
    assert ix.story_sizes() == {"a": 1, "b": 1}


def test_short_texts_only_match_exactly():
    ix = StoryIndex()
    assert ix.assign("s1", SHORT, DAY1) == "s1"
    assert ix.assign("s2", SHORT.replace("12 cts vs 12", "12 cts vs 11"), DAY1) == "s2"
    assert ix.assign("s3", SHORT, DAY1) == "s1"
    assert ix.assign("t1", "Markets closed.", DAY1) == "t1"      # fewer than 8 words: never matched
    assert ix.assign("t2", "Markets closed.", DAY1) == "t2"


def test_time_window():
    ix = StoryIndex()
    ix.assign("a", HARBOUR, DAY1)
    later = DAY1 + timedelta(days=10)
    assert ix.assign("near", syndicated(HARBOUR), later) == "near"   # a near copy 10 days on: not the story
    assert ix.assign("exact", HARBOUR, later) == "a"                # a long exact copy: still the story
    assert ix.assign("short", SHORT, DAY1) == "short"
    assert ix.assign("short-later", SHORT, later) == "short-later"   # a recurring bulletin, not a copy
    assert ix.assign("undated", "\n\n".join(paragraphs(HARBOUR)[:4]), None) == "a"   # not held to the window
    no_window = StoryIndex(Thresholds(window_days=None))
    no_window.assign("a", HARBOUR, DAY1)
    assert no_window.assign("near", syndicated(HARBOUR), later) == "a"


def test_members_join_the_first_article_not_a_chain():
    """C is close to B and B to A, but C is far from A: C starts its own story."""
    p = paragraphs(HARBOUR) + paragraphs(HARBOUR_OTHER)
    a = "\n\n".join(p[0:4])
    b = "\n\n".join(p[1:5])
    c = "\n\n".join(p[2:6])
    t = Thresholds(containment=0.6, jaccard=0.2)
    sa, sb, sc = signature(a), signature(b), signature(c)

    def close(x, y):
        j, cont = similarity(x, y)
        return cont >= t.containment and j >= t.jaccard

    assert (close(sa, sb), close(sb, sc), close(sa, sc)) == (True, True, False)
    ix = StoryIndex(t)
    assert [ix.assign(k, body, DAY1) for k, body in (("A", a), ("B", b), ("C", c))] == ["A", "A", "C"]


def test_a_near_exact_copy_of_a_member_joins_its_story():
    t = Thresholds(containment=0.95, jaccard=0.9, member_containment=0.8, member_jaccard=0.6)
    ix = StoryIndex(t)
    ix.assign("A", HARBOUR, DAY1)
    ix.assign("B", HARBOUR + " ", DAY1)   # an exact copy: a member
    assert ix.assign("C", syndicated(HARBOUR), DAY1) == "A"   # too far from A for `containment`, close to B
    strict = StoryIndex(Thresholds(containment=0.95, jaccard=0.9, member_containment=0.95, member_jaccard=0.9))
    strict.assign("A", HARBOUR, DAY1)
    strict.assign("B", HARBOUR + " ", DAY1)
    assert strict.assign("C", syndicated(HARBOUR), DAY1) == "C"


def test_thresholds_are_configurable():
    copy = syndicated(HARBOUR)
    strict = StoryIndex(Thresholds(containment=0.99))
    strict.assign("a", HARBOUR, DAY1)
    assert strict.assign("b", copy, DAY1) == "b"


# --- removal and persistence ---------------------------------------------------------------------------------------

def test_removal_keeps_story_ids():
    ix = StoryIndex()
    ix.assign("orig", HARBOUR, DAY1)
    ix.assign("copy", syndicated(HARBOUR), DAY1)
    assert ix.remove("orig") == "orig"
    assert ix.story_of("copy") == "orig"
    assert ix.story_sizes() == {"orig": 1}
    assert ix.assign("copy2", HARBOUR, DAY1) == "orig"   # the removed first article still anchors its story
    assert ix.remove("missing") is None
    ix.remove("copy")
    ix.remove("copy2")
    assert (ix.story_sizes(), len(ix)) == ({}, 0)
    assert ix.assign("again", HARBOUR, DAY1) == "again"   # a story with no articles left is gone


def test_replacing_an_article_by_id():
    ix = StoryIndex()
    ix.assign("orig", HARBOUR, DAY1)
    ix.assign("copy", syndicated(HARBOUR), DAY1)
    assert ix.assign("orig", HARBOUR + "\n\nUpdated with the harbour master's comments.", DAY1) == "orig"
    assert ix.assign("orig", HARBOUR_OTHER, DAY1) == "orig~2"   # rewritten: it leaves; the copy keeps "orig"
    assert ix.story_sizes() == {"orig": 1, "orig~2": 1}
    assert ix.story_of("copy") == "orig"


def test_save_load_and_join_incrementally(tmp_path):
    path = tmp_path / STORIES_FILE
    ix = StoryIndex(Thresholds(containment=0.75))
    ix.assign("orig", HARBOUR, DAY1)
    ix.assign("other", HARBOUR_OTHER, DAY1)
    ix.assign("s1", SHORT, DAY1)
    ix.assign("gone", syndicated(HARBOUR), DAY1)
    ix.remove("gone")
    ix.save(path)
    assert [p.name for p in tmp_path.iterdir()] == [STORIES_FILE]

    again = StoryIndex.load(path)
    assert again.thresholds == Thresholds(containment=0.75)
    assert again.story_sizes() == {"orig": 1, "other": 1, "s1": 1}
    assert "gone" not in again
    assert again.assign("copy", syndicated(HARBOUR), DAY1 + timedelta(days=1)) == "orig"
    late = syndicated(HARBOUR).replace("Coastal Ledger", "Valmora Post")
    assert again.assign("copy-late", late, DAY1 + timedelta(days=9)) == "copy-late"
    assert again.assign("s2", SHORT, DAY1) == "s1"
    again.save(path)
    third = StoryIndex.load(path, Thresholds())
    assert third.thresholds == Thresholds()
    assert third.story_sizes() == {"orig": 2, "other": 1, "s1": 2, "copy-late": 1}
    assert third.members("orig") == ["orig", "copy"]


def test_save_load_keeps_anchor_and_renamed_story(tmp_path):
    path = tmp_path / STORIES_FILE
    ix = StoryIndex()
    ix.assign("orig", HARBOUR, DAY1)
    ix.assign("copy", syndicated(HARBOUR), DAY1)
    ix.assign("orig", HARBOUR_OTHER, DAY1)   # "orig" now starts story "orig~2"; its old text anchors "orig"
    ix.save(path)
    again = StoryIndex.load(path)
    assert again.story_sizes() == {"orig": 1, "orig~2": 1}
    assert again.assign("copy2", HARBOUR, DAY1) == "orig"


def test_restore_from_documents_keeps_their_story_ids():
    """A lost stories file is rebuilt from the documents, which already carry their story ids."""
    ix = StoryIndex()
    ix.restore("copy", syndicated(HARBOUR), DAY1, "orig")   # "orig" itself was deleted earlier
    ix.restore("other", HARBOUR_OTHER, DAY1, "other")
    ix.restore("s1", SHORT, DAY1, "s1")
    assert ix.story_sizes() == {"orig": 1, "other": 1, "s1": 1}
    assert ix.assign("new", HARBOUR, DAY1) == "orig"
    assert ix.assign("s2", SHORT, DAY1) == "s1"


def test_bad_files_are_refused(tmp_path):
    with pytest.raises(StoriesFileError, match="cannot read stories file"):
        StoryIndex.load(tmp_path / "absent.bin")
    (tmp_path / "junk.bin").write_bytes(b"not a stories file")
    with pytest.raises(StoriesFileError, match="is corrupt"):
        StoryIndex.load(tmp_path / "junk.bin")
    ix = StoryIndex()
    ix.assign("a", HARBOUR, DAY1)
    ix.save(tmp_path / "s.bin")
    data = (tmp_path / "s.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[:-10])
    with pytest.raises(StoriesFileError, match="is corrupt"):
        StoryIndex.load(tmp_path / "cut.bin")
    (tmp_path / "other.bin").write_bytes(data.replace(b'"shingle": 7', b'"shingle": 4'))
    with pytest.raises(StoriesFileError, match="other parameters"):
        StoryIndex.load(tmp_path / "other.bin")


def test_signature_travels_between_processes():
    sig = signature(HARBOUR)
    assert isinstance(sig, Signature)
    assert pickle.loads(pickle.dumps(sig)) == sig
    ix = StoryIndex()
    ix.assign("a", sig, DAY1)
    assert ix.assign("b", signature(syndicated(HARBOUR)), DAY1) == "a"


def test_batch_signatures_equal_one_at_a_time():
    """The builder's batch path (numpy, CPython's tuple hash) gives exactly `signature`'s fields, whatever the
    batch: short and empty bodies, repeated shingles, CJK, long pieces past MAX_TOKENS."""
    import random
    from index.stories import MAX_TOKENS, signatures
    rng = random.Random(4)
    words = "the council met on monday and agreed the budget for harbour works rates rose 3.5 pct".split()
    bodies = ["", "one", "a b c d e f", "a b c d e f g", "東京タワーで式典。大阪でも。", "word " * 50,
              " ".join(rng.choice(words) for _ in range(MAX_TOKENS + 300))]
    bodies += [" ".join(rng.choice(words) for _ in range(rng.randint(0, 400))) for _ in range(120)]
    bodies += [" ".join(str(rng.randrange(10 ** 9)) for _ in range(rng.randint(0, 200))) for _ in range(60)]
    expected = [signature(b) for b in bodies]
    for size in (1, 3, 48, len(bodies)):
        got = [sig for i in range(0, len(bodies), size) for sig in signatures(bodies[i:i + size])]
        assert got == expected, size
    assert signatures([]) == []


def test_lsh_table_finds_every_entry_after_growing():
    """The band table grows by refilling itself with numpy: every key still finds exactly its ordinals."""
    import random
    from index.stories import _Table
    rng = random.Random(8)
    table, expected = _Table(), {}
    for o in range(6000):
        keys = [rng.randrange(1 << 32) for _ in range(3)] + [rng.choice((7, 1 << 31, 12345))]   # some keys shared
        table.add(keys, o)
        for k in keys:
            expected.setdefault(k, set()).add(o)
    assert len(table.slots) >= 4 * 6000   # it grew, more than once
    for k, ordinals in expected.items():
        assert table.get([k]) == ordinals
    assert table.get([424242424]) == set() or 424242424 in expected


def test_a_generations_stories_open_from_base_and_log_as_they_were_kept(tmp_path):
    """Random assignments, replacements and removals, logged commit by commit, with compactions and a frame of a
    commit that never happened: every reopening answers as the clusterer that saw it all in memory, and so does
    the copies map read from the frames since the commit before (a running server's read), across compactions."""
    import random
    from index import storyfile
    from index.stories import read_story_map, read_story_map_since
    rng = random.Random(14)
    words = ("harbour council budget river election trade minister court bridge museum festival vaccine railway "
             "strike coffee drought orchestra satellite glacier port ship union talks pay berth vessel").split()
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(20, 80))) for _ in range(20)]

    def body():
        text, k = rng.choice(texts), rng.random()
        if k < 0.6:   # a copy, or a copy with a credit line
            return text if k < 0.3 else text + " " + " ".join(rng.choice(words) for _ in range(rng.randint(1, 8)))
        return " ".join(rng.choice(words) for _ in range(rng.randint(3, 60)))   # short ones, exact copies

    memory, kept = StoryIndex(), StoryIndex()
    kept.compact(tmp_path, 0)
    toc, ids = 0, [f"a{i}" for i in range(40)]
    known = read_story_map_since(tmp_path, 0)[1]
    incremental = 0   # reads that took the read before them (the base map not rewritten in between)
    for step in range(300):
        aid = rng.choice(ids)
        if rng.random() < 0.75:
            sig, when = signature(body()), DAY1 + timedelta(days=rng.randint(0, 8))
            assert memory.assign(aid, sig, when) == kept.assign(aid, sig, when), step
        else:
            assert memory.remove(aid) == kept.remove(aid), step
        if rng.random() < 0.15:   # a commit
            toc += 1
            kept.log_changes(tmp_path, toc)
            if rng.random() < 0.2:
                kept.compact(tmp_path, toc)
            if rng.random() < 0.2:   # a run killed after logging, before its commit: skipped, then cut off
                other = StoryIndex.open(tmp_path, toc)
                other.assign("never", signature(texts[0]), DAY1)
                other.log_changes(tmp_path, toc + 1)
                assert read_story_map(tmp_path, toc) == memory.copies()
                storyfile.discard_uncommitted(tmp_path, toc)
            kept.close()
            kept = StoryIndex.open(tmp_path, toc)
            assert read_story_map(tmp_path, toc) == memory.copies(), step
            before = known
            copies, known = read_story_map_since(tmp_path, toc, known)
            assert copies == memory.copies(), step
            incremental += known[0] == before[0]
        assert [kept.story_of(a) for a in ids] == [memory.story_of(a) for a in ids], step
        assert kept.stats() == memory.stats(), step
    assert kept.story_sizes() == memory.story_sizes() and sorted(kept.article_ids()) == sorted(memory.article_ids())
    assert incremental > 5
    assert sorted(kept.duplicate_pairs()) == sorted(memory.duplicate_pairs())


def test_a_frame_cut_short_by_a_kill_is_ignored_and_cut_off(tmp_path):
    from index import storyfile
    ix = StoryIndex()
    ix.assign("orig", HARBOUR, DAY1)
    ix.compact(tmp_path, 1)
    ix.assign("copy", syndicated(HARBOUR), DAY1)
    ix.log_changes(tmp_path, 2)
    whole = (tmp_path / storyfile.STORY_LOG_FILE).stat().st_size
    ix.assign("later", HARBOUR_OTHER, DAY1)
    ix.log_changes(tmp_path, 3)
    log = tmp_path / storyfile.STORY_LOG_FILE
    log.write_bytes(log.read_bytes()[:-5])   # the last frame, cut short
    again = StoryIndex.open(tmp_path, 3)
    assert again.story_sizes() == {"orig": 2} and "later" not in again
    assert storyfile.discard_uncommitted(tmp_path, 3) > 0 and log.stat().st_size == whole


def test_an_add_reads_only_the_pages_it_needs(tmp_path):
    """A base opens without parsing: its size does not show in the memory opening it and assigning cost."""
    import random
    import tracemalloc
    rng = random.Random(3)
    texts = [" ".join(f"w{rng.randrange(10 ** 6)}" for _ in range(60)) for _ in range(3000)]
    ix = StoryIndex()
    for i, text in enumerate(texts):
        ix.assign(f"s{i}", text, DAY1)
    ix.compact(tmp_path, 1)
    size = (tmp_path / STORIES_FILE).stat().st_size
    tracemalloc.start()
    try:
        opened = StoryIndex.open(tmp_path, 1)
        assert opened.assign("copy", texts[1234] + " Copyright Wire.", DAY1) == "s1234"
        assert opened.assign("new", " ".join(f"v{rng.randrange(10 ** 6)}" for _ in range(60)), DAY1) == "new"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(opened) == 3002 and size > 600_000 and peak < size / 20, (peak, size)
