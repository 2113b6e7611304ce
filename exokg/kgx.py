"""The built graph as a Biolink-aligned KGX property graph: ``exokg_kgx_nodes.tsv`` and ``exokg_kgx_edges.tsv``.

KGX TSV format: https://github.com/biolink/kgx/blob/master/specification/kgx-format.md (one node or edge a
row, multivalued cells joined by ``|``); categories and predicates are Biolink Model 4 terms
(https://biolink.github.io/biolink-model/). What is exported:

- nodes: the review's entities (molecules, processes, pathways, drugs, diseases, body fluids, cell lines,
  cellular components), cell populations and vesicles, with their own CURIE as ``id`` (prefixes from
  :mod:`exokg.identifiers`) and their verified exact matches in ``xref``, the key for joining other graphs;
- edges: the relations between those nodes (a population secretes a vesicle, a vesicle carries a cargo, a
  miRNA targets a gene, …) and, for every finding, each cargo's effect on a process, with the direction as
  ``object_direction_qualifier``. Asserted edges are the curators' (``manual_agent``); those only the
  reasoner derived say so (``logical_entailment``, ``automated_agent``).

Findings, references and claims stay in the RDF dumps: KGX has no place for their quotes and provenance.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from exokg.config import BASE, EXO, OBOINOWL
from exokg.identifiers import IdentifierError, own, parse

NODES_FILE = "exokg_kgx_nodes.tsv"
EDGES_FILE = "exokg_kgx_edges.tsv"
KNOWLEDGE_SOURCE = "infores:exokg"  # this graph, as Translator names knowledge sources
NODE_COLUMNS = ["id", "category", "name", "iri", "xref", "provided_by"]
EDGE_COLUMNS = [
    "id", "subject", "predicate", "object", "original_predicate", "object_direction_qualifier",
    "knowledge_level", "agent_type", "primary_knowledge_source",
]
# Our classes → the Biolink category of their members; the first that applies wins (a miRNA is also an RNA).
CATEGORIES = (
    ("MicroRNA", "biolink:MicroRNA"),
    ("LncRNA", "biolink:NoncodingRNAProduct"),
    ("CircRNA", "biolink:NoncodingRNAProduct"),
    ("SmallNuclearRNA", "biolink:NoncodingRNAProduct"),
    ("Gene", "biolink:Gene"),
    ("Protein", "biolink:Protein"),
    ("Lipid", "biolink:SmallMolecule"),
    ("Drug", "biolink:SmallMolecule"),  # Biolink's Drug is a formulated product; ours are the compounds
    ("Pathway", "biolink:Pathway"),
    ("BiologicalProcess", "biolink:BiologicalProcess"),
    ("Disease", "biolink:Disease"),
    ("BodyFluid", "biolink:AnatomicalEntity"),
    ("CellLine", "biolink:CellLine"),
    ("CellularComponent", "biolink:CellularComponent"),
    ("ExtracellularVesicle", "biolink:CellularComponent"),
    ("CellPopulation", "biolink:Cell"),
)
# Our object properties → Biolink predicates, in one direction only (the inverses add nothing to KGX).
PREDICATES = {
    "secretes": "biolink:produces",  # cell population → vesicle
    "carries": "biolink:has_part",  # vesicle → cargo
    "receives": "biolink:interacts_with",  # cell population takes up the vesicle
    "targets": "biolink:regulates",  # e.g. a miRNA → the gene it silences
    "actsInPathway": "biolink:participates_in",
    "modulatesPathway": "biolink:affects",
    "fromCellLine": "biolink:derives_from",
    "hasDisease": "biolink:related_to",  # cells of a disease; Biolink has no closer predicate for cells
    "partOf": "biolink:part_of",
    "resistanceTo": "biolink:related_to",
}
# The review's directions of an effect → Biolink's DirectionQualifierEnum ("regulates" states none).
DIRECTIONS = {"promotes": "increased", "induces": "increased", "stimulates": "increased", "inhibits": "decreased",
              "regulates": ""}


@dataclass(frozen=True, order=True)
class Node:
    id: str
    category: str
    name: str
    iri: str
    xrefs: tuple[str, ...]

    def row(self) -> list[str]:
        return [self.id, self.category, self.name, self.iri, "|".join(self.xrefs), KNOWLEDGE_SOURCE]


@dataclass(frozen=True, order=True)
class Edge:
    id: str
    subject: str
    predicate: str
    object: str
    original_predicate: str
    direction: str
    asserted: bool

    def row(self) -> list[str]:
        level, agent = ("knowledge_assertion", "manual_agent")
        if not self.asserted:
            level, agent = ("logical_entailment", "automated_agent")  # only the reasoner says so
        return [self.id, self.subject, self.predicate, self.object, self.original_predicate, self.direction,
                level, agent, KNOWLEDGE_SOURCE]


def _label(graph: Graph, node: URIRef) -> str:
    return min((str(o) for o in graph.objects(node, RDFS.label)), default="")


def category(types: set[URIRef]) -> str | None:
    return next((biolink for local, biolink in CATEGORIES if EXO[local] in types), None)


def nodes(union: Graph) -> dict[URIRef, Node]:
    """Every node of ours with a Biolink category, keyed by IRI."""
    found = {}
    for subject in set(union.subjects(RDF.type, None)):
        if not isinstance(subject, URIRef) or not str(subject).startswith(BASE) or str(subject).startswith(str(EXO)):
            continue
        biolink = category(set(union.objects(subject, RDF.type)))
        if biolink is None:
            continue
        exact = sorted(str(o) for o in union.objects(subject, SKOS.exactMatch))
        written = {str(iri): curie for iri, curie in _xrefs(union, subject)}
        found[subject] = Node(own(str(subject)).written, biolink, _label(union, subject), str(subject),
                              tuple(sorted(written[iri] for iri in exact if iri in written)))
    return found


def _xrefs(union: Graph, subject: URIRef):
    """(IRI, CURIE as curated) of each cross-reference: triples.py writes both, the CURIE as oboInOwl:hasDbXref."""
    for written in union.objects(subject, OBOINOWL.hasDbXref):
        try:
            curie = parse(str(written))
        except IdentifierError:
            continue
        yield curie.iri, curie.written


def _edge_id(*parts: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, ' '.join(parts))}"  # stable across builds


def edges(graphs: dict[str, Graph], union: Graph, found: dict[URIRef, Node]) -> list[Edge]:
    asserted = graphs["asserted"]
    result = []
    for local, predicate in PREDICATES.items():
        for s, o in union.subject_objects(EXO[local]):
            if s in found and o in found:
                result.append(Edge(_edge_id(str(s), local, str(o)), found[s].id, predicate, found[o].id,
                                   f"exo:{local}", "", (s, EXO[local], o) in asserted))
    for finding in set(union.subjects(EXO.hasEffect, None)):
        # the cargo acts; a finding that names none credits its vesicle
        actors = sorted(set(union.objects(finding, EXO.hasCargo)))
        actors = actors or sorted(set(union.objects(finding, EXO.hasVesicle)))
        for effect in union.objects(finding, EXO.hasEffect):
            direction = next(iter(union.objects(effect, EXO.hasDirection)), None)
            for process in union.objects(effect, EXO.affectsProcess):
                for actor in actors:
                    if actor in found and process in found:
                        result.append(Edge(_edge_id(str(effect), str(actor)), found[actor].id, "biolink:affects",
                                           found[process].id, own(str(direction)).written,
                                           DIRECTIONS[str(direction)[len(str(EXO)):]], True))
    result += signed_step_edges(union, found)
    return sorted(set(result))


def signed_step_edges(union: Graph, found: dict[URIRef, Node]) -> list[Edge]:
    """A signed mechanism step maps to the Biolink predicate of its relation (ontology/step_relations.tsv,
    checked against biolink-model 4.4.6's biolink_model.yaml): ``biolink:regulates`` with the object direction
    qualifier (upregulated / downregulated, increased / decreased) for a signed change, and
    ``biolink:directly_physically_interacts_with`` for binding, sponging and ubiquitination."""
    from exokg.ontology.signs import relations

    result = []
    for step in union.subjects(RDF.type, EXO.SignedStep):
        s, o = union.value(step, EXO.statementSubject), union.value(step, EXO.statementObject)
        word = union.value(step, EXO.relationWord)
        relation = relations().get(str(word))
        if relation is None or s not in found or o not in found:
            continue
        prop = union.value(step, EXO.statementRelation)
        result.append(Edge(_edge_id(str(step)), found[s].id, relation.biolink_predicate, found[o].id,
                           own(str(prop)).written if str(prop).startswith(BASE) else _obo_curie(str(prop)),
                           relation.biolink_direction, True))
    return result


def _obo_curie(iri: str) -> str:
    local = iri.rsplit("/", 1)[-1]
    return local.replace("_", ":", 1) if "_" in local else iri


def _tsv(columns: list[str], rows: list[list[str]]) -> bytes:
    table = io.StringIO()
    writer = csv.writer(table, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    writer.writerows(rows)
    return table.getvalue().encode("utf-8")


def kgx_tsv(graphs: dict[str, Graph]) -> dict[str, bytes]:
    """The two KGX files, rows sorted so that the same graph gives the same bytes."""
    union = Graph()
    for graph in graphs.values():
        union += graph
    found = nodes(union)
    return {
        NODES_FILE: _tsv(NODE_COLUMNS, [n.row() for n in sorted(found.values())]),
        EDGES_FILE: _tsv(EDGE_COLUMNS, [e.row() for e in edges(graphs, union, found)]),
    }
