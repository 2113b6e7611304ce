"""Serializers for every format of :mod:`exokg.server.conneg`, used by the routes, the CLI and the tests.

RDFLib writes SPARQL Results JSON and XML, CSV for SELECT, and the RDF syntaxes. It has no TSV results
serializer and no CSV/TSV for ASK, which are written here: TSV after the SPARQL 1.1 Query Results CSV
and TSV Formats (https://www.w3.org/TR/sparql11-results-csv-tsv/), terms in Turtle/N-Triples syntax;
ASK in CSV/TSV as one variable ``_askResult`` bound to true/false, the convention Apache Jena uses
because that recommendation defines no boolean form.
"""

from __future__ import annotations

import io

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import XSD, NamespaceManager
from rdflib.query import Result

from exokg.server.conneg import BOOLEAN, GRAPH, SOLUTIONS, TABLE, Format

BY_NAME = {f.name: f for f in TABLE}
SELECT_FORMATS = tuple(f for f in TABLE if f.answers(SOLUTIONS))
GRAPH_FORMATS = {f.media_type: f.rdflib for f in TABLE if f.answers(GRAPH)}  # media type → rdflib serializer


def _tsv_term(term) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        if term.datatype in (XSD.integer, XSD.decimal, XSD.double, XSD.boolean) and term.language is None:
            return str(term)
        escaped = str(term).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        if term.language:
            return f'"{escaped}"@{term.language}'
        if term.datatype and term.datatype != XSD.string:
            return f'"{escaped}"^^<{term.datatype}>'
        return f'"{escaped}"'
    return str(term)


def serialize_result(result: Result, name: str) -> bytes:
    """Serialize a SELECT or ASK result in the format called ``name`` (json, xml, csv, tsv)."""
    fmt = BY_NAME[name]
    kind = BOOLEAN if result.type == "ASK" else SOLUTIONS
    if not fmt.answers(kind):
        raise ValueError(f"{fmt.name} cannot carry {kind}")
    if result.type == "ASK" and fmt.name in ("csv", "tsv"):
        answer = "true" if result.askAnswer else "false"
        return (f"_askResult\r\n{answer}\r\n" if fmt.name == "csv" else f"?_askResult\n{answer}\n").encode("utf-8")
    if fmt.rdflib:
        buffer = io.BytesIO()
        result.serialize(buffer, format=fmt.rdflib, encoding="utf-8")
        return buffer.getvalue()
    lines = ["\t".join(f"?{v}" for v in result.vars)]
    lines += ["\t".join(_tsv_term(row[v]) for v in result.vars) for row in result]
    return ("\n".join(lines) + "\n").encode("utf-8")


def serialize_graph(graph: Graph, fmt: Format, context: dict | None = None) -> bytes:
    """Serialize an RDF graph (a CONSTRUCT or DESCRIBE answer, the service description) as ``fmt``; JSON-LD
    compacted with ``context`` (an ``@context`` object, see :mod:`exokg.jsonld`) when one is given."""
    if not fmt.answers(GRAPH):
        raise ValueError(f"{fmt.name} cannot carry an RDF graph")
    if context is not None and fmt.name == "jsonld":
        from exokg.jsonld import compacted

        return compacted(graph, context)
    if fmt.name in ("trig", "nquads"):  # quad formats: the graph becomes a dataset's default graph
        from exokg.server.store import rdflib_internals  # RDFLib's own Dataset deprecation warnings

        with rdflib_internals():
            dataset = Dataset()
            for prefix, namespace in graph.namespaces():
                dataset.bind(prefix, namespace, override=True)
            for triple in graph:
                dataset.add(triple)
            return dataset.serialize(format=fmt.rdflib, encoding="utf-8")
    return graph.serialize(format=fmt.rdflib, encoding="utf-8")


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
