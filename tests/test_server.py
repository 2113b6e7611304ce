"""The endpoint's HTTP behaviour: protocol errors, content negotiation, formats, dataset selection,
the service description, CORS, gzip, validators, health, access logs, settings and updates.
"""

from __future__ import annotations

import gzip
import io
import json
import logging

import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, VOID
from rdflib.query import Result

from exokg.config import GRAPH, PREFIXES
from exokg.server import conneg
from exokg.server.app import create_app
from exokg.server.service_description import SD
from exokg.server.settings import Settings, SettingsError
from exokg.server.store import DatasetMissing, rdflib_internals
from exokg.server.workers import close_pool

SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
FINDINGS = "SELECT ?f ?label WHERE { ?f a exo:TableFinding ; rdfs:label ?label } ORDER BY ?f LIMIT 5"
CONSTRUCT = "CONSTRUCT { ?f rdfs:label ?label } WHERE { ?f a exo:TableFinding ; rdfs:label ?label }"
TOKEN = "operator-token-for-tests-0123"


def query(client, text, headers=None, **params):
    return client.get("/sparql", query_string={"query": text, **params}, headers=headers or {})


def rows(response) -> list[tuple[str, ...]]:
    result = Result.parse(io.BytesIO(response.data), format="json")
    return [tuple(str(v) for v in row) for row in result]


# --- content negotiation: one rule per case, on the table itself --------------------------------------

NEGOTIATION = [  # (rule, kind, Accept, format parameters, expected format name or None for 406)
    ("no Accept: the server's first choice", conneg.SOLUTIONS, None, (), "json"),
    ("*/*: the server's first choice", conneg.SOLUTIONS, "*/*", (), "json"),
    ("text/* picks the first text format", conneg.SOLUTIONS, "text/*", (), "csv"),
    ("text/* for a graph", conneg.GRAPH, "text/*", (), "turtle"),
    ("higher q wins", conneg.SOLUTIONS, "application/sparql-results+xml;q=0.9, text/csv", (), "csv"),
    ("higher q wins, other order", conneg.SOLUTIONS, "text/csv;q=0.5, application/sparql-results+xml", (), "xml"),
    ("q=0 excludes", conneg.SOLUTIONS, "application/sparql-results+json;q=0, */*;q=0.1", (), "xml"),
    ("application/json means SPARQL JSON for results", conneg.SOLUTIONS, "application/json", (), "json"),
    ("application/json means JSON-LD for a graph", conneg.GRAPH, "application/json", (), "jsonld"),
    ("text/n3 is answered with Turtle", conneg.GRAPH, "text/n3", (), "turtle"),
    ("a browser gets the HTML page", (conneg.GRAPH, conneg.PAGE),
     "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", (), "html"),
    ("unsatisfiable Accept", conneg.SOLUTIONS, "image/png", (), None),
    ("results format asked for a graph", conneg.GRAPH, "text/csv", (), None),
    ("format parameter beats Accept", conneg.SOLUTIONS, "text/csv", ("xml",), "xml"),
    ("format parameter by media type", conneg.GRAPH, None, ("application/n-triples",), "ntriples"),
    ("format xml means RDF/XML for a graph", conneg.GRAPH, None, ("xml",), "rdfxml"),
    ("SPARQLWrapper's pair of format values", conneg.SOLUTIONS, None, ("tsv", "text/tab-separated-values"), "tsv"),
    ("a known format that cannot carry the answer", conneg.GRAPH, None, ("csv",), None),
]


@pytest.mark.parametrize("rule, kind, accept, formats, expected", NEGOTIATION, ids=[r[0] for r in NEGOTIATION])
def test_negotiation_rule(rule, kind, accept, formats, expected):
    chosen = conneg.negotiate(kind, accept, formats)
    assert (chosen.name if chosen else None) == expected


def test_unknown_format_parameter_is_an_error():
    with pytest.raises(conneg.UnknownFormat, match="bogus"):
        conneg.negotiate(conneg.SOLUTIONS, None, ("bogus",))


# --- protocol errors ---------------------------------------------------------------------------------

PROTOCOL_ERRORS = [  # (case, method, path, headers, body, status, words in the message)
    ("malformed query: parser message and position", "GET", "/sparql?query=SELECT%20*%20WHERE%20%7B%20%3Fs", {}, None, 400,
     ("malformed query", "line 1, column")),
    ("undeclared prefix", "GET", "/sparql?query=SELECT%20*%20%7B%20%3Fs%20nope%3Ax%20%3Fo%20%7D", {}, None, 400, ("nope",)),
    ("two queries", "GET", "/sparql?query=ASK%7B%7D&query=ASK%7B%7D", {}, None, 400, ("2 'query' parameters",)),
    ("query in URL and body", "POST", "/sparql?query=ASK%7B%7D", {"Content-Type": "application/sparql-query"}, "ASK {}", 400,
     ("another in the URL",)),
    ("query in URL and form", "POST", "/sparql?query=ASK%7B%7D", {"Content-Type": "application/x-www-form-urlencoded"},
     "query=ASK%20%7B%7D", 400, ("2 'query' parameters",)),
    ("POST without a query", "POST", "/sparql", {"Content-Type": "application/x-www-form-urlencoded"}, "x=1", 400, ("missing",)),
    ("PUT", "PUT", "/sparql?query=ASK%7B%7D", {}, None, 405, ("Method Not Allowed",)),
    ("DELETE", "DELETE", "/sparql", {}, None, 405, ("Method Not Allowed",)),
    ("unknown body media type", "POST", "/sparql", {"Content-Type": "application/json"}, "{}", 415, ("unsupported Content-Type",)),
    ("POST without a media type", "POST", "/sparql", {}, "ASK {}", 415, ("needs a Content-Type",)),
    ("query body not UTF-8", "POST", "/sparql", {"Content-Type": "application/sparql-query; charset=ISO-8859-1"}, "ASK {}", 415,
     ("UTF-8",)),
    ("no acceptable format", "GET", "/sparql?query=ASK%7B%7D", {"Accept": "image/png"}, None, 406, ("offers",)),
    ("unknown format parameter", "GET", "/sparql?query=ASK%7B%7D&format=bogus", {}, None, 400, ("unknown format",)),
    ("update by GET", "GET", "/sparql?update=CLEAR%20ALL", {}, None, 400, ("POST",)),
    ("update on a read-only endpoint", "POST", "/sparql", {"Content-Type": "application/sparql-update"}, "CLEAR ALL", 403,
     ("read-only",)),
]


@pytest.mark.parametrize("case, method, path, headers, body, status, words", PROTOCOL_ERRORS,
                         ids=[c[0] for c in PROTOCOL_ERRORS])
def test_protocol_error(client, case, method, path, headers, body, status, words):
    response = client.open(path, method=method, headers=headers, data=body)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    for word in words:
        assert word in response.get_data(as_text=True)


# --- every format --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def expected_findings(client):
    return rows(query(client, FINDINGS))


@pytest.mark.parametrize("fmt", [f for f in conneg.TABLE if f.answers(conneg.SOLUTIONS)], ids=lambda f: f.name)
def test_select_in_every_results_format(client, expected_findings, fmt):
    response = query(client, FINDINGS, headers={"Accept": fmt.media_type})
    assert response.status_code == 200 and response.mimetype == fmt.media_type
    parsed = Result.parse(io.BytesIO(response.data), format=fmt.name)
    assert [tuple(str(v) for v in row) for row in parsed] == expected_findings


@pytest.mark.parametrize("fmt", [f for f in conneg.TABLE if f.answers(conneg.BOOLEAN)], ids=lambda f: f.name)
def test_ask_in_every_results_format(client, fmt):
    response = query(client, "ASK { ?f a exo:TableFinding }", headers={"Accept": fmt.media_type})
    assert response.status_code == 200 and response.mimetype == fmt.media_type
    if fmt.name in ("csv", "tsv"):
        assert response.get_data(as_text=True).split() == [("" if fmt.name == "csv" else "?") + "_askResult", "true"]
    else:
        assert Result.parse(io.BytesIO(response.data), format=fmt.name).askAnswer is True


@pytest.mark.parametrize("fmt", [f for f in conneg.TABLE if f.answers(conneg.GRAPH)], ids=lambda f: f.name)
def test_construct_in_every_graph_format(client, union, fmt):
    expected = union.query(SPARQL_PREFIXES + CONSTRUCT).graph
    response = query(client, CONSTRUCT, format=fmt.name)
    assert response.status_code == 200 and response.mimetype == fmt.media_type
    with rdflib_internals():  # RDFLib's own parsers trip its deprecation warnings
        if fmt.name in ("trig", "nquads"):
            received = Graph()
            for s, p, o, _ in Dataset().parse(data=response.data, format=fmt.rdflib).quads():
                received.add((s, p, o))
        else:
            received = Graph().parse(data=response.data, format=fmt.rdflib)
    assert len(expected) > 0 and isomorphic(received, expected)


def test_describe_answers_the_resource(client):
    finding = "https://w3id.org/exokg/finding/TME-001"
    response = query(client, f"DESCRIBE <{finding}>", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=response.data, format="turtle")
    assert (URIRef(finding), RDF.type, URIRef(PREFIXES["exo"] + "TableFinding")) in graph


def test_post_forms_answer_like_get(client, expected_findings):
    direct = client.post("/sparql", data=FINDINGS, content_type="application/sparql-query")
    form = client.post("/sparql", data={"query": FINDINGS})
    assert rows(direct) == rows(form) == expected_findings


# --- the RDF dataset of a request -----------------------------------------------------------------------

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
NAMED = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"


def test_default_graph_is_the_union(client, union):
    assert rows(query(client, COUNT)) == [(str(len(union)),)]


@pytest.mark.parametrize("name", ["ontology", "asserted"])
def test_default_graph_uri_picks_one_graph(client, build_dir, name):
    from exokg.server.store import GraphStore

    expected = GraphStore(build_dir).info.triples[name]
    assert rows(query(client, COUNT, **{"default-graph-uri": GRAPH[name]})) == [(str(expected),)]


def test_default_graph_uri_hides_other_graphs(client):
    ask = "ASK { <https://w3id.org/exokg/finding/TME-001> ?p ?o }"
    only_ontology = query(client, ask, **{"default-graph-uri": GRAPH["ontology"]})
    assert json.loads(only_ontology.data)["boolean"] is False
    assert json.loads(query(client, ask).data)["boolean"] is True


def test_named_graph_uri_limits_graph_patterns(client):
    response = query(client, NAMED, **{"named-graph-uri": GRAPH["asserted"]})
    assert rows(response) == [(str(GRAPH["asserted"]),)]
    assert rows(query(client, COUNT, **{"named-graph-uri": GRAPH["asserted"]})) == [("0",)]  # empty default graph


def test_from_named_in_the_query(client):
    response = query(client, f"SELECT DISTINCT ?g FROM NAMED <{GRAPH['ontology']}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}")
    assert rows(response) == [(str(GRAPH["ontology"]),)]


def test_protocol_dataset_overrides_from(client):
    text = f"SELECT DISTINCT ?g FROM NAMED <{GRAPH['ontology']}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert rows(query(client, text, **{"named-graph-uri": GRAPH["asserted"]})) == [(str(GRAPH["asserted"]),)]


# --- service description, VoID --------------------------------------------------------------------------

def test_service_description_in_turtle(client, build_dir):
    from exokg.server.store import GraphStore

    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    sd = Graph().parse(data=response.data, format="turtle")
    service = URIRef("http://localhost/sparql")
    assert (service, RDF.type, SD.Service) in sd and (service, SD.endpoint, service) in sd
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in sd
    assert (service, SD.supportedLanguage, SD.SPARQL11Update) not in sd
    formats = set(sd.objects(service, SD.resultFormat))
    assert formats == {URIRef(f.iri) for f in conneg.TABLE if f.iri}
    counts = {str(sd.value(n, SD.name)): sd.value(sd.value(n, SD.graph), VOID.triples)
              for n in sd.subjects(RDF.type, SD.NamedGraph)}
    store = GraphStore(build_dir)
    assert counts == {str(GRAPH[name]): Literal(n) for name, n in store.info.triples.items()}
    void = sd.value(sd.value(service, SD.defaultDataset), URIRef("http://www.w3.org/2000/01/rdf-schema#seeAlso"))
    assert client.get(str(void).replace("http://localhost", "")).status_code == 200


def test_service_description_in_json_ld_and_for_browsers(client):
    as_json = client.get("/sparql", headers={"Accept": "application/ld+json"})
    with rdflib_internals():
        assert len(Graph().parse(data=as_json.data, format="json-ld")) > 10
    page = client.get("/sparql/description", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.mimetype == "text/html" and b"/.well-known/void" in page.data
    as_rdf = client.get("/sparql/description", headers={"Accept": "text/turtle"})
    assert isomorphic(Graph().parse(data=as_rdf.data, format="turtle"),
                      Graph().parse(data=client.get("/sparql", headers={"Accept": "text/turtle"}).data, format="turtle"))


def test_browsers_get_the_query_editor_at_the_endpoint(client):
    """GET /sparql from a browser: the query editor (as Virtuoso answers there), linking the description."""
    page = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.mimetype == "text/html" and "Accept" in page.vary
    assert 'id="examples"' in page.text and 'href="/sparql/description"' in page.text
    assert client.get("/query").text == page.text  # the editor's older address serves the same page


def test_void_in_any_rdf_format(client, build_dir):
    built = Graph().parse(build_dir / "void.ttl")
    response = client.get("/.well-known/void", headers={"Accept": "application/n-triples"})
    assert isomorphic(Graph().parse(data=response.data, format="nt"), built)


# --- HTTP niceties ---------------------------------------------------------------------------------------

def test_cors_on_query_and_preflight(client):
    assert query(client, "ASK {}").headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/sparql", headers={"Origin": "https://example.org",
                                                    "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]


def test_gzip_when_accepted(client):
    plain = query(client, CONSTRUCT, headers={"Accept": "application/n-triples"})
    zipped = query(client, CONSTRUCT, headers={"Accept": "application/n-triples", "Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers and zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data and len(zipped.data) < len(plain.data)
    assert zipped.headers["ETag"] != plain.headers["ETag"]


def test_repeated_get_is_answered_from_its_validators(client):
    first = query(client, FINDINGS)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = query(client, FINDINGS, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and not again.data
    assert query(client, FINDINGS, headers={"If-Modified-Since": modified}).status_code == 304
    other = query(client, FINDINGS + " OFFSET 1", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag


def test_health(client, build_dir):
    response = client.get("/health")
    assert response.status_code == 200 and response.json["status"] == "ok"
    assert response.json["query_processes"]["alive"] == response.json["query_processes"]["size"]


def test_access_log_is_structured(client, caplog):
    with caplog.at_level(logging.INFO, logger="exokg.access"):
        query(client, FINDINGS, format="csv")
    entry = json.loads(caplog.records[-1].getMessage())
    assert entry["status"] == 200 and entry["form"] == "SELECT" and entry["rows"] == 5
    assert entry["query_ms"] >= 0 and entry["path"] == "/sparql" and len(entry["query_sha"]) == 12


def test_a_bug_is_a_logged_500(build_dir, monkeypatch, caplog):
    def broken(store, settings, job):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("exokg.server.workers.answer_query", broken)
    app = create_app({"EXOKG_DATA": str(build_dir)})
    try:
        with caplog.at_level(logging.ERROR, logger="exokg.server"):
            response = app.test_client().get("/sparql", query_string={"query": "ASK {}"})
        assert response.status_code == 500 and b"bug" in response.data
        assert "simulated bug" in caplog.text
    finally:
        close_pool(app)


# --- settings -------------------------------------------------------------------------------------------

BAD_SETTINGS = [
    ({"EXOKG_QUERY_TIMEOUT": "0"}, "QUERY_TIMEOUT"),
    ({"EXOKG_QUERY_TIMEOUT": "soon"}, "QUERY_TIMEOUT"),
    ({"EXOKG_MAX_ROWS": "0"}, "MAX_ROWS"),
    ({"EXOKG_SERVICE_ALLOWLIST": "ftp://example.org/sparql"}, "SERVICE_ALLOWLIST"),
    ({"EXOKG_UPDATE_TOKEN": "short"}, "UPDATE_TOKEN"),
]


@pytest.mark.parametrize("values, named", BAD_SETTINGS, ids=[n for _, n in BAD_SETTINGS])
def test_bad_setting_stops_the_app(build_dir, values, named):
    with pytest.raises(SettingsError, match=named):
        create_app({"EXOKG_DATA": str(build_dir), **values})


def test_settings_from_environment():
    settings = Settings.load(environ={"EXOKG_QUERY_TIMEOUT": "2.5", "EXOKG_SERVICE_ALLOWLIST": "http://a/sparql http://b/q"})
    assert settings.query_timeout == 2.5 and settings.service_allowlist == ("http://a/sparql", "http://b/q")


def test_missing_dataset_stops_the_app(tmp_path):
    with pytest.raises(DatasetMissing, match="exokg build"):
        create_app({"EXOKG_DATA": str(tmp_path)})


# --- updates, when the operator enables them --------------------------------------------------------------

@pytest.fixture()
def writable(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_UPDATE_TOKEN": TOKEN})
    yield app.test_client()
    close_pool(app)


INSERT = "INSERT DATA { GRAPH <https://w3id.org/exokg/graph/test> { <urn:x:s> <urn:x:p> 'o' } }"


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}"],
                         ids=["no token", "wrong token", "wrong scheme"])
def test_update_needs_the_token(writable, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = writable.post("/sparql", data=INSERT, content_type="application/sparql-update", headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_update_with_the_token_is_seen_by_later_queries(writable):
    ask = "ASK { GRAPH <https://w3id.org/exokg/graph/test> { <urn:x:s> <urn:x:p> 'o' } }"
    before = writable.get("/sparql", query_string={"query": ask})
    response = writable.post("/sparql", data=INSERT, content_type="application/sparql-update",
                             headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.data
    after = writable.get("/sparql", query_string={"query": ask})
    assert json.loads(before.data)["boolean"] is False and json.loads(after.data)["boolean"] is True
    assert before.headers["ETag"] != after.headers["ETag"]
    described = Graph().parse(data=writable.get("/sparql", headers={"Accept": "text/turtle"}).data, format="turtle")
    assert (URIRef("http://localhost/sparql"), SD.supportedLanguage, SD.SPARQL11Update) in described
