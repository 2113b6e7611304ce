"""Synthetic graphs shaped like the review's, ``scale`` times its size: the input of the validation, reasoning and
performance benchmarks.

``generate(scale, seed)`` returns an asserted graph made of ``scale`` copies of the review's asserted graph.
Copy 0 is the review itself; copy k renames every node the build mints (``finding/TME-004`` →
``finding/TME-4004``, ``molecule/miR-21`` → ``molecule/miR-21-s4``, ``reference/74`` → ``reference/4074``), keeps
its labels, quotes and origins, and rewires each finding's and claim's links to the vocabulary (populations,
molecules, processes, pathways, references…) to the same node of a copy drawn at random (the review's
included), so that the copies share cargos, cells and citations like papers of one field do instead of
forming ``scale`` islands. The result
conforms to the shapes exactly when the review does; the same ``scale`` and ``seed`` give the same triples.

    python bench/synthetic.py 100 [--seed 7] [--out syn100.nt]   # sorted N-Triples; no --out: stdout
    python bench/synthetic.py --triples 10000000 --out syn1e7.nt   # streamed, copy by copy

Sized by triple count (``--triples``, :func:`stream_ntriples`), the copies are written one at a time as
N-Triples, never held together: memory stays that of the review graph whatever the size. Below one copy
the review's first whole subjects (in sorted order) are written: a fragment, not a conforming graph.
:func:`finding_rows` writes the same copies of the review's table findings as curated rows (the table TSV
format), the input of the parse and build steps of bench/scaling.py.

The ontology is not copied: use the review's (``exokg.build.assemble()[0]["ontology"]``) beside it.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDFS, XSD

from exokg.config import BASE, EXO, IRI_SEGMENTS

# Nodes a finding or claim is made of: renamed within their copy, never rewired to another copy.
OWN_PARTS = {"finding", "vesicle", "claim", "biomarker"}
SHARED = {"source"}  # the review's sections: one set for all copies
CLAIM_ID = re.compile(r"\b([A-Z]+)-(\d{3})\b")  # TME-004, VES-001, TMEC-031: every curated id
# Share of links from a copy's findings to a vocabulary node that stay inside the copy; the rest go to a
# random copy's node. Half and half gives one connected graph with the review's per-node degree on average.
STAY = 0.5


@lru_cache(maxsize=1)
def review_asserted() -> Graph:
    from exokg.build import assemble

    graphs, _ = assemble()
    return graphs["asserted"]


def _segment(node) -> tuple[str, str] | None:
    """(kind, local part) of a node minted under BASE, else None."""
    if not isinstance(node, URIRef) or not str(node).startswith(BASE) or str(node).startswith(str(EXO)):
        return None
    kind, _, local = str(node)[len(BASE):].partition("/")
    return (kind, local) if kind in IRI_SEGMENTS.values() and local else None


def _new_id(match: re.Match, copy: int) -> str:
    return f"{match.group(1)}-{copy}{match.group(2)}"


class _Copier:
    def __init__(self, scale: int, seed: int):
        self.scale = scale
        self.seed = seed

    def pick(self, copy: int, node: URIRef) -> int:
        """Which copy's ``node`` the findings of ``copy`` link to: fixed per (seed, copy, node)."""
        if copy == 0:  # the review stays as it is
            return 0
        rng = random.Random(f"{self.seed}/{copy}/{node}")
        return copy if rng.random() < STAY else rng.randrange(self.scale)

    def rename(self, node, copy: int):
        parts = _segment(node)
        if parts is None or copy == 0 or parts[0] in SHARED:
            return node
        kind, local = parts
        if kind in OWN_PARTS:
            return URIRef(f"{BASE}{kind}/{CLAIM_ID.sub(lambda m: _new_id(m, copy), local, count=1)}")
        if kind == "reference":
            return URIRef(f"{BASE}reference/{copy * 1000 + int(local)}")
        return URIRef(f"{BASE}{kind}/{local}-s{copy}")

    def literal(self, subject, predicate, value: Literal, copy: int) -> Literal:
        if copy == 0:
            return value
        parts = _segment(subject)
        if parts and parts[0] == "reference" and "/" not in parts[1]:
            number = copy * 1000 + int(parts[1])
            if predicate == EXO.referenceNumber:
                return Literal(number, datatype=XSD.integer)
            if predicate == RDFS.label:
                return Literal(f"[{number}]", lang=value.language)
        if predicate in (RDFS.label, DCTERMS.identifier):
            text = CLAIM_ID.sub(lambda m: _new_id(m, copy), str(value))
            return Literal(text, lang=value.language, datatype=value.datatype)
        return value

    def copy(self, graph: Graph, triples: list, copy: int) -> None:
        for triple in self.triples(triples, copy):
            graph.add(triple)

    def triples(self, triples: list, copy: int) -> Iterator[tuple]:
        """The triples of copy ``copy`` of the review's ``triples``; each copy's are distinct from the others'."""
        picks: dict[URIRef, int] = {}  # one draw per vocabulary node and copy, as pick() would give
        for s, p, o in triples:
            subject_parts = _segment(s)
            if copy > 0 and subject_parts and subject_parts[0] in SHARED:
                continue  # described once, by copy 0
            new_s = self.rename(s, copy)
            if isinstance(o, Literal):
                new_o = self.literal(s, p, o, copy)
            else:
                target = _segment(o)
                rewire = (target and target[0] not in OWN_PARTS and target[0] not in SHARED
                          and subject_parts and subject_parts[0] in OWN_PARTS)
                if rewire and o not in picks:
                    picks[o] = self.pick(copy, o)
                new_o = self.rename(o, picks[o] if rewire else copy)
            yield new_s, p, new_o


def generate(scale: int, seed: int = 7) -> Graph:
    """The asserted graph of ``scale`` copies of the review (scale 1: the review itself)."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    review = sorted(review_asserted())  # a fixed order, whatever the hash seed
    copier = _Copier(scale, seed)
    graph = Graph()
    for copy in range(scale):
        copier.copy(graph, review, copy)
    return graph


# --- sized by triple count, streamed -----------------------------------------------------------------
def _shared_count(review: list) -> int:
    return sum(1 for s, _, _ in review if (_segment(s) or ("",))[0] in SHARED)


def copies_for(triples: int) -> int:
    """How many copies of the review come closest to ``triples`` triples (at least one)."""
    review = sorted(review_asserted())
    per_copy = len(review) - _shared_count(review)
    return max(1, round((triples - _shared_count(review)) / per_copy))


def nt_term(term) -> str:
    """A term as N-Triples (https://www.w3.org/TR/n-triples/#grammar-production-literal)."""
    if isinstance(term, Literal):
        text = str(term).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        if term.language:
            return f'"{text}"@{term.language}'
        return f'"{text}"^^<{term.datatype}>' if term.datatype else f'"{text}"'
    return f"<{term}>" if isinstance(term, URIRef) else term.n3()


def iter_triples(triples: int, seed: int = 7) -> Iterator[tuple]:
    """About ``triples`` triples: the copies of :func:`generate` (``copies_for(triples)`` of them), one at a time."""
    review = sorted(review_asserted())
    if triples < len(review):  # a fragment of the review: its first whole subjects
        subject = None
        for count, triple in enumerate(review):
            if count >= triples and triple[0] != subject:
                return
            subject = triple[0]
            yield triple
        return
    copies = copies_for(triples)
    copier = _Copier(copies, seed)
    for copy in range(copies):
        yield from copier.triples(review, copy)


def stream_ntriples(triples: int, out: TextIO, seed: int = 7, progress=None) -> int:
    """Write about ``triples`` triples to ``out`` as N-Triples, copy by copy; return how many were written.

    ``progress(written)`` is called every 100,000 triples. The lines are in a fixed order (not sorted).
    """
    cache: dict = {}  # the review's own terms, serialized once (renamed ones change with every copy)
    written = 0
    for s, p, o in iter_triples(triples, seed):
        line = []
        for term in (s, p, o):
            text = cache.get(term)
            if text is None:
                text = nt_term(term)
                if len(cache) < 200_000:
                    cache[term] = text
            line.append(text)
        out.write(f"{line[0]} {line[1]} {line[2]} .\n")
        written += 1
        if progress is not None and written % 100_000 == 0:
            progress(written)
    return written


def finding_rows(copies: int, out: TextIO) -> int:
    """The review's table findings as ``copies`` curated copies (copy k renames TME-004 to TME-k004), in the
    table TSV format, for ``curated.load(extra_finding_files=...)``; copy 0 (the review's own rows) is left out.

    The curated reader's ids have exactly three digits: a caller reading more than one copy widens that
    rule (bench/scaling.py does). Returns the number of rows written.
    """
    from exokg.config import GRAPH_DIR
    from exokg.graph.curated import FINDING_COLUMNS, TABLE_FILES

    rows = []
    for name in TABLE_FILES:
        lines = (GRAPH_DIR / "tables" / name).read_text(encoding="utf-8").splitlines()
        rows += [line.split("\t") for line in lines[1:] if line.strip()]
    out.write("\t".join(FINDING_COLUMNS) + "\n")
    written = 0
    for copy in range(1, copies + 1):
        for cells in rows:
            renamed = [CLAIM_ID.sub(lambda m: _new_id(m, copy), cells[0], count=1)] + cells[1:]
            out.write("\t".join(renamed) + "\n")
            written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scale", type=int, nargs="?", help="how many times the review's size")
    parser.add_argument("--triples", type=float, help="about this many triples instead (1e6…), streamed")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="write N-Triples here (default: standard output)")
    args = parser.parse_args(argv)
    if (args.scale is None) == (args.triples is None):
        parser.error("give a scale or --triples, not both")
    if args.triples is not None:
        target = int(args.triples)
        show = sys.stderr.isatty()
        report = (lambda n: print(f"\r{n:,} triples", end="", file=sys.stderr, flush=True)) if show else None
        with (open(args.out, "w", encoding="utf-8") if args.out else sys.stdout) as out:
            written = stream_ntriples(target, out, args.seed, report)
        print(("\n" if show else "") + f"{written} triples (target {target}, seed {args.seed})", file=sys.stderr)
        return 0
    graph = generate(args.scale, args.seed)
    lines = sorted(graph.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines())
    data = "\n".join(line for line in lines if line.strip()) + "\n"
    if args.out:
        args.out.write_text(data, encoding="utf-8")
    else:
        sys.stdout.write(data)
    print(f"{len(graph)} triples ({args.scale}× the review, seed {args.seed})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
