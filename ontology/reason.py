"""The reasoning step: consistency and classification with HermiT, instance entailments with OWL 2 RL rules.

Two engines, each for the job it does best:

- **OWL 2 RL rules** (ours: one rule per TBox axiom, a basic graph pattern that ``exokg reason --rules``
  exports as SPARQL CONSTRUCT) materialize the instance entailments into the named graph ``inferred``:
  class memberships through the hierarchy and the defined classes, domains and ranges, inverse,
  transitive and sub-properties, property chains. The rule set
  follows the W3C rule tables (https://www.w3.org/TR/owl2-profiles/#Reasoning_in_OWL_2_RL_and_RDF_Graphs_using_Rules);
  each rule is named after its row (``cax-sco``, ``prp-spo2``…). The same rules find clashes
  (``cax-dw``, ``cax-adc``, ``prp-fp``) and trace them back to the axioms and the curated rows.
- **HermiT** (through owlready2, Java) is the complete OWL 2 DL reasoner: it decides consistency and
  classifies the TBox. Its class subsumptions go into ``inferred``; its individual types serve as a check
  that the rules missed nothing.

One domain rule runs with the OWL rules: a molecule immediately upstream of a pathway in a finding's axis
acts in that pathway (``exo:actsInPathway``), which the property chain of ``exo:modulatesPathway`` uses.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS

from exokg.config import BASE, EXO, GRAPH_DIR, ONTOLOGY_FILE, PREFIXES, REVIEW_TEXT
from exokg.graph.curated import Corpus, CurationError, Origin, Problem, display_path, normalize_for_quote

RELATIONS_FILE = "relations.tsv"  # under the curated vocabulary/ folder
RELATION_COLUMNS = ["subject", "predicate", "object", "quote", "note"]
RELATION_PREDICATES = ("exo:partOf", "exo:resistanceTo")
OXIGRAPH_ABOVE = 100_000  # triples: above this, reason() runs the rules on Oxigraph (bench/scaling.py)
JAVA_HINT = "HermiT needs a Java runtime: install one (Debian/Ubuntu: apt-get install default-jre-headless)"

# The domain rule: a molecule at step n of an axis, a pathway at step n+1 ('PTEN > PI3K/Akt signaling').
_f, _s1, _s2, _i, _j, _x, _p = (Variable(n) for n in ("finding", "s1", "s2", "i", "j", "x", "p"))
AXIS_BODY = (
    (_f, EXO.hasAxisStep, _s1), (_s1, EXO.stepEntity, _x), (_x, RDF.type, EXO.MolecularEntity),
    (_s1, EXO.stepIndex, _i), (_f, EXO.hasAxisStep, _s2), (_s2, EXO.stepIndex, _j),
    (_s2, EXO.stepEntity, _p), (_p, RDF.type, EXO.Pathway),
)


# --- curated relations between review entities -------------------------------------------------------
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


# --- rules -------------------------------------------------------------------------------------------
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
        return {_key(pattern) for pattern in self.body}

    def construct_text(self) -> str:
        """The rule as a SPARQL CONSTRUCT (``exokg reason --rules``)."""
        head = " ".join(" ".join(_sparql(t) for t in pattern) + " ." for pattern in self.head)
        lines = [" ".join(_sparql(t) for t in pattern) + " ." for pattern in self.body]
        for var, members in self.values:
            lines.append(f"VALUES {_sparql(var)} {{ {' '.join(_sparql(m) for m in members)} }}")
        if self.successor:
            lines.append(f"FILTER ({_sparql(self.successor[1])} = {_sparql(self.successor[0])} + 1)")
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


def _key(pattern: Pattern) -> Term:
    s, p, o = pattern
    return o if p == RDF.type and not isinstance(o, Variable) else p


def _sparql(term: Term) -> str:
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


# --- the materializer ----------------------------------------------------------------------------------
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
            changed.add(_key(triple))
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


def _new_only(rule: Rule) -> list[str]:
    """The rule as one CONSTRUCT per head pattern that returns only triples not yet in the store: the rest of
    a round's matches would cost a Python round trip each, for nothing."""
    lines = [" ".join(_sparql(t) for t in pattern) + " ." for pattern in rule.body]
    for var, members in rule.values:
        lines.append(f"VALUES {_sparql(var)} {{ {' '.join(_sparql(m) for m in members)} }}")
    if rule.successor:
        lines.append(f"FILTER ({_sparql(rule.successor[1])} = {_sparql(rule.successor[0])} + 1)")
    texts = []
    for pattern in rule.head:
        head = " ".join(_sparql(t) for t in pattern)
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


# --- clashes and their explanation ---------------------------------------------------------------------
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


class ReasonerUnavailable(RuntimeError):
    pass


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


# --- HermiT -------------------------------------------------------------------------------------------
@dataclass
class HermitResult:
    consistent: bool
    subsumptions: set[tuple[URIRef, URIRef]] = field(default_factory=set)  # (sub, super), named classes
    types: set[tuple[URIRef, URIRef]] = field(default_factory=set)  # (individual, class), direct types
    seconds: float = 0.0


def java_available() -> bool:
    return shutil.which("java") is not None


# A short JVM run (the review classifies in about two seconds) spends much of its CPU compiling and collecting
# garbage on every core, beside the build's Python steps: C1-only compilation and the serial collector cut
# the build's CPU time by a quarter and its wall time by about 2 s on two cores. Large inputs keep the JVM's
# defaults, whose optimizing compiler pays off on long runs.
QUICK_JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
QUICK_JVM_BELOW = 100_000  # triples of input
_ENVIRONMENT = threading.Lock()


@contextlib.contextmanager
def jvm_options(options: tuple[str, ...]):
    """Java started meanwhile by this process gets ``options`` (through the launcher's JDK_JAVA_OPTIONS:
    owlready2 writes the java command itself). An operator's own JDK_JAVA_OPTIONS is left as it is."""
    with _ENVIRONMENT:
        if not options or "JDK_JAVA_OPTIONS" in os.environ:
            options = ()
        else:
            os.environ["JDK_JAVA_OPTIONS"] = " ".join(options)
    try:
        yield
    finally:
        if options:
            with _ENVIRONMENT:
                os.environ.pop("JDK_JAVA_OPTIONS", None)


def hermit(graph: Graph) -> HermitResult:
    """Consistency and classification of ``graph`` (TBox + individuals) by HermiT, through owlready2."""
    if not java_available():
        raise ReasonerUnavailable(JAVA_HINT)
    import owlready2
    from owlready2 import OwlReadyInconsistentOntologyError, World, sync_reasoner_hermit

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="exokg-hermit-") as tmp:
        path = Path(tmp) / "input.nt"  # owlready2 reads N-Triples (and RDF/XML), not Turtle
        graph.serialize(path, format="nt", encoding="utf-8")
        world = World()
        world.get_ontology(path.as_uri()).load(format="ntriples")
        try:
            with jvm_options(QUICK_JVM_OPTIONS if len(graph) < QUICK_JVM_BELOW else ()):
                sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except OwlReadyInconsistentOntologyError:
            world.close()
            return HermitResult(False, seconds=time.perf_counter() - started)
        result = HermitResult(True)
        inferences = world.get_ontology("http://inferrences/")
        iri = world._unabbreviate
        for s, p, o in inferences.get_triples(None, None, None):
            if not (isinstance(o, int) and o > 0 and s > 0):
                continue
            subject, obj = URIRef(iri(s)), URIRef(iri(o))
            if not str(obj).startswith(str(EXO)):
                continue
            if p == owlready2.rdfs_subclassof and str(subject).startswith(str(EXO)):
                result.subsumptions.add((subject, obj))
            elif p == owlready2.rdf_type:
                result.types.add((subject, obj))
        world.close()
    result.seconds = time.perf_counter() - started
    return result


def told_superclasses(tbox: Graph) -> dict[URIRef, set[URIRef]]:
    """Named superclasses reachable through asserted rdfs:subClassOf and named equivalences."""
    direct: dict[URIRef, set[URIRef]] = defaultdict(set)
    for a, b in tbox.subject_objects(RDFS.subClassOf):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            direct[a].add(b)
    for a, b in tbox.subject_objects(OWL.equivalentClass):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            direct[a].add(b)
            direct[b].add(a)
    closure: dict[URIRef, set[URIRef]] = {}
    for start in list(direct):
        seen, frontier = set(), [start]
        while frontier:
            for sup in direct.get(frontier.pop(), ()):
                if sup not in seen:
                    seen.add(sup)
                    frontier.append(sup)
        closure[start] = seen
    return closure


# --- the step -----------------------------------------------------------------------------------------
@dataclass
class Reasoning:
    inferred: Graph
    consistent: bool
    hierarchy: dict[URIRef, set[URIRef]]  # class → named superclasses HermiT found beyond the told ones
    per_property: Counter
    seconds: dict[str, float]  # engine → wall-clock seconds
    rounds: int = 0
    rules: int = 0
    hermit_only: set[tuple[URIRef, URIRef]] = field(default_factory=set)  # HermiT types the rules missed
    unsupported: list[str] = field(default_factory=list)


def _keep(triple) -> bool:
    """What the inferred graph serves: statements about named nodes, no blank nodes, no owl:Thing."""
    s, p, o = triple
    if isinstance(s, BNode) or isinstance(o, BNode):
        return False
    return not (p == RDF.type and o in (OWL.Thing, OWL.NamedIndividual))


def reasoning_input(graphs: dict[str, Graph], extra: dict[str, Graph] | None = None) -> Graph:
    """What is reasoned over: the ontology, the asserted graph and any ``extra`` graphs, merged."""
    data = Graph()
    for graph in [graphs["ontology"], graphs["asserted"], *(extra or {}).values()]:
        for triple in graph:
            data.add(triple)
    return data


def reason(graphs: dict[str, Graph], extra: dict[str, Graph] | None = None, use_hermit: bool = True,
           hermit_run: Future | None = None) -> Reasoning:
    """Materialize the entailments of ontology + asserted (+ ``extra`` labelled graphs) and check consistency.

    ``hermit_run``: HermiT already running on :func:`reasoning_input` of the same graphs (the build starts
    it early, so that Java classifies while Python checks the shapes and applies the rules).
    Raises InconsistentGraph (with the clashing axioms and curated rows) or ReasonerUnavailable (no Java).
    """
    extra = extra or {}
    ontology = graphs["ontology"]
    data = reasoning_input(graphs, extra)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    ruleset = compile_rules(ontology)
    # The same closure either way (tests/test_scaling_paths.py); Oxigraph's joins win on big graphs.
    closure = (materialize_oxigraph if len(data) > OXIGRAPH_ABOVE else materialize)(ruleset, data)
    seconds["rules"] = time.perf_counter() - started
    sources = {"asserted": graphs["asserted"], **extra}
    clashes = find_clashes(ruleset, closure, sources, ontology)
    if clashes:
        raise InconsistentGraph(clashes)
    hierarchy: dict[URIRef, set[URIRef]] = {}
    hermit_result = None
    if use_hermit:
        hermit_result = hermit_run.result() if hermit_run is not None else hermit(data)
        seconds["hermit"] = hermit_result.seconds
        if not hermit_result.consistent:
            inputs = ", ".join(extra) or "the curated files alone"
            raise InconsistentGraph([], note=(
                "HermiT found no model, and the OWL 2 RL rules found no clash to point at: the cause lies in "
                "axioms beyond OWL 2 RL (enumerations, existentials, cardinalities, unions). "
                f"Inputs beyond the TBox: {inputs}"))
        told = told_superclasses(ontology)
        for sub, sup in hermit_result.subsumptions:
            if sup != sub and sup not in told.get(sub, set()):
                hierarchy.setdefault(sub, set()).add(sup)
    inferred = Graph()
    for triple in closure.derived:
        if _keep(triple) and triple not in data:
            inferred.add(triple)
    hermit_only = set()
    if hermit_result is not None:
        for sub, sups in hierarchy.items():
            for sup in sups:
                inferred.add((sub, RDFS.subClassOf, sup))
        for x, cls in hermit_result.types:
            if (x, RDF.type, cls) not in closure.graph:
                hermit_only.add((x, cls))
                if _keep((x, RDF.type, cls)):
                    inferred.add((x, RDF.type, cls))
    per_property = Counter(short(p) for _, p, _ in inferred)
    return Reasoning(inferred, True, hierarchy, per_property, seconds, closure.rounds, len(ruleset.rules),
                     hermit_only, ruleset.unsupported)
