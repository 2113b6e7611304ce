"""Which sentences of the review's running text the curated claims account for (the denominator of issue 14's
"claims curated against claims the section makes").

The review text comes from a PDF: its tables are flattened one cell per line inside the running text, and its
figure legends sit between paragraphs. The text is cut into sections at the headings the curated files name
(a claim's or left-out row's ``section``); each table is removed from the line "Table k Overview" to its k-th
table's last reference cell (the table has as many reference cells as curated rows); a figure legend
("Fig. N …") is its own section "Fig. N", ending at a blank line, a table or an indented line (where the PDF
text resumes a paragraph). What is left is split into sentences, whitespace removed: a sentence ends at a '.'
followed by a capital letter, or at a '.' right after a closing reference bracket ("[103]. circ_0072083 …").
A sentence is accounted for when a claim's or a left-out row's quote lies in it (or it in the quote: a quote
may run across a sentence end).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from exokg.graph.curated import Corpus, normalize_for_quote

TABLE_START = re.compile(r"\s*Table (\d) Overview")
REFERENCE_CELL = re.compile(r"\s*\[[\d,\s–-]+\]\s*")
LEGEND_START = re.compile(r"\s*(Fig\. \d)\s")
OVERLAP = 40  # characters of a quote's start or end that place it in a sentence it runs out of


@dataclass
class SectionCoverage:
    section: str
    sentences: list[str] = field(default_factory=list)  # whitespace-free, in reading order
    claimed: list[bool] = field(default_factory=list)  # holds a claim's quote
    left_out: list[bool] = field(default_factory=list)  # holds a left-out row's quote

    @property
    def with_claim(self) -> int:
        return sum(self.claimed)

    @property
    def missing(self) -> list[str]:
        return [s for s, c, l in zip(self.sentences, self.claimed, self.left_out) if not (c or l)]


def _table_rows(corpus: Corpus) -> Counter:
    """Table number ("1"…"6") → its curated rows."""
    return Counter(f.source[len("Table "):] for f in corpus.findings if f.source.startswith("Table "))


def _prose_by_section(lines: list[str], headings: set[str], table_rows: Counter) -> dict[str, list[str]]:
    """The running text of each section (keyed by its whitespace-free heading, or "Fig. N"), lines in order,
    tables removed and legends apart."""
    by_section: dict[str, list[str]] = {}
    section, legend = "", None
    i = 0
    while i < len(lines):
        line = lines[i]
        two = normalize_for_quote(line + (lines[i + 1] if i + 1 < len(lines) else ""))
        one = normalize_for_quote(line)
        if one and one in headings:
            section, legend, i = one, None, i + 1
            continue
        if one and two in headings:  # a heading the PDF broke over two lines
            section, legend, i = two, None, i + 2
            continue
        table = TABLE_START.match(line)
        if table:
            remaining, legend = table_rows.get(table.group(1), 0), None
            while i < len(lines) and remaining:
                remaining -= bool(REFERENCE_CELL.fullmatch(lines[i]))
                i += 1
            continue
        start = LEGEND_START.match(line)
        if start:
            legend = start.group(1)
        elif legend and (not line.strip() or line[:1].isspace()):
            legend = None
        by_section.setdefault(legend or section, []).append(line)
        i += 1
    return by_section


def _holds(sentence: str, quote: str) -> bool:
    return quote in sentence or sentence in quote or quote[:OVERLAP] in sentence or quote[-OVERLAP:] in sentence


def sentences(text: str) -> list[str]:
    """Whitespace-free sentences: a sentence ends at '.' before a capital letter or after a reference bracket."""
    flat = normalize_for_quote(text)
    cuts = [0] + [m.start() + 1 for m in re.finditer(r"\.(?=[A-Z])|(?<=\])\.(?=.)", flat)] + [len(flat)]
    return [flat[a:b] for a, b in zip(cuts, cuts[1:]) if flat[a:b]]


def coverage(corpus: Corpus, review_text: str) -> list[SectionCoverage]:
    """Per running-text section the curated files name: its sentences and whether each is accounted for."""
    names = {c.section for c in corpus.text_claims} | {r.section for r in corpus.left_out}
    headings = {normalize_for_quote(n): n for n in names if not LEGEND_START.match(n + " ")}
    # a quote filed under another section (a sentence the PDF text broke around a legend) still counts
    claim_quotes = [normalize_for_quote(c.quote) for c in corpus.text_claims]
    left_quotes = [normalize_for_quote(r.quote) for r in corpus.left_out]
    prose = _prose_by_section(review_text.split("\n"), set(headings), _table_rows(corpus))
    found = []
    for key, lines in prose.items():
        section = headings.get(key, key)
        if section not in names:
            continue  # the title block before the abstract, or a section nothing is curated from yet
        report = SectionCoverage(section)
        for sentence in sentences("\n".join(lines)):
            report.sentences.append(sentence)
            report.claimed.append(any(_holds(sentence, q) for q in claim_quotes))
            report.left_out.append(any(_holds(sentence, q) for q in left_quotes))
        found.append(report)
    return sorted(found, key=lambda c: c.section)
