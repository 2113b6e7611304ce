"""Clashes (cax-dw, cax-adc, cls-nothing2, prp-fp) found in the rules' closure, each explained down to the
axioms it violates and the curated rows it comes from; :class:`InconsistentGraph` is what the build raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from rdflib import Graph, Literal, URIRef, Variable
from rdflib.namespace import OWL, RDF

from exokg.config import EXO, ONTOLOGY_FILE
from exokg.graph.curated import display_path
from exokg.ontology.materialize import Closure, rdflib_term
from exokg.ontology.rules import Pattern, Rule, RuleSet, short


@dataclass
class Clash:
    summary: str
    axiom: str
    because: list[str]  # indented explanation lines
    rows: list[str]  # the curated rows (file:line) and input files involved

    def __str__(self) -> str:
        lines = [self.summary, f"  violates {self.axiom}   [{display_path(ONTOLOGY_FILE)}]"]
        lines += ["  " + line for line in self.because]
        lines.append("  curated rows: " + ", ".join(self.rows))
        return "\n".join(lines)


class InconsistentGraph(Exception):
    """The ontology with its individuals has no model: the build stops and says why."""

    def __init__(self, clashes: list[Clash], note: str = ""):
        self.clashes = clashes
        self.note = note
        super().__init__(self.explanation())

    def explanation(self) -> str:
        head = f"the graph is inconsistent: {len(self.clashes)} clash(es)" if self.clashes else "the graph is inconsistent"
        parts = [head] + [f"clash {i}: {c}" for i, c in enumerate(self.clashes, start=1)]
        if self.note:
            parts.append(self.note)
        return "\n".join(parts)



class _Explainer:
    """Traces a derived triple back to asserted triples through the rules, naming each axiom and row."""

    def __init__(self, ruleset: RuleSet, closure: Closure, sources: dict[str, Graph], ontology: Graph):
        self.ruleset = ruleset
        self.closure = closure
        self.sources = sources  # label → graph: where an asserted triple came from
        self.ontology = ontology
        self.rows: list[str] = []

    def origin(self, triple) -> str:
        for label, graph in self.sources.items():
            if triple in graph:
                if label != "asserted":
                    return label
                row = self.row_of(triple[0], graph)
                return row or "asserted"
        if triple in self.ontology:
            return display_path(ONTOLOGY_FILE)
        return "derived"

    def row_of(self, node, graph: Graph, depth: int = 3) -> str | None:
        """The curated row a node was built from: its own exo:curatedAt, or its owner's (vesicle → finding)."""
        frontier = [node]
        for _ in range(depth):
            for n in frontier:
                at = graph.value(n, EXO.curatedAt)
                if at is not None:
                    return str(at)
            frontier = [s for n in frontier for s in graph.subjects(None, n) if isinstance(s, URIRef)]
        return None

    def fact(self, triple) -> str:
        s, p, o = triple
        if p == RDF.type:
            return f"ClassAssertion({short(o)} {short(s)})"
        return f"PropertyAssertion({short(p)} {short(s)} {short(o)})"

    def explain(self, triple, depth: int = 0, seen: frozenset = frozenset()) -> list[str]:
        pad = "  " * depth
        round_ = self.closure.derived.get(triple)
        if round_ is None:
            origin = self.origin(triple)
            if origin not in self.rows and origin not in ("derived", display_path(ONTOLOGY_FILE)):
                self.rows.append(origin)
            return [f"{pad}{self.fact(triple)}   [{origin}]"]
        for rule in self.ruleset.rules:
            body = self.support(rule, triple, round_)
            if body is not None and not (set(body) & seen):
                lines = [f"{pad}{self.fact(triple)}   by {rule.name} from {rule.axiom}"]
                for premise in body:
                    lines += self.explain(premise, depth + 1, seen | {triple})
                return lines
        for fact, axiom in self.ruleset.facts:
            if fact == triple:
                return [f"{pad}{self.fact(triple)}   by cls-oo from {axiom}"]
        return [f"{pad}{self.fact(triple)}   (derived)"]

    def support(self, rule: Rule, triple, round_: int) -> list | None:
        """Body triples of ``rule`` that derive ``triple`` and were all there before ``round_``."""
        for pattern in rule.head:
            binding: dict = {}
            if not _unify(pattern, triple, binding):
                continue
            for found in rule.matches(self.closure.graph, binding):
                body = [tuple(found.get(t, t) if isinstance(t, Variable) else t for t in p) for p in rule.body]
                if all(self.closure.derived.get(b, -1) < round_ for b in body):
                    return body
        return None


def _unify(pattern: Pattern, triple, binding: dict) -> bool:
    for t, v in zip(pattern, triple):
        if isinstance(t, Variable):
            if binding.setdefault(t, v) != v:
                return False
        elif t != v:
            return False
    return True


def find_clashes(ruleset: RuleSet, closure: Closure, sources: dict[str, Graph], ontology: Graph) -> list[Clash]:
    """OWL 2 RL clashes (cax-dw, cax-adc, cls-nothing2, prp-fp with different or disjoint values)."""
    graph = closure.graph
    clashes = []
    for a, b, axiom in ruleset.disjoint:
        for x in sorted(set(graph.subjects(RDF.type, a)) & set(graph.subjects(RDF.type, b))):
            explainer = _Explainer(ruleset, closure, sources, ontology)
            because = explainer.explain((x, RDF.type, a)) + explainer.explain((x, RDF.type, b))
            clashes.append(Clash(f"{short(x)} is both {short(a)} and {short(b)}, which are disjoint",
                                 axiom, because, explainer.rows or ["(none)"]))
    for x in sorted(graph.subjects(RDF.type, OWL.Nothing)):
        explainer = _Explainer(ruleset, closure, sources, ontology)
        clashes.append(Clash(f"{short(x)} is a member of owl:Nothing", "owl:Nothing",
                             explainer.explain((x, RDF.type, OWL.Nothing)), explainer.rows or ["(none)"]))
    disjoint_pairs = {(a, b): axiom for a, b, axiom in ruleset.disjoint} | {(b, a): axiom for a, b, axiom in ruleset.disjoint}
    for p in ruleset.functional:
        for x in sorted(set(graph.subjects(p, None))):
            values = sorted(graph.objects(x, p))
            for y1, y2 in combinations(values, 2):
                if isinstance(y1, Literal) or isinstance(y2, Literal):
                    clash = y1 != y2 and not (isinstance(y1, Literal) and isinstance(y2, Literal) and y1.eq(y2))
                    why = "two different values"
                else:
                    t1, t2 = sorted(graph.objects(y1, RDF.type)), sorted(graph.objects(y2, RDF.type))
                    pairs = [(c1, c2) for c1 in t1 for c2 in t2 if (c1, c2) in disjoint_pairs]
                    clash = y2 in ruleset.different.get(y1, ()) or bool(pairs)
                    why = "two values that are different individuals"
                if clash:
                    explainer = _Explainer(ruleset, closure, sources, ontology)
                    because = explainer.explain((x, p, y1)) + explainer.explain((x, p, y2))
                    if not isinstance(y1, Literal) and pairs:
                        c1, c2 = pairs[0]
                        because.append(f"different: {short(y1)} is {short(c1)}, {short(y2)} is {short(c2)}, "
                                       f"and {disjoint_pairs[(c1, c2)]}")
                        because += explainer.explain((y1, RDF.type, c1), 1) + explainer.explain((y2, RDF.type, c2), 1)
                    elif not isinstance(y1, Literal):
                        because.append(f"different: {short(y1)} and {short(y2)} are listed in one owl:AllDifferent")
                    clashes.append(Clash(f"{short(x)} has {why} for the functional property {short(p)}: "
                                         f"{short(y1)} and {short(y2)}", f"FunctionalProperty({short(p)})",
                                         because, explainer.rows or ["(none)"]))
    return clashes


def clashes_in_store(ruleset: RuleSet, store) -> list[str]:
    """The clashes :func:`find_clashes` looks for (cax-dw, cls-nothing2, prp-fp), found by SPARQL on the
    materialized ``store``, one line each, without the explanation (that needs the rdflib closure)."""
    found = []
    if ruleset.disjoint:
        pairs = " ".join(f"({a.n3()} {b.n3()})" for a, b, _ in ruleset.disjoint)
        for row in store.query(f"SELECT ?x ?a ?b WHERE {{ VALUES (?a ?b) {{ {pairs} }} ?x a ?a , ?b }}"):
            found.append(f"{short(rdflib_term(row['x']))} is both {short(rdflib_term(row['a']))} and "
                         f"{short(rdflib_term(row['b']))}, which are disjoint")
    for row in store.query(f"SELECT ?x WHERE {{ ?x a {OWL.Nothing.n3()} }}"):
        found.append(f"{short(rdflib_term(row['x']))} is a member of owl:Nothing")
    disjoint = {(a, b) for a, b, _ in ruleset.disjoint} | {(b, a) for a, b, _ in ruleset.disjoint}
    for p in ruleset.functional:
        for row in store.query(f"SELECT ?x ?y1 ?y2 WHERE {{ ?x {p.n3()} ?y1 , ?y2 FILTER (STR(?y1) < STR(?y2)) }}"):
            x, y1, y2 = (rdflib_term(row[v]) for v in ("x", "y1", "y2"))
            if isinstance(y1, Literal) or isinstance(y2, Literal):
                clash = y1 != y2 and not (isinstance(y1, Literal) and isinstance(y2, Literal) and y1.eq(y2))
                why = "two different values"
            else:
                why = "two values that are different individuals"
                types = [{rdflib_term(r["c"]) for r in store.query(f"SELECT ?c WHERE {{ {y.n3()} a ?c }}")} for y in (y1, y2)]
                clash = y2 in ruleset.different.get(y1, ()) or any((c1, c2) in disjoint for c1 in types[0] for c2 in types[1])
            if clash:
                found.append(f"{short(x)} has {why} for the functional property {short(p)}: {short(y1)} and {short(y2)}")
    return sorted(found)
