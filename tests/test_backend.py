"""`exokg serve --backend URL`: the same API on top of another SPARQL store (issue 7).

A real Oxigraph server on loopback is loaded with our build by `exokg push`; one app answers from the
embedded store, another from that server (EXOKG_BACKEND). Both must give the same answers to the
competency questions and the example queries, the same formats, limits and refusals, and the same pages.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.parse
import urllib.request
from collections import Counter

import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from exokg.cli import main
from exokg.config import DATASET_IRI, GRAPH
from exokg.push import graph_url
from exokg.server.app import create_app
from exokg.server.backend import BackendError, query_form
from exokg.server.query_page import load_examples
from exokg.server.settings import SettingsError
from exokg.server.store import rdflib_internals
from exokg.server.testing import LoopbackListener, free_port, oxigraph_command, running_oxigraph, running_process
from exokg.server.workers import close_pool

from test_competency import QUERIES, expected_rows

pytestmark = pytest.mark.skipif(oxigraph_command() is None, reason="the oxigraph server is not installed")

EXAMPLES = load_examples()
JSON_RESULTS = "application/sparql-results+json"
VOID = "http://rdfs.org/ns/void#"
STRANGER = "http://example.org/graph/not-ours"  # a graph the backend holds that is not part of our dataset


@pytest.fixture(scope="module")
def backend(build_dir, tmp_path_factory):
    """An Oxigraph server holding our build (pushed) and one graph of someone else's; yields its base URL."""
    log = tmp_path_factory.mktemp("oxigraph") / "oxigraph.log"
    with running_oxigraph(log) as base:
        assert main(["push", f"{base}/query", "--graph-store", f"{base}/store", "--data", str(build_dir)]) == 0
        stranger = urllib.request.Request(graph_url(f"{base}/store", STRANGER), method="PUT", headers={
            "Content-Type": "application/n-triples"},
            data=b"<https://w3id.org/exokg/finding/TME-001> <http://www.w3.org/2000/01/rdf-schema#label> \"not ours\"@en .\n")
        urllib.request.urlopen(stranger, timeout=60).close()
        yield base


def _app(settings: dict):
    return create_app({"EXOKG_CACHE_BYTES": "0", **settings})  # no cache: each request really asks the store


@pytest.fixture(scope="module")
def embedded(build_dir):
    app = _app({"EXOKG_DATA": str(build_dir)})
    yield app
    close_pool(app)


@pytest.fixture(scope="module")
def remote(build_dir, backend):
    app = _app({"EXOKG_DATA": str(build_dir), "EXOKG_BACKEND": f"{backend}/query"})
    yield app
    close_pool(app)


def ask(app, query: str, accept: str = JSON_RESULTS, **params):
    return app.test_client().post("/sparql", data={"query": query, **params}, headers={"Accept": accept})


def solutions(response) -> Counter:
    """A SELECT's JSON answer as a multiset of solutions (the order of unordered answers may differ)."""
    body = json.loads(response.data)
    if "boolean" in body:
        return Counter([body["boolean"]])
    return Counter(json.dumps(b, sort_keys=True) for b in body["results"]["bindings"])


def graph_of(response) -> Graph:
    with rdflib_internals():
        return Graph().parse(data=response.data, format="nt")


def test_the_backend_answers(remote):
    response = ask(remote, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert response.status_code == 200 and response.headers["X-Exokg-Engine"] == "remote"


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_competency_questions_same_answers(embedded, remote, path):
    text = path.read_text(encoding="utf-8")
    mine, theirs = ask(embedded, text), ask(remote, text)
    assert mine.status_code == theirs.status_code == 200, theirs.get_data(as_text=True)
    assert solutions(theirs) == solutions(mine)
    rows = {tuple(b.get(v, {}).get("value", "") for v in json.loads(theirs.data)["head"]["vars"])
            for b in json.loads(theirs.data)["results"]["bindings"]}
    assert rows == expected_rows(text)  # and they are the documented answers


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example_queries_same_answers(embedded, remote, example):
    if example.form == "construct":
        mine, theirs = ask(embedded, example.query, "application/n-triples"), ask(remote, example.query, "application/n-triples")
        assert mine.status_code == theirs.status_code == 200, theirs.get_data(as_text=True)
        assert isomorphic(graph_of(theirs), graph_of(mine)) and len(graph_of(mine))
    else:
        mine, theirs = ask(embedded, example.query), ask(remote, example.query)
        assert mine.status_code == theirs.status_code == 200, theirs.get_data(as_text=True)
        assert solutions(theirs) == solutions(mine)
        if re.search(r"\border\s+by\b", example.query, re.IGNORECASE) and example.form == "select":
            # ordered answers: the same order too (ties aside, which the examples' ORDER BY keys avoid)
            keys = lambda r: [json.dumps(b, sort_keys=True) for b in json.loads(r.data)["results"]["bindings"]]  # noqa: E731
            assert keys(theirs) == keys(mine)


ORDERED = "SELECT ?f ?label WHERE { ?f a exo:TableFinding ; rdfs:label ?label } ORDER BY ?f LIMIT 5"


@pytest.mark.parametrize("accept", [JSON_RESULTS, "application/sparql-results+xml", "text/csv",
                                    "text/tab-separated-values"])
def test_content_negotiation_gives_the_same_bytes(embedded, remote, accept):
    mine, theirs = ask(embedded, ORDERED, accept), ask(remote, ORDERED, accept)
    assert theirs.status_code == 200 and theirs.mimetype == mine.mimetype
    assert theirs.data == mine.data


@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"])
def test_graph_formats(embedded, remote, accept):
    query = "CONSTRUCT { ?f a exo:TableFinding } WHERE { ?f a exo:TableFinding }"
    mine, theirs = ask(embedded, query, accept), ask(remote, query, accept)
    assert theirs.status_code == 200 and theirs.mimetype == mine.mimetype
    fmt = {"text/turtle": "turtle", "application/n-triples": "nt", "application/ld+json": "json-ld",
           "application/rdf+xml": "xml"}[accept]
    with rdflib_internals():
        assert set(Graph().parse(data=theirs.data, format=fmt)) == set(Graph().parse(data=mine.data, format=fmt))


def test_unacceptable_format_is_406_before_asking_the_backend(remote):
    assert ask(remote, ORDERED, "image/png").status_code == 406


def test_only_our_graphs_are_the_dataset(embedded, remote):
    """The backend holds a graph that is not ours: it is neither in the default graph nor nameable."""
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    assert solutions(ask(remote, query)) == solutions(ask(embedded, query))
    union = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert solutions(ask(remote, union)) == solutions(ask(embedded, union))
    assert ask(remote, f"SELECT * FROM <{STRANGER}> WHERE {{ ?s ?p ?o }}").status_code == 403
    assert ask(remote, "ASK { ?s ?p ?o }", **{"default-graph-uri": STRANGER}).status_code == 403


@pytest.mark.parametrize("dataset", [
    {"query": f"SELECT (COUNT(*) AS ?n) FROM <{GRAPH['asserted']}> WHERE {{ ?s ?p ?o }}"},
    {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "default-graph-uri": str(GRAPH["ontology"])},
    {"query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
     "named-graph-uri": str(GRAPH["inferred"])},
], ids=["FROM", "default-graph-uri", "named-graph-uri"])
def test_a_request_may_choose_among_our_graphs(embedded, remote, dataset):
    query = dataset.pop("query")
    mine, theirs = ask(embedded, query, **dataset), ask(remote, query, **dataset)
    assert theirs.status_code == 200 and solutions(theirs) == solutions(mine)


def test_limits_apply(build_dir, backend):
    app = _app({"EXOKG_DATA": str(build_dir), "EXOKG_BACKEND": f"{backend}/query", "EXOKG_MAX_ROWS": "5"})
    try:
        response = ask(app, "SELECT * WHERE { ?s ?p ?o }")
        assert response.status_code == 403 and "more than 5 solutions" in response.get_data(as_text=True)
        assert ask(app, "SELECT * WHERE { ?s ?p ?o } LIMIT 5").status_code == 200
    finally:
        close_pool(app)


@pytest.mark.parametrize("case", ["FROM", "SERVICE"])
def test_safety_rules_run_here_before_forwarding(remote, case):
    with LoopbackListener() as listener:
        query = {"FROM": f"SELECT * FROM <{listener.url}/g> WHERE {{ ?s ?p ?o }}",
                 "SERVICE": f"SELECT * WHERE {{ SERVICE <{listener.url}/sparql> {{ ?s ?p ?o }} }}"}[case]
        response = ask(remote, query)
        assert response.status_code == 403
        assert listener.connections == 0


def test_allowlisted_service_is_not_run_on_a_backend(build_dir, backend):
    with LoopbackListener() as listener:
        app = _app({"EXOKG_DATA": str(build_dir), "EXOKG_BACKEND": f"{backend}/query",
                    "EXOKG_SERVICE_ALLOWLIST": f"{listener.url}/sparql"})
        try:
            response = ask(app, f"SELECT * WHERE {{ SERVICE <{listener.url}/sparql> {{ ?s ?p ?o }} }}")
        finally:
            close_pool(app)
        assert response.status_code == 501 and "backend" in response.get_data(as_text=True)
        assert listener.connections == 0


def test_syntax_errors_are_ours(remote):
    response = ask(remote, "SELECT * WHERE { ?s ?p }")
    assert response.status_code == 400 and "line 1, column" in response.get_data(as_text=True)


def test_updates_are_refused_with_a_backend(build_dir, backend):
    with pytest.raises(SettingsError, match="EXOKG_UPDATE_TOKEN cannot be used with EXOKG_BACKEND"):
        create_app({"EXOKG_DATA": str(build_dir), "EXOKG_BACKEND": f"{backend}/query",
                    "EXOKG_UPDATE_TOKEN": "a-long-enough-operator-token"})


def test_no_build_directory_is_needed(backend, embedded, tmp_path):
    """The front server may run where the build is not: the VoID then comes from the backend's counts."""
    app = _app({"EXOKG_DATA": str(tmp_path), "EXOKG_BACKEND": f"{backend}/query"})
    try:
        assert solutions(ask(app, ORDERED)) == solutions(ask(embedded, ORDERED))
        void = app.test_client().get("/.well-known/void", headers={"Accept": "application/n-triples"})
        assert void.status_code == 200
        counts = {str(s): int(o) for s, _, o in graph_of(void).triples((None, URIRef(VOID + "triples"), None))}
        info = embedded.extensions["exokg.store"].info
        assert counts == {str(GRAPH[name]): n for name, n in info.triples.items()} | {DATASET_IRI: info.union_triples}
    finally:
        close_pool(app)


def test_unreachable_backend_stops_the_start(build_dir):
    with pytest.raises(BackendError, match="cannot be reached"):
        create_app({"EXOKG_DATA": str(build_dir), "EXOKG_BACKEND": f"http://127.0.0.1:{free_port()}/query"})


def test_a_url_that_is_no_sparql_endpoint_stops_the_start(build_dir, backend):
    with pytest.raises(BackendError, match="not answering as a SPARQL query endpoint"):
        create_app({"EXOKG_DATA": str(build_dir), "EXOKG_BACKEND": f"{backend}/no-such-endpoint"})


def test_empty_backend_stops_the_start(build_dir, tmp_path):
    with running_oxigraph(tmp_path / "empty.log") as empty:
        with pytest.raises(BackendError, match="exokg push"):
            create_app({"EXOKG_DATA": str(build_dir), "EXOKG_BACKEND": f"{empty}/query"})


def test_backend_lost_after_start_is_a_502(build_dir, tmp_path):
    with running_oxigraph(tmp_path / "short-lived.log") as short_lived:
        assert main(["push", f"{short_lived}/query", "--graph-store", f"{short_lived}/store", "--data", str(build_dir)]) == 0
        app = _app({"EXOKG_DATA": str(build_dir), "EXOKG_BACKEND": f"{short_lived}/query"})
    try:
        response = ask(app, ORDERED)
        assert response.status_code == 502 and "cannot be reached" in response.get_data(as_text=True)
    finally:
        close_pool(app)


# --- the pages read through current_store().query(): the same pages from the backend ------------------

def rows_of_page(html: str) -> Counter:
    """A page's table rows and list items as a multiset: unordered statements may come in any order, and
    so may the parts of a cell listing several values ("a; b; c", from an unordered GROUP_CONCAT)."""
    def cell(match):
        return "<td>" + "; ".join(sorted(match.group(1).split("; "))) + "</td>"

    rows = re.findall(r"<tr>.*?</tr>|<li>.*?</li>", html, re.DOTALL)
    return Counter(re.sub(r"<td>(.*?)</td>", cell, row, flags=re.DOTALL) for row in rows)


@pytest.mark.parametrize("path", ["/", "/finding/TME-001", "/molecule/mir-21", "/search?q=miR-21",
                                  "/browse/molecule", "/.well-known/void"])
def test_pages_are_the_same(embedded, remote, path):
    mine, theirs = embedded.test_client().get(path), remote.test_client().get(path)
    assert theirs.status_code == mine.status_code
    if mine.status_code == 200:
        assert rows_of_page(theirs.get_data(as_text=True)) == rows_of_page(mine.get_data(as_text=True))
        assert len(theirs.data) == len(mine.data)


@pytest.mark.parametrize("text, form", [
    ("SELECT * {}", "SELECT"), ("# a comment\nPREFIX a: <http://a/>\nBASE <http://b/>\nask {}", "ASK"),
    ("prefix : <http://a/> CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"), ("DESCRIBE <http://a>", "DESCRIBE"),
    ("PREFIX a:<http://a/> SELECT ?x {}", "SELECT"), ("\\u0053ELECT * {}", None),
])
def test_query_form_is_read_from_the_text(text, form):
    assert query_form(text) == form


def test_exokg_serve_backend(build_dir, backend, tmp_path):
    """The command an operator runs, answering over HTTP from the backend."""
    port = free_port()
    command = [sys.executable, "-m", "exokg", "serve", "--port", str(port), "--data", str(build_dir),
               "--workers", "1", "--backend", f"{backend}/query"]
    with running_process(command, f"http://127.0.0.1:{port}/health", tmp_path / "serve.log"):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/sparql",
                                         data=urllib.parse.urlencode({"query": ORDERED}).encode(),
                                         headers={"Accept": "text/csv"})
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.headers["X-Exokg-Engine"] == "remote"
            lines = response.read().decode().splitlines()
    assert lines[0] == "f,label" and len(lines) == 6 and lines[1].startswith("https://w3id.org/exokg/finding/ANG-001,")


# --- EXOKG_BACKEND_DATASET=backend-default: the backend's own default graph --------------------------------

@pytest.fixture(scope="module")
def union_backend(build_dir, tmp_path_factory):
    """An Oxigraph server whose default graph is the union of its graphs: ours, and someone else's."""
    folder = tmp_path_factory.mktemp("oxigraph-union")
    quads = folder / "data.nq"
    stranger = f'<https://w3id.org/exokg/finding/TME-001> <http://www.w3.org/2000/01/rdf-schema#label> "not ours"@en <{STRANGER}> .\n'
    quads.write_bytes((build_dir / "exokg.nq").read_bytes() + stranger.encode())
    with running_oxigraph(folder / "oxigraph.log", data=quads) as base:
        yield base


@pytest.fixture(scope="module")
def union_remote(build_dir, union_backend):
    app = _app({"EXOKG_DATA": str(build_dir), "EXOKG_BACKEND": f"{union_backend}/query",
                "EXOKG_BACKEND_DATASET": "backend-default"})
    yield app
    close_pool(app)


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_backend_default_dataset_same_answers(embedded, union_remote, path):
    text = path.read_text(encoding="utf-8")
    assert solutions(ask(union_remote, text)) == solutions(ask(embedded, text))


def test_backend_default_dataset_sends_no_dataset_and_counts_what_it_adds(union_remote, embedded):
    with union_remote.app_context():
        from exokg.server.store import current_store

        store = current_store()
        assert store.dataset == "backend-default" and store.beyond_ours == 1
        assert store._dataset_params(None, None) == []
    union = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    theirs, mine = json.loads(ask(union_remote, union).data), json.loads(ask(embedded, union).data)
    count = lambda body: int(body["results"]["bindings"][0]["n"]["value"])  # noqa: E731
    assert count(theirs) == count(mine) + 1  # the documented price: the backend's other triples are seen
    # a request that names its dataset still gets exactly that, and only our graphs may be named
    named = ask(union_remote, union, **{"default-graph-uri": str(GRAPH["ontology"])})
    assert solutions(named) == solutions(ask(embedded, union, **{"default-graph-uri": str(GRAPH["ontology"])}))
    assert ask(union_remote, f"SELECT * FROM <{STRANGER}> WHERE {{ ?s ?p ?o }}").status_code == 403


def test_backend_default_dataset_refused_when_the_default_graph_lacks_our_triples(build_dir, backend):
    """The module's other server keeps its default graph apart from the named graphs: answers would be lost."""
    with pytest.raises(BackendError, match="fewer than"):
        _app({"EXOKG_DATA": str(build_dir), "EXOKG_BACKEND": f"{backend}/query", "EXOKG_BACKEND_DATASET": "backend-default"})


def test_backend_dataset_setting_is_checked(build_dir):
    with pytest.raises(SettingsError, match="EXOKG_BACKEND_DATASET"):
        _app({"EXOKG_DATA": str(build_dir), "EXOKG_BACKEND": "http://127.0.0.1:9/sparql", "EXOKG_BACKEND_DATASET": "all"})
