"""The W3C SPARQL 1.1 Protocol test suite, run against the endpoint (transcription: tests/w3c/README.md).

Each test is named after its W3C id. Query-side tests run against the read-only app, with the
suite's kasei.us graphs pointed at our own named graphs (tests/w3c/dataset-map.json); update-side
tests run against an app with SPARQL Update enabled, and are refused by the read-only one.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rdflib import Graph

from exokg.server.app import create_app
from exokg.server.workers import close_pool

W3C = Path(__file__).parent / "w3c"
MANIFEST = json.loads((W3C / "protocol-manifest.json").read_text(encoding="utf-8"))
MAPPING = json.loads((W3C / "dataset-map.json").read_text(encoding="utf-8"))
TOKEN = "w3c-protocol-tests-token"
QUERY_TESTS = [t for t in MANIFEST["tests"] if t["side"] == "query"]
UPDATE_TESTS = [t for t in MANIFEST["tests"] if t["side"] == "update"]
GRAPH_PARAMS = ("default-graph-uri", "named-graph-uri")
RESULT_TYPES = {
    "boolean": ("application/sparql-results+json", "application/sparql-results+xml"),
    "tabular": ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"),
    "RDF": ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml",
            "application/trig", "application/n-quads"),
}
RDFLIB_FORMATS = {"text/turtle": "turtle", "application/n-triples": "nt", "application/ld+json": "json-ld",
                  "application/rdf+xml": "xml", "application/trig": "trig", "application/n-quads": "nquads"}


@pytest.fixture(scope="module")
def read_only(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "TESTING": True})
    yield app.test_client()
    close_pool(app)


@pytest.fixture(scope="module")
def writable(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_UPDATE_TOKEN": TOKEN, "TESTING": True})
    yield app.test_client()
    close_pool(app)


def map_text(text: str) -> str:
    """A query with the suite's graphs and resources replaced by ours (see tests/w3c/README.md)."""
    for theirs, ours in MAPPING["graphs"].items():
        text = re.sub(rf"(FROM\s+(?:NAMED\s+)?)<{re.escape(theirs)}>", rf"\g<1><{ours}>", text)
    for theirs, ours in MAPPING["resources"].items():
        text = text.replace(f"<{theirs}>", f"<{ours}>")
    return text


def map_path(path: str) -> str:
    """The request path with /sparql/ → /sparql and its graph and query parameters mapped."""
    route, _, query_string = path.partition("?")
    params = []
    for name, value in urllib.parse.parse_qsl(query_string, keep_blank_values=True):
        if name in GRAPH_PARAMS:
            value = MAPPING["graphs"].get(value, value)
        elif name == "query":
            value = map_text(value)
        params.append((name, value))
    route = "/sparql" if route == "/sparql/" else route
    return route + ("?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote) if params else "")


def map_body(request: dict) -> str | None:
    body = request.get("body")
    if body is None:
        return None
    if request.get("headers", {}).get("content-type") == "application/x-www-form-urlencoded":
        pairs = urllib.parse.parse_qsl(body, keep_blank_values=True)
        return urllib.parse.urlencode([(n, map_text(v) if n == "query" else v) for n, v in pairs])
    return map_text(body)


def send(client, request: dict, path: str, body: str | None, headers: dict | None = None):
    headers = {**request.get("headers", {}), **(headers or {})}
    data = None if body is None else body.encode(request.get("characterEncoding", "UTF-8"))
    return client.open(path, method=request["method"], headers=headers, data=data)


def boolean_of(response) -> bool:
    if response.mimetype == "application/sparql-results+json":
        return json.loads(response.data)["boolean"]
    root = ET.fromstring(response.data)
    return root.find("{http://www.w3.org/2005/sparql-results#}boolean").text.strip() == "true"


def check(response, expected: dict) -> None:
    classes = {f"{response.status_code // 100}xx" for _ in [0]}
    assert classes & set(expected["status"]), f"{response.status_code}: {response.get_data(as_text=True)}"
    if "format" in expected:
        assert response.mimetype in RESULT_TYPES[expected["format"]], response.mimetype
        if expected["format"] == "RDF":
            Graph().parse(data=response.data, format=RDFLIB_FORMATS[response.mimetype])  # well-formed
    if "boolean" in expected:
        assert boolean_of(response) is expected["boolean"]


def test_mapping_premises_hold(read_only):
    """Each mapped resource is typed with the shared type in its mapped graph, as the suite's data is."""
    for theirs, resource in MAPPING["resources"].items():
        graph = MAPPING["graphs"][theirs]
        query = f"ASK {{ GRAPH <{graph}> {{ <{resource}> a <{MAPPING['shared_type']}> }} }}"
        response = read_only.get("/sparql", query_string={"query": query})
        assert response.status_code == 200 and json.loads(response.data)["boolean"], \
            f"tests/w3c/dataset-map.json: <{resource}> is no longer a <{MAPPING['shared_type']}> in <{graph}>"


@pytest.mark.parametrize("test", QUERY_TESTS, ids=[t["id"] for t in QUERY_TESTS])
def test_query_side(read_only, test):
    for request in test["requests"]:
        check(send(read_only, request, map_path(request["path"]), map_body(request)), request["response"])


@pytest.mark.parametrize("test", UPDATE_TESTS, ids=[t["id"] for t in UPDATE_TESTS])
def test_update_side_with_operator_token(writable, test):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for request in test["requests"]:
        path = request["path"].replace("/sparql/", "/sparql", 1)
        check(send(writable, request, path, request.get("body"), auth), request["response"])


@pytest.mark.parametrize("test", UPDATE_TESTS, ids=[t["id"] for t in UPDATE_TESTS])
def test_update_side_refused_when_read_only(read_only, test):
    first = test["requests"][0]
    response = send(read_only, first, first["path"].replace("/sparql/", "/sparql", 1), first.get("body"))
    assert 400 <= response.status_code < 500, response.status_code
