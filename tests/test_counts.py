"""docs/graph-counts.md is the table exokg.counts writes from the curated files, and it counts what the review has."""

from __future__ import annotations

from dataclasses import replace

import pytest

from exokg.config import GRAPH_DIR, REVIEW_TEXT
from exokg.counts import REPORT_COMMAND, claim_lines, current_report
from exokg.coverage import coverage
from exokg.graph.curated import load, normalize_for_quote


def test_graph_counts_report_is_current():
    assert (GRAPH_DIR.parent / "docs" / "graph-counts.md").read_text(encoding="utf-8") == current_report(), f"regenerate: {REPORT_COMMAND}"


def test_the_table_rows_count_the_review_tables():
    rows = {line.split(" | ")[0].strip("| "): line for line in current_report().splitlines() if line.startswith("| Table")}
    # Tables 1-6 of the review have 8, 3, 14, 6, 9 and 3 rows
    header = next(line for line in current_report().splitlines() if line.startswith("| section"))
    column = [c.strip() for c in header.strip("|").split("|")].index("table finding")
    found = {name: [c.strip() for c in line.strip("|").split("|")][column] for name, line in rows.items()}
    assert found == {"Table 1": "8", "Table 2": "3", "Table 3": "14", "Table 4": "6", "Table 5": "9", "Table 6": "3"}


# --- the running text against what is curated from it (exokg.coverage) ------------------------------------

@pytest.fixture(scope="module")
def audit():
    corpus = load()
    return corpus, {c.section: c for c in coverage(corpus, REVIEW_TEXT.read_text(encoding="utf-8"))}


# Counted by hand in the review: the abstract's eight sentences, its scope sentence and the keyword line; the
# introduction's fifteen; the biomarker section's eight; Fig. 4's legend is its title alone.
@pytest.mark.parametrize("section,sentences", [
    ("Abstract", 10), ("Introduction", 15), ("TEXs serve as diagnostic and prognostic biomarkers in glioma", 8), ("Fig. 4", 1),
])
def test_a_section_has_the_sentences_the_review_gives_it(audit, section, sentences):
    assert len(audit[1][section].sentences) == sentences


def test_the_flattened_tables_are_not_sentences_of_the_running_text(audit):
    text = "".join(s for c in audit[1].values() for s in c.sentences)
    assert "Donorcell" not in text and "Exosomalcargos" not in text
    # the sentence Table 1 splits in the PDF text is whole again
    assert any("grownunderhypoxicconditionsarepotentproliferationinducers" in s for s in audit[1]["The roles of TEXs in TME"].sentences)


def test_every_sentence_of_the_running_text_holds_a_claim_or_is_left_out(audit):
    assert {section: c.missing for section, c in audit[1].items() if c.missing} == {}


def test_a_sentence_whose_claims_are_removed_is_reported(audit):
    corpus, _ = audit
    sentence = "Complete removal of tumor tissues by surgery is difficult."
    kept = replace(corpus, text_claims=[c for c in corpus.text_claims if sentence not in c.quote])
    found = {c.section: c for c in coverage(kept, REVIEW_TEXT.read_text(encoding="utf-8"))}
    assert found["Abstract"].missing == [normalize_for_quote(sentence)]
    assert "- Abstract: Completeremovaloftumortissuesbysurgeryisdifficult." in claim_lines(kept)
