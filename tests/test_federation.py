"""Federation out of our endpoint: SERVICE reaches exactly the endpoints the operator allow-listed (issue 7).

An Oxigraph server on loopback plays a community ontology's endpoint: the test loads it with a small
extract of CL and GO labels taken from our own build (the terms our cross-references point to, with
the labels the build imported from those ontologies), allow-lists it, and joins our findings with its
labels through SERVICE. Only every other term goes into the extract, so an answer that holds exactly
the extract's terms can only have come from the remote endpoint. A loopback listener that is not on the
allow-list counts the connections a refused SERVICE makes: none.
"""

from __future__ import annotations

import csv
import io
import urllib.parse
import urllib.request

import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDFS

from exokg.config import GRAPH
from exokg.server.app import create_app
from exokg.server.store import rdflib_internals
from exokg.server.testing import LoopbackListener, oxigraph_command, running_endpoint, running_oxigraph
from exokg.server.workers import close_pool

from conftest import SPARQL_PREFIXES

pytestmark = pytest.mark.skipif(oxigraph_command() is None, reason="the oxigraph server is not installed")

OBO = "http://purl.obolibrary.org/obo/"

# What each join asks of our graph (?term: the external term), and which ontology's terms it needs.
JOINS = {
    "findings × GO processes": ("GO_", """
        ?finding dcterms:identifier ?id ; exo:hasEffect/exo:affectsProcess/skos:exactMatch ?term ."""),
    "findings × CL donor cell types": ("CL_", """
        ?finding dcterms:identifier ?id ; exo:hasDonorPopulation/rdf:type/rdfs:subClassOf ?term ."""),
}


def query(pattern: str, service: str) -> str:
    return f"SELECT DISTINCT ?id ?term ?label WHERE {{ {pattern}\n  {service} }} ORDER BY ?id ?term ?label"


@pytest.fixture(scope="module")
def extract(build_dir, tmp_path_factory) -> dict:
    """Every other CL / GO term of our ontology graph with its label, per ontology; written as N-Triples."""
    dataset = Dataset()
    with rdflib_internals():
        dataset.parse(build_dir / "exokg.trig", format="trig")
    ontology = dataset.graph(URIRef(GRAPH["ontology"]))
    chosen: dict[str, list] = {}
    graph = Graph()
    for prefix, _ in JOINS.values():
        terms = sorted((str(s), o) for s, o in ontology.subject_objects(RDFS.label) if str(s).startswith(OBO + prefix))
        assert len(terms) >= 4, f"the build imports too few {prefix} labels to make an extract"
        chosen[prefix] = terms[::2]
        for term, label in terms[::2]:
            graph.add((URIRef(term), RDFS.label, label))
    path = tmp_path_factory.mktemp("federation") / "cl-go-labels.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    return {"path": path, **chosen}


@pytest.fixture(scope="module")
def remote(extract, tmp_path_factory):
    """The extract served read-only by Oxigraph; yields its SPARQL query endpoint."""
    log = tmp_path_factory.mktemp("oxigraph") / "oxigraph.log"
    with running_oxigraph(log, data=extract["path"]) as base:
        yield f"{base}/query"


@pytest.fixture(scope="module")
def app(build_dir, remote):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_SERVICE_ALLOWLIST": remote, "EXOKG_CACHE_BYTES": "0"})
    yield app
    close_pool(app)


def expected(union: Graph, pattern: str, terms: list) -> list[tuple[str, str, str]]:
    """The join computed locally, with the extract given inline instead of fetched."""
    values = " ".join(f"(<{term}> {label.n3()})" for term, label in terms)
    rows = union.query(SPARQL_PREFIXES + query(pattern, f"VALUES (?term ?label) {{ {values} }}"))
    return [(str(r.id), str(r.term), str(r.label)) for r in rows]


def rows_of(csv_body: bytes) -> list[tuple[str, str, str]]:
    reader = csv.reader(io.StringIO(csv_body.decode("utf-8")))
    next(reader)
    return [tuple(row) for row in reader]


@pytest.mark.parametrize("join", JOINS, ids=list(JOINS))
def test_allowlisted_service_joins_our_findings_with_remote_labels(app, remote, extract, union, join):
    prefix, pattern = JOINS[join]
    text = query(pattern, f"SERVICE <{remote}> {{ ?term rdfs:label ?label }}")
    response = app.test_client().get("/sparql", query_string={"query": text}, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = rows_of(response.data)
    assert answer == expected(union, pattern, extract[prefix])
    assert len(answer) >= 3 and {term for _, term, _ in answer} <= {term for term, _ in extract[prefix]}


@pytest.mark.parametrize("endpoint", [
    "listener",  # a host:port the operator never named
    "listener-path",  # the allow-listed host:port, a path it did not name
], ids=["other endpoint", "other path of the allowed server"])
def test_service_to_an_endpoint_not_allowlisted_is_refused(build_dir, remote, endpoint):
    with LoopbackListener() as listener:
        allowlist = f"{remote} {listener.url}/sparql"
        target = f"{listener.url}/other" if endpoint == "listener" else f"{listener.url}/sparql/more"
        app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_SERVICE_ALLOWLIST": allowlist})
        try:
            text = f"SELECT * WHERE {{ ?f a exo:TableFinding . SERVICE <{target}> {{ ?f rdfs:label ?l }} }}"
            response = app.test_client().get("/sparql", query_string={"query": text})
        finally:
            close_pool(app)
        assert response.status_code == 403
        assert "does not call other services" in response.get_data(as_text=True)
        assert listener.connections == 0


def test_nothing_is_allowlisted_by_default(build_dir, remote):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_SERVICE_ALLOWLIST": ""})
    try:
        text = f"SELECT * WHERE {{ SERVICE <{remote}> {{ ?term rdfs:label ?label }} }}"
        response = app.test_client().get("/sparql", query_string={"query": text})
    finally:
        close_pool(app)
    assert response.status_code == 403 and "(none)" in response.get_data(as_text=True)


def test_federation_over_http_under_gunicorn(build_dir, remote, extract, union, tmp_path):
    """The same join through the served endpoint, as a client sees it (query processes, network guard)."""
    prefix, pattern = JOINS["findings × GO processes"]
    text = query(pattern, f"SERVICE <{remote}> {{ ?term rdfs:label ?label }}")
    settings = {"EXOKG_SERVICE_ALLOWLIST": remote}
    with running_endpoint(build_dir, tmp_path / "server.log", workers=1, settings=settings) as url:
        request = urllib.request.Request(url, data=urllib.parse.urlencode({"query": text}).encode(),
                                         headers={"Accept": "text/csv"})
        with urllib.request.urlopen(request, timeout=120) as response:
            assert rows_of(response.read()) == expected(union, pattern, extract[prefix])
