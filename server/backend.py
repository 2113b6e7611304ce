"""A remote SPARQL 1.1 endpoint as the store behind our server (``exokg serve --backend URL``, EXOKG_BACKEND).

When the graph outgrows one process, a production store (an Oxigraph server, Virtuoso, QLever) holds
the data, loaded with ``exokg push``, and this server stays the front: same routes, same limits, same
safety rules, same answers. :class:`RemoteStore` offers what the engine asks of a store (the
interface of :class:`exokg.server.store.OxigraphStore`; the engine helper's design, issue 8) and
evaluates by sending the query to the backend with the SPARQL 1.1 Protocol:

- the engine's safety screen runs here first, unchanged (SERVICE allow-list, FROM and
  default-graph-uri restricted to our graphs), so only a query this server would run is forwarded;
- the RDF dataset is sent explicitly (``default-graph-uri`` / ``named-graph-uri``): the default
  graph is the union of our named graphs, never whatever else the backend holds (Virtuoso's system
  graphs, say), and a query's FROM is honoured through the same parameters (Protocol 2.1.4). With
  ``dataset="backend-default"`` (EXOKG_BACKEND_DATASET) a query that names no dataset is sent without
  one, to be answered over the backend's own default graph: Virtuoso answers some queries several times
  faster so (docs/benchmarks.md), at the price of seeing its other graphs too. At start-up the backend's
  default graph must hold at least our triples; what it holds beyond them is logged;
- the project's prefixes are declared in front of the query, as the embedded store predeclares them;
- the backend's answer (SPARQL JSON results, or N-Triples) is parsed and written again by this
  server's own serializers, so content negotiation, the row cap and the byte cap are exactly those of
  the embedded store, whatever formats the backend offers.

Queries run in the same killable query processes; their network guard lets them reach the backend
(``endpoints``) and nothing else. Updates are refused: the backend is written with ``exokg push``.
Specs: https://www.w3.org/TR/sparql11-protocol/ and https://www.w3.org/TR/sparql11-results-json/.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.query import Result

from exokg.config import DATASET_IRI, GRAPH, NAMED_GRAPHS, PREFIXES, bind_prefixes
from exokg.server.store import VOID_FILE, StoreInfo, rdflib_result

EMPTY_GRAPH = "urn:x-exokg:empty-graph"  # names an empty dataset part: the protocol cannot send "no graph"
SOLUTIONS_MEDIA = "application/sparql-results+json"
GRAPH_MEDIA = "application/n-triples"
VERSION_SECONDS = 30.0  # how long a version (the backend's triple counts) is trusted before it is asked again
READ_FACTOR = 8  # the backend's JSON may be this many times larger than the answer we may send
log = logging.getLogger("exokg.server")

# The query form: the first keyword after the prologue (comments, BASE, PREFIX). A query this does not
# recognise (odd spacing, codepoint escapes) is parsed by rdflib instead.
_PROLOGUE = re.compile(r"""(?:\s+|\#[^\n]*(?:\n|$)|BASE\s*<[^>]*>|PREFIX\s+[^\s:]*:\s*<[^>]*>)*""", re.IGNORECASE)
_FORM = re.compile(r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


class BackendError(Exception):
    """The backend could not be reached, or answered with an error that is not the client's."""


def query_form(text: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE, read lexically; None when unsure."""
    match = _FORM.match(text, _PROLOGUE.match(text).end())
    return match.group(1).upper() if match else None


def with_prefixes(text: str, base: str | None = None) -> str:
    """``text`` with the project's prefixes (and the endpoint's URL as base) declared first, as the embedded
    store predeclares them; the query's own BASE and PREFIX come later and win."""
    declared = "".join(f"PREFIX {prefix}: <{namespace}>\n" for prefix, namespace in PREFIXES.items())
    return (f"BASE <{base}>\n" if base else "") + declared + text


class RemoteStore:
    """The dataset held by a SPARQL 1.1 query endpoint (see the module docstring)."""

    engine = "remote"  # the X-Exokg-Engine header
    storage = "remote"  # where the data is held (/health)

    def __init__(self, endpoint: str, build_dir: Path | None = None, timeout: float = 10.0, dataset: str = "explicit"):
        parts = urllib.parse.urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BackendError(f"{endpoint!r} is not an http(s) SPARQL endpoint URL")
        self.endpoint = endpoint
        self.dataset = dataset
        self.endpoints = (endpoint,)  # the query processes' network guard lets them reach it
        self.timeout = timeout
        self.graph_iris = {name: URIRef(GRAPH[name]) for name in NAMED_GRAPHS}
        void = Path(build_dir) / VOID_FILE if build_dir else None
        self._void = void.read_bytes() if void and void.is_file() else None
        self._lock = threading.Lock()
        self._checked = 0.0
        self.info = self._read_info()
        self._modified = time.time()
        if not any(self.info.triples.values()):
            raise BackendError(f"{endpoint} holds none of our graphs ({', '.join(str(i) for i in self.graph_iris.values())}); "
                               f"load them first: exokg push {endpoint} --graph-store <its graph store URL>")
        self.beyond_ours = 0  # triples of the backend's default graph that are not in our graphs
        if dataset == "backend-default":
            own_default = self._count("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", own_dataset=True)
            if own_default < self.info.union_triples:
                raise BackendError(f"{endpoint}: its default graph holds {own_default} triples, fewer than the "
                                   f"{self.info.union_triples} of our graphs' union, so EXOKG_BACKEND_DATASET=backend-default "
                                   "would lose answers; make the default graph the union of the named graphs "
                                   "(oxigraph serve --union-default-graph), or use the explicit dataset")
            self.beyond_ours = own_default - self.info.union_triples
            if self.beyond_ours:
                log.warning("%s: the backend's default graph holds %d triples beyond our graphs; queries that name "
                            "no dataset see them too (EXOKG_BACKEND_DATASET=backend-default)", endpoint, self.beyond_ours)

    # --- what the engine and the routes read -----------------------------------------------------

    def _count(self, text: str, own_dataset: bool = False) -> int:
        """A COUNT over our graphs' union (or, ``own_dataset``, over the backend's own default graph)."""
        from exokg.server.engine import ClientError

        ours = list(self.graph_iris.values())
        try:
            rows = self._select(text, None, None) if own_dataset else self._select(text, ours, ours)
            return int(rows[0]["n"].value) if rows else 0
        except ClientError as exc:  # the URL answers, but not as a SPARQL endpoint would
            raise BackendError(f"{self.endpoint} is not answering as a SPARQL query endpoint: {exc.message}") from exc
        except (SyntaxError, ValueError, KeyError) as exc:
            raise BackendError(f"{self.endpoint} did not send SPARQL JSON results: {exc}") from exc

    def _read_info(self) -> StoreInfo:
        counts = {name: self._count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")
                  for name, iri in self.graph_iris.items()}
        union = self._count("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        key = "\x1f".join([self.endpoint, *(f"{n}={c}" for n, c in counts.items()), str(union)])
        self._checked = time.monotonic()
        return StoreInfo(version="remote-" + hashlib.sha256(key.encode()).hexdigest()[:16], modified=time.time(),
                         triples=counts, union_triples=union)

    @property
    def version(self) -> str:
        """Changes when the backend's data does, as far as its triple counts show (asked every 30 s at most)."""
        if time.monotonic() - self._checked > VERSION_SECONDS:
            with self._lock:
                if time.monotonic() - self._checked > VERSION_SECONDS:
                    try:
                        info = self._read_info()
                    except BackendError:
                        self._checked = time.monotonic()  # unreachable now: keep the last version, retry later
                    else:
                        if info.version != self.info.version:
                            self.info, self._modified = info, time.time()
        return self.info.version

    @property
    def modified(self) -> float:
        return self._modified

    @property
    def void(self) -> bytes:
        """The build's VoID when the build directory is at hand, else a minimal one from the backend's counts."""
        if self._void is not None:
            return self._void
        graph = Graph()
        graph.bind("void", "http://rdfs.org/ns/void#")
        void = "http://rdfs.org/ns/void#"
        dataset = URIRef(DATASET_IRI)
        graph.parse(data=f"""<{dataset}> a <{void}Dataset> ; <{void}sparqlEndpoint> <{self.endpoint}> ;
            <{void}triples> {self.info.union_triples} .""", format="turtle")
        for name, iri in self.graph_iris.items():
            graph.parse(data=f"""<{dataset}> <{void}subset> <{iri}> . <{iri}> a <{void}Dataset> ;
                <{void}triples> {self.info.triples[name]} .""", format="turtle")
        return graph.serialize(format="turtle", encoding="utf-8")

    @property
    def namespace_manager(self):
        """The project's prefixes, for showing IRIs compactly (as the embedded stores offer it)."""
        graph = bind_prefixes(Graph())
        return graph.namespace_manager

    def graph_names(self) -> set[URIRef]:
        """Only our graphs may be named by a request, whatever else the backend holds."""
        return set(self.graph_iris.values())

    def rdflib_dataset(self):
        from exokg.server.engine import ClientError

        raise ClientError(501, "SERVICE is not available when this server answers from a backend store "
                               f"({self.endpoint}); ask the backend itself, or serve the build directly")

    # --- talking to the backend ------------------------------------------------------------------

    def _dataset_params(self, default, named) -> list[tuple[str, str]]:
        if default is None and named is None and self.dataset == "backend-default":
            return []  # the backend's own default graph and named graphs (checked at start-up)
        ours = [str(iri) for iri in self.graph_iris.values()]
        default = ours if default is None else (list(default) or [EMPTY_GRAPH])
        named = ours if named is None else (list(named) or [EMPTY_GRAPH])
        return [("default-graph-uri", g) for g in default] + [("named-graph-uri", g) for g in named]

    def send(self, text: str, default, named, accept: str, limit: int | None = None,
             base: str | None = None) -> tuple[str, bytes]:
        """POST the query (prefixes added, dataset explicit); (media type, body) of a 200 answer.

        A 4xx from the backend is the query's fault (the screen passed it, so it is one the backend
        reads differently): ClientError with the backend's message. Anything else is BackendError.
        """
        from exokg.server.engine import ClientError

        params = [("query", with_prefixes(text, base)), *self._dataset_params(default, named)]
        request = urllib.request.Request(self.endpoint, data=urllib.parse.urlencode(params).encode("utf-8"),
                                         headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(limit + 1) if limit is not None else response.read()
                media_type = response.headers.get_content_type()
        except urllib.error.HTTPError as exc:
            detail = exc.read(2000).decode("utf-8", "replace").strip()
            if 400 <= exc.code < 500 and exc.code not in (401, 403, 407, 408, 429):
                raise ClientError(400, f"the backend store refused the query (HTTP {exc.code}): {detail}") from exc
            raise BackendError(f"the backend store {self.endpoint} answered HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise BackendError(f"the backend store {self.endpoint} cannot be reached: {reason}") from exc
        if limit is not None and len(body) > limit:
            raise ClientError(403, f"the backend's answer is larger than {limit} bytes, more than this endpoint "
                                   "sends; ask for less, or page with LIMIT and OFFSET")
        return media_type, body

    def _select(self, text: str, default, named) -> list:
        import pyoxigraph as ox

        _, body = self.send(text, default, named, SOLUTIONS_MEDIA)
        return list(ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON))

    def _fetch(self, text: str, default, named, form: str, limit: int | None = None, base: str | None = None):
        """The backend's answer as pyoxigraph objects: QueryBoolean, QuerySolutions or a list of triples."""
        import pyoxigraph as ox

        accept = GRAPH_MEDIA if form in ("CONSTRUCT", "DESCRIBE") else SOLUTIONS_MEDIA
        media_type, body = self.send(text, default, named, accept + ", */*;q=0.1", limit, base)
        try:
            if form in ("CONSTRUCT", "DESCRIBE"):
                rdf = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/plain": ox.RdfFormat.N_TRIPLES,
                       "text/turtle": ox.RdfFormat.TURTLE, "application/rdf+xml": ox.RdfFormat.RDF_XML,
                       "application/n-quads": ox.RdfFormat.N_QUADS}.get(media_type, ox.RdfFormat.TURTLE)
                return [q.triple if isinstance(q, ox.Quad) else q for q in ox.parse(body, format=rdf)]
            fmt = {"application/sparql-results+xml": ox.QueryResultsFormat.XML}.get(media_type, ox.QueryResultsFormat.JSON)
            return ox.parse_query_results(body, format=fmt)
        except (SyntaxError, ValueError) as exc:
            raise BackendError(f"the backend store {self.endpoint} sent an answer this server cannot read "
                               f"({media_type}): {exc}") from exc

    def _form(self, text: str, base: str | None) -> str:
        form = query_form(text)
        if form is None:
            from exokg.server.engine import FORMS, parse_query

            form = FORMS[parse_query(text, base).algebra.name][0]  # a syntax error: a 400 saying where
        return form

    # --- the two entry points: the engine's answer() and the pages' query() ------------------------

    def answer(self, plan, job, settings):
        """Answer a screened query (``plan``) as the embedded Oxigraph store would (same serializers)."""
        from exokg.server import conneg
        from exokg.server import oxigraph_results as results
        from exokg.server.engine import Answer, ClientError, _checked_size, _too_many, choose_format, parse_query

        form = self._form(plan.text, job.base)
        kind = {"SELECT": conneg.SOLUTIONS, "ASK": conneg.BOOLEAN}.get(form, conneg.GRAPH)
        fmt = choose_format(kind, form, job)  # a 406 before the backend is bothered
        try:
            answer = self._fetch(plan.text, plan.default, plan.named, form,
                               limit=settings.max_response_bytes * READ_FACTOR, base=job.base)
        except BackendError as exc:
            raise ClientError(502, str(exc)) from exc
        except ClientError as exc:
            if exc.status == 400:
                parse_query(job.query, job.base)  # our own message, with the line and a caret, when it is syntax
            raise
        if form == "ASK":
            body, count = results.boolean(bool(answer), fmt.name), 1
        elif form == "SELECT":
            variables = [v.value for v in answer.variables]
            rows = []
            for row in answer:
                rows.append(row)
                if len(rows) > settings.max_rows:
                    raise _too_many(settings, form)
            body, count = results.solutions(variables, rows, fmt.name), len(rows)
        else:
            triples = list(dict.fromkeys(answer))
            if len(triples) > settings.max_rows:
                raise _too_many(settings, form)
            body, count = results.graph(triples, fmt), len(triples)
        return Answer(200, fmt.media_type, _checked_size(body, settings), form=form, rows=count, engine=self.engine)

    def query(self, text: str) -> Result:
        """The contract for pages and the CLI: ``text`` over the union of our graphs, as an rdflib Result."""

        answer = self._fetch(text, None, None, self._form(text, None))
        return rdflib_result(answer)


def init_app(app) -> None:
    """With EXOKG_BACKEND set, answer from that endpoint: the store the engine finds in the app's config."""
    settings = app.config["EXOKG_SETTINGS"]
    if settings.backend:
        app.config["EXOKG_BACKEND_STORE"] = RemoteStore(settings.backend, settings.data, timeout=settings.query_timeout,
                                                        dataset=settings.backend_dataset)
