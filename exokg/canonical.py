"""Byte-identical N-Triples for the same graph, whatever order rdflib keeps its triples in or labels its
blank nodes: the dumps, and the OWL API's input, are the same file for the same graph in every build."""

from __future__ import annotations

from functools import lru_cache

from rdflib import BNode, Graph
from rdflib.compare import to_canonical_graph


def sorted_ntriples(graph: Graph) -> bytes:
    """Byte-identical for the same graph: canonical blank-node labels, lines sorted.

    Only the triples that touch a blank node are canonicalized (the labels depend on those alone), which
    spares rdflib's costly canonicalization the bulk of the graph.
    """
    plain, blank = _parts(graph)
    return _sorted(plain + list(_canonical_lines(blank)))


def sorted_dumps(graphs: dict[str, Graph]) -> tuple[bytes, bytes]:
    """Sorted N-Quads of the named graphs (graph IRI → graph) and sorted N-Triples of their union.

    One N-Triples serialization per graph serves both (the review build serialized every triple twice); the
    union's blank nodes are canonicalized over the union, as :func:`sorted_ntriples` of the union would.
    """
    quads, union_plain, union_blank = [], [], set()
    for iri, graph in graphs.items():
        plain, blank = _parts(graph)
        context = f" <{iri}> .\n"
        quads += [line[: -len(" .")] + context for line in set(plain + list(_canonical_lines(blank))) if line.strip()]
        union_plain += plain
        union_blank |= blank
    return "".join(sorted(quads)).encode("utf-8"), _sorted(union_plain + list(_canonical_lines(frozenset(union_blank))))


def _parts(graph: Graph) -> tuple[list[str], frozenset]:
    """The N-Triples lines of the triples without blank nodes, and the triples with one."""
    blank, plain = set(), Graph()
    for triple in graph:
        if any(isinstance(term, BNode) for term in triple):
            blank.add(triple)
        else:
            plain.add(triple)
    return plain.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines(), frozenset(blank)


def _sorted(lines: list[str]) -> bytes:
    return ("\n".join(sorted(set(line for line in lines if line.strip()))) + "\n").encode("utf-8")


@lru_cache(maxsize=4)  # the ontology's blank nodes are written three times per build: nq, nt and owx input
def _canonical_lines(triples: frozenset) -> tuple[str, ...]:
    if not triples:
        return ()
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    return tuple(to_canonical_graph(graph).serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines())
