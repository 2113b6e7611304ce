"""SPARQL result formats: one registry of media type → serializer, used by the routes, the CLI and the tests.

RDFLib has JSON, XML and CSV result serializers but no TSV one; ours follows the SPARQL 1.1 Query
Results CSV and TSV Formats (terms written in Turtle/N-Triples syntax, tab-separated).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD, NamespaceManager
from rdflib.query import Result


@dataclass(frozen=True)
class ResultFormat:
    name: str  # the short name used by ?format= and the CLI
    media_type: str
    rdflib_format: str | None  # None: serialized here


SELECT_FORMATS = (
    ResultFormat("json", "application/sparql-results+json", "json"),
    ResultFormat("xml", "application/sparql-results+xml", "xml"),
    ResultFormat("csv", "text/csv", "csv"),
    ResultFormat("tsv", "text/tab-separated-values", None),
)
GRAPH_FORMATS = {  # media type → rdflib serializer, for CONSTRUCT and DESCRIBE
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}
BY_NAME = {f.name: f for f in SELECT_FORMATS}


def _tsv_term(term) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        if term.datatype in (XSD.integer, XSD.decimal, XSD.double, XSD.boolean) and term.lang is None:
            return str(term)
        escaped = str(term).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        if term.lang:
            return f'"{escaped}"@{term.lang}'
        if term.datatype and term.datatype != XSD.string:
            return f'"{escaped}"^^<{term.datatype}>'
        return f'"{escaped}"'
    return str(term)


def serialize_result(result: Result, name: str) -> bytes:
    """Serialize a SELECT or ASK result in the format called ``name`` (json, xml, csv, tsv)."""
    fmt = BY_NAME[name]
    if fmt.rdflib_format:
        buffer = io.BytesIO()
        result.serialize(buffer, format=fmt.rdflib_format, encoding="utf-8")
        return buffer.getvalue()
    if result.type == "ASK":
        return f"?_askResult\n{'true' if result.askAnswer else 'false'}\n".encode("utf-8")
    lines = ["\t".join(f"?{v}" for v in result.vars)]
    lines += ["\t".join(_tsv_term(row[v]) for v in result.vars) for row in result]
    return ("\n".join(lines) + "\n").encode("utf-8")


def compact(term, namespaces: NamespaceManager) -> str:
    """A term as a person reads it in a terminal table: prefixed names, plain literal text."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        try:
            return namespaces.normalizeUri(term)
        except Exception:  # not every IRI has a legal prefixed form
            return f"<{term}>"
    return str(term)
