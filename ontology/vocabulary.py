"""Load the TBox and expose the closed vocabularies the curated files may use.

Curated rows name cell types, states, contexts, directions and biomarker uses by local name; this module
is the single place that says which names exist, read from the ontology itself, so adding a class to
``exokg.ttl`` is all it takes to make it usable in a TSV.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from exokg.config import EXO, ONTOLOGY_FILE


def load_ontology() -> Graph:
    graph = Graph()
    graph.parse(ONTOLOGY_FILE, format="turtle")
    return graph


def _local(iri: URIRef) -> str:
    return str(iri)[len(str(EXO)) :]


def _subclasses(graph: Graph, root: URIRef) -> frozenset[str]:
    found = {root}
    frontier = [root]
    while frontier:
        for sub in graph.subjects(RDFS.subClassOf, frontier.pop()):
            if isinstance(sub, URIRef) and sub not in found:
                found.add(sub)
                frontier.append(sub)
    return frozenset(_local(c) for c in found if str(c).startswith(str(EXO)))


def _members(graph: Graph, cls: URIRef) -> frozenset[str]:
    return frozenset(_local(i) for i in graph.subjects(RDF.type, cls) if str(i).startswith(str(EXO)))


@dataclass(frozen=True)
class Vocabulary:
    """Local names (under exo:) that curated files may use, per kind."""

    terms: frozenset[str]  # every class, property and individual the ontology declares
    cell_types: frozenset[str]
    cell_states: frozenset[str]
    contexts: frozenset[str]
    directions: frozenset[str]
    biomarker_uses: frozenset[str]
    expression_changes: frozenset[str]
    process_categories: frozenset[str]
    entity_types: frozenset[str]
    class_by_label: dict[str, str]  # rdfs:label of each exo: class → its local name


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    graph = load_ontology()
    declared = {
        _local(s)
        for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, OWL.NamedIndividual)
        for s in graph.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and str(s).startswith(str(EXO))
    }
    molecular = _subclasses(graph, EXO.MolecularEntity) - {"MolecularEntity", "NucleicAcid"}
    return Vocabulary(
        terms=frozenset(declared),
        cell_types=_subclasses(graph, EXO.Cell),
        cell_states=_members(graph, EXO.CellState),
        contexts=_members(graph, EXO.TherapyContext),
        directions=_members(graph, EXO.Direction),
        biomarker_uses=_members(graph, EXO.BiomarkerUse),
        expression_changes=_members(graph, EXO.ExpressionChange),
        process_categories=_subclasses(graph, EXO.BiologicalProcess) - {"BiologicalProcess"},
        entity_types=molecular
        | {"Pathway", "BiologicalProcess", "BodyFluid", "Disease", "CellLine", "CellularComponent"},
        class_by_label={
            str(label): _local(cls)
            for cls in graph.subjects(RDF.type, OWL.Class)
            if isinstance(cls, URIRef) and str(cls).startswith(str(EXO))
            for label in graph.objects(cls, RDFS.label)
        },
    )


def cargo_types(vocab: Vocabulary) -> frozenset[str]:
    """Entity types a vesicle can carry: molecular entities."""
    return vocab.entity_types - {"Pathway", "BiologicalProcess", "BodyFluid", "Disease", "CellLine", "CellularComponent"}
