"""Competency questions a glioma/EV researcher asks, with answers written from the review.

Each query lives in tests/competency/*.rq; its expected rows are the ``# expect:`` lines inside the file
(columns separated by '|', an empty column for an unbound value). The asserted graph answers them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import select

QUERIES = sorted((Path(__file__).parent / "competency").glob("*.rq"))


def expected_rows(text: str) -> set[tuple[str, ...]]:
    return {
        tuple(cell.strip() for cell in line.split("expect:", 1)[1].split("|"))
        for line in text.splitlines()
        if line.startswith("# expect:")
    }


def test_there_are_at_least_15_questions():
    assert len(QUERIES) >= 15


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_competency_question(union, path):
    text = path.read_text(encoding="utf-8")
    assert set(select(union, text)) == expected_rows(text)
