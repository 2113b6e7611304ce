"""`exokg push`: the build, named graphs included, into a real Oxigraph server on loopback through the
SPARQL 1.1 Graph Store Protocol; then the store holds exactly our graphs (issue 7)."""

from __future__ import annotations

import base64
import http.server
import json
import sys
import subprocess
import threading
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest
from rdflib import XSD, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from exokg.cli import main
from exokg.config import GRAPH, NAMED_GRAPHS
from exokg.push import graph_url
from exokg.server.store import rdflib_internals
from exokg.server.testing import free_port, oxigraph_command, running_oxigraph

pytestmark = pytest.mark.skipif(oxigraph_command() is None, reason="the oxigraph server is not installed")

OTHER = "http://example.org/graph/someone-elses"


@pytest.fixture(scope="module")
def ours(build_dir) -> Dataset:
    dataset = Dataset()
    with rdflib_internals():
        dataset.parse(build_dir / "exokg.trig", format="trig")
    return dataset


@pytest.fixture
def oxigraph(tmp_path):
    with running_oxigraph(tmp_path / "oxigraph.log") as url:
        yield url


def remote_select(base: str, query: str) -> list[dict]:
    request = urllib.request.Request(f"{base}/query", data=urllib.parse.urlencode({"query": query}).encode(),
                                     headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["results"]["bindings"]


def remote_counts(base: str) -> dict[str, int]:
    rows = remote_select(base, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}


def our_counts(dataset: Dataset) -> dict[str, int]:
    return {str(g.identifier): len(g) for g in dataset.graphs() if len(g)}


def push(oxigraph: str, build_dir, *extra: str) -> int:
    return main(["push", f"{oxigraph}/query", "--graph-store", f"{oxigraph}/store", "--data", str(build_dir), *extra])


def test_push_gives_the_store_our_named_graphs(oxigraph, build_dir, ours, capsys):
    assert push(oxigraph, build_dir) == 0
    expected = our_counts(ours)
    assert set(expected) == {str(GRAPH[name]) for name in NAMED_GRAPHS}
    assert remote_counts(oxigraph) == expected
    out = capsys.readouterr().out
    for iri, count in expected.items():
        assert f"<{iri}>: {count} triples sent, HTTP 201, the store counts {count}" in out
    assert f"pushed 3 graph(s), {sum(expected.values())} triples" in out


@pytest.mark.parametrize("name", NAMED_GRAPHS)
@pytest.mark.parametrize("fmt", ["nt", "turtle"])
def test_each_graph_arrives_identical(oxigraph, build_dir, ours, name, fmt):
    """Not only the counts: the triples, blank nodes included (compared up to blank-node renaming)."""
    assert push(oxigraph, build_dir, "--format", fmt) == 0
    with urllib.request.urlopen(urllib.request.Request(graph_url(f"{oxigraph}/store", GRAPH[name]),
                                                       headers={"Accept": "application/n-triples"}), timeout=60) as r:
        theirs = Graph().parse(data=r.read(), format="nt")
    mine = Graph()
    for triple in ours.graph(URIRef(GRAPH[name])):
        mine.add(triple)
    assert len(theirs) == len(mine) and isomorphic(canonical(theirs), canonical(mine))


def canonical(graph: Graph) -> Graph:
    """The graph with xsd:decimal literals in canonical form: Oxigraph stores "30.0" as "30" (same value)."""
    out = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype == XSD.decimal:
            o = Literal(format(Decimal(str(o)).normalize(), "f"), datatype=XSD.decimal)
        out.add((s, p, o))
    return out


def test_push_replaces_our_graphs_and_leaves_others_alone(oxigraph, build_dir, ours):
    other = urllib.request.Request(graph_url(f"{oxigraph}/store", OTHER), method="PUT",
                                   data=b"<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n",
                                   headers={"Content-Type": "application/n-triples"})
    urllib.request.urlopen(other, timeout=60).close()
    stale = urllib.request.Request(graph_url(f"{oxigraph}/store", GRAPH["asserted"]), method="PUT",
                                   data=b"<http://example.org/stale> <http://example.org/b> <http://example.org/c> .\n",
                                   headers={"Content-Type": "application/n-triples"})
    urllib.request.urlopen(stale, timeout=60).close()
    assert push(oxigraph, build_dir) == 0
    assert push(oxigraph, build_dir) == 0  # twice: PUT replaces, nothing doubles
    assert remote_counts(oxigraph) == {**our_counts(ours), OTHER: 1}
    assert remote_select(oxigraph, "SELECT ?g WHERE { GRAPH ?g { <http://example.org/stale> ?p ?o } }") == []


# --- failures: the status and the store's message, or why no connection was made ----------------------

def test_connection_refused_is_reported(build_dir, capsys):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert main(["push", f"{url}/query", "--graph-store", f"{url}/store", "--data", str(build_dir)]) == 1
    err = capsys.readouterr().err
    assert f"PUT {url}/store?graph=" in err and "cannot connect" in err and "Connection refused" in err


def test_a_store_refusal_is_reported_with_its_status_and_message(oxigraph, build_dir, capsys):
    """Oxigraph's /query takes no PUT: its status and message come back, with a hint at --graph-store."""
    assert main(["push", f"{oxigraph}/query", "--data", str(build_dir)]) == 1
    err = capsys.readouterr().err
    assert "HTTP 404" in err and "not supported" in err and "--graph-store" in err
    assert remote_counts(oxigraph) == {}


def test_missing_build_is_a_usage_error(oxigraph, tmp_path, capsys):
    assert main(["push", f"{oxigraph}/query", "--graph-store", f"{oxigraph}/store", "--data", str(tmp_path)]) == 2
    assert "run 'exokg build" in capsys.readouterr().err


# --- credentials: sent when the store asks for them ---------------------------------------------------

class _GuardedStore(http.server.BaseHTTPRequestHandler):
    """A Graph Store stand-in that wants Basic credentials or a bearer token and records what it got."""

    expected: set[str] = set()
    received: list[tuple[str, str | None]] = []

    def do_PUT(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        auth = self.headers.get("Authorization")
        self.received.append((self.path, auth))
        if auth not in self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="store"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(204)
        self.end_headers()

    def do_HEAD(self):  # noqa: N802 - the client asks for the challenge first, so a large body is sent once
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="store"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("option, header", [
    (["--auth", "pusher:s3cret:with-colon"], "Basic " + base64.b64encode(b"pusher:s3cret:with-colon").decode()),
    (["--token", "t0ken"], "Bearer t0ken"),
    ([], None),
], ids=["basic", "bearer", "none"])
def test_credentials(build_dir, option, header, capsys):
    _GuardedStore.expected = {"Basic " + base64.b64encode(b"pusher:s3cret:with-colon").decode(), "Bearer t0ken"}
    _GuardedStore.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _GuardedStore)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/store"
        status = main(["push", url, "--no-verify", "--data", str(build_dir), *option])
    finally:
        server.shutdown()
        server.server_close()
    if header is None:
        assert status == 1 and "HTTP 401" in capsys.readouterr().err
    else:
        assert status == 0
        assert [auth for _, auth in _GuardedStore.received] == [header] * len(NAMED_GRAPHS)  # each PUT once


def test_exokg_push_command(oxigraph, build_dir, ours):
    """The installed command, as an operator runs it."""
    exokg = [sys.executable, "-m", "exokg", "push", f"{oxigraph}/query", "--graph-store", f"{oxigraph}/store",
             "--data", str(build_dir)]
    done = subprocess.run(exokg, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert remote_counts(oxigraph) == our_counts(ours)
