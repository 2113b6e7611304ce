"""The running-text claim files (graph/text/claims/): exact header, ids unique, sorted and prefixed per
file, every quote found in the review (after the build's normalization). See graph/text/claims/README.md."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from exokg.config import GRAPH_DIR
from exokg.graph.curated import normalize_for_quote

CLAIMS = GRAPH_DIR / "text" / "claims"
HEADER = "id section kind subject relation object qualifiers reference quote restates note".split()
LEFT_OUT_HEADER = ["section", "quote", "reason"]
CLAIM_FILES = sorted(CLAIMS.glob("*.tsv"))
LEFT_OUT_FILES = sorted((CLAIMS / "left_out").glob("*.tsv"))


def _rows(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def review() -> str:
    return normalize_for_quote((GRAPH_DIR / "source" / "review.txt").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", CLAIM_FILES + LEFT_OUT_FILES, ids=lambda p: str(p.relative_to(CLAIMS)))
def test_every_quote_is_in_the_review(path, review):
    header, rows = _rows(path)
    assert header == (LEFT_OUT_HEADER if path.parent.name == "left_out" else HEADER)
    missing = [f"{path.name}:{line}" for line, row in enumerate(rows, start=2)
               if normalize_for_quote(row["quote"]) not in review]
    assert not missing


@pytest.mark.parametrize("path", CLAIM_FILES, ids=lambda p: p.name)
def test_ids_are_unique_sorted_and_share_one_prefix(path):
    ids = [row["id"] for row in _rows(path)[1]]
    assert ids and ids == sorted(set(ids))
    assert len({identifier.rsplit("-", 1)[0] for identifier in ids}) == 1
