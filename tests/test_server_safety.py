"""The endpoint cannot be turned against its host: no fetching (SSRF), a timeout that really stops the
work while others are served, and caps on answers and requests.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
import urllib.request
import warnings

import pytest
import rdflib.plugins.sparql
from rdflib import Dataset

from exokg.server.app import create_app
from exokg.server.safety import install_network_guard
from exokg.server.store import rdflib_internals
from exokg.server.testing import LoopbackListener
from exokg.server.workers import close_pool, current_pool

TOKEN = "operator-token-for-tests-0123"
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # ~10^11 solutions
LIGHT = "ASK { ?f a exo:TableFinding }"


@pytest.fixture()
def listener():
    with LoopbackListener() as listening:
        yield listening


@pytest.fixture(scope="module")
def app(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_UPDATE_TOKEN": TOKEN})
    yield app
    close_pool(app)


# --- SSRF: a loopback listener counts every connection attempt ---------------------------------------

def test_the_listener_sees_what_rdflib_does_unguarded(listener):
    """The control: plain RDFLib does connect to a FROM IRI, so a zero count below means something."""
    assert rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS  # RDFLib's default, unchanged in this process
    with pytest.raises(Exception, match="Could not load"), rdflib_internals():  # the listener hangs up
        Dataset().query(f"SELECT * FROM <{listener.url}/data.ttl> WHERE {{ ?s ?p ?o }}")
    assert listener.connections >= 1


ATTEMPTS = [  # (case, form fields or None for an update body, expected status)
    ("FROM", lambda u: {"query": f"SELECT * FROM <{u}/g> WHERE {{ ?s ?p ?o }}"}, 403),
    ("FROM NAMED", lambda u: {"query": f"SELECT * FROM NAMED <{u}/g> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"}, 403),
    ("default-graph-uri", lambda u: {"query": "ASK { ?s ?p ?o }", "default-graph-uri": f"{u}/g"}, 403),
    ("named-graph-uri", lambda u: {"query": "ASK { ?s ?p ?o }", "named-graph-uri": f"{u}/g"}, 403),
    ("SERVICE", lambda u: {"query": f"SELECT * WHERE {{ SERVICE <{u}/sparql> {{ ?s ?p ?o }} }}"}, 403),
    ("SERVICE SILENT", lambda u: {"query": f"SELECT * WHERE {{ SERVICE SILENT <{u}/sparql> {{ ?s ?p ?o }} }}"}, 403),
    ("SERVICE by variable", lambda u: {"query": f"SELECT * WHERE {{ VALUES ?e {{ <{u}/sparql> }} SERVICE ?e {{ ?s ?p ?o }} }}"}, 403),
    ("SERVICE nested in a subquery", lambda u: {"query": f"SELECT * WHERE {{ {{ SELECT * WHERE {{ OPTIONAL {{ SERVICE <{u}/s> {{ ?s ?p ?o }} }} }} }} }}"}, 403),
    ("LOAD", lambda u: {"update": f"LOAD <{u}/data.ttl>"}, 403),
    ("LOAD SILENT into a graph", lambda u: {"update": f"LOAD SILENT <{u}/data.ttl> INTO GRAPH <urn:x:g>"}, 403),
    ("SERVICE in an update", lambda u: {"update": f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{u}/s> {{ ?s ?p ?o }} }}"}, 403),
    ("USING in an update reads the store only", lambda u: {"update": f"INSERT {{ <urn:x:s> <urn:x:p> ?o }} USING <{u}/g> WHERE {{ ?s ?p ?o }}"}, 200),
    ("using-graph-uri reads the store only", lambda u: {"update": "INSERT { <urn:x:s> <urn:x:p> ?o } WHERE { ?s ?p ?o }", "using-graph-uri": f"{u}/g"}, 200),
]


@pytest.mark.parametrize("case, fields, status", ATTEMPTS, ids=[a[0] for a in ATTEMPTS])
def test_no_request_makes_the_server_connect(app, listener, case, fields, status):
    response = app.test_client().post("/sparql", data=fields(listener.url), headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == status, response.get_data(as_text=True)
    if status == 403:
        assert "fetches nothing" in response.get_data(as_text=True) or "never fetches" in response.get_data(as_text=True) \
            or "does not call" in response.get_data(as_text=True) or "only the endpoints" in response.get_data(as_text=True)
    assert listener.connections == 0


def _guarded_fetch(url: str, allowlist: tuple[str, ...], results) -> None:
    install_network_guard(allowlist)
    try:
        urllib.request.urlopen(url, timeout=5)
        results.put("connected")
    except PermissionError as exc:
        results.put(f"refused: {exc}")
    except OSError as exc:
        results.put(f"failed after connecting: {exc}")


@pytest.mark.parametrize("allowed", [False, True], ids=["not allowed", "allow-listed"])
def test_query_processes_refuse_connections_the_allowlist_lacks(listener, allowed):
    """The second layer: even code that bypassed the checks cannot connect from a query process."""
    results = multiprocessing.get_context("fork").SimpleQueue()
    allowlist = (f"{listener.url}/sparql",) if allowed else ()
    child = multiprocessing.get_context("fork").Process(target=_guarded_fetch, args=(f"{listener.url}/sparql", allowlist, results))
    with warnings.catch_warnings():  # Python 3.12+: forking beside the listener's thread (see executor.py)
        warnings.filterwarnings("ignore", message=r".*use of fork\(\) may lead to deadlocks", category=DeprecationWarning)
        child.start()
    child.join(timeout=30)
    outcome = results.get()
    assert outcome.startswith("refused") != allowed, outcome
    assert listener.connections == (1 if allowed else 0)


def test_allowlisted_service_is_called(build_dir, listener):
    """The operator's allow-list opens SERVICE to exactly the endpoints it names."""
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_SERVICE_ALLOWLIST": f"{listener.url}/sparql"})
    try:
        client = app.test_client()
        other = client.get("/sparql", query_string={"query": f"SELECT * WHERE {{ SERVICE <{listener.url}/other> {{ ?s ?p ?o }} }}"})
        assert other.status_code == 403 and listener.connections == 0
        allowed = client.get("/sparql", query_string={"query": f"SELECT * WHERE {{ SERVICE <{listener.url}/sparql> {{ ?s ?p ?o }} }}"})
        assert allowed.status_code == 502 and b"SERVICE call failed" in allowed.data  # the listener hangs up
        assert listener.connections >= 1
    finally:
        close_pool(app)


# --- the timeout: a runaway query is killed while others are answered ----------------------------------

def _wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def test_heavy_query_is_killed_while_a_light_one_is_answered(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_QUERY_TIMEOUT": "3", "EXOKG_QUERY_PROCESSES": "2"})
    try:
        client = app.test_client()
        with app.app_context():
            pool = current_pool()
        before = set(pool.pids())
        heavy = {}
        thread = threading.Thread(target=lambda: heavy.setdefault("response", app.test_client().get(
            "/sparql", query_string={"query": HEAVY})))
        thread.start()
        _wait_for(lambda: pool.busy == 1)
        light = client.get("/sparql", query_string={"query": LIGHT})
        assert light.status_code == 200 and json.loads(light.data)["boolean"] is True
        assert pool.busy == 1 and "response" not in heavy  # the heavy query was still running meanwhile
        thread.join(timeout=60)
        response = heavy["response"]
        assert response.status_code == 503 and b"was stopped" in response.data
        killed = before - set(pool.pids())
        assert len(killed) == 1 and pool.killed == 1
        with pytest.raises(ProcessLookupError):  # the work really stopped: its process is gone
            os.kill(killed.pop(), 0)
        assert len(pool.pids()) == 2 and client.get("/sparql", query_string={"query": LIGHT}).status_code == 200
    finally:
        close_pool(app)


# --- limits ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def limited(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_MAX_ROWS": "10", "EXOKG_MAX_RESPONSE_BYTES": "2000",
                      "EXOKG_MAX_REQUEST_BYTES": "2000"})
    yield app.test_client()
    close_pool(app)


LIMITS = [  # (case, method, query or body, status, words)
    ("rows over the cap", "GET", "SELECT ?s WHERE { ?s ?p ?o }", 403, "more than 10 solutions"),
    ("rows at the cap", "GET", "SELECT ?s WHERE { ?s ?p ?o } LIMIT 10", 200, ""),
    ("triples over the cap", "GET", "CONSTRUCT WHERE { ?s ?p ?o }", 403, "more than 10 triples"),
    ("answer over the byte cap", "GET",
     "SELECT ?q WHERE { ?s ?p ?o BIND(CONCAT(STR(?o), STR(?o), STR(?o), STR(?o), STR(?o), STR(?o)) AS ?q) } LIMIT 10", 403, "bytes"),
    ("request body over the cap", "POST", "ASK {}" + " " * 3000, 413, "Too Large"),
    ("GET query string over the cap", "GET", "ASK {}" + " " * 3000, 414, "POST the query"),
]


@pytest.mark.parametrize("case, method, text, status, words", LIMITS, ids=[c[0] for c in LIMITS])
def test_limit(limited, case, method, text, status, words):
    if method == "GET":
        response = limited.get("/sparql", query_string={"query": text})
    else:
        response = limited.post("/sparql", data=text, content_type="application/sparql-query")
    assert response.status_code == status, response.get_data(as_text=True)
    assert words in response.get_data(as_text=True)
