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

The ontology is not copied: use the review's (``exokg.build.assemble()[0]["ontology"]``) beside it.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDFS, XSD

from exokg.config import BASE, EXO, IRI_SEGMENTS

# Nodes a finding or claim is made of: renamed within their copy, never rewired to another copy.
OWN_PARTS = {"finding", "vesicle", "claim", "biomarker"}
SHARED = {"source"}  # the review's sections: one set for all copies
CLAIM_ID = re.compile(r"\b(TME|RT|CHEMO|INV|ANG|GROW|TXT|VES|BIO)-(\d{3})\b")
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
                new_o = self.rename(o, self.pick(copy, o) if rewire else copy)
            graph.add((new_s, p, new_o))


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scale", type=int, help="how many times the review's size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="write sorted N-Triples here (default: standard output)")
    args = parser.parse_args(argv)
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
