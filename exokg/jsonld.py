"""The one JSON-LD context of exokg: the prefixes a graph uses and a term for each class and property of
our vocabulary, with the value type of each property, so that JSON-LD documents read as plain JSON.

Served at ``/context.jsonld``, embedded in the dump ``exokg.jsonld`` and in every entity document, so that
each stays readable offline. A term maps to its ``exo:`` IRI; an object property's term coerces its values to
IRIs (``"@type": "@id"``); a data property with one XSD range other than ``xsd:string`` coerces to that
datatype. Values that do not fit a term's coercion keep their full form under the prefixed name, which the
compaction algorithm (rdflib's JSON-LD serializer) does by itself: expansion gives back every triple
(tests/test_jsonld.py checks it with pyld).
"""

from __future__ import annotations

import json

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from exokg.config import EXO, prefixes_used

PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


def context(ontology: Graph) -> dict:
    """The ``@context`` object: the prefixes the ontology uses (the vocabulary's own IRIs, and the external
    terms it imports) and the vocabulary's terms, in a stable order."""
    terms: dict = {prefix: str(namespace) for prefix, namespace in sorted(prefixes_used(ontology).items())}
    exo = str(EXO)

    def own(node) -> str | None:
        return str(node)[len(exo):] if isinstance(node, URIRef) and str(node).startswith(exo) else None

    for cls in sorted(set(ontology.subjects(RDF.type, OWL.Class))):
        local = own(cls)
        if local:
            terms[local] = f"exo:{local}"
    for kind in PROPERTY_TYPES:
        for prop in sorted(set(ontology.subjects(RDF.type, kind))):
            local = own(prop)
            if not local or local in terms:
                continue
            if kind == OWL.ObjectProperty:
                terms[local] = {"@id": f"exo:{local}", "@type": "@id"}
                continue
            ranges = [r for r in ontology.objects(prop, RDFS.range) if str(r).startswith(str(XSD))]
            if kind == OWL.DatatypeProperty and len(ranges) == 1 and ranges[0] != XSD.string:
                terms[local] = {"@id": f"exo:{local}", "@type": f"xsd:{str(ranges[0])[len(str(XSD)):]}"}
            else:
                terms[local] = f"exo:{local}"
    return terms


def compacted(graph: Graph, context_object: dict) -> bytes:
    """``graph`` as JSON-LD compacted with ``context_object`` (the context embedded in the document)."""
    text = graph.serialize(format="json-ld", context=context_object, encoding="utf-8")
    return text if isinstance(text, bytes) else text.encode("utf-8")


def context_document(context_object: dict) -> bytes:
    """The context as the document served at /context.jsonld."""
    return (json.dumps({"@context": context_object}, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
