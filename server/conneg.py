"""Content negotiation: one table of the formats the server speaks, used by every route and the tests.

A response's format is chosen by the ``format`` request parameter when present (for browsers and wget,
which cannot set Accept), else by the Accept header with its q-values (werkzeug's ``best_match``),
else the first format of the table for that kind of answer. Format IRIs are those of
https://www.w3.org/ns/formats/ as used by the SPARQL 1.1 Service Description's ``sd:resultFormat``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

FORMATS_NS = "http://www.w3.org/ns/formats/"

# What an answer carries; a format lists the kinds it can serialize.
SOLUTIONS = "solutions"  # SELECT
BOOLEAN = "boolean"  # ASK
GRAPH = "graph"  # CONSTRUCT, DESCRIBE, and RDF documents such as the service description and VoID
PAGE = "page"  # a human-readable page (the service description for browsers)


@dataclass(frozen=True)
class Format:
    name: str  # the canonical short name, as in ?format=turtle
    media_type: str  # sent as Content-Type
    kinds: frozenset[str]
    names: tuple[str, ...] = ()  # other names accepted by ?format= (media types are always accepted)
    also_accepts: tuple[str, ...] = ()  # other media types that, in Accept, select this format
    rdflib: str | None = None  # RDFLib serializer name; None: serialized by exokg.server.sparql_results
    iri: str | None = None  # the W3C format IRI, for the service description
    label: str = ""

    def answers(self, kind: str) -> bool:
        return kind in self.kinds


RESULTS = frozenset({SOLUTIONS, BOOLEAN})
# Server preference: for each kind, the first format listed wins when the client accepts anything.
TABLE: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", RESULTS, ("srj",), ("application/json",), "json",
           FORMATS_NS + "SPARQL_Results_JSON", "SPARQL Results JSON"),
    Format("xml", "application/sparql-results+xml", RESULTS, ("srx",), ("application/xml",), "xml",
           FORMATS_NS + "SPARQL_Results_XML", "SPARQL Results XML"),
    Format("csv", "text/csv", RESULTS, (), (), "csv", FORMATS_NS + "SPARQL_Results_CSV", "SPARQL Results CSV"),
    Format("tsv", "text/tab-separated-values", RESULTS, (), (), None, FORMATS_NS + "SPARQL_Results_TSV",
           "SPARQL Results TSV"),
    Format("turtle", "text/turtle", frozenset({GRAPH}), ("ttl", "n3"),
           ("application/turtle", "application/x-turtle", "text/n3", "text/rdf+n3", "application/n3"), "turtle",
           FORMATS_NS + "Turtle", "Turtle"),
    Format("ntriples", "application/n-triples", frozenset({GRAPH}), ("nt", "n-triples"), (), "nt11",
           FORMATS_NS + "N-Triples", "N-Triples"),
    Format("jsonld", "application/ld+json", frozenset({GRAPH}), ("json-ld", "json"),
           ("application/json", "application/x-json+ld"), "json-ld", FORMATS_NS + "JSON-LD", "JSON-LD"),
    Format("rdfxml", "application/rdf+xml", frozenset({GRAPH}), ("rdf+xml", "rdf", "xml", "owl"),
           ("application/xml",), "xml", FORMATS_NS + "RDF_XML", "RDF/XML"),
    Format("trig", "application/trig", frozenset({GRAPH}), (), (), "trig", FORMATS_NS + "TriG", "TriG"),
    Format("nquads", "application/n-quads", frozenset({GRAPH}), ("nq", "n-quads"), (), "nquads",
           FORMATS_NS + "N-Quads", "N-Quads"),
    Format("html", "text/html", frozenset({PAGE}), (), ("application/xhtml+xml",), None, None, "HTML"),
)
BY_MEDIA_TYPE = {f.media_type: f for f in TABLE}


class UnknownFormat(ValueError):
    """A ``format`` parameter names no format this server knows."""

    def __init__(self, values: Iterable[str]):
        self.values = tuple(values)
        known = ", ".join(f.name for f in TABLE)
        super().__init__(f"unknown format {', '.join(map(repr, self.values))}; known formats: {known} (or their media types)")


def formats_for(*kinds: str) -> list[Format]:
    """The formats that can carry every one of ``kinds``, in server preference order."""
    return [f for f in TABLE if any(f.answers(k) for k in kinds)]


def _named(value: str, candidates: list[Format]) -> Format | None:
    value = value.strip().lower()
    for f in candidates:
        if value in (f.name, f.media_type, *f.names, *f.also_accepts):
            return f
    return None


def negotiate(kind: str | tuple[str, ...], accept: MIMEAccept | str | None,
              format_values: Iterable[str] = ()) -> Format | None:
    """The format to answer with (``kind`` of answer, or one of several kinds), or None for a 406.

    ``format_values`` are the request's ``format`` parameters; some clients send several (SPARQLWrapper
    sends a short name and a media type), the first that fits this kind of answer wins.
    Raises :class:`UnknownFormat` when ``format`` is given and none of its values names any format.
    """
    candidates = formats_for(*((kind,) if isinstance(kind, str) else kind))
    format_values = [v for v in format_values if v.strip()]
    if format_values:
        for value in format_values:
            chosen = _named(value, candidates)
            if chosen:
                return chosen
        if not any(_named(value, list(TABLE)) for value in format_values):
            raise UnknownFormat(format_values)
        return None
    if isinstance(accept, str) or accept is None:
        accept = parse_accept_header(accept or "", MIMEAccept)
    if not accept:  # no Accept header: anything goes
        return candidates[0]
    offered = [f.media_type for f in candidates] + [m for f in candidates for m in f.also_accepts]
    match = accept.best_match(offered)
    if match is None:
        return None
    return BY_MEDIA_TYPE.get(match) or next(f for f in candidates if match in f.also_accepts)
