"""docs/architecture.md names only files that exist, and its "where does X live" table covers
every module of connectors/, transforms/ and pipeline/ (a newcomer finds any home in one hop)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def _named_files() -> set[str]:
    return set(re.findall(r"[\w./-]*[\w-]+\.(?:py|json|sh|md|xml|yaml)\b", DOC))


def test_every_file_the_architecture_doc_names_exists():
    modules = {p.name for p in ROOT.rglob("*.py") if ".venv" not in p.parts}
    missing = []
    for name in _named_files():
        if "/" in name:
            if not (ROOT / name).exists():
                missing.append(name)
        elif name.endswith(".py") and name not in modules:
            missing.append(name)
    assert missing == []


def test_every_module_is_placed_in_the_doc():
    placed = {Path(n).name for n in _named_files()}
    unplaced = [str(p.relative_to(ROOT)) for package in ("connectors", "transforms", "pipeline")
                for p in sorted((ROOT / package).rglob("*.py"))
                if p.name != "__init__.py" and p.name not in placed]
    assert unplaced == []
