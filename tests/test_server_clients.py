"""Real clients against the endpoint served by gunicorn on loopback: SPARQLWrapper in every format,
RDFLib's SPARQLStore, an Oxigraph server federating into us with SERVICE, and `exokg serve` itself.
"""

from __future__ import annotations

import json
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import warnings

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from exokg.config import EXO
from exokg.server.store import rdflib_internals
from exokg.server.testing import free_port, oxigraph_command, running_endpoint, running_oxigraph, running_process

FINDING = URIRef("https://w3id.org/exokg/finding/TME-001")
SELECT = f"SELECT ?f ?label WHERE {{ ?f a <{EXO.TableFinding}> ; <{RDFS.label}> ?label }} ORDER BY ?f LIMIT 3"
CONSTRUCT = f"CONSTRUCT {{ ?f a <{EXO.TableFinding}> }} WHERE {{ ?f a <{EXO.TableFinding}> }}"


@pytest.fixture(scope="module")
def endpoint(build_dir, tmp_path_factory):
    """The endpoint as `make run` serves it: gunicorn, several workers."""
    with running_endpoint(build_dir, tmp_path_factory.mktemp("gunicorn") / "server.log", workers=2) as url:
        yield url


def wrapper(url: str, query: str, fmt: str, method: str | None = None) -> SPARQLWrapper:
    client = SPARQLWrapper(url, returnFormat=fmt)
    client.setQuery(query)
    if method:
        client.setMethod(method)
    return client


def labels_of(rows) -> list[str]:
    return [str(label) for label in rows]


@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
@pytest.mark.parametrize("method", ["GET", POST])
def test_sparqlwrapper_select(endpoint, fmt, method):
    result = wrapper(endpoint, SELECT, fmt, method).query()
    assert result.response.status == 200
    converted = result.convert()
    if fmt == JSON:
        findings = [b["f"]["value"] for b in converted["results"]["bindings"]]
    elif fmt == XML:
        findings = [u.firstChild.data for u in converted.getElementsByTagName("uri")]
    else:
        text = converted.decode("utf-8")
        findings = [line.split("," if fmt == CSV else "\t")[0].strip("<>") for line in text.splitlines()[1:]]
    assert findings == [f"https://w3id.org/exokg/finding/{i}" for i in ("ANG-001", "ANG-002", "ANG-003")]


@pytest.mark.parametrize("fmt", [JSON, XML])
def test_sparqlwrapper_ask(endpoint, fmt):
    converted = wrapper(endpoint, f"ASK {{ <{FINDING}> ?p ?o }}", fmt).query().convert()
    answer = converted["boolean"] if fmt == JSON else converted.getElementsByTagName("boolean")[0].firstChild.data == "true"
    assert answer is True


@pytest.mark.parametrize("fmt", [TURTLE, N3, RDFXML, XML, JSONLD])
def test_sparqlwrapper_construct(endpoint, fmt):
    with warnings.catch_warnings(), rdflib_internals():
        warnings.simplefilter("ignore", RuntimeWarning)  # SPARQLWrapper warns about formats it guesses
        converted = wrapper(endpoint, CONSTRUCT, fmt).query().convert()
        graph = converted if isinstance(converted, Graph) else Graph().parse(
            data=converted, format={TURTLE: "turtle", N3: "n3", JSONLD: "json-ld"}.get(fmt, "xml"))
    assert (FINDING, RDF.type, EXO.TableFinding) in graph


def test_sparqlwrapper_describe(endpoint):
    with rdflib_internals():
        graph = wrapper(endpoint, f"DESCRIBE <{FINDING}>", XML).query().convert()
    assert (FINDING, RDF.type, EXO.TableFinding) in graph


def test_rdflib_sparqlstore_reads_us_as_a_remote_graph(endpoint, union):
    remote = Graph(store=SPARQLStore(endpoint, returnFormat="json"))
    with rdflib_internals():
        assert len(remote) == len(union)
        assert set(remote.objects(FINDING, RDF.type)) == set(union.objects(FINDING, RDF.type))
        label = remote.value(FINDING, RDFS.label)
        assert isinstance(label, Literal) and label == union.value(FINDING, RDFS.label)


@pytest.mark.skipif(oxigraph_command() is None, reason="the oxigraph server is not installed")
def test_oxigraph_federates_into_us(endpoint, tmp_path):
    with running_oxigraph(tmp_path / "oxigraph.log") as oxigraph:
        query = f"SELECT ?f WHERE {{ SERVICE <{endpoint}> {{ ?f a <{EXO.TableFinding}> }} }} ORDER BY ?f LIMIT 2"
        request = urllib.request.Request(f"{oxigraph}/query", data=urllib.parse.urlencode({"query": query}).encode(),
                                         headers={"Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            bindings = json.load(response)["results"]["bindings"]
    assert [b["f"]["value"] for b in bindings] == ["https://w3id.org/exokg/finding/ANG-001",
                                                   "https://w3id.org/exokg/finding/ANG-002"]


def get(url: str, **params):
    try:
        with urllib.request.urlopen(f"{url}?{urllib.parse.urlencode(params)}", timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_timeout_over_http_while_others_are_served(build_dir, tmp_path):
    """One worker, so that /health shows the same query processes that run the heavy query."""
    settings = {"EXOKG_QUERY_TIMEOUT": "3", "EXOKG_QUERY_PROCESSES": "2"}
    with running_endpoint(build_dir, tmp_path / "server.log", workers=1, threads=4, settings=settings) as url:
        health = url.replace("/sparql", "/health")
        heavy = {}
        query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        thread = threading.Thread(target=lambda: heavy.setdefault("answer", get(url, query=query)))
        thread.start()
        deadline = 600
        while json.loads(get(health)[1])["query_processes"]["busy"] != 1 and deadline:
            deadline -= 1
            threading.Event().wait(0.05)
        status, body = get(url, query=f"ASK {{ <{FINDING}> ?p ?o }}")
        assert status == 200 and json.loads(body)["boolean"] is True
        assert json.loads(get(health)[1])["query_processes"]["busy"] == 1 and "answer" not in heavy
        thread.join(timeout=60)
        assert heavy["answer"][0] == 503 and b"was stopped" in heavy["answer"][1]
        assert json.loads(get(health)[1])["query_processes"]["killed"] == 1


def test_exokg_serve(build_dir, tmp_path):
    port = free_port()
    exokg = [sys.executable, "-m", "exokg", "serve", "--port", str(port), "--data", str(build_dir), "--workers", "2"]
    with running_process(exokg, f"http://127.0.0.1:{port}/health", tmp_path / "serve.log"):
        status, body = get(f"http://127.0.0.1:{port}/sparql", query="ASK {}")
    assert status == 200 and json.loads(body)["boolean"] is True
