"""The Oxigraph query engine (issue 8): the store the build writes, which engine answers which query,
the same answers as rdflib in every format, the safety screen in front of Oxigraph, the response
cache with its validators, read-only sharing of the store, and the fallback for older builds."""

from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph, Literal
from rdflib.compare import isomorphic
from rdflib.query import Result

from exokg.config import GRAPH, NAMED_GRAPHS
from exokg.server import conneg
from exokg.server.app import create_app
from exokg.server.cache import Entry, ResponseCache, normalize
from exokg.server.engine import Answer, Job, answer_query
from exokg.server.proven import ProvenFast
from exokg.server.safety import Refused
from exokg.server.settings import Settings, SettingsError
from exokg.server.store import STORE_DIR, DatasetMissing, GraphStore, OxigraphStore, current_store, rdflib_internals
from exokg.server.testing import LoopbackListener
from exokg.server.workers import close_pool

from conftest import SPARQL_PREFIXES

TOKEN = "operator-token-for-tests-0123"
FINDING = "https://w3id.org/exokg/finding/TME-001"


# Every test through the app runs on both storages: the review graph in memory (the default at its size)
# and the on-disk store read-only in every process (how datasets over EXOKG_MEMORY_TRIPLES are served).
STORAGES = {"memory": "2000000", "disk": "0"}


@pytest.fixture(scope="module", params=sorted(STORAGES))
def app(build_dir, request):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_MEMORY_TRIPLES": STORAGES[request.param]})
    with app.app_context():
        assert current_store().storage == request.param
    yield app
    close_pool(app)


@pytest.fixture(scope="module")
def rdflib_store(build_dir):
    return GraphStore(build_dir)


@pytest.fixture(scope="module")
def oxigraph_store(build_dir):
    return OxigraphStore(build_dir)


# --- the store written by the build ---------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMED_GRAPHS)
def test_build_writes_the_named_graphs_into_an_oxigraph_store(build_dir, rdflib_store, name):
    store = ox.Store.read_only(str(build_dir / STORE_DIR))
    quads = store.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH[name]))
    assert sum(1 for _ in quads) == rdflib_store.info.triples[name] > 0


@pytest.mark.parametrize("memory_triples", [0, 10**9])
def test_oxigraph_store_reports_the_same_dataset_facts(build_dir, rdflib_store, memory_triples):
    store = OxigraphStore(build_dir, memory_triples)
    assert store.info.triples == rdflib_store.info.triples
    assert store.info.union_triples == rdflib_store.info.union_triples
    assert store.graph_names() == rdflib_store.graph_names()
    assert store.engine == "oxigraph" and store.in_memory == bool(memory_triples)


@pytest.mark.parametrize("margin, storage", [(0, "memory"), (-1, "disk")])
def test_memory_threshold_counts_the_union_triples(build_dir, rdflib_store, margin, storage):
    """EXOKG_MEMORY_TRIPLES is inclusive: a dataset of exactly that many triples is served from memory."""
    store = OxigraphStore(build_dir, rdflib_store.info.union_triples + margin)
    assert store.storage == storage


def test_health_names_the_storage(app):
    with app.app_context():
        expected = current_store().storage
    assert app.test_client().get("/health").json["dataset"]["storage"] == expected


# --- the contract: current_store().query(text) -> rdflib Result --------------------------------------------

CONTRACT = [
    "SELECT ?f ?label WHERE { ?f a exo:TableFinding ; rdfs:label ?label } ORDER BY ?f",
    "SELECT ?source (COUNT(?f) AS ?n) WHERE { ?f exo:fromSource ?source } GROUP BY ?source ORDER BY ?source",
    "SELECT ?f ?receiver WHERE { ?f a exo:TableFinding OPTIONAL { ?f exo:hasReceivingPopulation ?receiver } } ORDER BY ?f ?receiver",
    "SELECT ?c ?min WHERE { ?c exo:minDiameterNm ?min } ORDER BY ?c",
    "ASK { ?f a exo:TableFinding }",
    "ASK { ?f a exo:NoSuchClass }",
    f"CONSTRUCT {{ <{FINDING}> ?p ?o }} WHERE {{ <{FINDING}> ?p ?o }}",
]


def _values(row: dict) -> dict:
    # Oxigraph stores literals by value and writes them back canonically ("30.0"^^xsd:decimal as "30"):
    # the same value, so literals are compared as values.
    return {k: (v.toPython(), v.datatype, v.language) if isinstance(v, Literal) else v for k, v in row.items()}


@pytest.mark.parametrize("query", CONTRACT)
def test_current_store_query_answers_as_rdflib_did(app, rdflib_store, query):
    with app.app_context():
        got = current_store().query(query)
    expected = rdflib_store.query(query)
    assert isinstance(got, Result) and got.type == expected.type
    if got.type == "SELECT":
        assert got.vars == expected.vars
        assert [_values(row.asdict()) for row in got] == [_values(row.asdict()) for row in expected]
    elif got.type == "ASK":
        assert got.askAnswer == expected.askAnswer
    else:
        assert isomorphic(got.graph, expected.graph)


def test_current_store_query_never_calls_a_service(app):
    with app.app_context(), LoopbackListener() as listener:
        store = current_store()
        with pytest.raises(Refused):
            store.query(f"SELECT * WHERE {{ ?s ?p ?o . SERVICE <{listener.url}/sparql> {{ ?a ?b ?c }} }}")
        assert store.query('ASK { ?s rdfs:label ?l FILTER(?l = "service") }').askAnswer is False  # only a word
        assert listener.connections == 0


@pytest.mark.parametrize("iri", ["https://w3id.org/exokg/dataset.\x80", "https://w3id.org/exokg/a b"])
def test_current_store_query_reports_a_malformed_query_as_a_value_error(app, iri):
    with app.app_context(), pytest.raises(ValueError, match="malformed query"):
        current_store().query(f"ASK {{ <{iri}> ?p ?o }}")


# --- every format: the same answers as the rdflib engine ------------------------------------------------------

# Not the decimal query: Oxigraph writes "30.0"^^xsd:decimal canonically as "30" (same value; compared by
# value above), which CSV cannot tell apart from a different string.
SELECTS = [q for q in CONTRACT if not q.startswith("CONSTRUCT") and "Diameter" not in q] + [
    "SELECT ?f ?quote WHERE { ?f exo:supportingQuote ?quote } ORDER BY ?f ?quote LIMIT 25",  # quotes, commas
    # escapes, tags, datatypes, unbound cells and terms repeated across rows (the writers remember terms)
    'SELECT ?x ?y WHERE { VALUES (?x ?y) { ("a\\"b\\\\c\\n\\t é ☃ <&>"@en "1"^^xsd:integer) ("tab\\there" UNDEF) '
    '(<https://w3id.org/exokg/x?a=1&b=2> "é") ("a\\"b\\\\c\\n\\t é ☃ <&>"@en "1"^^xsd:integer) (UNDEF "1.5"^^xsd:decimal) } }',
]
RESULT_FORMATS = [f for f in conneg.TABLE if f.answers(conneg.SOLUTIONS)]
GRAPH_FORMATS = [f for f in conneg.TABLE if f.answers(conneg.GRAPH)]
RESULT_PARSERS = {"json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv"}


def _answer(store, query: str, fmt, **settings):
    answer = answer_query(store, Settings(**settings), Job(SPARQL_PREFIXES + query, formats=(fmt.name,)))
    assert answer.status == 200, answer.body
    return answer


def _rows(body: bytes, fmt) -> tuple:
    if fmt.name in ("csv", "tsv") and body.lstrip(b"?").startswith(b"_askResult"):
        return (body.splitlines()[1],)  # our ASK convention, not parsed by rdflib
    result = Result.parse(io.BytesIO(body), format=RESULT_PARSERS[fmt.name])
    if result.type == "ASK":
        return (result.askAnswer,)
    return tuple(result.vars), [tuple(row) for row in result]


@pytest.mark.parametrize("fmt", RESULT_FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("query", SELECTS)
def test_results_formats_carry_the_rdflib_answer(rdflib_store, oxigraph_store, query, fmt):
    ours, theirs = _answer(oxigraph_store, query, fmt), _answer(rdflib_store, query, fmt)
    assert (ours.engine, theirs.engine) == ("oxigraph", "rdflib")
    assert ours.media_type == theirs.media_type == fmt.media_type
    assert ours.rows == theirs.rows
    assert _rows(ours.body, fmt) == _rows(theirs.body, fmt)


@pytest.mark.parametrize("fmt", GRAPH_FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("query", [
    f"CONSTRUCT {{ <{FINDING}> ?p ?o }} WHERE {{ <{FINDING}> ?p ?o }}",
    "CONSTRUCT { ?f exo:hasCargo ?c . ?c rdfs:label ?l } WHERE { ?f exo:hasCargo ?c . ?c rdfs:label ?l }",
])
def test_graph_formats_carry_the_rdflib_answer(rdflib_store, oxigraph_store, query, fmt):
    ours, theirs = _answer(oxigraph_store, query, fmt), _answer(rdflib_store, query, fmt)
    assert ours.rows == theirs.rows > 0

    def parsed(body: bytes) -> Graph:
        if fmt.name in ("trig", "nquads"):
            dataset = Dataset()
            with rdflib_internals():
                dataset.parse(data=body, format=fmt.rdflib)
            return Graph() + dataset.default_graph
        with rdflib_internals():  # rdflib's JSON-LD parser calls its own deprecated API
            return Graph().parse(data=body, format=fmt.rdflib)

    assert isomorphic(parsed(ours.body), parsed(theirs.body))


def test_row_limit_holds_on_the_oxigraph_engine(oxigraph_store):
    fmt = conneg.TABLE[0]
    answer = answer_query(oxigraph_store, Settings(max_rows=5), Job("SELECT * WHERE { ?s ?p ?o }", formats=(fmt.name,)))
    assert answer.status == 403 and b"more than 5 solutions" in answer.body


# --- which engine answered ---------------------------------------------------------------------------------------

class _RemoteSparql(BaseHTTPRequestHandler):
    """A loopback SPARQL endpoint answering every query with one solution, for the SERVICE path."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        body = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": [{"x": {"type": "literal", "value": "remote"}}]}})
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture()
def remote():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RemoteSparql)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    server.shutdown()
    server.server_close()


ENGINES = [  # (case, settings, query, engine)
    ("plain query", {}, "SELECT ?l WHERE { <%s> rdfs:label ?l }" % FINDING, "oxigraph"),
    ("FROM the dataset's own graph", {}, f"SELECT ?s FROM <{GRAPH['asserted']}> WHERE {{ ?s a exo:TableFinding }}", "oxigraph"),
    ("the word 'from' in a literal", {}, 'ASK { ?s rdfs:label ?l FILTER(?l != "from") }', "oxigraph"),
    ("exo:fromSource", {}, "SELECT ?f WHERE { ?f exo:fromSource ?s }", "oxigraph"),
    ("the word 'service' in a literal", {}, 'ASK { ?s rdfs:label ?l FILTER(?l != "service") }', "oxigraph"),
    ("allow-listed SERVICE", {"allow": True}, "SELECT ?x WHERE { SERVICE <REMOTE> { ?s ?p ?x } }", "rdflib"),
    ("update mode", {"EXOKG_UPDATE_TOKEN": TOKEN}, "ASK { ?s ?p ?o }", "rdflib"),
]


@pytest.mark.parametrize("case, settings, query, engine", ENGINES, ids=[e[0] for e in ENGINES])
def test_engine_header_names_the_evaluator(build_dir, remote, case, settings, query, engine):
    config = {k: v for k, v in settings.items() if k.startswith("EXOKG_")}
    if settings.get("allow"):
        config["EXOKG_SERVICE_ALLOWLIST"] = remote
    app = create_app({"EXOKG_DATA": str(build_dir), **config})
    try:
        response = app.test_client().get("/sparql", query_string={"query": query.replace("REMOTE", remote)},
                                          headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.headers["X-Exokg-Engine"] == engine
        if settings.get("allow"):
            assert response.json["results"]["bindings"] == [{"x": {"type": "literal", "value": "remote"}}]
    finally:
        close_pool(app)


# --- the safety screen in front of Oxigraph (the rdflib engine's own tests are in test_server_safety) -----------

ATTEMPTS = [  # (case, form fields) - every one refused (403; 400 when rdflib's parser rejects it) and no connection
    ("FROM", lambda u: {"query": f"SELECT * FROM <{u}/g> WHERE {{ ?s ?p ?o }}"}),
    ("FROM NAMED", lambda u: {"query": f"SELECT * FROM NAMED <{u}/g> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"}),
    ("from in lower case", lambda u: {"query": f"select * from <{u}/g> where {{ ?s ?p ?o }}"}),
    ("default-graph-uri", lambda u: {"query": "ASK { ?s ?p ?o }", "default-graph-uri": f"{u}/g"}),
    ("named-graph-uri", lambda u: {"query": "ASK { ?s ?p ?o }", "named-graph-uri": f"{u}/g"}),
    ("SERVICE", lambda u: {"query": f"SELECT * WHERE {{ SERVICE <{u}/sparql> {{ ?s ?p ?o }} }}"}),
    ("SERVICE SILENT", lambda u: {"query": f"SELECT * WHERE {{ SERVICE SILENT <{u}/sparql> {{ ?s ?p ?o }} }}"}),
    ("SeRvIcE in mixed case", lambda u: {"query": f"SELECT * WHERE {{ SeRvIcE <{u}/sparql> {{ ?s ?p ?o }} }}"}),
    ("SERVICE by variable", lambda u: {"query": f"SELECT * WHERE {{ VALUES ?e {{ <{u}/sparql> }} SERVICE ?e {{ ?s ?p ?o }} }}"}),
    ("SERVICE in a codepoint escape", lambda u: {"query": f"SELECT * WHERE {{ \\u0053ERVICE <{u}/sparql> {{ ?s ?p ?o }} }}"}),
    ("SERVICE glued to a boolean", lambda u: {"query": f"SELECT * WHERE {{ ?s ?p trueSERVICE <{u}/sparql> {{ ?a ?b ?c }} }}"}),
    ("SERVICE glued to a number", lambda u: {"query": f"SELECT * WHERE {{ ?s ?p 1SERVICE <{u}/sparql> {{ ?a ?b ?c }} }}"}),
    ("FROM glued to ASK", lambda u: {"query": f"ASKFROM<{u}/g>{{ ?s ?p ?o }}"}),
    ("SERVICE in an ASK", lambda u: {"query": f"ASK {{ SERVICE <{u}/sparql> {{ ?s ?p ?o }} }}"}),
    ("SERVICE in a CONSTRUCT", lambda u: {"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{u}/sparql> {{ ?s ?p ?o }} }}"}),
]


@pytest.mark.parametrize("case, fields", ATTEMPTS, ids=[a[0] for a in ATTEMPTS])
def test_oxigraph_engine_never_connects(app, case, fields):
    with LoopbackListener() as listener:
        response = app.test_client().post("/sparql", data=fields(listener.url))
        # Oxigraph's parser accepts the glued spellings; rdflib's, which screens them, does not
        assert response.status_code == (400 if "glued" in case else 403), response.get_data(as_text=True)
        assert "X-Exokg-Engine" not in response.headers
        assert listener.connections == 0


@pytest.mark.parametrize("query, where", [
    ("SELECT * WHERE { ?s ?p }", "line 1, column"),
    ("SELECT ?x WHERE {\n  ?x a nope:Class }", "nope"),
])
def test_syntax_errors_keep_their_position(app, query, where):
    response = app.test_client().get("/sparql", query_string={"query": query})
    assert response.status_code == 400 and where in response.get_data(as_text=True)


# --- the response cache and conditional requests ---------------------------------------------------------------

LOOKUP = "SELECT ?l WHERE { <%s> rdfs:label ?l }" % FINDING


@pytest.fixture()
def fresh_app(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir)})
    yield app
    close_pool(app)


@pytest.mark.parametrize("first, again", [
    (LOOKUP, LOOKUP),
    (LOOKUP, f"\n  {LOOKUP}  \n"),
    (LOOKUP.replace(" WHERE", "\nWHERE"), LOOKUP.replace(" WHERE", "\r\nWHERE")),
], ids=["same text", "surrounding whitespace", "line endings"])
def test_a_repeated_query_is_answered_from_the_cache(fresh_app, first, again):
    client = fresh_app.test_client()
    first = client.get("/sparql", query_string={"query": first})
    second = client.get("/sparql", query_string={"query": again})
    assert (first.headers["X-Exokg-Cache"], second.headers["X-Exokg-Cache"]) == ("miss", "hit")
    assert second.data == first.data and second.headers["X-Exokg-Engine"] == "oxigraph"
    assert second.headers["ETag"] == first.headers["ETag"]


@pytest.mark.parametrize("change", [{"headers": {"Accept": "text/csv"}}, {"format": "xml"},
                                    {"default-graph-uri": GRAPH["asserted"]}],
                         ids=["another Accept", "another format", "another dataset"])
def test_another_representation_is_not_taken_from_the_cache(fresh_app, change):
    client = fresh_app.test_client()
    client.get("/sparql", query_string={"query": LOOKUP})
    params = {"query": LOOKUP, **{k: v for k, v in change.items() if k != "headers"}}
    other = client.get("/sparql", query_string=params, headers=change.get("headers", {}))
    assert other.status_code == 200 and other.headers["X-Exokg-Cache"] == "miss"


@pytest.mark.parametrize("validator", ["If-None-Match", "If-Modified-Since"])
def test_conditional_requests_are_answered_304(fresh_app, validator):
    client = fresh_app.test_client()
    first = client.get("/sparql", query_string={"query": LOOKUP})
    value = first.headers["ETag"] if validator == "If-None-Match" else first.headers["Last-Modified"]
    again = client.get("/sparql", query_string={"query": LOOKUP}, headers={validator: value})
    assert again.status_code == 304 and not again.data


def test_cache_can_be_switched_off(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_CACHE_BYTES": "0"})
    try:
        client = app.test_client()
        answers = [client.get("/sparql", query_string={"query": LOOKUP}) for _ in range(2)]
        assert all(a.status_code == 200 and "X-Exokg-Cache" not in a.headers for a in answers)
    finally:
        close_pool(app)


def _entry(size: int) -> Entry:
    return Entry("text/plain", b"x" * size, "SELECT", 1, "oxigraph")


@pytest.mark.parametrize("limit, sizes, touched, kept", [
    (100, [10, 10, 10], None, ["a", "b", "c"]),  # all fit
    (100, [20, 20, 20, 20, 20, 20], None, ["b", "c", "d", "e", "f"]),  # the oldest goes first
    (100, [20, 20, 20, 20, 20, 20], "a", ["a", "c", "d", "e", "f"]),  # a recent hit keeps an entry
    (100, [10, 30, 10], None, ["a", "c"]),  # more than a quarter of the cache: never kept
])
def test_cache_is_bounded_by_bytes(limit, sizes, touched, kept):
    cache = ResponseCache(limit)
    for i, size in enumerate(sizes):
        key = "abcdef"[i]
        cache.put(key, _entry(size))
        if touched and i == len(sizes) - 2:
            assert cache.get(touched) is not None
    assert [k for k in "abcdef" if cache.get(k) is not None] == kept
    assert cache.size <= limit


@pytest.mark.parametrize("text, normal", [(" ASK {}\r\n", "ASK {}"), ("ASK {\r ?s ?p 'a  b' }", "ASK {\n ?s ?p 'a  b' }")])
def test_normalize_keeps_what_may_be_data(text, normal):
    assert normalize(text) == normal


# --- one store, read-only, shared by every process ----------------------------------------------------------------

def _listing(directory):
    return sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in directory.iterdir())


def test_store_is_shared_read_only_by_every_process(build_dir, app, oxigraph_store):
    before = _listing(build_dir / STORE_DIR)
    held = oxigraph_store.oxigraph  # this process holds a handle while the others open theirs
    client = app.test_client()
    answers = [client.get("/sparql", query_string={"query": f"ASK {{ ?s ?p {i} }}"}) for i in range(4)]
    assert all(a.status_code == 200 and a.headers["X-Exokg-Engine"] == "oxigraph" for a in answers)
    health = client.get("/health").json
    assert health["query_processes"]["alive"] >= 1
    run = subprocess.run([sys.executable, "-m", "exokg", "query", "--data", str(build_dir), "--format", "csv",
                          "SELECT ?l WHERE { <%s> rdfs:label ?l }" % FINDING], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "TME-001" in run.stdout, run.stderr
    assert bool(held.query("ASK { ?s ?p ?o }", use_default_graph_as_union=True))
    assert _listing(build_dir / STORE_DIR) == before  # nobody wrote to it


# --- older builds and broken ones -----------------------------------------------------------------------------------

@pytest.fixture()
def older_build(build_dir, tmp_path):
    out = tmp_path / "older"
    shutil.copytree(build_dir, out, ignore=shutil.ignore_patterns(STORE_DIR))
    return out


def test_a_build_without_the_store_is_loaded_into_memory(older_build, oxigraph_store, caplog):
    with caplog.at_level(logging.WARNING, logger="exokg.server"):
        store = OxigraphStore(older_build)
    assert store.in_memory and "into memory" in caplog.text
    assert store.info.triples == oxigraph_store.info.triples
    query = SPARQL_PREFIXES + CONTRACT[0]
    assert [r.asdict() for r in store.query(query)] == [r.asdict() for r in oxigraph_store.query(query)]
    app = create_app({"EXOKG_DATA": str(older_build)})
    try:
        response = app.test_client().get("/sparql", query_string={"query": LOOKUP})
        assert response.status_code == 200 and response.headers["X-Exokg-Engine"] == "oxigraph"
    finally:
        close_pool(app)


@pytest.mark.parametrize("damage, memory_triples", [
    *[(damage, storage) for damage in ("store", "store-and-dump", "dump-only", "void") for storage in ("0", "2000000")],
    ("dump-beside-store", "2000000"),  # served from memory: the dump is what is read
])
def test_missing_or_corrupt_data_stops_the_app(older_build, build_dir, damage, memory_triples):
    if damage == "dump-beside-store":
        shutil.copytree(build_dir / STORE_DIR, older_build / STORE_DIR)
        (older_build / "exokg.trig").write_text("this is not TriG {")
    elif damage == "store":
        (older_build / STORE_DIR).mkdir()
        (older_build / STORE_DIR / "CURRENT").write_text("MANIFEST-999999\n")
    elif damage == "store-and-dump":
        (older_build / "exokg.trig").unlink()
    elif damage == "dump-only":
        (older_build / "exokg.trig").write_text("this is not TriG {")
    else:
        (older_build / "void.ttl").unlink()
        shutil.copytree(build_dir / STORE_DIR, older_build / STORE_DIR)
    with pytest.raises(DatasetMissing, match="exokg build|cannot parse"):
        create_app({"EXOKG_DATA": str(older_build), "EXOKG_MEMORY_TRIPLES": memory_triples})


# --- queries proven fast run in the server's thread ------------------------------------------------------------

@pytest.fixture()
def counting_app(build_dir, request):
    """An app without response cache whose query pool counts the jobs it is handed."""
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_CACHE_BYTES": "0", **getattr(request, "param", {})})
    handed = []
    with app.app_context():
        from exokg.server.workers import current_pool

        pool = current_pool()
        run = pool.run
        pool.run = lambda job, timeout: handed.append(job.query) or run(job, timeout)
    yield app, handed
    close_pool(app)


def test_a_query_proven_fast_runs_in_the_thread(counting_app, monkeypatch):
    app, handed = counting_app
    with app.app_context():
        from exokg.server.sparql import current_proven

        monkeypatch.setattr(current_proven(), "floor", 0.0)  # the review's queries are all below the floor
    client = app.test_client()
    answers = [client.get("/sparql", query_string={"query": LOOKUP}, headers={"Accept": "text/csv"}) for _ in range(3)]
    assert len(handed) == 1  # only the first went to a query process
    assert all(a.status_code == 200 and a.headers["X-Exokg-Engine"] == "oxigraph" for a in answers)
    assert answers[0].data == answers[1].data == answers[2].data
    # another dataset or another text is another query, not yet proven
    client.get("/sparql", query_string={"query": LOOKUP, "default-graph-uri": str(GRAPH["asserted"])})
    client.get("/sparql", query_string={"query": LOOKUP + " LIMIT 1"})
    assert len(handed) == 3


@pytest.mark.parametrize("counting_app", [{"EXOKG_FAST_PATH_SECONDS": "0"}, {}], indirect=True, ids=["off", "floor"])
def test_no_fast_path_when_turned_off_or_below_the_floor(counting_app):
    app, handed = counting_app
    for _ in range(3):
        assert app.test_client().get("/sparql", query_string={"query": LOOKUP}).status_code == 200
    assert len(handed) == 3


@pytest.mark.parametrize("answer", [
    Answer(200, "text/csv", b"", seconds=0.5, engine="rdflib"),  # allow-listed SERVICE: stays behind the guard
    Answer(200, "text/csv", b"", seconds=2.0, engine="oxigraph"),  # too slow to be trusted in a thread
    Answer(503, "text/plain", b"", seconds=0.1, engine="oxigraph"),
    Answer(400, "text/plain", b"", seconds=0.1),
    Answer(200, "text/csv", b"", seconds=0.001, engine="oxigraph"),  # its cost is Python: processes run that in parallel
], ids=["rdflib", "slow", "error", "client-error", "below-the-floor"])
def test_only_fast_complete_oxigraph_answers_are_proven(answer):
    proven = ProvenFast(seconds=1.0)
    key = ProvenFast.key("v1", Job("ASK {}"))
    proven.record(key, answer)
    assert key not in proven


def test_proven_queries_are_per_version_and_bounded():
    proven = ProvenFast(seconds=1.0, size=2)
    fast = Answer(200, "text/csv", b"", seconds=0.05, engine="oxigraph")
    keys = [ProvenFast.key("v1", Job(f"ASK {{ ?s ?p {n} }}")) for n in range(3)]
    for key in keys:
        proven.record(key, fast)
    assert [key in proven for key in keys] == [False, True, True]
    assert ProvenFast.key("v2", Job("ASK { ?s ?p 2 }")) not in proven
    assert ProvenFast.key("v1", Job("  ASK { ?s ?p 2 }\r\n")) in proven  # the cache's normalization


def test_fast_path_seconds_is_checked():
    with pytest.raises(SettingsError, match="EXOKG_FAST_PATH_SECONDS"):
        Settings.load({"EXOKG_FAST_PATH_SECONDS": "30", "EXOKG_QUERY_TIMEOUT": "10"}, environ={})
