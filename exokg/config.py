"""Every path and IRI base of the project, in one place."""

from __future__ import annotations

from pathlib import Path

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from exokg import __version__

# --- paths -----------------------------------------------------------------------------------------
PACKAGE_ROOT = Path(__file__).resolve().parent
ONTOLOGY_DIR = Path(__import__("exokg.ontology", fromlist=["_"]).__file__).resolve().parent
GRAPH_DIR = Path(__import__("exokg.graph", fromlist=["_"]).__file__).resolve().parent
TABLES_DIR = GRAPH_DIR / "tables"
TEXT_DIR = GRAPH_DIR / "text"
ONTOLOGY_FILE = ONTOLOGY_DIR / "exokg.ttl"
REVIEW_TEXT = GRAPH_DIR / "source" / "review.txt"
DEFAULT_BUILD_DIR = Path("build")

# --- IRIs ------------------------------------------------------------------------------------------
BASE = "https://w3id.org/exokg/"
EXO = Namespace(BASE + "vocab/")  # classes, properties and vocabulary individuals
ONTOLOGY_IRI = BASE + "vocab"
VERSION_IRI = f"{BASE}vocab/{__version__}"
DATASET_IRI = BASE + "dataset"
GRAPH = Namespace(BASE + "graph/")  # named graphs: ontology, asserted, inferred
NAMED_GRAPHS = ("ontology", "asserted", "inferred")

OBO = Namespace("http://purl.obolibrary.org/obo/")
OBOINOWL = Namespace("http://www.geneontology.org/formats/oboInOwl#")
PROV = Namespace("http://www.w3.org/ns/prov#")
VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
IAO_DEFINITION = OBO.IAO_0000115
ECO_AUTHOR_STATEMENT = OBO.ECO_0000304  # author statement supported by traceable reference (a bracket citation)
ECO_UNTRACEABLE_STATEMENT = OBO.ECO_0000303  # author statement without traceable support (the review cites nothing)

PREFIXES = {
    "exo": EXO,
    "exog": GRAPH,
    "obo": OBO,
    "oboInOwl": OBOINOWL,
    "owl": OWL,
    "rdf": RDF,
    "rdfs": RDFS,
    "skos": SKOS,
    "xsd": XSD,
    "dcterms": DCTERMS,
    "prov": PROV,
    "void": VOID,
    "dcat": DCAT,
}


LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")  # of the dataset, the dumps and the mappings


def bind_prefixes(graph):
    """``graph`` with the project's prefixes bound (ours win over RDFLib's defaults), for compact output."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    return graph


def prefixes_used(*graphs) -> dict[str, Namespace]:
    """The entries of :data:`PREFIXES` that some IRI of ``graphs`` (a term, a literal's datatype, or a named
    graph's name for a Dataset's quads) starts with: what a document of those graphs declares."""
    namespaces = sorted(((str(ns), prefix) for prefix, ns in PREFIXES.items()), reverse=True)  # longest first
    seen: set[str] = set()
    used: set[str] = set()
    for graph in graphs:
        rows = graph.quads((None, None, None, None)) if hasattr(graph, "contexts") else graph
        for row in rows:
            for term in row:
                term = getattr(term, "identifier", term)  # a quad's graph
                if hasattr(term, "datatype"):  # a literal: only its datatype is an IRI
                    term = term.datatype
                    if term is None:
                        continue
                text = str(term)
                if text in seen:
                    continue
                seen.add(text)
                for namespace, prefix in namespaces:
                    if text.startswith(namespace):
                        used.add(prefix)
                        break
    return {prefix: namespace for prefix, namespace in PREFIXES.items() if prefix in used}


# Where each kind of minted node lives under BASE; one segment per kind keeps IRIs readable.
IRI_SEGMENTS = {
    "finding": "finding",
    "vesicle": "vesicle",
    "population": "population",
    "reference": "reference",
    "molecule": "molecule",
    "pathway": "pathway",
    "process": "process",
    "cell-line": "cell-line",
    "disease": "disease",
    "body-fluid": "body-fluid",
    "drug": "drug",
    "claim": "claim",
    "biomarker": "biomarker",
    "component": "component",
    "source": "source",
    "net-effect": "net-effect",  # composed along signed steps (ontology/signs.py)
    "conflict": "conflict",  # sign conflicts (ontology/signs.py)
}

# Entity types (ontology class local names) → the IRI segment their individuals are minted under.
ENTITY_SEGMENTS = {
    "Pathway": "pathway",
    "BiologicalProcess": "process",
    "Drug": "drug",
    "BodyFluid": "body-fluid",
    "Disease": "disease",
    "CellLine": "cell-line",
    "CellularComponent": "component",
}  # every other type is a molecule


def mint(kind: str, local: str) -> str:
    """The IRI of a minted node of ``kind`` with the slug ``local``."""
    return f"{BASE}{IRI_SEGMENTS[kind]}/{local}"
