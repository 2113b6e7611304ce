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

The parts, one module per job: ``rules.py`` compiles the TBox into rules, ``materialize.py`` runs them (rdflib
or Oxigraph), ``clashes.py`` finds and explains clashes, ``hermit.py`` runs HermiT, ``relations.py`` reads the
curated relations the build reasons over with the asserted graph.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field

from rdflib import BNode, Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from exokg.config import EXO
from exokg.ontology.clashes import InconsistentGraph, find_clashes
from exokg.ontology.hermit import ReasonerUnavailable, hermit, told_superclasses
from exokg.ontology.materialize import materialize, materialize_oxigraph
from exokg.ontology.rules import compile_rules, short

__all__ = ["InconsistentGraph", "ReasonerUnavailable", "Reasoning", "hermit_input", "reason", "reasoning_input"]

OXIGRAPH_ABOVE = 100_000  # triples: above this, reason() runs the rules on Oxigraph (bench/scaling.py)


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


def hermit_input(data: Graph) -> Graph:
    """What HermiT classifies: ``data`` without the running-text claims (exo:TextClaim) and their own nodes.

    The claims are reified statements whose subject, relation and object are annotations: they add no
    class expression HermiT could use, and on the review graph HermiT found no type for them beyond the
    OWL 2 RL rules (which still read them, clashes included), while realizing them took HermiT from 4.0 to
    7.3 s. So they stay out of the Java step.
    """
    claims = set(data.subjects(RDF.type, EXO.TextClaim))
    claims |= {o for c in list(claims) for p in (EXO.claimSubject, EXO.claimObject) for o in data.objects(c, p)
               if (o, RDF.type, EXO.UnspecifiedCargo) in data}
    if not claims:
        return data
    kept = Graph()
    for triple in data:
        if triple[0] not in claims:
            kept.add(triple)
    return kept


def reason(graphs: dict[str, Graph], extra: dict[str, Graph] | None = None, use_hermit: bool = True,
           hermit_run: Future | None = None) -> Reasoning:
    """Materialize the entailments of ontology + asserted (+ ``extra`` labelled graphs) and check consistency.

    ``hermit_run``: HermiT already running on :func:`hermit_input` of the same graphs (the build starts
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
        hermit_result = hermit_run.result() if hermit_run is not None else hermit(hermit_input(data))
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
