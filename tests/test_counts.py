"""docs/graph-counts.md is the table exokg.counts writes from the curated files, and it counts what the review has."""

from __future__ import annotations

from exokg.config import GRAPH_DIR
from exokg.counts import REPORT_COMMAND, current_report


def test_graph_counts_report_is_current():
    assert (GRAPH_DIR.parent / "docs" / "graph-counts.md").read_text(encoding="utf-8") == current_report(), f"regenerate: {REPORT_COMMAND}"


def test_the_table_rows_count_the_review_tables():
    rows = {line.split(" | ")[0].strip("| "): line for line in current_report().splitlines() if line.startswith("| Table")}
    # Tables 1-6 of the review have 8, 3, 14, 6, 9 and 3 rows
    header = next(line for line in current_report().splitlines() if line.startswith("| section"))
    column = [c.strip() for c in header.strip("|").split("|")].index("table finding")
    found = {name: [c.strip() for c in line.strip("|").split("|")][column] for name, line in rows.items()}
    assert found == {"Table 1": "8", "Table 2": "3", "Table 3": "14", "Table 4": "6", "Table 5": "9", "Table 6": "3"}
