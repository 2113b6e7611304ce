"""The peer benchmark's parts: its query mix answers on our graphs, and its load generator counts right.

The mix (bench/queries/*.rq) must answer non-empty on the review graph with rdflib and with the project's
own store, the same number of results on both, and non-empty on a synthetic graph (bench/synthetic.py)
too. The load generator's figures are checked against a fake endpoint on loopback that records what it
was sent and fails one query on purpose. No timings are asserted.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import load  # noqa: E402  (bench/ holds scripts, not a package)

MIX = load.load_mix()
NAMES = [q.name for q in MIX]


def test_the_mix_has_the_kinds_of_query_the_issue_names():
    forms = {q.form for q in MIX}
    text = "\n".join(q.text for q in MIX)
    assert len(MIX) >= 10
    assert {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"} <= forms
    for feature in ("GROUP BY", "COUNT(", "rdfs:subClassOf*", "regex(", "OPTIONAL", "rdfs:label \"miR-21\"@en"):
        assert feature in text, feature


def size(query: load.Query, result) -> int:
    """Results of an rdflib Result: solutions, 1/0 for ASK, triples of a graph."""
    if query.form == "ASK":
        return int(result.askAnswer)
    if query.form in ("CONSTRUCT", "DESCRIBE"):
        return len(result.graph)
    return len(list(result))


@pytest.fixture(scope="module")
def project_store(build_dir):
    from exokg.server.store import open_store

    return open_store(build_dir)


@pytest.mark.parametrize("query", MIX, ids=NAMES)
def test_each_query_answers_on_the_review_graph_with_rdflib_and_our_store(query, union, project_store):
    with_rdflib = size(query, union.query(query.text))
    with_store = size(query, project_store.query(query.text))
    assert with_rdflib > 0
    assert with_store > 0
    if query.form != "DESCRIBE":  # what DESCRIBE returns is up to the engine
        assert with_store == with_rdflib


@pytest.fixture(scope="module")
def synthetic_store(build_dir):
    """bench/synthetic.py's graph at twice the review, with the review's ontology, in Oxigraph."""
    import pyoxigraph as ox
    import synthetic

    store = ox.Store()
    store.bulk_load((build_dir / "ontology.ttl").read_bytes(), format=ox.RdfFormat.TURTLE)
    store.bulk_load(synthetic.generate(2).serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return store


@pytest.mark.parametrize("query", MIX, ids=NAMES)
def test_each_query_answers_on_a_synthetic_graph(query, synthetic_store):
    import pyoxigraph as ox

    answer = synthetic_store.query(query.text)
    n = int(bool(answer)) if isinstance(answer, ox.QueryBoolean) else sum(1 for _ in answer)
    assert n > 0


@pytest.mark.parametrize("text, form", [
    ("PREFIX ask: <http://example.org/ask#>\nSELECT * WHERE { ?s ask:p ?o }", "SELECT"),
    ("# select nothing here\nASK { ?s ?p ?o }", "ASK"),
    ("DESCRIBE <http://example.org/construct>", "DESCRIBE"),
    ("prefix x: <http://example.org/>\nconstruct { ?s x:p ?o } where { ?s x:p ?o }", "CONSTRUCT"),
])
def test_query_form_ignores_comments_and_iris(text, form):
    assert load.Query("q", text).form == form


@pytest.mark.parametrize("values, p, expected", [
    ([5.0], 50, 5.0),
    ([1.0, 2.0, 3.0, 4.0, 5.0], 50, 3.0),
    ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
    ([float(x) for x in range(1, 101)], 95, 95.05),
    ([float(x) for x in range(1, 101)], 99, 99.01),
    ([1.0, 2.0], 100, 2.0),
    ([1.0, 2.0], 0, 1.0),
])
def test_percentiles_interpolate_between_closest_ranks(values, p, expected):
    assert load.percentile(values, p) == pytest.approx(expected)


def test_summary_of_known_latencies():
    stats = load.summarize([0.004, 0.001, 0.003, 0.002], errors=2, elapsed=2.0)
    assert stats["queries"] == 4 and stats["errors"] == 2
    assert stats["qps"] == pytest.approx(2.0)
    assert stats["mean_ms"] == pytest.approx(2.5)
    assert stats["p50_ms"] == pytest.approx(2.5)


class FakeEndpoint(BaseHTTPRequestHandler):
    """Answers each query with as many JSON bindings as its text says, except the one named "broken"."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the load generator's clients expect
    received: list[str] = []
    lock = threading.Lock()

    def do_GET(self):
        text = parse_qs(urlsplit(self.path).query)["query"][0]
        with self.lock:
            self.received.append(text)
        if "broken" in text:
            body, status = b"no", 500
        else:
            rows = text.count("?row")
            body = json.dumps({"head": {"vars": ["row"]},
                               "results": {"bindings": [{"row": {"type": "literal", "value": str(i)}}
                                                        for i in range(rows)]}}).encode()
            status = 200
        self.send_response(status)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_endpoint():
    FakeEndpoint.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


FAKE_MIX = [load.Query("one", "SELECT ?row WHERE {} # one"), load.Query("three", "SELECT ?row ?row ?row WHERE {}"),
            load.Query("broken", "SELECT * WHERE {} # broken")]


def test_answer_sizes_count_the_bindings(fake_endpoint):
    assert load.answer_sizes(fake_endpoint, FAKE_MIX[:2]) == {"one": 1, "three": 3}
    with pytest.raises(RuntimeError, match="broken: HTTP 500"):
        load.answer_sizes(fake_endpoint, FAKE_MIX)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_load_counts_every_request_once_and_errors_per_query(fake_endpoint, concurrency):
    result = load.run_load(fake_endpoint, FAKE_MIX, concurrency=concurrency, seconds=0.5, warmup=0)
    sent = {q.name: sum(1 for text in FakeEndpoint.received if text == q.text) for q in FAKE_MIX}
    per_query = result["per_query"]
    assert per_query["one"]["queries"] == sent["one"] and per_query["one"]["errors"] == 0
    assert per_query["three"]["queries"] == sent["three"] and per_query["three"]["errors"] == 0
    assert per_query["broken"]["queries"] == 0 and per_query["broken"]["errors"] == sent["broken"] > 0
    overall = result["overall"]
    assert overall["queries"] == sent["one"] + sent["three"]
    assert overall["errors"] == sent["broken"]
    assert overall["qps"] == pytest.approx(overall["queries"] / result["seconds"])
    assert overall["p50_ms"] <= overall["p95_ms"] <= overall["p99_ms"]
    # round-robin: each client sends the mix in turn, so no query gets more than one round ahead per client
    assert max(sent.values()) - min(sent.values()) <= concurrency


def test_warm_up_requests_are_not_counted(fake_endpoint):
    result = load.run_load(fake_endpoint, FAKE_MIX[:1], concurrency=1, seconds=0.3, warmup=0.3)
    assert 0 < result["overall"]["queries"] < len(FakeEndpoint.received)
