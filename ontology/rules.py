"""The OWL 2 RL rules compiled from the TBox: one rule per axiom (and direction), each named after its row
of the W3C rule tables (https://www.w3.org/TR/owl2-profiles/#Reasoning_in_OWL_2_RL_and_RDF_Graphs_using_Rules),
plus the domain rule of axes (``exo-axis``). The engines that run them are in ``materialize.py``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations

from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS

from exokg.config import BASE, EXO, PREFIXES

# The domain rule: a molecule at step n of an axis, a pathway at step n+1 ('PTEN > PI3K/Akt signaling').
_f, _s1, _s2, _i, _j, _x, _p = (Variable(n) for n in ("finding", "s1", "s2", "i", "j", "x", "p"))
AXIS_BODY = (
    (_f, EXO.hasAxisStep, _s1), (_s1, EXO.stepEntity, _x), (_x, RDF.type, EXO.MolecularEntity),
    (_s1, EXO.stepIndex, _i), (_f, EXO.hasAxisStep, _s2), (_s2, EXO.stepIndex, _j),
    (_s2, EXO.stepEntity, _p), (_p, RDF.type, EXO.Pathway),
)

Term = URIRef | BNode | Literal | Variable
Pattern = tuple[Term, Term, Term]


@dataclass(frozen=True)
class Rule:
    """One rule: when every body pattern matches (and ``values`` and ``successor`` allow), add the head.

    The body is a basic graph pattern, matched in the order written (each pattern joins on a variable an
    earlier one bound), so the cost grows with the data, not with its square; ``construct_text`` gives the
    same rule as SPARQL CONSTRUCT for any other store.
    """

    name: str  # the W3C OWL 2 RL rule it instantiates, or "exo-axis" for the domain rule
    axiom: str  # the axiom it comes from, in functional-style syntax
    body: tuple[Pattern, ...]
    head: tuple[Pattern, ...]
    values: tuple[tuple[Variable, tuple[URIRef, ...]], ...] = ()
    successor: tuple[Variable, Variable] | None = None  # (i, j): only where j = i + 1 (integer literals)

    def keys(self) -> set[Term]:
        """What the body reads: predicates, and classes for rdf:type patterns; the semi-naive loop skips
        a rule whose keys saw no new triple in the previous round."""
        return {pattern_key(pattern) for pattern in self.body}

    def construct_text(self) -> str:
        """The rule as a SPARQL CONSTRUCT (``exokg reason --rules``)."""
        head = " ".join(" ".join(sparql_term(t) for t in pattern) + " ." for pattern in self.head)
        lines = [" ".join(sparql_term(t) for t in pattern) + " ." for pattern in self.body]
        for var, members in self.values:
            lines.append(f"VALUES {sparql_term(var)} {{ {' '.join(sparql_term(m) for m in members)} }}")
        if self.successor:
            lines.append(f"FILTER ({sparql_term(self.successor[1])} = {sparql_term(self.successor[0])} + 1)")
        where = "\n  ".join(lines)
        return f"# {self.name}: {self.axiom}\nCONSTRUCT {{ {head} }}\nWHERE {{\n  {where}\n}}\n"

    def matches(self, graph: Graph, binding: dict | None = None):
        """Every binding of the body's variables in ``graph`` (extending ``binding``)."""
        starts = [dict(binding or {})]
        for var, members in self.values:
            starts = [{**b, var: m} for b in starts for m in members if b.get(var, m) == m]
        for start in starts:
            for found in _join(graph, self.body, 0, start):
                if self.successor:
                    i, j = (found.get(v) for v in self.successor)
                    if not (isinstance(i, Literal) and isinstance(j, Literal)) or j.toPython() != i.toPython() + 1:
                        continue
                yield found


def _join(graph: Graph, body, index: int, binding: dict):
    if index == len(body):
        yield binding
        return
    pattern = tuple(binding.get(t, t) if isinstance(t, Variable) else t for t in body[index])
    query = tuple(None if isinstance(t, Variable) else t for t in pattern)
    for triple in graph.triples(query):
        extended = binding
        for term, value in zip(pattern, triple):
            if isinstance(term, Variable):
                if extended.get(term, value) != value:
                    break
                if term not in extended:
                    extended = {**extended, term: value}
        else:
            yield from _join(graph, body, index + 1, extended)


def pattern_key(pattern: Pattern) -> Term:
    """What a triple pattern is indexed by for the semi-naive loop: its class for rdf:type, else its predicate."""
    s, p, o = pattern
    return o if p == RDF.type and not isinstance(o, Variable) else p


def sparql_term(term: Term) -> str:
    if isinstance(term, Variable):
        return "?" + str(term)
    return term.n3()


def short(term: Term) -> str:
    """A readable name: exo:Local for the vocabulary, the path for minted nodes, CURIEs for the rest."""
    text = str(term)
    for prefix, namespace in PREFIXES.items():
        if text.startswith(str(namespace)) and prefix != "exog":
            local = text[len(str(namespace)) :]
            if "/" not in local:
                return f"{prefix}:{local}"
    if text.startswith(BASE):
        return text[len(BASE) :]
    return term.n3() if isinstance(term, (URIRef, Literal)) else str(term)


class _Compiler:
    """Turns the TBox into rules, one per axiom (and per direction, for equivalences)."""

    def __init__(self, tbox: Graph):
        self.g = tbox
        self.rules: list[Rule] = []
        self.facts: list[tuple[Pattern, str]] = []  # (triple, axiom) for rules without a body (cls-oo)
        self.unsupported: list[str] = []
        self._counter = 0

    def fresh(self) -> Variable:
        self._counter += 1
        return Variable(f"v{self._counter}")

    def members(self, node) -> list:
        return list(Collection(self.g, node))

    # class expressions ----------------------------------------------------------------------------
    def text(self, node) -> str:
        """The class expression in functional-style syntax."""
        g = self.g
        if isinstance(node, URIRef):
            return short(node)
        if (node, OWL.intersectionOf, None) in g:
            return f"ObjectIntersectionOf({' '.join(self.text(m) for m in self.members(g.value(node, OWL.intersectionOf)))})"
        if (node, OWL.unionOf, None) in g:
            return f"ObjectUnionOf({' '.join(self.text(m) for m in self.members(g.value(node, OWL.unionOf)))})"
        if (node, OWL.oneOf, None) in g:
            return f"ObjectOneOf({' '.join(short(m) for m in self.members(g.value(node, OWL.oneOf)))})"
        prop = g.value(node, OWL.onProperty)
        if prop is not None:
            if (node, OWL.someValuesFrom, None) in g:
                return f"ObjectSomeValuesFrom({short(prop)} {self.text(g.value(node, OWL.someValuesFrom))})"
            if (node, OWL.hasValue, None) in g:
                return f"ObjectHasValue({short(prop)} {short(g.value(node, OWL.hasValue))})"
            if (node, OWL.allValuesFrom, None) in g:
                return f"ObjectAllValuesFrom({short(prop)} {self.text(g.value(node, OWL.allValuesFrom))})"
        return "(class expression)"

    def body_of(self, node, var: Variable) -> tuple[list[Pattern], list] | None:
        """Patterns that hold exactly when ``var`` is in the class expression (subclass side, OWL 2 RL)."""
        g = self.g
        if isinstance(node, URIRef):
            return ([], []) if node == OWL.Thing else ([(var, RDF.type, node)], [])
        if (node, OWL.intersectionOf, None) in g:
            patterns, values = [], []
            for member in self.members(g.value(node, OWL.intersectionOf)):
                part = self.body_of(member, var)
                if part is None:
                    return None
                patterns += part[0]
                values += part[1]
            return patterns, values
        if (node, OWL.oneOf, None) in g:
            return [], [(var, tuple(self.members(g.value(node, OWL.oneOf))))]
        prop = g.value(node, OWL.onProperty)
        if isinstance(prop, URIRef):
            if (node, OWL.hasValue, None) in g:
                return [(var, prop, g.value(node, OWL.hasValue))], []
            filler = g.value(node, OWL.someValuesFrom)
            if filler is not None:
                other = self.fresh()
                part = self.body_of(filler, other)
                if part is None:
                    return None
                return [(var, prop, other)] + part[0], part[1]
        return None  # union, complement, cardinality…: not in the rule set (HermiT still sees them)

    def heads(self, node, var: Variable) -> list[tuple[str, list[Pattern], list[Pattern]]]:
        """(rule name, extra body, head) that put ``var`` into the superclass expression ``node``."""
        g = self.g
        prop = g.value(node, OWL.onProperty)
        if isinstance(node, URIRef):
            return [] if node == OWL.Thing else [("cax-sco", [], [(var, RDF.type, node)])]
        if (node, OWL.intersectionOf, None) in g:  # cls-int2
            return [h for m in self.members(g.value(node, OWL.intersectionOf)) for h in self.heads(m, var)]
        if (node, OWL.hasValue, None) in g and isinstance(prop, URIRef):  # cls-hv1
            return [("cls-hv1", [], [(var, prop, g.value(node, OWL.hasValue))])]
        filler = g.value(node, OWL.allValuesFrom)
        if isinstance(filler, URIRef) and isinstance(prop, URIRef):  # cls-avf
            other = self.fresh()
            return [("cls-avf", [(var, prop, other)], [(other, RDF.type, filler)])]
        # someValuesFrom on the superclass side asserts an unnamed individual: outside OWL 2 RL (HermiT's job)
        return []

    def rule(self, name: str, axiom: str, body, head, values=()) -> None:
        # Variables renamed in order of appearance (?x0, ?x1…): the same TBox gives the same rule text.
        names: dict[Variable, Variable] = {}
        for pattern in [*body, *head, *[(v,) for v, _ in values]]:
            for t in pattern:
                if isinstance(t, Variable) and t not in names:
                    names[t] = Variable(f"x{len(names)}")
        rename = lambda pattern: tuple(names.get(t, t) if isinstance(t, Variable) else t for t in pattern)  # noqa: E731
        self.rules.append(Rule(name, axiom, tuple(map(rename, body)), tuple(map(rename, head)),
                               tuple((names[v], members) for v, members in values)))

    def subclass(self, sub, sup, axiom: str) -> None:
        x = self.fresh()
        premise = self.body_of(sub, x)
        if premise is None:
            self.unsupported.append(axiom)
            return
        patterns, values = premise
        if not patterns and not values:
            return  # owl:Thing ⊑ …
        for name, extra, head in self.heads(sup, x):
            if not isinstance(sub, URIRef):
                name = _lhs_name(name, sub, self.g)
            elif axiom.startswith("Equivalent") and name == "cax-sco":
                name = "cax-eqc"
            self.rule(name, axiom, patterns + extra, head, values)

    # the whole TBox ---------------------------------------------------------------------------------
    def compile(self) -> None:
        g = self.g
        for sub, sup in g.subject_objects(RDFS.subClassOf):
            if sup != OWL.Thing:  # external superclasses too (CL, GO…): query the graph by their terms
                self.subclass(sub, sup, f"SubClassOf({self.text(sub)} {self.text(sup)})")
        for a, b in g.subject_objects(OWL.equivalentClass):
            axiom = f"EquivalentClasses({self.text(a)} {self.text(b)})"
            self.subclass(a, b, axiom)
            self.subclass(b, a, axiom)
            if isinstance(b, BNode) and (b, OWL.oneOf, None) in g:  # cls-oo: the members are in the class
                for member in self.members(g.value(b, OWL.oneOf)):
                    self.facts.append(((member, RDF.type, a), axiom))
        x, y, z = Variable("x"), Variable("y"), Variable("z")
        for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
            for p in sorted(g.subjects(RDF.type, kind)):
                for c in g.objects(p, RDFS.domain):
                    if isinstance(c, URIRef):
                        self.rule("prp-dom", f"PropertyDomain({short(p)} {short(c)})", [(x, p, y)], [(x, RDF.type, c)])
                if kind == OWL.ObjectProperty:
                    for c in g.objects(p, RDFS.range):
                        if isinstance(c, URIRef):
                            self.rule("prp-rng", f"ObjectPropertyRange({short(p)} {short(c)})", [(x, p, y)],
                                      [(y, RDF.type, c)])
                for q in g.objects(p, RDFS.subPropertyOf):
                    self.rule("prp-spo1", f"SubPropertyOf({short(p)} {short(q)})", [(x, p, y)], [(x, q, y)])
        for p, q in g.subject_objects(OWL.inverseOf):
            axiom = f"InverseObjectProperties({short(p)} {short(q)})"
            self.rule("prp-inv1", axiom, [(x, p, y)], [(y, q, x)])
            self.rule("prp-inv2", axiom, [(x, q, y)], [(y, p, x)])
        for p, q in g.subject_objects(OWL.equivalentProperty):
            axiom = f"EquivalentObjectProperties({short(p)} {short(q)})"
            self.rule("prp-eqp1", axiom, [(x, p, y)], [(x, q, y)])
            self.rule("prp-eqp2", axiom, [(x, q, y)], [(x, p, y)])
        for p in g.subjects(RDF.type, OWL.TransitiveProperty):
            self.rule("prp-trp", f"TransitiveObjectProperty({short(p)})", [(x, p, y), (y, p, z)], [(x, p, z)])
        for p in g.subjects(RDF.type, OWL.SymmetricProperty):
            self.rule("prp-symp", f"SymmetricObjectProperty({short(p)})", [(x, p, y)], [(y, p, x)])
        for p, chain in g.subject_objects(OWL.propertyChainAxiom):
            links = self.members(chain)
            nodes = [Variable(f"u{i}") for i in range(len(links) + 1)]
            axiom = f"SubObjectPropertyOf(ObjectPropertyChain({' '.join(short(q) for q in links)}) {short(p)})"
            self.rule("prp-spo2", axiom, [(nodes[i], q, nodes[i + 1]) for i, q in enumerate(links)],
                      [(nodes[0], p, nodes[-1])])
        self.rules.append(Rule("exo-axis", "a molecule at axis step n, a pathway at step n+1 → exo:actsInPathway",
                               AXIS_BODY, ((_x, EXO.actsInPathway, _p),), successor=(_i, _j)))
        self.rules.sort(key=lambda r: (r.name, r.axiom, str(r.head)))


def _lhs_name(name: str, sub, g: Graph) -> str:
    """The W3C name of a rule whose premise is a class expression: cls-int1, cls-svf1, cls-hv1, cls-oo."""
    if (sub, OWL.intersectionOf, None) in g:
        return "cls-int1"
    if (sub, OWL.someValuesFrom, None) in g:
        return "cls-svf1"
    if (sub, OWL.hasValue, None) in g:
        return "cls-hv2"
    if (sub, OWL.oneOf, None) in g:
        return "cls-oo"
    return name


@dataclass
class RuleSet:
    rules: list[Rule]
    facts: list[tuple[Pattern, str]]
    unsupported: list[str]
    disjoint: list[tuple[URIRef, URIRef, str]]  # pairs of disjoint named classes with the axiom
    different: dict[URIRef, set[URIRef]]  # owl:AllDifferent
    functional: list[URIRef]


def compile_rules(tbox: Graph) -> RuleSet:
    """The rule set for ``tbox``: one rule per axiom (and direction), plus the clash detectors' axioms."""
    compiler = _Compiler(tbox)
    compiler.compile()
    disjoint = []
    for a, b in tbox.subject_objects(OWL.disjointWith):
        disjoint.append((a, b, f"DisjointClasses({short(a)} {short(b)})"))
    for node in tbox.subjects(RDF.type, OWL.AllDisjointClasses):
        members = compiler.members(tbox.value(node, OWL.members))
        axiom = f"DisjointClasses({' '.join(short(m) for m in members)})"
        disjoint += [(a, b, axiom) for a, b in combinations(members, 2)]
    different: dict[URIRef, set[URIRef]] = defaultdict(set)
    for node in tbox.subjects(RDF.type, OWL.AllDifferent):
        members = compiler.members(tbox.value(node, OWL.distinctMembers) or tbox.value(node, OWL.members))
        for m in members:
            different[m] |= set(members) - {m}
    functional = sorted(tbox.subjects(RDF.type, OWL.FunctionalProperty))
    return RuleSet(compiler.rules, compiler.facts, compiler.unsupported, disjoint, dict(different), functional)
