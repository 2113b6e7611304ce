"""Serializers of Oxigraph's answers (pyoxigraph terms) for every format of :mod:`exokg.server.conneg`.

The engine reads a SELECT's solutions into a list first, to enforce the row limit before answering,
so pyoxigraph's own results writer (which consumes the live iterator) cannot be used; these writers
follow the same recommendations, and the same conventions as :mod:`exokg.server.sparql_results`
(ASK in CSV/TSV as ``_askResult``, TSV terms in Turtle syntax, bare numbers and booleans):
- JSON: https://www.w3.org/TR/sparql11-results-json/
- XML: https://www.w3.org/TR/rdf-sparql-XMLres/
- CSV and TSV: https://www.w3.org/TR/sparql11-results-csv-tsv/
RDF graphs (CONSTRUCT, DESCRIBE) are written by pyoxigraph itself, in every RDF format of the table.
"""

from __future__ import annotations

import csv
import io
import json
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from exokg.config import PREFIXES
from exokg.server.conneg import Format

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
BARE = {XSD + "integer", XSD + "decimal", XSD + "double", XSD + "boolean"}  # written unquoted in TSV
RESULTS_NS = "http://www.w3.org/2005/sparql-results#"
_PREFIXES = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
_RDF_FORMATS = {  # conneg name → pyoxigraph format, and whether it needs quads
    "turtle": (ox.RdfFormat.TURTLE, False),
    "ntriples": (ox.RdfFormat.N_TRIPLES, False),
    "jsonld": (ox.RdfFormat.JSON_LD, False),
    "rdfxml": (ox.RdfFormat.RDF_XML, False),
    "trig": (ox.RdfFormat.TRIG, True),
    "nquads": (ox.RdfFormat.N_QUADS, True),
}


_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _json_fragment(term) -> str:
    """``term`` as its JSON results object, already encoded (the writer joins fragments: no dict per term)."""
    if isinstance(term, ox.NamedNode):
        return '{"type":"uri","value":' + _json(term.value) + "}"
    if isinstance(term, ox.BlankNode):
        return '{"type":"bnode","value":' + _json(term.value) + "}"
    if isinstance(term, ox.Literal):
        if term.language:
            return '{"type":"literal","value":' + _json(term.value) + ',"xml:lang":' + _json(term.language) + "}"
        datatype = term.datatype.value
        if datatype == XSD_STRING:
            return '{"type":"literal","value":' + _json(term.value) + "}"
        return '{"type":"literal","value":' + _json(term.value) + ',"datatype":' + _json(datatype) + "}"
    return ('{"type":"triple","value":{"subject":' + _json_fragment(term.subject) + ',"predicate":'
            + _json_fragment(term.predicate) + ',"object":' + _json_fragment(term.object) + "}}")


def _memoized(write):
    """``write`` remembering its answer per term for one result: the same IRIs and labels recur in
    many rows, and reading a term's parts out of Oxigraph costs more than hashing it."""
    memo: dict = {}

    def written(term):
        text = memo.get(term)
        if text is None:
            text = memo[term] = write(term)
        return text

    return written


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}</predicate>"
            f"<object>{_xml_term(term.object)}</object></triple>")


def _csv_term(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, (ox.NamedNode, ox.Literal)):
        return term.value
    return str(term)


def _tsv_term(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return f"<{term.value}>"
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if datatype in BARE and not term.language:
            return term.value
        escaped = (term.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                   .replace("\r", "\\r").replace("\t", "\\t"))
        if term.language:
            return f'"{escaped}"@{term.language}'
        if datatype not in (XSD_STRING, RDF_LANG_STRING):
            return f'"{escaped}"^^<{datatype}>'
        return f'"{escaped}"'
    return str(term)


def solutions(variables: list[str], rows: list, name: str) -> bytes:
    """A SELECT's solutions (pyoxigraph QuerySolution objects) in results format ``name``."""
    if name == "json":
        # Written as text from per-term fragments: 3x faster than json.dumps of a dict per binding, which
        # showed on the big answers of the benchmark's mix (docs/benchmarks.md).
        keys = [_json(v) + ":" for v in variables]
        fragment = _memoized(_json_fragment)
        bindings = ",".join("{" + ",".join(key + fragment(value) for key, value in zip(keys, row) if value is not None) + "}"
                            for row in rows)
        return ('{"head":{"vars":' + _json(variables) + '},"results":{"bindings":[' + bindings + "]}}").encode("utf-8")
    if name == "xml":
        parts = ['<?xml version="1.0" encoding="utf-8"?>\n', f'<sparql xmlns="{RESULTS_NS}"><head>']
        parts += [f"<variable name={quoteattr(v)}/>" for v in variables]
        parts.append("</head><results>")
        opening = [f"<binding name={quoteattr(var)}>" for var in variables]
        term = _memoized(_xml_term)
        for row in rows:
            parts.append("<result>")
            parts += [start + term(value) + "</binding>" for start, value in zip(opening, row) if value is not None]
            parts.append("</result>")
        parts.append("</results></sparql>\n")
        return "".join(parts).encode("utf-8")
    if name == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(variables)
        writer.writerows([_csv_term(value) for value in row] for row in rows)
        return buffer.getvalue().encode("utf-8")
    if name == "tsv":
        lines = ["\t".join(f"?{v}" for v in variables)]
        term = _memoized(_tsv_term)
        lines += ["\t".join(term(value) for value in row) for row in rows]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(f"{name} cannot carry solutions")


def boolean(value: bool, name: str) -> bytes:
    """An ASK answer in results format ``name``."""
    answer = "true" if value else "false"
    if name == "json":
        return f'{{"head":{{}},"boolean":{answer}}}'.encode()
    if name == "xml":
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns="{RESULTS_NS}"><head/>'
                f"<boolean>{answer}</boolean></sparql>\n").encode()
    if name == "csv":
        return f"_askResult\r\n{answer}\r\n".encode()
    if name == "tsv":
        return f"?_askResult\n{answer}\n".encode()
    raise ValueError(f"{name} cannot carry a boolean")


def graph(triples: list, fmt: Format) -> bytes:
    """A CONSTRUCT or DESCRIBE answer (pyoxigraph Triples) in the RDF format ``fmt``; quad formats put
    the triples in the default graph."""
    rdf_format, quads = _RDF_FORMATS[fmt.name]
    items = [ox.Quad(t.subject, t.predicate, t.object) for t in triples] if quads else triples
    prefixes = _PREFIXES if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML) else None
    return ox.serialize(items, format=rdf_format, prefixes=prefixes)
