"""Curated relations between review entities (``graph/vocabulary/relations.tsv``: part of, resistance to).

They are asserted, not inferred, but the reasoning step reads them beside the asserted graph (the build
passes them as an extra labelled graph), so that a clash they cause is traced to their row.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph

from exokg.config import EXO, GRAPH_DIR, REVIEW_TEXT
from exokg.graph.curated import Corpus, CurationError, Origin, Problem, normalize_for_quote

RELATIONS_FILE = "relations.tsv"  # under the curated vocabulary/ folder
RELATION_COLUMNS = ["subject", "predicate", "object", "quote", "note"]
RELATION_PREDICATES = ("exo:partOf", "exo:resistanceTo")


def relation_triples(corpus: Corpus, graph_dir: Path = GRAPH_DIR, path: Path | None = None) -> Graph:
    """The curated relations (part of, resistance to) between review entities, checked like any curated row.

    Read from ``graph_dir/vocabulary/relations.tsv`` (or ``path``); a curated directory without one has none.
    """
    from exokg.graph.triples import TripleWriter  # the same minting as every other node
    from exokg.ontology.vocabulary import vocabulary

    path = path or graph_dir / "vocabulary" / RELATIONS_FILE
    graph = Graph()
    if not path.is_file():
        return graph
    writer = TripleWriter(corpus, Graph(), vocabulary().class_by_label)
    own_review = graph_dir / "source" / "review.txt"
    review = normalize_for_quote((own_review if own_review.is_file() else REVIEW_TEXT).read_text(encoding="utf-8"))
    problems: list[Problem] = []
    data = path.read_bytes()
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:  # name the line, as the curated reader does
        line = data[: exc.start].count(b"\n") + 1
        raise CurationError([Problem(Origin(path, line), f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}")]) from None
    if not lines or lines[0].split("\t") != RELATION_COLUMNS:
        raise CurationError([Problem(Origin(path, 1), f"header must be: {' '.join(RELATION_COLUMNS)}")])
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        origin = Origin(path, number)
        cells = line.split("\t")
        if len(cells) != len(RELATION_COLUMNS):
            problems.append(Problem(origin, f"expected {len(RELATION_COLUMNS)} columns, found {len(cells)}"))
            continue
        row = dict(zip(RELATION_COLUMNS, cells))
        if row["predicate"] not in RELATION_PREDICATES:
            problems.append(Problem(origin, f"predicate {row['predicate']!r} is not one of {RELATION_PREDICATES}"))
            continue
        nodes = []
        for column in ("subject", "object"):
            key = row[column]
            if key.startswith("exo:") and key[4:] in vocabulary().terms:
                nodes.append(EXO[key[4:]])
            elif key in corpus.entities:
                nodes.append(writer.entity(key))
            else:
                problems.append(Problem(origin, f"unknown {column} {key!r}: an entities.tsv key or an exo: term"))
        if normalize_for_quote(row["quote"]) not in review:
            problems.append(Problem(origin, f"quote not found in the review text: {row['quote'][:60]!r}…"))
        if len(nodes) == 2:
            graph.add((nodes[0], EXO[row["predicate"][4:]], nodes[1]))
    if problems:
        raise CurationError(problems)
    return graph
