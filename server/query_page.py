"""The query page (/query, YASGUI) and the worked example queries (/examples), kept as data.

Each example is one Turtle file in ``server/examples/`` in the style of the SIB SPARQL examples
(https://github.com/sib-swiss/sparql-examples): a ``sh:SPARQLExecutable`` with ``rdfs:comment``, the query
in ``sh:select`` / ``sh:construct`` / ``sh:ask``, ``schema:target`` naming the endpoint and
``sh:prefixes`` pointing at the shared prefix declarations (generated here from :data:`exokg.config.PREFIXES`).
Each file also documents the answer the query gives on the review graph, in the ``answer:`` vocabulary
(``BASE + "examples/answer#"``): ``answer:rowCount``, ``answer:row`` (a blank node whose
``var:<name>`` properties are bindings one solution must hold), ``answer:boolean`` for ASK,
``answer:triple`` (an ``rdf:Statement``) for CONSTRUCT, and ``answer:evidence``, words of the review the answer
rests on. The tests run every example against its answer; the served RDF leaves the answers out.

The page (served at /sparql to browsers, and at /query) uses YASGUI (npm ``@zazuko/yasgui``, installed by
``make install``) served by this server from ``node_modules`` (or ``EXOKG_YASGUI_DIR``), never from a CDN;
without those files it is a plain HTML form posting to /sparql. The editor completes the prefixes, classes
and properties of the data, with their labels, from ``/query/terms.json`` (YASQE's LOV completers, which
would call a public service, are off), and links our IRIs in result tables to this server (or
``EXOKG_PUBLIC_BASE``), as the examples' ``schema:target`` names this server's endpoint.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, send_from_directory, url_for
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD

from exokg.config import BASE, PREFIXES
from exokg.server import conneg
from exokg.server.entity import SPARQL_PREFIXES, href
from exokg.server.http import text_error
from exokg.server.sparql_results import serialize_graph
from exokg.server.store import current_store

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
EXAMPLES = Namespace(BASE + "examples/")  # the examples' own IRIs: BASE/examples/<file stem>
ANSWER = Namespace(BASE + "examples/answer#")  # documented answers (for the tests, not served)
VARIABLE = Namespace(BASE + "examples/answer/variable#")  # var:<name> in an answer:row
SCHEMA = Namespace("https://schema.org/")
PREFIX_DECLARATIONS = EXAMPLES.prefixes  # the sh:prefixes object of every example
ENDPOINT_IRI = URIRef(BASE + "sparql")

# The query forms an example may have: its SHACL type and the property holding its text.
FORMS = {
    "select": (SH.SPARQLSelectExecutable, SH.select),
    "construct": (SH.SPARQLConstructExecutable, SH.construct),
    "ask": (SH.SPARQLAskExecutable, SH.ask),
}
# The YASGUI build as npm installs it at the repository root; EXOKG_YASGUI_DIR overrides it.
DEFAULT_YASGUI_DIR = Path(__file__).resolve().parent.parent / "node_modules" / "@zazuko" / "yasgui" / "build"
YASGUI_FILES = ("yasgui.min.js", "yasgui.min.css", "yasgui.min.js.map")

blueprint = Blueprint("query_page", __name__)


class ExampleError(ValueError):
    """An example file lacks what the SIB style requires, or is not valid Turtle."""


@dataclass(frozen=True)
class Example:
    name: str  # the file stem, e.g. 002-mirnas-promoting-tmz-resistance
    iri: URIRef
    label: str
    comment: str
    form: str  # select | construct | ask
    query: str
    keywords: tuple[str, ...]
    graph: Graph  # the file's triples, answers included


def read_example(path: Path) -> Example:
    """One example file, checked for the SIB properties; raises :class:`ExampleError`."""
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as exc:  # rdflib's parser raises several unrelated types
        raise ExampleError(f"{path.name}: not valid Turtle: {exc}") from exc
    iri = EXAMPLES[path.stem]
    problems = []
    if (iri, RDF.type, SH.SPARQLExecutable) not in graph:
        problems.append(f"no <{iri}> a sh:SPARQLExecutable (the subject must be named after the file)")
    forms = [(form, str(text)) for form, (_, prop) in FORMS.items() for text in graph.objects(iri, prop)]
    if len(forms) != 1:
        problems.append(f"{len(forms)} queries (sh:select, sh:construct or sh:ask): exactly one is needed")
    elif (iri, RDF.type, FORMS[forms[0][0]][0]) not in graph:
        problems.append(f"a sh:{forms[0][0]} query needs the type {graph.qname(FORMS[forms[0][0]][0])}")
    comments = [c for c in graph.objects(iri, RDFS.comment) if isinstance(c, Literal) and (c.language or c.datatype == RDF.HTML)]
    if not comments:
        problems.append("no rdfs:comment with a language tag (or of type rdf:HTML)")
    if (iri, SCHEMA.target, ENDPOINT_IRI) not in graph:
        problems.append(f"schema:target is not <{ENDPOINT_IRI}>")
    if (iri, SH.prefixes, PREFIX_DECLARATIONS) not in graph:
        problems.append(f"sh:prefixes is not <{PREFIX_DECLARATIONS}>")
    if problems:
        raise ExampleError(f"{path.name}: " + "; ".join(problems))
    form, query = forms[0]
    return Example(
        name=path.stem,
        iri=iri,
        label=str(graph.value(iri, RDFS.label) or path.stem),
        comment=str(comments[0]),
        form=form,
        query=query,
        keywords=tuple(sorted(str(k) for k in graph.objects(iri, SCHEMA.keywords))),
        graph=graph,
    )


@functools.lru_cache(maxsize=4)
def load_examples(directory: Path = EXAMPLES_DIR) -> tuple[Example, ...]:
    """Every example of ``directory``, in file-name order."""
    return tuple(read_example(path) for path in sorted(Path(directory).glob("*.ttl")))


def prefix_declarations(prefixes: dict | None = None) -> Graph:
    """The shared ``sh:declare`` block the examples point at: ``prefixes`` (those the served data uses),
    else the project's whole prefix table."""
    graph = Graph()
    graph.add((PREFIX_DECLARATIONS, RDF.type, URIRef("http://www.w3.org/2002/07/owl#Ontology")))
    for prefix, namespace in sorted((PREFIXES if prefixes is None else prefixes).items()):
        declaration = BNode()
        graph.add((PREFIX_DECLARATIONS, SH.declare, declaration))
        graph.add((declaration, SH.prefix, Literal(prefix)))
        graph.add((declaration, SH.namespace, Literal(str(namespace), datatype=XSD.anyURI)))
    return graph


def published(examples: tuple[Example, ...], endpoint: str = str(ENDPOINT_IRI), prefixes: dict | None = None) -> Graph:
    """The examples as served: their SIB triples and the prefix declarations, without the test answers, with
    ``schema:target`` naming ``endpoint`` (the endpoint of the server that serves them)."""
    graph = prefix_declarations(prefixes)
    for prefix, namespace in (("ex", EXAMPLES), ("sh", SH), ("schema", SCHEMA), ("rdfs", RDFS)):
        graph.bind(prefix, namespace)
    for example in examples:
        for s, p, o in example.graph:
            if s == example.iri and not str(p).startswith(str(ANSWER)):
                graph.add((s, p, URIRef(endpoint) if (p, o) == (SCHEMA.target, ENDPOINT_IRI) else o))
    return graph


def served_endpoint() -> str:
    """The endpoint URL as this server's clients reach it: through ``EXOKG_PUBLIC_BASE``, else the request's host."""
    return href(str(ENDPOINT_IRI)) if current_app.config["EXOKG_SETTINGS"].public_base else \
        url_for("sparql.endpoint", _external=True)


# --- completion terms ---------------------------------------------------------------------------------
_TERMS_QUERY = SPARQL_PREFIXES + """
SELECT ?term ?kind (SAMPLE(?l) AS ?label) WHERE {
  { SELECT DISTINCT ?term ?kind WHERE {
      { ?x a ?term BIND("class" AS ?kind) } UNION { ?term a owl:Class BIND("class" AS ?kind) }
      UNION { ?x ?term ?y BIND("property" AS ?kind) }
      UNION { ?term a ?type VALUES ?type { owl:ObjectProperty owl:DatatypeProperty owl:AnnotationProperty rdf:Property }
              BIND("property" AS ?kind) }
      FILTER(isIRI(?term)) } }
  OPTIONAL { ?term rdfs:label ?l FILTER(LANGMATCHES(LANG(?l), "en") || LANG(?l) = "") }
} GROUP BY ?term ?kind"""
_terms_lock = threading.Lock()
_terms: dict[str, dict] = {}  # store version → the completion terms


def used_prefixes(store, found: set[str]) -> dict[str, str]:
    """The entries of the project's prefix table the data uses: those some IRI of ``found`` starts with, then
    one ASK per remaining namespace (an IRI anywhere in a quad, or a literal's datatype)."""
    used = {}
    for prefix, namespace in PREFIXES.items():
        ns = str(namespace)
        if any(iri.startswith(ns) for iri in found):
            used[prefix] = ns
            continue
        literal = f'"{ns}"'  # our own namespaces: no quote or backslash to escape
        ask = (f"ASK {{ {{ ?s ?p ?o }} UNION {{ GRAPH ?g {{ ?s ?p ?o }} }} FILTER(STRSTARTS(STR(?s), {literal}) || "
               f"STRSTARTS(STR(?p), {literal}) || STRSTARTS(STR(?o), {literal}) || "
               f"(isLiteral(?o) && STRSTARTS(STR(DATATYPE(?o)), {literal})) || (BOUND(?g) && STRSTARTS(STR(?g), {literal}))) }}")
        if store.query(ask).askAnswer:
            used[prefix] = ns
    return used


def completion_terms() -> dict:
    """The prefixes, classes and properties of the served data with their labels (cached per data version)."""
    store = current_store()
    with _terms_lock:
        cached = _terms.get(store.version)
    if cached is not None:
        return cached
    terms: dict[str, list] = {"class": [], "property": []}
    for row in store.query(_TERMS_QUERY):
        terms[str(row.kind)].append({"iri": str(row.term), "label": str(row.label) if row.label is not None else ""})
    for kind in terms:
        terms[kind].sort(key=lambda t: t["iri"])
    found = {t["iri"] for kind in terms.values() for t in kind} | {str(iri) for iri in getattr(store, "graph_iris", {}).values()}
    made = {"prefixes": used_prefixes(store, found), "classes": terms["class"], "properties": terms["property"]}
    with _terms_lock:
        _terms.clear()
        _terms[store.version] = made
    return made


def _examples() -> tuple[Example, ...]:
    return load_examples(current_app.config.get("QUERY_EXAMPLES_DIR", EXAMPLES_DIR))


def _yasgui_dir() -> Path | None:
    """Where the YASGUI build is, or None when it is not installed (the page is then a plain form)."""
    configured = current_app.config["EXOKG_SETTINGS"].yasgui_dir
    directory = Path(configured) if configured else DEFAULT_YASGUI_DIR
    return directory if all((directory / name).is_file() for name in YASGUI_FILES[:2]) else None


def _rdf_response(graph: Graph, fmt: conneg.Format) -> Response:
    response = Response(serialize_graph(graph, fmt), mimetype=fmt.media_type)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _negotiated(extension: str | None) -> conneg.Format | Response:
    """The format of an /examples answer: by extension, else ``format``, else Accept (HTML or RDF)."""
    try:
        if extension is not None:
            fmt = conneg.negotiate(conneg.GRAPH, None, [extension])
            return fmt or text_error(404, f"no RDF format has the extension .{extension}")
        fmt = conneg.negotiate((conneg.PAGE, conneg.GRAPH), request.accept_mimetypes, request.args.getlist("format"))
    except conneg.UnknownFormat as exc:
        return text_error(404 if extension else 400, str(exc))
    if fmt is None:
        offered = ", ".join(f.media_type for f in conneg.formats_for(conneg.PAGE, conneg.GRAPH))
        return text_error(406, f"no acceptable format for the examples; offered: {offered}")
    return fmt


def _split(name: str) -> tuple[str, str | None]:
    stem, dot, extension = name.partition(".")
    return stem, (extension if dot else None)


def editor_page() -> str:
    """The query editor with the examples (YASGUI, or the plain form without it)."""
    examples = _examples()
    return render_template(
        "query.html",
        examples=examples,
        yasgui=_yasgui_dir() is not None,
        endpoint=url_for("sparql.endpoint", _external=True),
        description=url_for("sparql.description"),
        terms_url=url_for("query_page.terms"),
        own_base=BASE,
        local_base=href(BASE) if current_app.config["EXOKG_SETTINGS"].public_base else request.host_url.rstrip("/") + href(BASE),
        examples_json=[{"name": e.name, "label": e.label, "query": e.query} for e in examples],
        selected=request.args.get("example", ""),
    )


@blueprint.route("/query", methods=["GET"])
def query_page() -> str:
    return editor_page()


@blueprint.route("/query/terms.json", methods=["GET"])
def terms() -> Response:
    """What the editor completes: ``prefixes`` (prefix → namespace, those the data uses), ``classes`` and
    ``properties`` (each ``{"iri", "label"}``), read from the served data."""
    response = jsonify(completion_terms())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blueprint.route("/query/assets/<path:filename>", methods=["GET"])
def yasgui_asset(filename: str) -> Response:
    directory = _yasgui_dir()
    if directory is None or filename not in YASGUI_FILES:
        abort(404, description=f"no query page asset {filename!r} (is YASGUI installed? run 'make install')")
    return send_from_directory(directory, filename, max_age=86400)


@blueprint.route("/examples", methods=["GET"], defaults={"extension": None})
@blueprint.route("/examples.<extension>", methods=["GET"])
def examples_index(extension: str | None) -> Response | str:
    examples = _examples()
    fmt = _negotiated(extension)
    if isinstance(fmt, Response):
        return fmt
    if fmt.name != "html":
        response = _rdf_response(published(examples, served_endpoint(), completion_terms()["prefixes"]), fmt)
    else:
        response = Response(render_template("examples.html", examples=examples), mimetype="text/html")
    if extension is None:
        response.vary.add("Accept")
    return response


@blueprint.route("/examples/<name>", methods=["GET"])
def example(name: str) -> Response:
    stem, extension = _split(name)
    found = {e.name: e for e in _examples()}.get(stem)
    if found is None:
        return text_error(404, f"no example named {stem!r}; the list is at {url_for('query_page.examples_index')}")
    if extension == "rq":
        return Response(found.query, mimetype="application/sparql-query")
    fmt = _negotiated(extension)
    if isinstance(fmt, Response):
        return fmt
    if fmt.name != "html":
        response = _rdf_response(published((found,), served_endpoint(), completion_terms()["prefixes"]), fmt)
    else:
        response = Response(render_template("example.html", example=found), mimetype="text/html")
    if extension is None:
        response.vary.add("Accept")
    return response
