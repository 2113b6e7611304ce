"""SPARQL 1.1 Protocol at /sparql: the query operation, the update operation (operator only) and,
for GET without a query, the service description (the query editor for browsers; the description page is
at /sparql/description). See https://www.w3.org/TR/sparql11-protocol/.

This blueprint speaks HTTP only: it reads the operation from the request (refusing malformed requests
with the status the protocol asks for), answers repeated GETs from their validators, and hands the
query to a query process (:mod:`exokg.server.workers`), which parses, checks, evaluates and
serializes it within the server's limits (:mod:`exokg.server.engine`). Successful answers are kept in
a per-process cache keyed like the ETag (:mod:`exokg.server.cache`); ``X-Exokg-Engine`` names the
evaluator that answered (``oxigraph``, or ``rdflib`` for allow-listed SERVICE calls and update mode),
``X-Exokg-Cache`` says ``hit`` or ``miss``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from dataclasses import dataclass, field
from email.utils import formatdate

from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from exokg.server import conneg
from exokg.server.cache import Entry, ResponseCache, answer_key
from exokg.server.engine import Answer, ClientError, Job, answer_query, run_update
from exokg.server.executor import PoolBusy, QueryBug, QueryProcessDied, QueryTimeout
from exokg.server.http import log, text_error
from exokg.server.proven import ProvenFast
from exokg.server.safety import Refused
from exokg.server.service_description import describe, summary
from exokg.server.settings import Settings
from exokg.server.sparql_results import serialize_graph
from exokg.server.store import current_store
from exokg.server.workers import current_pool

blueprint = Blueprint("sparql", __name__)
_update_lock = threading.Lock()
_cache_lock = threading.Lock()

FORM = "application/x-www-form-urlencoded"
QUERY_BODY = "application/sparql-query"
UPDATE_BODY = "application/sparql-update"
CORS_HEADERS = "Content-Type, Accept, Authorization, If-None-Match, If-Modified-Since"


@dataclass
class Operation:
    kind: str | None  # "query", "update", or None (GET without either: the service description)
    text: str = ""
    params: MultiDict = field(default_factory=MultiDict)  # every other protocol parameter


def _settings() -> Settings:
    return current_app.config["EXOKG_SETTINGS"]


def _decode(body: bytes, what: str) -> str:
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ClientError(415, f"{what} must be encoded as UTF-8, not {charset}")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ClientError(400, f"{what} is not valid UTF-8: {exc}") from exc


def _one(values: list[str], name: str) -> str | None:
    if len(values) > 1:
        raise ClientError(400, f"{len(values)} '{name}' parameters: send exactly one {name} per request")
    return values[0] if values else None


def read_operation() -> Operation:
    """The SPARQL operation a request carries, by the rules of SPARQL 1.1 Protocol sections 2.1 and 2.2."""
    settings = _settings()
    if len(request.query_string) > settings.max_request_bytes:
        raise ClientError(414, f"the URL's query string is longer than {settings.max_request_bytes} bytes; POST the query instead")
    if request.method in ("GET", "HEAD"):
        params = request.args
        if "update" in params:
            raise ClientError(400, "an update must be sent with POST (SPARQL 1.1 Protocol 2.2)")
        query = _one(params.getlist("query"), "query")
        return Operation("query" if query is not None else None, query or "", params)
    mimetype = request.mimetype
    if mimetype == FORM:
        params = MultiDict(request.args)
        params.update(request.form)  # the form's values are appended, so a query given twice is seen twice
        queries, updates = params.getlist("query"), params.getlist("update")
    elif mimetype in (QUERY_BODY, UPDATE_BODY):
        params = request.args
        if "query" in params or "update" in params:
            raise ClientError(400, f"a {mimetype} request carries its operation in the body, and this one has another in the URL")
        body = _decode(request.get_data(cache=False), "the request body")
        queries, updates = ([body], []) if mimetype == QUERY_BODY else ([], [body])
    elif not mimetype:
        raise ClientError(415, f"a POST needs a Content-Type: {QUERY_BODY}, {UPDATE_BODY} or {FORM}")
    else:
        raise ClientError(415, f"unsupported Content-Type {mimetype}: use {QUERY_BODY}, {UPDATE_BODY} or {FORM}")
    if queries and updates:
        raise ClientError(400, "a request carries either a query or an update, not both")
    if updates:
        return Operation("update", _one(updates, "update"), params)
    query = _one(queries, "query")
    if query is None:
        raise ClientError(400, "missing 'query' (or 'update') parameter")
    return Operation("query", query, params)


def _etag(version: str, job: Job) -> str:
    return answer_key(version, job.query, job.default_graphs, job.named_graphs, job.accept, job.formats, job.base)


def _per_process(name: str, make):
    """The app's object ``name`` of this server process, made by ``make()`` on first use (never shared
    across a fork: each gunicorn worker has its own)."""
    app = current_app._get_current_object()
    held = app.extensions.get(name)
    if held is None or held[0] != os.getpid():
        with _cache_lock:
            held = app.extensions.get(name)
            if held is None or held[0] != os.getpid():
                held = app.extensions[name] = (os.getpid(), make())
    return held[1]


def current_cache() -> ResponseCache:
    """This server process's response cache."""
    return _per_process("exokg.cache", lambda: ResponseCache(_settings().cache_bytes))


def current_proven() -> ProvenFast:
    """This server process's record of queries proven fast."""
    return _per_process("exokg.proven", lambda: ProvenFast(_settings().fast_path_seconds))


def _evaluate(job: Job, version: str, settings: Settings) -> Answer:
    """The answer to ``job``: in this thread when the query was proven fast on this data (see
    :mod:`exokg.server.proven`), else in a query process, which may be killed at the timeout."""
    store = current_store()
    proven = current_proven() if settings.fast_path_seconds and store.engine == "oxigraph" else None
    key = ProvenFast.key(version, job) if proven is not None else None
    if proven is not None and key in proven:
        g.exokg_log["venue"] = "thread"
        return answer_query(store, settings, job)
    answer = current_pool().run(job, settings.query_timeout)
    if proven is not None:
        proven.record(key, answer)
    return answer


def _not_modified(etag: str, modified: float) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    if request.if_none_match:
        return request.if_none_match.contains_weak(etag) or request.if_none_match.contains_weak(etag + "-gzip")
    since = request.if_modified_since
    return since is not None and int(modified) <= since.timestamp()


def _validators(response: Response, etag: str, modified: float) -> Response:
    response.set_etag(etag)
    response.headers["Last-Modified"] = formatdate(modified, usegmt=True)
    response.headers["Cache-Control"] = "public, no-cache"  # may be stored, but revalidated each time
    response.vary.update(("Accept", "Accept-Encoding"))
    return response


def _run_query(operation: Operation) -> Response:
    settings, store = _settings(), current_store()
    job = Job(
        query=operation.text,
        default_graphs=tuple(operation.params.getlist("default-graph-uri")),
        named_graphs=tuple(operation.params.getlist("named-graph-uri")),
        accept=request.headers.get("Accept", ""),
        formats=tuple(operation.params.getlist("format")),
        base=request.base_url,
    )
    version = store.version
    etag = _etag(version, job)
    g.exokg_log = {"query_sha": hashlib.sha256(job.query.encode("utf-8")).hexdigest()[:12]}
    if _not_modified(etag, store.modified):
        return _validators(Response(status=304), etag, store.modified)
    cache = current_cache() if settings.cache_bytes else None
    cached = cache.get(etag) if cache is not None else None
    if cached is not None:
        g.exokg_log.update(form=cached.form, rows=cached.rows, cache="hit")
        response = Response(cached.body, mimetype=cached.media_type)
        response.headers["X-Exokg-Engine"] = cached.engine or ""
        response.headers["X-Exokg-Cache"] = "hit"
        return _validators(response, etag, store.modified)
    try:
        answer: Answer = _evaluate(job, version, settings)
    except QueryTimeout:
        g.exokg_log["timeout"] = True
        return text_error(503, f"the query ran longer than {settings.query_timeout:g} s, this endpoint's limit, and was "
                               "stopped; make it more selective, or ask for less")
    except PoolBusy:
        return text_error(503, "every query process stayed busy; try again shortly", {"Retry-After": "1"})
    except QueryProcessDied:
        log.error("a query process died while answering query %s", g.exokg_log["query_sha"])
        return text_error(503, "the query process ended without answering (it may have run out of memory); try a smaller query")
    except QueryBug as bug:
        log.error("query %s failed in its query process:\n%s", g.exokg_log["query_sha"], bug.details)
        return text_error(500, "internal server error: the query failed in a way this endpoint did not expect; this is a bug and it was logged")
    g.exokg_log.update(form=answer.form, rows=answer.rows, query_ms=round(answer.seconds * 1000, 2))
    response = Response(answer.body, status=answer.status, mimetype=answer.media_type)
    if answer.engine:
        response.headers["X-Exokg-Engine"] = answer.engine  # which evaluator answered (issue 8)
    if answer.status == 200:
        if cache is not None and store.version == version:  # an update may have landed meanwhile
            cache.put(etag, Entry(answer.media_type, answer.body, answer.form, answer.rows, answer.engine))
            response.headers["X-Exokg-Cache"] = "miss"
        _validators(response, etag, store.modified)
    elif answer.status == 406:
        response.vary.add("Accept")
    return response


def _authorized(settings: Settings) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), settings.update_token.encode())


def _run_update(operation: Operation) -> Response:
    settings, store = _settings(), current_store()
    if not settings.updates_enabled:
        raise ClientError(403, "this endpoint is read-only: SPARQL Update is refused (its operator may enable it with a token)")
    if not _authorized(settings):
        return text_error(401, "SPARQL Update needs the operator's token: Authorization: Bearer <token>",
                          {"WWW-Authenticate": 'Bearer realm="exokg"'})
    with _update_lock:
        count = run_update(store, settings, operation.text,
                           tuple(operation.params.getlist("using-graph-uri")),
                           tuple(operation.params.getlist("using-named-graph-uri")),
                           base=request.base_url)
        store.changed()
        current_pool().refresh()  # later queries see the change
    g.exokg_log = {"form": "UPDATE", "operations": count}
    return text_error(200, f"update applied: {count} operation(s)")


def service_description(editor_for_browsers: bool) -> Response:
    """The service description in the negotiated RDF format; for a browser (HTML) the query editor when
    ``editor_for_browsers`` (GET /sparql, as Virtuoso answers a browser there), else the description page."""
    settings, store = _settings(), current_store()
    endpoint = url_for("sparql.endpoint", _external=True)
    void_url = url_for("dataset.void", _external=True)
    kinds = (conneg.GRAPH, conneg.PAGE)
    try:
        fmt = conneg.negotiate(kinds, request.accept_mimetypes, request.args.getlist("format"))
    except conneg.UnknownFormat as exc:
        raise ClientError(400, str(exc)) from exc
    if fmt is None:
        offered = ", ".join(f.media_type for f in conneg.formats_for(*kinds))
        raise ClientError(406, f"no acceptable format for the service description; offered: {offered}")
    if fmt.name == "html" and editor_for_browsers:
        from exokg.server.query_page import editor_page

        body = editor_page()
    elif fmt.name == "html":
        alternates = [f for f in conneg.formats_for(conneg.GRAPH) if f.name in ("turtle", "jsonld")]
        body = render_template("service.html", endpoint=endpoint, page=request.base_url, void_url=void_url,
                               alternates=alternates, **summary(store, settings))
    else:
        body = serialize_graph(describe(store, settings, endpoint, void_url), fmt)
    response = Response(body, mimetype=fmt.media_type)
    response.vary.add("Accept")
    return response


@blueprint.route("/sparql/description", methods=["GET"])
def description() -> Response:
    """The service description on its own URL: the page the editor links, or RDF by Accept / ``format``."""
    try:
        return service_description(editor_for_browsers=False)
    except ClientError as exc:
        return text_error(exc.status, exc.message)


@blueprint.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    try:
        operation = read_operation()
        if operation.kind is None:
            return service_description(editor_for_browsers=True)
        if operation.kind == "update":
            return _run_update(operation)
        return _run_query(operation)
    except (ClientError, Refused) as exc:
        return text_error(exc.status, exc.message)


@blueprint.after_request
def cors(response: Response) -> Response:
    """Let pages on other origins (YASGUI, notebooks) query us; preflights are answered by Flask's OPTIONS."""
    response.headers["Access-Control-Allow-Origin"] = _settings().cors_origin
    response.headers["Access-Control-Expose-Headers"] = ("ETag, Last-Modified, Content-Length, Retry-After, "
                                                         "X-Exokg-Engine, X-Exokg-Cache")
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "86400"
    if _settings().cors_origin != "*":
        response.vary.add("Origin")
    return response
