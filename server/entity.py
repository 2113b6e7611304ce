"""Dereferenceable IRIs: every IRI the graph mints under https://w3id.org/exokg/ answers on this server.

The base IRI's path maps onto the server's root: ``BASE + "molecule/miR-21"`` is ``/molecule/miR-21`` here,
``BASE + "vocab"`` (the ontology) is ``/vocab``. Behind a proxy or the w3id redirect, ``EXOKG_PUBLIC_BASE``
names the URL that serves ``BASE`` and the pages link through it; otherwise they link relative to this
server (honouring a proxy's ``SCRIPT_NAME``).

Linked-data behaviour (https://www.w3.org/TR/cooluris/, section 4.3; https://www.w3.org/TR/ldp/ is not
needed for read-only data): one URL, **direct content negotiation** rather than 303 redirects — the
entity IRI itself answers with HTML for browsers or an RDF serialization chosen by ``Accept`` (or by a
``format`` parameter), always with ``Vary: Accept`` and a ``Content-Location`` naming the
format-specific URL; those URLs end in an extension (``.ttl``, ``.jsonld``, ``.nt``, ``.rdf``, ``.html``)
and never negotiate. Unknown IRIs answer 404 (an HTML page for browsers). The RDF served for an IRI is
its statements in and out, plus the blank nodes hanging off it (an OWL class's restrictions) and, for a
finding, its own nested nodes (``finding/<ID>/effect/<n>``, ``/step/<n>``, ``/variant/<n>``).

Data is read only through ``current_store().query(SPARQL)``, so any backend of the store serves these pages.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote

from flask import Blueprint, Response, current_app, render_template, request
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from exokg.config import BASE, DATASET_IRI, EXO, GRAPH, IAO_DEFINITION, IRI_SEGMENTS, OBOINOWL, ONTOLOGY_IRI, PREFIXES, bind_prefixes
from exokg.jsonld import context, context_document
from exokg.server import charts, conneg
from exokg.server.http import text_error
from exokg.server.sparql_results import serialize_graph
from exokg.server.store import current_store


blueprint = Blueprint("entity", __name__)

SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
# The representations of one IRI: HTML first, so a client accepting anything (*/*) gets the page.
_BY_NAME = {f.name: f for f in conneg.TABLE}
RDF_FORMATS = tuple(_BY_NAME[n] for n in ("turtle", "jsonld", "ntriples", "rdfxml"))
HTML = _BY_NAME["html"]
REPRESENTATIONS = (HTML, *RDF_FORMATS)
EXTENSIONS = {".html": HTML, ".ttl": _BY_NAME["turtle"], ".jsonld": _BY_NAME["jsonld"], ".nt": _BY_NAME["ntriples"],
              ".rdf": _BY_NAME["rdfxml"]}
EXTENSION_OF = {f.name: ext for ext, f in EXTENSIONS.items()}

XREF_PREDICATES = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch,
                   OBOINOWL.hasDbXref, RDFS.seeAlso, OWL.sameAs)
DEFINITION_PREDICATES = (IAO_DEFINITION, SKOS.definition, RDFS.comment, URIRef("http://purl.org/dc/terms/description"))
# A finding's provenance: where the review says it, in the review's own words, and what the curators noted.
PROVENANCE_PREDICATES = (EXO.hasReference, EXO.hasTextReference, EXO.fromSource, EXO.supportingQuote,
                         EXO.curatedAt, EXO.curatorNote, EXO.hasEvidence, EXO.donorText, EXO.cargoText,
                         EXO.receivingText, EXO.targetsText, EXO.effectsText, EXO.hasTextVariant)


# --- IRIs ↔ routes -----------------------------------------------------------------------------------

def href(iri: str) -> str:
    """Where a page links for ``iri``: the local route of our own IRIs, the IRI itself for others."""
    if not iri.startswith(BASE):
        return iri
    rest = quote(iri[len(BASE):], safe="/:@!$&'()*+,;=-._~")
    public = current_app.config["EXOKG_SETTINGS"].public_base
    return (public or request.script_root + "/") + rest


def iri_of_path(path: str) -> str:
    """The IRI a request path names (``path`` as werkzeug decoded it, relative to the script root)."""
    return BASE + path.lstrip("/")


def is_own(iri: str) -> bool:
    return iri.startswith(BASE)


def local_name(iri: str) -> str:
    for sep in ("#", "/", ":"):
        if sep in iri:
            iri = iri.rsplit(sep, 1)[1] or iri
    return iri


def curie(iri: str) -> str:
    """A prefixed name for display (``exo:hasCargo``), or the IRI when no prefix fits."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(str(ns)) and len(str(ns)) > len(best):
            best, name = str(ns), prefix
    return f"{name}:{iri[len(best):]}" if best else iri


def xref_href(value: str) -> str:
    """An outbound link for a cross-reference: IRIs as they are, CURIEs through the Bioregistry resolver."""
    if value.startswith(("http://", "https://")):
        return value
    return "https://bioregistry.io/" + quote(value, safe=":")


# --- reading the store ---------------------------------------------------------------------------------

@dataclass
class Term:
    """One RDF term as a page shows it."""

    value: str
    kind: str  # "iri", "literal", "bnode"
    label: str = ""
    language: str | None = None
    datatype: str | None = None

    @classmethod
    def of(cls, term, label=None) -> "Term":
        if isinstance(term, URIRef):
            return cls(str(term), "iri", str(label) if label is not None else "")
        if isinstance(term, Literal):
            return cls(str(term), "literal", language=term.language,
                       datatype=str(term.datatype) if term.datatype else None)
        return cls(str(term), "bnode")

    @property
    def href(self) -> str | None:
        return href(self.value) if self.kind == "iri" else None

    @property
    def own(self) -> bool:
        return self.kind == "iri" and is_own(self.value)

    @property
    def text(self) -> str:
        if self.kind == "iri":
            return self.label or curie(self.value)
        if self.kind == "bnode":
            return "(blank node)"
        return self.value


@dataclass
class Statement:
    predicate: Term
    other: Term  # the object of an outgoing statement, the subject of an incoming one


@dataclass
class Description:
    iri: str
    out: list[Statement] = field(default_factory=list)
    incoming: list[Statement] = field(default_factory=list)
    nested: dict[str, list[Statement]] = field(default_factory=dict)  # a finding's own nodes → their statements

    def values(self, predicate: URIRef) -> list[Term]:
        return [s.other for s in self.out if s.predicate.value == str(predicate)]

    def first(self, *predicates: URIRef) -> str:
        for p in predicates:
            for t in self.values(p):
                if t.language in (None, "en"):
                    return t.value
        return ""

    @property
    def label(self) -> str:
        return self.first(RDFS.label, SKOS.prefLabel) or local_name(self.iri)

    @property
    def types(self) -> list[Term]:
        return self.values(RDF.type)

    def by_predicate(self, statements: list[Statement], skip: tuple = ()) -> list[tuple[Term, list[Term]]]:
        groups: dict[str, tuple[Term, list[Term]]] = {}
        for s in statements:
            if s.predicate.value in skip:
                continue
            groups.setdefault(s.predicate.value, (s.predicate, []))[1].append(s.other)
        return sorted(groups.values(), key=lambda g: curie(g[0].value))


IRIREF = re.compile(r'[^<>"{}|^`\\\x00-\x20\x7f-\x9f]+')  # SPARQL's IRIREF characters, no DEL or C1 controls


def _iri_literal(iri: str) -> str:
    """``<iri>`` for a query, refusing text that is no IRI (it could not be one of ours anyway)."""
    if not IRIREF.fullmatch(iri):
        raise ValueError(f"not an IRI: {iri!r}")
    return f"<{iri}>"


def describe(iri: str) -> Description | None:
    """Statements in and out of ``iri`` with the labels of everything they name; None if it has none."""
    node = _iri_literal(iri)
    query = SPARQL_PREFIXES + f"""
SELECT ?dir ?p ?o ?plabel ?olabel WHERE {{
  {{ {node} ?p ?o . BIND("out" AS ?dir) }} UNION {{ ?o ?p {node} . BIND("in" AS ?dir) }}
  OPTIONAL {{ ?p rdfs:label ?plabel FILTER(LANGMATCHES(LANG(?plabel), "en") || LANG(?plabel) = "") }}
  OPTIONAL {{ ?o rdfs:label ?olabel FILTER(LANGMATCHES(LANG(?olabel), "en") || LANG(?olabel) = "") }}
}}"""
    rows = current_store().query(query)
    description = Description(iri)
    seen = set()
    for row in rows:
        key = (str(row.dir), row.p, row.o)
        if key in seen:  # several labels: keep the first
            continue
        seen.add(key)
        statement = Statement(Term.of(row.p, row.plabel), Term.of(row.o, row.olabel))
        (description.out if str(row.dir) == "out" else description.incoming).append(statement)
    if not description.out and not description.incoming:
        return None
    description.out.sort(key=lambda s: (curie(s.predicate.value), s.other.text.lower()))
    description.incoming.sort(key=lambda s: (curie(s.predicate.value), s.other.text.lower()))
    return description


def describe_nested(description: Description) -> None:
    """Fill in the statements of the nodes minted under ``description.iri + "/"`` (a finding's effects…)."""
    node = _iri_literal(description.iri)
    query = SPARQL_PREFIXES + f"""
SELECT ?n ?p ?o ?plabel ?olabel WHERE {{
  {node} ?link ?n . FILTER(isIRI(?n) && STRSTARTS(STR(?n), "{description.iri}/"))
  ?n ?p ?o .
  OPTIONAL {{ ?p rdfs:label ?plabel FILTER(LANGMATCHES(LANG(?plabel), "en") || LANG(?plabel) = "") }}
  OPTIONAL {{ ?o rdfs:label ?olabel FILTER(LANGMATCHES(LANG(?olabel), "en") || LANG(?olabel) = "") }}
}}"""
    nested: dict[str, list[Statement]] = defaultdict(list)
    seen = set()
    for row in current_store().query(query):
        key = (row.n, row.p, row.o)
        if key not in seen:
            seen.add(key)
            nested[str(row.n)].append(Statement(Term.of(row.p, row.plabel), Term.of(row.o, row.olabel)))
    for statements in nested.values():
        statements.sort(key=lambda s: (s.predicate.value == str(RDF.type), curie(s.predicate.value), s.other.text.lower()))
    description.nested = dict(sorted(nested.items(), key=lambda kv: _natural(kv[0])))


def _natural(iri: str) -> tuple:
    head, _, tail = iri.rpartition("/")
    return (head, int(tail)) if tail.isdigit() else (head, 0, tail)


def rdf_description(iri: str) -> Graph:
    """The RDF served for ``iri``: statements in and out, blank nodes below it (three levels, enough for
    OWL restrictions and short lists), and the statements of its nested nodes."""
    node = _iri_literal(iri)
    query = SPARQL_PREFIXES + f"""
CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  {{ {node} ?p ?o . BIND({node} AS ?s) }}
  UNION {{ ?s ?p {node} . BIND({node} AS ?o) }}
  UNION {{ {node} ?a ?s . FILTER(isBlank(?s)) ?s ?p ?o }}
  UNION {{ {node} ?a ?b1 . FILTER(isBlank(?b1)) ?b1 ?b ?s . FILTER(isBlank(?s)) ?s ?p ?o }}
  UNION {{ {node} ?a ?b1 . FILTER(isBlank(?b1)) ?b1 ?b ?b2 . FILTER(isBlank(?b2)) ?b2 ?c ?s . FILTER(isBlank(?s)) ?s ?p ?o }}
  UNION {{ {node} ?a ?s . FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{iri}/")) ?s ?p ?o }}
}}"""
    graph = bind_prefixes(Graph())
    for triple in current_store().query(query).graph:
        graph.add(triple)
    return graph


# --- the finding's chain ---------------------------------------------------------------------------------

def chain(description: Description):
    """The picture of a finding: donor population → vesicle → cargo → receiving cell → targets/pathway → effect."""
    def items(*predicates):
        found = [t for p in predicates for t in description.values(p) if t.kind == "iri"]
        return [charts.Item(t.text, t.href) for t in found]

    steps = []
    for node, statements in description.nested.items():
        entity = next((s.other for s in statements if s.predicate.value == str(EXO.stepEntity)), None)
        if entity is not None and "/step/" in node:
            steps.append(charts.Item(entity.text, entity.href))
    targets = items(EXO.hasTarget, EXO.actsThroughPathway)
    shown = {t.label for t in targets}
    targets += [s for s in steps if s.label not in shown and s.label not in {c.label for c in items(EXO.hasCargo)}]
    effects = []
    for statements in description.nested.values():
        process = next((s.other for s in statements if s.predicate.value == str(EXO.affectsProcess)), None)
        direction = next((s.other for s in statements if s.predicate.value == str(EXO.hasDirection)), None)
        if process is not None:
            effects.append(charts.Item(process.text, process.href, note=direction.text if direction else ""))
    cargo = items(EXO.hasCargo) or items(EXO.hasUnspecifiedCargo)
    if not cargo and description.first(EXO.cargoUnspecified):
        cargo = [charts.Item("unspecified cargo")]
    receiving = items(EXO.hasReceivingPopulation)
    picture = charts.chain_diagram(f"The chain of {description.label}", [
        ("donor cells", items(EXO.hasDonorPopulation)),
        ("vesicle", items(EXO.hasVesicle)),
        ("cargo", cargo),
        ("receiving cells", receiving),
        ("targets / pathway", targets),
        ("effect", effects),
    ])
    edges = signed_edges(description)
    if edges:
        picture += charts.signed_steps_diagram(f"The signed mechanism steps of {description.label}", edges)
    return picture


def signed_edges(description: Description) -> list[charts.SignedEdge]:
    """The finding's exo:SignedStep nodes as diagram rows, in chain order."""
    edges = []
    for node, statements in description.nested.items():
        if "/signed-step/" not in node:
            continue
        by = {s.predicate.value: s.other for s in statements}
        subject, obj = by.get(str(EXO.statementSubject)), by.get(str(EXO.statementObject))
        sign, word = by.get(str(EXO.hasSign)), by.get(str(EXO.relationWord))
        position = by.get(str(EXO.chainPosition))
        if subject is None or obj is None or sign is None:
            continue
        edges.append(charts.SignedEdge(int(position.value) if position else 0, charts.Item(subject.text, subject.href),
                                       sign.value.rsplit("/", 1)[-1], word.value if word else "",
                                       charts.Item(obj.text, obj.href)))
    return sorted(edges, key=lambda e: e.position)


# --- negotiation and responses -------------------------------------------------------------------------

def choose(offered=REPRESENTATIONS) -> conneg.Format | None:
    """The representation asked for: ``format`` parameter, else Accept (HTML when anything goes)."""
    values = [v for v in request.args.getlist("format") if v.strip()]
    if values:
        for value in values:
            for f in offered:
                if value.strip().lower() in (f.name, f.media_type, *f.names, *f.also_accepts):
                    return f
        raise conneg.UnknownFormat(values)
    accept = request.accept_mimetypes
    if not accept:
        return offered[0]
    media = [f.media_type for f in offered] + [m for f in offered for m in f.also_accepts]
    match = accept.best_match(media)
    if match is None:
        return None
    return next(f for f in offered if match == f.media_type or match in f.also_accepts)


def wants_html() -> bool:
    """For error pages: does the client prefer HTML to plain text? (No Accept header: plain text.)"""
    accept = request.accept_mimetypes
    return bool(accept) and accept.best_match(["text/plain", "text/html"]) == "text/html"


def not_found(what: str) -> Response:
    if wants_html():
        body = render_template("404.html", what=what)
        return Response(body, status=404, mimetype="text/html")
    return text_error(404, f"not found: {what} is not an IRI of this graph (search: {request.script_root}/search?q=)")


def finish(response: Response, fmt: conneg.Format, negotiated: bool, base_path: str) -> Response:
    """Validators (the store's version), caching and negotiation headers shared by every representation.

    ``base_path`` is the request path without extension: the format-specific URLs are made from it.
    """
    store = current_store()
    response.set_etag(f"{store.version}-{fmt.name}")
    response.last_modified = store.modified
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.add("Accept")
    if negotiated:
        response.headers["Content-Location"] = location_for(base_path, fmt)
    response.headers["Link"] = ", ".join(
        f'<{location_for(base_path, f)}>; rel="alternate"; type="{f.media_type}"' for f in REPRESENTATIONS if f != fmt)
    return response.make_conditional(request)


def location_for(path: str, fmt: conneg.Format) -> str:
    return request.script_root + path + EXTENSION_OF[fmt.name]


def resolve() -> tuple[str, conneg.Format | None, bool] | Response:
    """(IRI, format, negotiated?) for this request, or an error response."""
    path = request.path
    for ext, fmt in EXTENSIONS.items():
        if path.endswith(ext) and len(path) > len(ext) + 1:
            return iri_of_path(path[: -len(ext)]), fmt, False
    try:
        fmt = choose()
    except conneg.UnknownFormat as exc:
        return text_error(400, str(exc))
    return iri_of_path(path), fmt, True


def unacceptable() -> Response:
    offered = ", ".join(f.media_type for f in REPRESENTATIONS)
    return text_error(406, f"no acceptable representation; offered: {offered}")


def rdf_response(graph: Graph, fmt: conneg.Format, negotiated: bool, base_path: str) -> Response:
    response = Response(serialize_graph(graph, fmt, served_context()), mimetype=fmt.media_type)
    return finish(response, fmt, negotiated, base_path)


def _base_path(negotiated: bool) -> str:
    if negotiated:
        return request.path
    return request.path.rsplit(".", 1)[0]


def entity_view() -> Response:
    resolved = resolve()
    if isinstance(resolved, Response):
        return resolved
    iri, fmt, negotiated = resolved
    if fmt is None:
        return unacceptable()
    if not IRIREF.fullmatch(iri):
        return not_found(repr(iri))
    if iri == DATASET_IRI or iri.startswith(DATASET_IRI + "/"):
        return void_view(iri, fmt, negotiated)
    if iri.startswith(str(GRAPH)):
        return graph_view(iri, fmt, negotiated)
    try:
        if fmt is not HTML:
            graph = ontology_graph() if iri == ONTOLOGY_IRI else Graph()
            graph = graph if len(graph) else rdf_description(iri)
            if not len(graph):
                return not_found(iri)
            return rdf_response(graph, fmt, negotiated, _base_path(negotiated))
        description = describe(iri)
    except ValueError:
        return not_found(repr(iri))
    if description is None:
        return not_found(iri)
    is_finding = iri.startswith(BASE + "finding/") and "/" not in iri[len(BASE + "finding/"):]
    if is_finding:
        describe_nested(description)
    body = render_template(
        "entity.html", d=description, is_finding=is_finding, chain=chain(description) if is_finding else None,
        xrefs=[t for p in XREF_PREDICATES for t in description.values(p)],
        definition=description.first(*DEFINITION_PREDICATES), synonyms=description.values(SKOS.altLabel),
        provenance=description.by_predicate([s for s in description.out if s.predicate.value in
                                             {str(p) for p in PROVENANCE_PREDICATES}]),
        out=description.by_predicate(description.out), incoming=description.by_predicate(description.incoming),
        is_ontology=iri == ONTOLOGY_IRI, xref_href=xref_href, curie=curie,
        terms=vocabulary_terms() if iri == ONTOLOGY_IRI else [],
        alternates=[(f, location_for(_base_path(negotiated), f)) for f in RDF_FORMATS],
    )
    return finish(Response(body, mimetype="text/html"), HTML, negotiated, _base_path(negotiated))


def ontology_graph() -> Graph:
    """The ontology IRI dereferences to the whole ontology: the named graph ``graph/ontology`` (TBox,
    vocabulary individuals and the imported external terms), as ``ontology.ttl`` holds it."""
    graph = bind_prefixes(Graph())
    for triple in current_store().query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{GRAPH.ontology}> {{ ?s ?p ?o }} }}").graph:
        graph.add(triple)
    return graph


_contexts: dict[str, dict] = {}  # store version → the JSON-LD context of its ontology


def served_context() -> dict:
    """The one JSON-LD context (:func:`exokg.jsonld.context`) of the served ontology, as the build embeds it
    in ``exokg.jsonld``; made once per data version."""
    store = current_store()
    found = _contexts.get(store.version)
    if found is None:
        found = context(ontology_graph())
        _contexts.clear()
        _contexts[store.version] = found
    return found


@blueprint.route("/context.jsonld", methods=["GET", "HEAD"])
def context_document_view() -> Response:
    """The JSON-LD context of entity documents and of the dump, for clients that reference it by URL."""
    response = Response(context_document(served_context()), mimetype="application/ld+json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def vocabulary_terms() -> list[tuple[str, list[Term]]]:
    """The ontology page's index: its classes, properties and vocabulary individuals, by kind."""
    query = SPARQL_PREFIXES + f"""
SELECT ?s ?kind (SAMPLE(?l) AS ?label) WHERE {{
  ?s a ?kind . VALUES ?kind {{ owl:Class owl:ObjectProperty owl:DatatypeProperty owl:AnnotationProperty owl:NamedIndividual }}
  FILTER(STRSTARTS(STR(?s), "{EXO}"))
  OPTIONAL {{ ?s rdfs:label ?l FILTER(LANGMATCHES(LANG(?l), "en") || LANG(?l) = "") }}
}} GROUP BY ?s ?kind"""
    kinds = {str(OWL.Class): "Classes", str(OWL.ObjectProperty): "Object properties",
             str(OWL.DatatypeProperty): "Data properties", str(OWL.AnnotationProperty): "Annotation properties",
             str(OWL.NamedIndividual): "Vocabulary individuals"}
    groups: dict[str, list[Term]] = {name: [] for name in kinds.values()}
    for row in current_store().query(query):
        groups[kinds[str(row.kind)]].append(Term.of(row.s, row.label))
    return [(name, sorted(terms, key=lambda t: t.text.casefold())) for name, terms in groups.items() if terms]


def void_view(iri: str, fmt: conneg.Format, negotiated: bool) -> Response:
    """The dataset IRI and the VoID nodes below it are described by the build's VoID file."""
    void = Graph().parse(data=current_store().void, format="turtle")
    node = URIRef(iri)
    if (node, None, None) not in void and (None, None, node) not in void:
        return not_found(iri)
    if fmt is not HTML:
        graph = bind_prefixes(Graph())
        for triple in void.triples((node, None, None)):
            graph.add(triple)
        for triple in void.triples((None, None, node)):
            graph.add(triple)
        return rdf_response(graph, fmt, negotiated, _base_path(negotiated))
    labels = {s: o for s, o in void.subject_objects(RDFS.label)}
    description = Description(iri)
    for p, o in void.predicate_objects(node):
        description.out.append(Statement(Term.of(p), Term.of(o, labels.get(o))))
    for s, p in void.subject_predicates(node):
        description.incoming.append(Statement(Term.of(p), Term.of(s, labels.get(s))))
    body = render_template(
        "entity.html", d=description, is_finding=False, chain=None, xrefs=[], definition="", synonyms=[],
        provenance=[], out=description.by_predicate(description.out),
        incoming=description.by_predicate(description.incoming), is_ontology=False, terms=[], xref_href=xref_href,
        curie=curie, alternates=[(f, location_for(_base_path(negotiated), f)) for f in RDF_FORMATS],
    )
    return finish(Response(body, mimetype="text/html"), HTML, negotiated, _base_path(negotiated))


def graph_view(iri: str, fmt: conneg.Format, negotiated: bool) -> Response:
    """A named graph's IRI: its triple count as a page, its triples as RDF."""
    store = current_store()
    names = {str(v): k for k, v in getattr(store, "graph_iris", {}).items()} or {
        str(GRAPH[n]): n for n in ("ontology", "asserted", "inferred")}
    if iri not in names:
        return not_found(iri)
    if fmt is not HTML:
        graph = bind_prefixes(Graph())
        for triple in store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}").graph:
            graph.add(triple)
        return rdf_response(graph, fmt, negotiated, _base_path(negotiated))
    body = render_template("graph.html", iri=iri, name=names[iri], triples=store.info.triples.get(names[iri]),
                           alternates=[(f, location_for(_base_path(negotiated), f)) for f in RDF_FORMATS])
    return finish(Response(body, mimetype="text/html"), HTML, negotiated, _base_path(negotiated))


def _register() -> None:
    segments = sorted(set(IRI_SEGMENTS.values()))
    any_segment = "any(" + ",".join(f'"{s}"' for s in segments) + ")"
    rule_kwargs = {"methods": ["GET", "HEAD"], "strict_slashes": False}
    blueprint.add_url_rule(f"/<{any_segment}:segment>/<path:rest>", "minted",
                           lambda segment, rest: entity_view(), **rule_kwargs)
    for name, rule in (("vocab", "/vocab"), ("vocab_ext", "/vocab.<ext>"), ("vocab_term", "/vocab/<path:rest>"),
                       ("dataset", "/dataset"), ("dataset_ext", "/dataset.<ext>"), ("dataset_part", "/dataset/<path:rest>"),
                       ("graph", "/graph/<path:rest>")):
        blueprint.add_url_rule(rule, name, lambda **_: entity_view(), **rule_kwargs)


_register()
