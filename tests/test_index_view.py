"""The searcher's read interface is declared (search/view.py IndexView): Snapshot implements every member, and
the rest of search/ uses no member of a snapshot that the Protocol does not declare."""
from __future__ import annotations

import ast
from pathlib import Path

from search.snapshot import Snapshot
from search.view import IndexView
from tests.test_builder import make_folder

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT_NAMES = {"snap", "_snap"}   # how search/ names a snapshot: snap.x, self.snap.x, self._snap.x


def declared() -> set[str]:
    tree = ast.parse((ROOT / "search" / "view.py").read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "IndexView")
    names = set()
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def used_by_search() -> dict[str, set[str]]:
    """{member: modules} of every `snap.member` (or `self.snap.member`) outside the snapshot and the Protocol."""
    used: dict[str, set[str]] = {}
    for path in sorted((ROOT / "search").glob("*.py")):
        if path.name in ("snapshot.py", "view.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute):
                continue
            owner = node.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
            if name in SNAPSHOT_NAMES:
                used.setdefault(node.attr, set()).add(path.name)
    return used


def test_search_uses_only_the_declared_members_of_a_snapshot():
    used = used_by_search()
    assert {"facet", "stories", "live", "postings"} <= set(used)   # the parse finds them
    undeclared = {member: sorted(mods) for member, mods in used.items() if member not in declared()}
    assert undeclared == {}


def test_a_snapshot_implements_every_declared_member(tmp_path):
    from index.builder import build_index

    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "in", 4)], root, workers=1)
    snap = Snapshot(root)
    try:
        missing = sorted(name for name in declared() if not hasattr(snap, name))
        assert missing == []
        assert isinstance(snap, IndexView)
    finally:
        snap.close()
