"""One SPARQL query or update, from its text to the bytes of the answer, with the server's limits.

Queries run here inside a query process (:mod:`exokg.server.executor`); the request thread only
speaks HTTP. Every query is screened for safety first (:func:`screen`); Oxigraph (the store's engine)
answers it, except a query calling an allow-listed SERVICE, which rdflib answers over the same data
inside the query process's network guard. In update mode the store is rdflib's and rdflib answers
everything. The answer names its engine (``Answer.engine``).

Each step that can fail because of the request answers a 4xx with a message saying where and why;
anything else is a bug, answered 500 by the caller and logged with its traceback.
Specs: https://www.w3.org/TR/sparql11-query/, https://www.w3.org/TR/sparql11-update/,
https://www.w3.org/TR/sparql11-protocol/.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
import urllib.error
from dataclasses import dataclass
from itertools import islice

from pyparsing import ParseException
from rdflib import URIRef
from rdflib.plugins.sparql import update as rdflib_update
from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate
from rdflib.plugins.sparql.evaluate import evalPart
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.processor import SPARQLResult
from rdflib.plugins.sparql.sparql import QueryContext, SPARQLError

from exokg.config import PREFIXES
from exokg.server import conneg
from exokg.server import oxigraph_results as results
from exokg.server.safety import Refused, _nodes, check_dataset, check_query, check_update
from exokg.server.settings import Settings
from exokg.server.sparql_results import serialize_graph, serialize_result
from exokg.server.store import DatasetView, GraphStore, rdflib_internals

FORMS = {  # algebra name → (query form, kind of answer)
    "SelectQuery": ("SELECT", conneg.SOLUTIONS),
    "AskQuery": ("ASK", conneg.BOOLEAN),
    "ConstructQuery": ("CONSTRUCT", conneg.GRAPH),
    "DescribeQuery": ("DESCRIBE", conneg.GRAPH),
}


class ClientError(Exception):
    """The request cannot be answered as asked; ``status`` and ``message`` go back to the client."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Job:
    """What a query process needs to answer one query request."""

    query: str
    default_graphs: tuple[str, ...] = ()  # protocol default-graph-uri values
    named_graphs: tuple[str, ...] = ()  # protocol named-graph-uri values
    accept: str = ""  # the Accept header
    formats: tuple[str, ...] = ()  # the format parameters
    base: str | None = None  # base IRI for relative IRIs: the endpoint's URL


@dataclass
class Answer:
    status: int
    media_type: str
    body: bytes
    form: str | None = None  # SELECT, ASK, CONSTRUCT, DESCRIBE (None when the query was not understood)
    rows: int | None = None  # solutions or triples in the answer
    seconds: float = 0.0  # time spent parsing, evaluating and serializing
    engine: str | None = None  # which evaluator answered: "oxigraph" or "rdflib" (X-Exokg-Engine)

    @classmethod
    def error(cls, status: int, message: str, **extra) -> "Answer":
        return cls(status, "text/plain", (message.rstrip("\n") + "\n").encode("utf-8"), **extra)


def syntax_error(kind: str, text: str, exc: ParseException) -> ClientError:
    """A 400 saying what the parser expected, at which line and column, with the line and a caret."""
    lines = text.splitlines() or [""]
    line = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else ""
    pointer = " " * (exc.col - 1) + "^"
    return ClientError(400, f"malformed {kind}: {exc.msg} at line {exc.lineno}, column {exc.col}\n{line}\n{pointer}")


def _translate(kind: str, text: str, parse, translate, base: str | None, prefixes: dict | None):
    # rdflib_internals holds the lock every RDFLib parse needs: pyparsing is not thread-safe (store.RDFLIB_LOCK)
    try:
        with rdflib_internals():
            parsed = parse(text)
    except ParseException as exc:
        raise syntax_error(kind, text, exc) from exc
    except RecursionError as exc:
        raise ClientError(400, f"malformed {kind}: it is nested too deeply to parse") from exc
    except ValueError as exc:  # the parser's check of \u escapes
        raise ClientError(400, f"malformed {kind}: {exc}") from exc
    try:
        with rdflib_internals():
            return translate(parsed, base=base, initNs=prefixes)
    except ValueError as exc:
        raise ClientError(400, f"malformed {kind}: {exc}") from exc
    except Exception as exc:
        # RDFLib reports an undeclared prefix with a plain Exception; anything else here is a bug.
        if str(exc).startswith("Unknown namespace prefix"):
            raise ClientError(400, f"malformed {kind}: {exc} (declare it with PREFIX)") from exc
        raise


def parse_query(text: str, base: str | None = None):
    """The translated query, or a 400 ClientError pointing at the syntax error.

    The project's prefixes (exo:, obo:, rdfs: ...) are predeclared; the query's own PREFIX win.
    """
    return _translate("query", text, parseQuery, translateQuery, base, PREFIXES)


def parse_update(text: str, base: str | None = None):
    """The translated update request, or a 400 ClientError pointing at the syntax error.

    No prefixes are predeclared: RDFLib binds them again before each operation, which would undo a
    request's own PREFIX for the same namespace (dc: and dcterms:, say) in its later operations.
    """
    return _translate("update", text, parseUpdate, translateUpdate, base, None)


# --- safety screen: every query passes here before any evaluation ---------------------------------------

# A query whose text mentions none of these cannot call a SERVICE or name a dataset (FROM): Oxigraph may
# run it unparsed by rdflib. Oxigraph itself would call any SERVICE (its HTTP client is Rust's, out of
# reach of the query processes' network guard), so "service" is matched anywhere, in any case, even
# inside names and literals: Oxigraph's parser reads `?s ?p trueSERVICE <x> {}` as a SERVICE call.
# "\\u" catches keywords hidden in codepoint escapes (SPARQL 1.1 Query 19.2). "from" right after a
# colon is a prefixed name's local part (exo:fromSource), never the keyword; a FROM missed here could
# only read an empty graph (Oxigraph fetches nothing), never connect. A false positive costs an rdflib parse.
_NEEDS_SCREENING = re.compile(r"service|(?<!:)from|\\u", re.IGNORECASE)


@dataclass(frozen=True)
class Plan:
    """A query that passed the safety checks, and the RDF dataset it runs over.

    ``default`` None: the default graph is the union of all graphs; otherwise exactly those graphs.
    ``named`` None: every named graph of the store; otherwise exactly those (empty: none).
    ``needs_rdflib``: it calls an allow-listed SERVICE, which only rdflib may do (the query processes'
    network guard sees Python's sockets, not Oxigraph's).
    """

    text: str
    default: tuple[str, ...] | None = None
    named: tuple[str, ...] | None = None
    needs_rdflib: bool = False
    parsed: object = None  # rdflib's translated query, when the screen parsed it


MAX_NESTING = 256  # Oxigraph's parser overflows its stack (killing the process) on thousands of open groups
_NOT_BRACKETS = re.compile(r"[^{}()\[\]]+")


def _nesting(text: str) -> int:
    """How deep brackets nest in ``text`` (brackets inside strings count too: an upper bound)."""
    depth = deepest = 0
    for char in _NOT_BRACKETS.sub("", text):
        depth = depth + 1 if char in "{([" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


@dataclass(frozen=True)
class _Verdict:
    """What the screen learnt from parsing one query text: it passed the checks, calls SERVICE or not,
    and the dataset its FROM / FROM NAMED clauses name (None: it has none)."""

    service: bool
    default: tuple[str, ...] | None
    named: tuple[str, ...] | None


class _Verdicts:
    """The screen's verdicts per (query text, base IRI, SERVICE allow-list), ``size`` at most, thread-safe.

    A query the screen must parse costs an RDFLib parse (milliseconds, under a process-wide lock: see
    store.RDFLIB_LOCK); a query proven fast is asked again and again in the server's threads, so each
    distinct text is parsed once per process. Only passing verdicts are kept: a refused query is parsed
    again, so its error message is made afresh.
    """

    def __init__(self, size: int = 4096):
        self.size = size
        self._known: dict[tuple, _Verdict] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> _Verdict | None:
        with self._lock:
            verdict = self._known.pop(key, None)
            if verdict is not None:
                self._known[key] = verdict  # most recently used last
            return verdict

    def put(self, key: tuple, verdict: _Verdict) -> None:
        with self._lock:
            self._known[key] = verdict
            while len(self._known) > self.size:
                del self._known[next(iter(self._known))]


_verdicts = _Verdicts()


def screen(store, settings: Settings, job: Job, parse: bool = False) -> Plan:
    """Refuse what the server never does, before evaluation; return the query's plan.

    A dataset given in the protocol replaces the query's (SPARQL 1.1 Protocol 2.1.4). When only named
    graphs are given the default graph is empty, and the other way round (SPARQL 1.1 Query 13.2).
    ``parse``: the caller needs RDFLib's translated query in the plan (the rdflib engine answers it).
    """
    if _nesting(job.query) > MAX_NESTING:
        raise ClientError(400, f"malformed query: it nests groups or expressions more than {MAX_NESTING} deep, "
                               "this endpoint's limit")
    graphs = store.graph_names()
    default = named = None
    if job.default_graphs or job.named_graphs:
        check_dataset(job.default_graphs, graphs, "default-graph-uri")
        check_dataset(job.named_graphs, graphs, "named-graph-uri")
        default, named = tuple(job.default_graphs), tuple(job.named_graphs)
    if not parse and not _NEEDS_SCREENING.search(job.query):
        return Plan(job.query, default, named)
    key = (job.query, job.base, settings.service_allowlist)
    verdict = None if parse else _verdicts.get(key)
    query = None
    if verdict is None:
        query = parse_query(job.query, job.base)
        check_query(query.algebra, settings.service_allowlist)
        clauses = query.algebra.datasetClause
        verdict = _Verdict(
            service=any(node.name == "ServiceGraphPattern" for node in _nodes(query.algebra)),
            default=tuple(str(c["default"]) for c in clauses if "default" in c) if clauses else None,
            named=tuple(str(c["named"]) for c in clauses if "named" in c) if clauses else None)
        _verdicts.put(key, verdict)
    if default is None and verdict.default is not None:
        default, named = verdict.default, verdict.named
        check_dataset(default, graphs, "FROM")  # checked each time: an update may add or drop graphs
        check_dataset(named, graphs, "FROM NAMED")
    return Plan(job.query, default, named, needs_rdflib=verdict.service, parsed=query)


def choose_format(kind: str, form: str, job: Job) -> conneg.Format:
    try:
        fmt = conneg.negotiate(kind, job.accept, job.formats)
    except conneg.UnknownFormat as exc:
        raise ClientError(400, str(exc)) from exc
    if fmt is None:
        offered = ", ".join(f.media_type for f in conneg.formats_for(kind))
        raise ClientError(406, f"no acceptable format for {form} results; this endpoint offers: {offered}")
    return fmt


def _too_many(settings: Settings, form: str) -> ClientError:
    what = "solutions" if form == "SELECT" else "triples"
    return ClientError(403, f"the answer has more than {settings.max_rows} {what}, this endpoint's limit; "
                            "ask for fewer, or page through them with ORDER BY, LIMIT and OFFSET")


def _checked_size(body: bytes, settings: Settings) -> bytes:
    if len(body) > settings.max_response_bytes:
        raise ClientError(403, f"the answer takes {len(body)} bytes, more than this endpoint's limit of "
                               f"{settings.max_response_bytes}; ask for less, or page with LIMIT and OFFSET")
    return body


# --- the rdflib evaluator: updates mode, and allow-listed SERVICE calls -----------------------------------

def _view(dataset, plan: Plan) -> DatasetView:
    if plan.default is None and plan.named is None:
        return DatasetView(dataset.store)
    return DatasetView(dataset.store, [URIRef(i) for i in plan.default or ()],
                       None if plan.named is None else [URIRef(i) for i in plan.named])


def _evaluate(dataset, settings: Settings, query, plan: Plan) -> tuple[SPARQLResult, int]:
    view = _view(dataset, plan)
    ctx = QueryContext(view, initBindings={})
    ctx.graph = view.default_graph  # RDFLib would otherwise take the union of the store
    ctx.prologue = query.prologue
    with rdflib_internals():
        res = dict(evalPart(ctx, query.algebra))
        if res["type_"] == "SELECT":
            rows = list(islice(res["bindings"], settings.max_rows + 1))
            res["bindings"] = rows
            count = len(rows)
        elif res["type_"] == "ASK":
            count = 1
        else:
            count = len(res["graph"])
    if count > settings.max_rows:
        raise _too_many(settings, res["type_"])
    return SPARQLResult(res), count


def answer_with_rdflib(dataset, plan: Plan, job: Job, settings: Settings) -> Answer:
    """Evaluate and serialize by rdflib (``dataset``: an rdflib Dataset holding the named graphs)."""
    query = plan.parsed or parse_query(job.query, job.base)
    form, kind = FORMS[query.algebra.name]
    fmt = choose_format(kind, form, job)
    try:
        result, count = _evaluate(dataset, settings, query, plan)
    except SPARQLError as exc:
        raise ClientError(400, f"query evaluation failed: {exc}") from exc
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError) as exc:
        # only an allow-listed SERVICE can reach the network; its failure is not ours
        raise ClientError(502, f"a SERVICE call failed: {exc}") from exc
    except RecursionError as exc:
        raise ClientError(400, "the query is nested too deeply to evaluate") from exc
    with rdflib_internals():
        body = serialize_graph(result.graph, fmt) if kind == conneg.GRAPH else serialize_result(result, fmt.name)
    return Answer(200, fmt.media_type, _checked_size(body, settings), form=form, rows=count, engine="rdflib")


# --- the Oxigraph evaluator: every other query -------------------------------------------------------------

_PREFIXES = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
_DESCRIBE = re.compile(r"\bdescribe\b", re.IGNORECASE)


def answer_with_oxigraph(store, plan: Plan, job: Job, settings: Settings) -> Answer:
    """Evaluate by Oxigraph (``store``: a pyoxigraph Store), serialize with :mod:`exokg.server.oxigraph_results`."""
    import pyoxigraph as ox

    options: dict = {"base_iri": job.base, "prefixes": _PREFIXES}
    if plan.default is None and plan.named is None:
        options["use_default_graph_as_union"] = True
    else:
        options["default_graph"] = [ox.NamedNode(i) for i in plan.default or ()]
        if plan.named is not None:
            options["named_graphs"] = [ox.NamedNode(i) for i in plan.named]
    try:
        result = store.query(plan.text, **options)
    except SyntaxError as exc:
        parse_query(job.query, job.base)  # rdflib's message says where, with the line and a caret
        raise ClientError(400, f"malformed query: {exc}") from exc
    except ValueError as exc:  # an invalid base IRI, say
        raise ClientError(400, f"malformed query: {exc}") from exc
    if isinstance(result, ox.QueryBoolean):
        form, kind = "ASK", conneg.BOOLEAN
        fmt = choose_format(kind, form, job)
        body, count = results.boolean(bool(result), fmt.name), 1
    elif isinstance(result, ox.QuerySolutions):
        form, kind = "SELECT", conneg.SOLUTIONS
        fmt = choose_format(kind, form, job)
        variables = [v.value for v in result.variables]
        rows = list(islice(result, settings.max_rows + 1))
        if len(rows) > settings.max_rows:
            raise _too_many(settings, form)
        body, count = results.solutions(variables, rows, fmt.name), len(rows)
    else:
        form, kind = ("DESCRIBE" if _DESCRIBE.search(plan.text) else "CONSTRUCT"), conneg.GRAPH
        fmt = choose_format(kind, form, job)
        triples: dict = {}
        for triple in result:  # an RDF graph is a set: duplicates of a CONSTRUCT template count once
            triples[triple] = None
            if len(triples) > settings.max_rows:
                raise _too_many(settings, form)
        body, count = results.graph(list(triples), fmt), len(triples)
    return Answer(200, fmt.media_type, _checked_size(body, settings), form=form, rows=count, engine="oxigraph")


def answer_query(store, settings: Settings, job: Job) -> Answer:
    """Answer one query request; client mistakes become 4xx answers, bugs propagate.

    Every query is screened first (:func:`screen`); then the store answers it (Oxigraph by default),
    except a query calling an allow-listed SERVICE, which rdflib answers over the same data.
    """
    started = time.perf_counter()
    try:
        plan = screen(store, settings, job, parse=store.engine == "rdflib")
        if plan.needs_rdflib:
            answer = answer_with_rdflib(store.rdflib_dataset(), plan, job, settings)
        else:
            answer = store.answer(plan, job, settings)
    except (Refused, ClientError) as exc:
        return Answer.error(exc.status, exc.message, seconds=time.perf_counter() - started)
    except MemoryError:
        return Answer.error(503, "the query needs more memory than this endpoint allows one query",
                            seconds=time.perf_counter() - started)
    answer.seconds = time.perf_counter() - started
    return answer


# --- updates (only when the operator enabled them) --------------------------------------------------

def _modify(dataset, operation, default, named) -> None:
    """DELETE/INSERT ... WHERE with its WHERE evaluated over the USING dataset, never fetched.

    RDFLib's own evaluation would load each USING IRI from the web; here the USING graphs are read
    from the store (a graph it does not hold is empty). Templates go to the WITH graph or the default.
    """
    using = dict.get(operation, "using") or []
    default = list(default) + [c["default"] for c in using if "default" in c]
    named = list(named) + [c["named"] for c in using if "named" in c]
    with_graph = dict.get(operation, "withClause")
    if default or named:
        view = DatasetView(dataset.store, default, named)
    elif with_graph is not None:
        view = DatasetView(dataset.store, [with_graph], None)
    else:
        view = DatasetView(dataset.store)
    ctx = QueryContext(view, initBindings={})
    ctx.graph = view.default_graph
    ctx.prologue = operation.prologue
    solutions = list(evalPart(ctx, operation.where))
    target = dataset.graph(with_graph) if with_graph is not None else dataset.default_graph
    for solution in solutions:
        for part, apply in (("delete", "__isub__"), ("insert", "__iadd__")):
            template = dict.get(operation, part)
            if not template:
                continue
            getattr(target, apply)(rdflib_update._fillTemplate(template.triples, solution))
            for graph, quads in template.quads.items():
                getattr(dataset.graph(solution.get(graph)), apply)(rdflib_update._fillTemplate(quads, solution))


_OPERATIONS = {
    "Clear": rdflib_update.evalClear,
    "Drop": rdflib_update.evalDrop,
    "Add": rdflib_update.evalAdd,
    "Move": rdflib_update.evalMove,
    "Copy": rdflib_update.evalCopy,
    "InsertData": rdflib_update.evalInsertData,
    "DeleteData": rdflib_update.evalDeleteData,
    "DeleteWhere": rdflib_update.evalDeleteWhere,
}


def run_update(store: GraphStore, settings: Settings, text: str, using: tuple[str, ...] = (),
               using_named: tuple[str, ...] = (), base: str | None = None) -> int:
    """Apply an update request to the store, operation by operation; returns how many ran.

    ``using`` / ``using_named`` are the protocol's using-graph-uri / using-named-graph-uri; a request
    that also has USING, USING NAMED or WITH is refused (SPARQL 1.1 Protocol 2.2.3).
    """
    update = parse_update(text, base)
    check_update(update, settings.service_allowlist)
    if using or using_named:
        for operation in update.algebra:
            if dict.get(operation, "using") or dict.get(operation, "withClause") is not None:
                raise ClientError(400, "the dataset is given twice: by using-graph-uri/using-named-graph-uri "
                                       "and by USING/USING NAMED/WITH in the update; give it once")
    dataset = store.dataset
    with rdflib_internals():
        for operation in update.algebra:
            ctx = QueryContext(dataset, initBindings={})
            ctx.prologue = operation.prologue
            if operation.name == "Modify":
                _modify(dataset, operation, [URIRef(u) for u in using], [URIRef(u) for u in using_named])
            elif operation.name == "Create":
                # RDFLib has no CREATE; graphs exist once they hold a triple, so it only checks.
                if len(dataset.graph(operation.graphiri)) and not dict.get(operation, "silent"):
                    raise ClientError(400, f"CREATE GRAPH <{operation.graphiri}>: the graph already exists")
            else:
                _OPERATIONS[operation.name](ctx, operation)
    return len(update.algebra)
