"""The SPARQL 1.1 Service Description of the endpoint, built from the live dataset and settings.

Returned by GET /sparql without a query (https://www.w3.org/TR/sparql11-service-description/): the
endpoint, its languages and features, every result format of the negotiation table, the default
dataset with one ``sd:namedGraph`` per graph and its ``void:triples``, a link to the VoID description,
and the limits a client meets (as ``exosd:`` properties, described in the document itself).
"""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, VOID, XSD

from exokg.config import BASE, DATASET_IRI
from exokg.server import conneg
from exokg.server.settings import Settings
from exokg.server.store import GraphStore

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
EXOSD = Namespace(BASE + "service#")  # this endpoint's own terms, for limits SD has no words for

LIMITS = {  # term → (settings attribute, datatype, what it means)
    "queryTimeoutSeconds": ("query_timeout", XSD.decimal, "a query still running after this many seconds is stopped (HTTP 503)"),
    "maxResultRows": ("max_rows", XSD.integer, "most solutions or triples one answer may hold (HTTP 403 past it)"),
    "maxResponseBytes": ("max_response_bytes", XSD.integer, "largest serialized answer (HTTP 403 past it)"),
    "maxRequestBytes": ("max_request_bytes", XSD.integer, "largest request body or GET query string (HTTP 413/414 past it)"),
}


def describe(store: GraphStore, settings: Settings, endpoint: str, void_url: str) -> Graph:
    """The service description of the endpoint at ``endpoint`` (the URL clients used to reach it)."""
    g = Graph()
    g.bind("sd", SD)
    g.bind("void", VOID)
    g.bind("exosd", EXOSD)
    service = URIRef(endpoint)
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, service))
    g.add((service, RDFS.label, Literal("exokg SPARQL endpoint", lang="en")))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    if settings.updates_enabled:
        g.add((service, SD.supportedLanguage, SD.SPARQL11Update))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    if settings.service_allowlist:
        g.add((service, SD.feature, SD.BasicFederatedQuery))
    for fmt in conneg.TABLE:
        if fmt.iri:
            g.add((service, SD.resultFormat, URIRef(fmt.iri)))

    dataset = URIRef(DATASET_IRI)
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, VOID.sparqlEndpoint, service))
    g.add((dataset, RDFS.seeAlso, URIRef(void_url)))
    default = BNode()
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, RDFS.comment, Literal("the union of all named graphs", lang="en")))
    g.add((default, VOID.triples, Literal(store.info.union_triples, datatype=XSD.integer)))
    for name, iri in store.graph_iris.items():
        named, graph = BNode(), BNode()
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, iri))
        g.add((named, SD.graph, graph))
        g.add((graph, RDF.type, SD.Graph))
        g.add((graph, RDFS.label, Literal(name, lang="en")))
        g.add((graph, VOID.triples, Literal(store.info.triples[name], datatype=XSD.integer)))

    for term, (attribute, datatype, comment) in LIMITS.items():
        g.add((service, EXOSD[term], Literal(getattr(settings, attribute), datatype=datatype)))
        g.add((EXOSD[term], RDF.type, RDF.Property))
        g.add((EXOSD[term], RDFS.comment, Literal(comment, lang="en")))
    for allowed in settings.service_allowlist:
        g.add((service, EXOSD.allowedService, URIRef(allowed)))
    return g


def summary(store: GraphStore, settings: Settings) -> dict:
    """The same facts as plain values, for the HTML page."""
    return {
        "graphs": [(str(iri), name, store.info.triples[name]) for name, iri in store.graph_iris.items()],
        "triples": store.info.union_triples,
        "formats": [f for f in conneg.TABLE if f.iri],
        "limits": {term: getattr(settings, attr) for term, (attr, _, _) in LIMITS.items()},
        "updates": settings.updates_enabled,
        "services": settings.service_allowlist,
    }
