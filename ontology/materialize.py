"""The two engines that run the rules to a fixpoint: rdflib's triple index (:func:`materialize`) and, for
graphs too big for rdflib, Oxigraph (:func:`materialize_oxigraph`), which give the same :class:`Closure`
(tests/test_scaling_paths.py compares the two).
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import RDF

from exokg.ontology.rules import Rule, RuleSet, pattern_key, sparql_term


@dataclass
class Closure:
    graph: Graph  # input + everything derived
    derived: dict[tuple, int]  # derived triple → the round it first appeared in
    rounds: int


def materialize(ruleset: RuleSet, data: Graph) -> Closure:
    """Run the rules to a fixpoint over a copy of ``data`` (semi-naive: a rule runs again only when
    something it reads changed)."""
    graph = Graph()
    for triple in data:
        graph.add(triple)
    derived: dict[tuple, int] = {}
    changed: set | None = None  # None: first round, every rule runs
    for triple, _ in ruleset.facts:
        if triple not in graph:
            graph.add(triple)
            derived[triple] = 0
    rounds = 0
    while changed is None or changed:
        rounds += 1
        new: list[tuple] = []
        for rule in ruleset.rules:
            if changed is not None and not (rule.keys() & changed):
                continue
            for bindings in list(rule.matches(graph)):
                for pattern in rule.head:
                    triple = tuple(bindings.get(t, t) if isinstance(t, Variable) else t for t in pattern)
                    if triple not in graph and triple not in derived and not isinstance(triple[0], Literal):
                        derived[triple] = rounds
                        new.append(triple)
        changed = set()
        for triple in new:
            graph.add(triple)
            changed.add(pattern_key(triple))
    return Closure(graph, derived, rounds)


# --- the same rules on Oxigraph, for graphs too big for rdflib ------------------------------------------
# The loop of materialize(), with each rule's body matched by Oxigraph (its CONSTRUCT text) instead of
# rdflib's triple index: the same rounds, the same derived triples, at a fraction of the time and memory.
# bench/scaling.py measures both; docs/benchmarks.md (## Scaling) has the curves.
def _oxigraph_term(term):
    import pyoxigraph as ox

    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype))) if term.datatype else ox.Literal(str(term))


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def rdflib_term(term):
    """A pyoxigraph term as rdflib's (plain literals without a datatype, as rdflib reads them)."""
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value) if datatype == _XSD_STRING else Literal(term.value, datatype=URIRef(datatype))


def oxigraph_store(*graphs: Graph):
    """An in-memory pyoxigraph store holding ``graphs`` in its default graph (blank node labels kept)."""
    import pyoxigraph as ox

    store = ox.Store()
    store.bulk_extend(ox.Quad(*map(_oxigraph_term, triple)) for graph in graphs for triple in graph)
    return store


def materialize_store(ruleset: RuleSet, store, progress=None) -> tuple[dict, int]:
    """Run the rules to a fixpoint in the default graph of the pyoxigraph ``store``, adding what they derive.

    Returns (derived pyoxigraph triple → the round it first appeared in, rounds), as :func:`materialize`
    does: within a round every rule sees the graph as the round began; a rule runs again only when a
    predicate or class it reads gained a triple. ``progress(round, new)`` is told after each round.
    """
    import pyoxigraph as ox

    key_of = lambda term: rdflib_term(term)  # noqa: E731 — rule keys are rdflib terms
    derived: dict = {}
    changed: set | None = None
    new = []
    for (s, p, o), _ in ruleset.facts:
        triple = ox.Triple(*map(_oxigraph_term, (s, p, o)))
        if ox.Quad(*triple) not in store and triple not in derived:
            derived[triple] = 0
            new.append(triple)
    store.bulk_extend(ox.Quad(*t) for t in new)
    texts = {id(rule): _new_only(rule) for rule in ruleset.rules}
    rdf_type = ox.NamedNode(str(RDF.type))
    rounds = 0
    while changed is None or changed:
        rounds += 1
        new = []
        for rule in ruleset.rules:
            if changed is not None and not (rule.keys() & changed):
                continue
            for text in texts[id(rule)]:
                for triple in store.query(text):
                    if triple not in derived and not isinstance(triple.subject, ox.Literal):
                        derived[triple] = rounds
                        new.append(triple)
        store.bulk_extend(ox.Quad(*t) for t in new)
        changed = {key_of(t.object if t.predicate == rdf_type else t.predicate) for t in new}
        if progress is not None:
            progress(rounds, len(new))
    return derived, rounds


def _new_only(rule: Rule) -> list[str]:
    """The rule as one CONSTRUCT per head pattern that returns only triples not yet in the store: the rest of
    a round's matches would cost a Python round trip each, for nothing."""
    lines = [" ".join(sparql_term(t) for t in pattern) + " ." for pattern in rule.body]
    for var, members in rule.values:
        lines.append(f"VALUES {sparql_term(var)} {{ {' '.join(sparql_term(m) for m in members)} }}")
    if rule.successor:
        lines.append(f"FILTER ({sparql_term(rule.successor[1])} = {sparql_term(rule.successor[0])} + 1)")
    texts = []
    for pattern in rule.head:
        head = " ".join(sparql_term(t) for t in pattern)
        where = "\n  ".join([*lines, f"FILTER NOT EXISTS {{ {head} }}"])
        texts.append(f"CONSTRUCT {{ {head} }}\nWHERE {{\n  {where}\n}}")
    return texts


def materialize_oxigraph(ruleset: RuleSet, data: Graph) -> Closure:
    """:func:`materialize` with the rules run by Oxigraph; the same :class:`Closure` (tests compare the two)."""
    store = oxigraph_store(data)
    derived, rounds = materialize_store(ruleset, store)
    graph = Graph()
    for triple in data:
        graph.add(triple)
    closure: dict[tuple, int] = {}
    for triple, round_ in derived.items():
        converted = (rdflib_term(triple.subject), rdflib_term(triple.predicate), rdflib_term(triple.object))
        closure[converted] = round_
        graph.add(converted)
    return Closure(graph, closure, rounds)
