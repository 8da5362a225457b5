"""ARCHITECTURE.md stays true: every module it names exists, every module is described, and the layers import
only what it says they may."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTE = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
PACKAGES = ("index", "search", "web")


def modules() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for pkg in PACKAGES for p in (ROOT / pkg).glob("*.py")
                  if p.name != "__init__.py")


def imports_of(path: Path) -> set[str]:
    """Top-level package names a module imports (anywhere in it, functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_every_module_named_exists():
    named = set(re.findall(r"`((?:index|search|web)/[\w/]+\.(?:py|json))`", NOTE))
    assert named
    missing = sorted(n for n in named if not (ROOT / n).exists())
    assert missing == []


def test_every_module_has_its_line():
    described = set(re.findall(r"^\| `((?:index|search|web)/\w+\.py)` \|", NOTE, re.M))
    assert sorted(set(modules()) - described) == []


def test_layers_import_only_what_the_note_allows():
    wrong = []
    for name in modules():
        pkg, used = name.split("/")[0], imports_of(ROOT / name)
        if pkg == "index" and used & {"search", "web"}:
            wrong.append(f"{name} imports {sorted(used & {'search', 'web'})}")
        if pkg == "search" and "web" in used:
            wrong.append(f"{name} imports web")
        if pkg == "web" and name != "web/cli.py" and "index" in used:
            wrong.append(f"{name} imports index")
    assert wrong == []


def test_search_takes_from_index_only_the_listed_modules():
    listed = set(re.findall(r"^\| `index/(\w+)\.py` \| [^|]*\|$", NOTE.split("## The path of an article")[0], re.M))
    taken = set()
    for name in modules():
        if name.startswith("search/"):
            tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("index"):
                    parts = node.module.split(".")
                    taken.update([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
    assert sorted(taken - listed) == []
