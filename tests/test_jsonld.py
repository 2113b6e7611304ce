"""JSON-LD (exokg/jsonld.py): one context for the dump and every entity document, served at /context.jsonld,
and documents that pyld — an implementation of the JSON-LD API independent of rdflib — expands back to
exactly the triples of the same resource's N-Triples. Also: documents declare only the prefixes they use.
"""

from __future__ import annotations

import json
import re

import pytest
from rdflib import Graph, Literal
from rdflib.compare import isomorphic
from rdflib.namespace import XSD

from exokg.config import BASE, EXO, ONTOLOGY_IRI, PREFIXES, prefixes_used
from conftest import select

RDFLIB_ONLY_PREFIXES = ("brick", "csvw", "doap", "sosa", "odrl", "geo")  # bound by rdflib, not used by us


def no_network(url, options=None):
    raise AssertionError(f"the document needs {url} from the network: its context must be embedded")


def expanded_triples(document: bytes) -> Graph:
    """The triples pyld finds in a JSON-LD document (expansion, then conversion to RDF)."""
    from pyld import jsonld

    nquads = jsonld.to_rdf(json.loads(document), {"format": "application/n-quads", "documentLoader": no_network})
    return Graph().parse(data=nquads, format="nt")


def plain(graph: Graph) -> Graph:
    """``graph`` with ``"x"^^xsd:string`` written ``"x"``: the same RDF 1.1 term, which pyld always types."""
    out = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype == XSD.string:
            o = Literal(str(o))
        out.add((s, p, o))
    return out


@pytest.fixture(scope="module")
def resources(union) -> dict[str, str]:
    """Local paths of one resource per kind: a finding (nested nodes), its cargo, the ontology, a class."""
    finding, cargo = select(union, "SELECT ?f ?c WHERE { ?f exo:hasCargo ?c } ORDER BY ?f ?c LIMIT 1")[0]
    return {kind: "/" + iri[len(BASE):] for kind, iri in
            {"finding": finding, "cargo": cargo, "ontology": ONTOLOGY_IRI, "class": str(EXO.MicroRNA)}.items()}


@pytest.mark.parametrize("kind", ["finding", "cargo", "ontology", "class"])
def test_entity_document_is_compacted_and_expands_to_its_ntriples(client, resources, kind):
    document = client.get(resources[kind] + ".jsonld")
    assert document.status_code == 200 and document.mimetype == "application/ld+json"
    served = json.loads(document.data)
    assert served["@context"] == client.get("/context.jsonld").get_json()["@context"]
    assert not any(key.startswith(BASE) for node in served.get("@graph", [served]) for key in node), \
        "our properties are written as terms of the context, not as full IRIs"
    ntriples = Graph().parse(data=client.get(resources[kind] + ".nt").data, format="nt")
    assert len(ntriples) > 0
    assert isomorphic(plain(expanded_triples(document.data)), plain(ntriples))


def test_dump_is_compacted_with_the_served_context_and_expands_to_the_ntriples(client, build_dir):
    dump = (build_dir / "exokg.jsonld").read_bytes()
    assert json.loads(dump)["@context"] == client.get("/context.jsonld").get_json()["@context"]
    assert '"hasCargo": ' in dump.decode("utf-8")  # a term, not <https://w3id.org/exokg/vocab/hasCargo>
    ntriples = Graph().parse(build_dir / "exokg.nt", format="nt")
    assert isomorphic(plain(expanded_triples(dump)), plain(ntriples))


def test_context_has_typed_terms_for_our_properties_and_only_our_prefixes(client):
    response = client.get("/context.jsonld")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    terms = response.get_json()["@context"]
    assert terms["hasCargo"] == {"@id": "exo:hasCargo", "@type": "@id"}  # an object property: values are IRIs
    assert terms["stepIndex"] == {"@id": "exo:stepIndex", "@type": "xsd:integer"}  # its range
    assert terms["supportingQuote"] == "exo:supportingQuote"  # xsd:string: plain strings
    assert terms["Finding"] == "exo:Finding"
    prefixes = {key for key, value in terms.items() if isinstance(value, str) and value.endswith(("/", "#"))}
    assert prefixes <= set(PREFIXES) and "exo" in prefixes
    assert not set(RDFLIB_ONLY_PREFIXES) & set(terms)


@pytest.mark.parametrize("name", ["exokg.ttl", "exokg.trig", "ontology.ttl", "void.ttl"])
def test_dumps_declare_only_the_prefixes_their_graph_uses(build_dir, name):
    from rdflib import Dataset

    from exokg.server.store import rdflib_internals

    path = build_dir / name
    declared = dict(re.findall(r"^@prefix ([\w-]*): <([^>]*)> \.$", path.read_text(encoding="utf-8"), flags=re.MULTILINE))
    with rdflib_internals():
        data = Dataset().parse(path, format="trig" if name.endswith(".trig") else "turtle")
    used = {p: str(ns) for p, ns in prefixes_used(data).items()}
    assert declared and declared.items() <= used.items()  # rdf: may go unwritten when only `a` uses it
