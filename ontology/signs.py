"""Signed mechanism steps: the relation registry, sign composition along chains, and sign conflicts.

A finding's mechanism is a list of signed steps (graph/mechanisms/steps.tsv), each ``subject RELATION
object`` with the relation one of ``ontology/step_relations.tsv`` (RO's own relation where one fits, else
an exo: sub-property of RO). This module

* reads the registry (which word means which property, with which sign and Biolink predicate);
* composes signed steps along chains — ``miR-21 ⊣ PTEN`` and ``PTEN ⊣ PI3K/Akt`` give ``miR-21 → PI3K/Akt``
  — into :class:`NetEffect` nodes of the inferred graph, each with the steps and findings it comes from
  and the chain written out, so a page can show why;
* finds conflicts — opposite signs for one subject and object between findings or between a table and
  its text, a composed sign against a stated one, a finding whose table and text give opposite tumour
  outcomes — and lists them (``exokg reason``, the build, ``exo:SignConflict`` nodes); nothing is merged.

Composition multiplies signs (+·+ = +, −·− = +, +·− = −); an unsigned step ends a chain. Chains run
across findings (the steps of one finding rarely name both ends), never through a node twice, and are at
most :data:`MAX_CHAIN` steps long, which bounds the work on large graphs.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from exokg.config import BASE, EXO, OBO, mint

REGISTRY = Path(__file__).with_name("step_relations.tsv")
RO_TERMS = Path(__file__).with_name("ro_terms.tsv")
REGISTRY_COLUMNS = (
    "word property process_property sign parent biolink_predicate biolink_aspect biolink_direction definition".split()
)
SIGNS = ("positive", "negative", "unsigned")
ARROWS = {"->": "activates", "-|": "inhibits"}  # shorthand a curator may write in the relation cell
MAX_CHAIN = 4
NET_PROPERTY = {"positive": OBO.RO_0011013, "negative": OBO.RO_0011016}  # indirectly ± regulates activity of
SYMBOL = {"positive": "→", "negative": "⊣", "unsigned": "—"}


@dataclass(frozen=True)
class Relation:
    word: str
    property: str  # a CURIE: exo:… or RO:…
    process_property: str  # the RO process-to-process relation used when both ends are pathways/processes
    sign: str
    parent: str
    biolink_predicate: str
    biolink_aspect: str
    biolink_direction: str
    definition: str


def iri(curie: str) -> URIRef:
    prefix, _, local = curie.partition(":")
    if prefix == "exo":
        return EXO[local]
    if prefix == "RO":
        return OBO[f"RO_{local}"]
    raise ValueError(f"{REGISTRY.name}: unknown prefix in {curie!r}")


@lru_cache(maxsize=1)
def relations() -> dict[str, Relation]:
    """The registry: relation word → :class:`Relation` (the curated cells use the words)."""
    with open(REGISTRY, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    if rows[0] != REGISTRY_COLUMNS:
        raise ValueError(f"{REGISTRY}:1: wrong header: expected {REGISTRY_COLUMNS}")
    found = {}
    for line, row in enumerate(rows[1:], start=2):
        relation = Relation(*row)
        if relation.sign not in SIGNS:
            raise ValueError(f"{REGISTRY}:{line}: sign {relation.sign!r} is not one of {SIGNS}")
        found[relation.word] = relation
    return found


def relation_of(word: str) -> Relation | None:
    return relations().get(ARROWS.get(word, word))


def sign_of_property(prop: URIRef) -> str | None:
    for relation in relations().values():
        if prop in (iri(relation.property), iri(relation.process_property) if relation.process_property else None):
            return relation.sign
    return None


def multiply(a: str, b: str) -> str:
    if "unsigned" in (a, b):
        return "unsigned"
    return "positive" if a == b else "negative"


# --- composition and conflicts over the asserted graph ---------------------------------------------
@dataclass(frozen=True)
class Step:
    node: URIRef
    subject: URIRef
    object: URIRef
    sign: str
    finding: URIRef
    stated_in: str
    label: str  # "TME-004 step 1: miR-21 ⊣ PTEN"


@dataclass(frozen=True)
class NetEffect:
    subject: URIRef
    object: URIRef
    sign: str
    chains: tuple[tuple[Step, ...], ...]  # every chain (of two steps or more) that gives this sign

    @property
    def node(self) -> URIRef:
        return URIRef(mint("net-effect", f"{_flat(self.subject)}--{self.sign}--{_flat(self.object)}"))


@dataclass(frozen=True)
class Conflict:
    kind: str  # "opposite stated signs", "composed against stated", "table against text outcome"
    about: str  # what the two disagree on, in words
    statements: tuple[URIRef, ...]

    @property
    def node(self) -> URIRef:
        key = "--".join(sorted(_flat(s) for s in self.statements))
        return URIRef(mint("conflict", key))

    def __str__(self) -> str:
        return f"{self.kind}: {self.about}"


def _local(node: URIRef) -> str:
    text = str(node)
    return text[len(BASE):] if text.startswith(BASE) else text


def _flat(node: URIRef) -> str:
    """One IRI segment for a node (``molecule/miR-21`` → ``molecule.miR-21``)."""
    return _local(node).replace("/", ".")


def _labels(graph: Graph) -> dict[URIRef, str]:
    return {s: str(o) for s, o in graph.subject_objects(RDFS.label)}


def read_steps(graph: Graph) -> list[Step]:
    """The signed steps of ``graph`` (the asserted graph), sorted for a deterministic output."""
    labels = _labels(graph)
    steps = []
    for node in graph.subjects(RDF.type, EXO.SignedStep):
        sign = str(graph.value(node, EXO.hasSign))[len(str(EXO)):]
        steps.append(Step(node, graph.value(node, EXO.statementSubject), graph.value(node, EXO.statementObject), sign,
                          graph.value(predicate=EXO.hasSignedStep, object=node),
                          str(graph.value(node, EXO.stepStatedIn) or ""), labels.get(node, _local(node))))
    return sorted(steps, key=lambda s: str(s.node))


def compose(steps: list[Step], max_chain: int = MAX_CHAIN) -> list[NetEffect]:
    """Every net effect of a chain of two to ``max_chain`` signed steps, grouped by (subject, sign, object)."""
    outgoing: dict[URIRef, list[Step]] = defaultdict(list)
    for step in steps:
        if step.sign != "unsigned" and step.subject != step.object:
            outgoing[step.subject].append(step)
    found: dict[tuple[URIRef, str, URIRef], list[tuple[Step, ...]]] = defaultdict(list)

    def walk(chain: tuple[Step, ...], sign: str, visited: frozenset[URIRef]) -> None:
        last = chain[-1].object
        if len(chain) >= 2:
            found[(chain[0].subject, sign, last)].append(chain)
        if len(chain) == max_chain:
            return
        for nxt in outgoing.get(last, ()):
            if nxt.object not in visited:
                walk(chain + (nxt,), multiply(sign, nxt.sign), visited | {nxt.object})

    for subject in sorted(outgoing, key=str):
        for first in outgoing[subject]:
            if first.object != subject:
                walk((first,), first.sign, frozenset({subject, first.object}))
    return [NetEffect(s, o, sign, tuple(chains)) for (s, sign, o), chains in sorted(found.items(), key=lambda kv: tuple(map(str, kv[0])))]


def conflicts(graph: Graph, steps: list[Step], nets: list[NetEffect]) -> list[Conflict]:
    labels = _labels(graph)
    name = lambda node: labels.get(node, _local(node))  # noqa: E731
    stated: dict[tuple[URIRef, URIRef], list[Step]] = defaultdict(list)
    for step in steps:
        if step.sign != "unsigned":
            stated[(step.subject, step.object)].append(step)
    found: list[Conflict] = []
    for (subject, obj), group in sorted(stated.items(), key=lambda kv: tuple(map(str, kv[0]))):
        for a in group:
            for b in group:
                if str(a.node) < str(b.node) and a.sign != b.sign:
                    where = "a table and its text" if a.finding == b.finding else "two findings"
                    found.append(Conflict("opposite stated signs",
                                          f"{name(subject)} {SYMBOL[a.sign]} / {SYMBOL[b.sign]} {name(obj)} ({where}: {a.label}; {b.label})",
                                          (a.node, b.node)))
    for net in nets:
        for step in stated.get((net.subject, net.object), ()):
            if step.sign != net.sign:
                found.append(Conflict("composed against stated",
                                      f"{name(net.subject)} {SYMBOL[net.sign]} {name(net.object)} composed, but {step.label}",
                                      (net.node, step.node)))
    outcomes: dict[URIRef, dict[str, URIRef]] = defaultdict(dict)
    for finding, node in graph.subject_objects(EXO.hasOutcome):
        outcomes[finding][str(graph.value(node, EXO.tumourOutcome))] = node
    for finding, by_outcome in sorted(outcomes.items(), key=lambda kv: str(kv[0])):
        if len(by_outcome) > 1:
            nodes = tuple(sorted(by_outcome.values(), key=str))
            found.append(Conflict("opposite tumour outcomes",
                                  f"{name(finding)}: " + " / ".join(
                                      f"{labels.get(n, '')}" for n in nodes), nodes))
    return found


@dataclass
class SignReasoning:
    steps: list[Step]
    net_effects: list[NetEffect]
    conflicts: list[Conflict]
    graph: Graph  # the triples for the inferred graph

    def report(self) -> str:
        lines = [f"signed steps: {len(self.steps)}; net effects composed: {len(self.net_effects)}; "
                 f"conflicts: {len(self.conflicts)}"]
        lines += [f"  conflict {i}: {c}" for i, c in enumerate(self.conflicts, start=1)]
        return "\n".join(lines)


def reason_over_signs(asserted: Graph) -> SignReasoning:
    """Compose the signed steps of ``asserted`` and list the conflicts, as triples for the inferred graph."""
    labels = _labels(asserted)
    name = lambda node: labels.get(node, _local(node))  # noqa: E731
    steps = read_steps(asserted)
    nets = compose(steps)
    found = conflicts(asserted, steps, nets)
    g = Graph()
    stated = {(s.subject, s.object, s.sign): s for s in steps}
    for net in nets:
        node = net.node
        g.add((node, RDF.type, OWL.NamedIndividual))
        g.add((node, RDF.type, EXO.NetEffect))
        g.add((node, RDF.type, EXO.CausalStatement))
        g.add((node, RDFS.label, Literal(f"{name(net.subject)} {SYMBOL[net.sign]} {name(net.object)} (composed)", lang="en")))
        g.add((node, EXO.statementSubject, net.subject))
        g.add((node, EXO.statementObject, net.object))
        g.add((node, EXO.hasSign, EXO[net.sign]))
        g.add((node, EXO.statementRelation, NET_PROPERTY[net.sign]))
        g.add((net.subject, NET_PROPERTY[net.sign], net.object))
        g.add((node, EXO.chainLength, Literal(min(len(c) for c in net.chains), datatype=XSD.integer)))
        for chain in net.chains:
            g.add((node, EXO.derivation, Literal(" ; ".join(step.label for step in chain))))
            for step in chain:
                g.add((node, EXO.derivedFromStep, step.node))
                g.add((node, EXO.derivedFromFinding, step.finding))
        agreeing = stated.get((net.subject, net.object, net.sign))
        if agreeing is not None:
            g.add((node, EXO.agreesWithStatedStep, agreeing.node))
    for conflict in found:
        node = conflict.node
        g.add((node, RDF.type, OWL.NamedIndividual))
        g.add((node, RDF.type, EXO.SignConflict))
        g.add((node, RDFS.label, Literal(str(conflict), lang="en")))
        g.add((node, EXO.conflictKind, Literal(conflict.kind)))
        for statement in conflict.statements:
            g.add((node, EXO.conflictingStatement, statement))
    return SignReasoning(steps, nets, found, g)
