"""Hostile requests are refused over HTTP: SSRF in the forms tests/test_server_safety.py does not already
try, updates without the operator's token, path traversal, script injection into HTML, response
splitting, oversized requests, and the operator's per-client rate limit.

Routes added by other blueprints (entity IRIs, /dumps/<file>, /static/, /search...) are found in the
app's URL map, so each case runs against every route that exists when the suite runs.
"""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import socket
import urllib.parse
from pathlib import Path

import pytest

from exokg.config import BASE
from exokg.server.app import create_app
from exokg.server.settings import SettingsError
from exokg.server.store import STORE_DIR
from exokg.server.testing import LoopbackListener, running_endpoint
from exokg.server.workers import close_pool

TOKEN = "operator-token-for-tests-0123"
REFUSED = range(400, 500)


@pytest.fixture(scope="module")
def app(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_QUERY_TIMEOUT": "5"})
    yield app
    close_pool(app)


@pytest.fixture(scope="module")
def writable(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_UPDATE_TOKEN": TOKEN, "EXOKG_QUERY_TIMEOUT": "5"})
    yield app
    close_pool(app)


@pytest.fixture()
def listener():
    with LoopbackListener() as listening:
        yield listening


def get_routes(app) -> list[str]:
    """Every GET route of the app, with a sample value in each path parameter."""
    routes = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", "x")
            path = "/".join("x" if part.startswith("<") and part.endswith(">") else part for part in path.split("/"))
        routes.append(path)
    return sorted(set(routes))


# --- SSRF: forms beyond those of test_server_safety.py; a loopback listener counts connections -------------

SSRF = [  # (case, how: "get" / "form" / "body" / "update", text built from the listener's URL, expect refusal)
    ("GET with FROM", "get", lambda u: f"SELECT * FROM <{u}/g> WHERE {{ ?s ?p ?o }}", True),
    ("CONSTRUCT FROM in a query body", "body", lambda u: f"CONSTRUCT {{ ?s ?p ?o }} FROM <{u}/g> WHERE {{ ?s ?p ?o }}", True),
    ("ASK FROM a file", "get", lambda u: "ASK FROM <file:///etc/passwd> { ?s ?p ?o }", True),
    ("FROM beside one of our graphs", "get",
     lambda u: f"SELECT * FROM <https://w3id.org/exokg/graph/asserted> FROM <{u}/g> WHERE {{ ?s ?p ?o }} LIMIT 1", True),
    ("SERVICE by relative IRI and BASE", "get", lambda u: f"BASE <{u}/> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?o }} }}", True),
    ("SERVICE by prefixed name", "get", lambda u: f"PREFIX l: <{u}/> SELECT * WHERE {{ SERVICE l:sparql {{ ?s ?p ?o }} }}", True),
    ("SERVICE with an upper-case scheme", "get", lambda u: f"SELECT * WHERE {{ SERVICE <{u.replace('http', 'HTTP')}/s> {{ ?s ?p ?o }} }}", True),
    ("SERVICE to localhost", "get", lambda u: f"SELECT * WHERE {{ SERVICE <{u.replace('127.0.0.1', 'localhost')}/s> {{ ?s ?p ?o }} }}", True),
    ("SERVICE to a decimal IP", "get", lambda u: f"SELECT * WHERE {{ SERVICE <{u.replace('127.0.0.1', '2130706433')}/s> {{ ?s ?p ?o }} }}", True),
    ("SERVICE with user info", "get", lambda u: f"SELECT * WHERE {{ SERVICE <{u.replace('://', '://example.org@')}/s> {{ ?s ?p ?o }} }}", True),
    ("SERVICE to a file", "get", lambda u: "SELECT * WHERE { SERVICE <file:///etc/passwd> { ?s ?p ?o } }", True),
    ("SERVICE in FILTER EXISTS", "get", lambda u: f"ASK {{ FILTER EXISTS {{ SERVICE <{u}/s> {{ ?s ?p ?o }} }} }}", True),
    ("SERVICE in MINUS", "body", lambda u: f"SELECT * WHERE {{ ?s ?p ?o MINUS {{ SERVICE <{u}/s> {{ ?s ?p ?o }} }} }} LIMIT 1", True),
    ("SERVICE inside GRAPH", "form", lambda u: f"SELECT * WHERE {{ GRAPH ?g {{ SERVICE <{u}/s> {{ ?s ?p ?o }} }} }}", True),
    ("SERVICE in a UNION branch", "form", lambda u: f"SELECT * WHERE {{ {{ ?s ?p ?o }} UNION {{ SERVICE <{u}/s> {{ ?s ?p ?o }} }} }} LIMIT 1", True),
    ("LOAD as an update body", "update", lambda u: f"LOAD <{u}/data.ttl>", True),
    ("LOAD after a harmless operation", "update", lambda u: f"CLEAR SILENT GRAPH <urn:x:none> ; LOAD <{u}/data.ttl>", True),
    ("DESCRIBE a foreign IRI reads the store only", "get", lambda u: f"DESCRIBE <{u}/thing>", False),
    ("a foreign IRI as a constant reads the store only", "get", lambda u: f"ASK {{ ?s ?p <{u}/thing> }}", False),
]


@pytest.mark.parametrize("case, how, text, refused", SSRF, ids=[c[0] for c in SSRF])
def test_ssrf_is_refused_without_a_connection(writable, listener, case, how, text, refused):
    client, query = writable.test_client(), text(listener.url)
    if how == "get":
        response = client.get("/sparql", query_string={"query": query})
    elif how == "form":
        response = client.post("/sparql", data={"query": query})
    elif how == "body":
        response = client.post("/sparql", data=query, content_type="application/sparql-query")
    else:
        response = client.post("/sparql", data=query, content_type="application/sparql-update",
                               headers={"Authorization": f"Bearer {TOKEN}"})
    body = response.get_data(as_text=True)
    if refused:
        assert response.status_code in REFUSED and body.strip(), (response.status_code, body)
    else:
        assert response.status_code == 200, body
    assert "root:" not in body
    assert listener.connections == 0


# --- SPARQL Update without the operator's token -----------------------------------------------------------

ASK_INSERTED = "ASK { GRAPH <https://w3id.org/exokg/graph/security> { <urn:x:s> <urn:x:p> 'o' } }"
INSERT = "INSERT DATA { GRAPH <https://w3id.org/exokg/graph/security> { <urn:x:s> <urn:x:p> 'o' } }"
UNAUTHORIZED = [  # (case, the app's fixture, request keyword arguments, status)
    ("read-only endpoint, no token", "app", {"data": INSERT, "content_type": "application/sparql-update"}, 403),
    ("read-only endpoint, a token anyway", "app",
     {"data": INSERT, "content_type": "application/sparql-update", "headers": {"Authorization": f"Bearer {TOKEN}"}}, 403),
    ("read-only endpoint, update in a form", "app", {"data": {"update": INSERT}}, 403),
    ("token in the query string", "writable",
     {"data": INSERT, "content_type": "application/sparql-update", "query_string": {"token": TOKEN, "access_token": TOKEN}}, 401),
    ("token in a form field", "writable", {"data": {"update": INSERT, "token": TOKEN, "access_token": TOKEN}}, 401),
    ("a prefix of the token", "writable",
     {"data": INSERT, "content_type": "application/sparql-update", "headers": {"Authorization": f"Bearer {TOKEN[:-1]}"}}, 401),
    ("the token with more after it", "writable",
     {"data": INSERT, "content_type": "application/sparql-update", "headers": {"Authorization": f"Bearer {TOKEN}x"}}, 401),
    ("an empty bearer", "writable",
     {"data": INSERT, "content_type": "application/sparql-update", "headers": {"Authorization": "Bearer "}}, 401),
    ("the token in another header", "writable",
     {"data": INSERT, "content_type": "application/sparql-update", "headers": {"X-Token": TOKEN}}, 401),
]


@pytest.mark.parametrize("case, which, request_args, status", UNAUTHORIZED, ids=[c[0] for c in UNAUTHORIZED])
def test_update_without_the_token_changes_nothing(request, case, which, request_args, status):
    client = request.getfixturevalue(which).test_client()
    response = client.post("/sparql", **request_args)
    assert response.status_code == status and response.get_data(as_text=True).strip()
    after = client.get("/sparql", query_string={"query": ASK_INSERTED})
    assert json.loads(after.data)["boolean"] is False


def test_update_by_get_is_refused(writable):
    response = writable.test_client().get("/sparql", query_string={"update": INSERT},
                                          headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 400 and b"POST" in response.data


# --- path traversal: nothing outside the served files, whatever the route -----------------------------------

CANARY = "exokg-traversal-canary-7f3a"
TRAVERSALS = ["../canary.txt", "..%2fcanary.txt", "%2e%2e/canary.txt", "%2e%2e%2fcanary.txt", "..%5ccanary.txt",
              "....//canary.txt", "..%252fcanary.txt", "../../../../../../etc/passwd", "..%2f..%2f..%2f..%2fetc%2fpasswd",
              "%2fetc%2fpasswd", "/etc/passwd", "..%00/canary.txt", "exokg.trig%00.txt", "..;/canary.txt"]
PREFIXES_TRIED = ["/static/", "/dumps/", "/downloads/", "/finding/", "/molecule/", "/vocab/", "/population/",
                  "/browse/", "/.well-known/", "/sparql/", "/"]


@pytest.fixture(scope="module")
def canary(build_dir):
    path = build_dir.parent / "canary.txt"  # beside the served build directory
    path.write_text(CANARY)
    yield path
    path.unlink()


@pytest.mark.parametrize("prefix", PREFIXES_TRIED)
def test_path_traversal_reaches_no_file(app, canary, prefix):
    client = app.test_client()
    for attempt in TRAVERSALS:
        response = client.get(prefix + attempt)
        body = response.get_data()
        assert CANARY.encode() not in body and b"root:x:0:0" not in body, (prefix + attempt, response.status_code)
        assert response.status_code in REFUSED or response.status_code in (301, 302, 303, 307, 308), \
            (prefix + attempt, response.status_code)
        assert ".." not in response.headers.get("Location", ""), response.headers["Location"]


# --- script injection into HTML ---------------------------------------------------------------------------

PAYLOADS = ['<script>alert("exokg")</script>', '"><img src=x onerror=alert(1)>', "'><svg/onload=alert(1)>",
            "</title><script>alert(1)</script>", "javascript:alert(1)//<b>"]
MARKERS = ("<script>alert", "<img src=x onerror", "<svg/onload", "<b>")


def _html_has_no_payload(response, where: str) -> None:
    body = response.get_data(as_text=True)
    if response.mimetype in ("text/html", "application/xhtml+xml"):
        for marker in MARKERS:
            assert marker not in body, (where, marker)
    else:  # echoed into something a browser will not render as a page
        assert response.mimetype not in ("text/html", "image/svg+xml"), where


@pytest.mark.parametrize("payload", PAYLOADS)
def test_query_strings_are_not_injected_into_html(app, payload):
    client = app.test_client()
    for route in get_routes(app):
        for params in ({"q": payload, "query": payload}, {"format": payload}, {"query": f"ASK {{ ?s ?p '{payload}' }}"},
                       {"x": payload, "callback": payload, "default-graph-uri": payload}):
            response = client.get(route, query_string=params, headers={"Accept": "text/html"})
            assert response.status_code < 500, (route, params, response.status_code)
            _html_has_no_payload(response, f"{route} {params}")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_paths_and_host_are_not_injected_into_html(app, payload):
    client = app.test_client()
    quoted = urllib.parse.quote(payload, safe="")
    for path in [f"/{quoted}", f"/finding/{quoted}", f"/molecule/{quoted}", f"/vocab/{quoted}", f"/sparql/{quoted}"]:
        _html_has_no_payload(client.get(path, headers={"Accept": "text/html"}), path)
    for route in get_routes(app):
        response = client.get(route, headers={"Accept": "text/html", "Host": f"example.org{payload}"},
                              base_url=f"http://example.org{quoted}")
        assert response.status_code < 500, route
        _html_has_no_payload(response, f"Host on {route}")


@pytest.fixture(scope="module")
def labelled(build_dir, tmp_path_factory):
    """The build with hostile labels, comments and a hostile IRI added to the asserted graph."""
    data = tmp_path_factory.mktemp("hostile") / "build"
    shutil.copytree(build_dir, data, ignore=shutil.ignore_patterns(STORE_DIR))
    hostile = "\n".join(
        f'<{BASE}molecule/hostile-{i}> a <{BASE}vocab/MicroRNA> ; '
        f'<http://www.w3.org/2000/01/rdf-schema#label> "{p.replace(chr(34), chr(92) + chr(34))}"@en ; '
        f'<http://www.w3.org/2000/01/rdf-schema#comment> "{p.replace(chr(34), chr(92) + chr(34))}" .'
        for i, p in enumerate(PAYLOADS))
    with open(data / "exokg.trig", "a", encoding="utf-8") as trig:
        trig.write(f"\n<https://w3id.org/exokg/graph/asserted> {{\n{hostile}\n}}\n")
    app = create_app({"EXOKG_DATA": str(data)})
    yield app
    close_pool(app)


def test_labels_are_escaped_in_every_page(labelled):
    client = labelled.test_client()
    found = client.get("/sparql", query_string={"query": f"ASK {{ <{BASE}molecule/hostile-0> ?p ?o }}"})
    assert json.loads(found.data)["boolean"] is True  # the hostile data is served
    pages = get_routes(labelled) + [f"/molecule/hostile-{i}" for i in range(len(PAYLOADS))]
    for path in pages:
        for params in ({}, {"q": "hostile"}, {"q": "script"}):
            response = client.get(path, query_string=params, headers={"Accept": "text/html"})
            assert response.status_code < 500, (path, response.status_code)
            _html_has_no_payload(response, f"{path} {params}")


# --- response splitting: CR/LF in a parameter never reaches a header -----------------------------------------

SPLITTERS = ["json\r\nX-Injected: 1", "json\nSet-Cookie: exokg=1", "%0d%0aX-Injected:%201", "x\rLocation: http://evil/"]


@pytest.mark.parametrize("value", SPLITTERS)
def test_parameters_never_reach_headers(app, value):
    client = app.test_client()
    for route in get_routes(app):
        for name in ("format", "query", "callback", "q", "default-graph-uri", "redirect", "next"):
            response = client.get(route, query_string={name: value})
            assert response.status_code < 500, (route, name, response.status_code)
            for header, content in response.headers.items():
                assert header.lower() not in ("x-injected", "set-cookie"), (route, name)
                assert "\r" not in content and "\n" not in content and "evil" not in content, (route, name, header)


def test_encoded_newlines_in_paths_never_reach_headers(app):
    client = app.test_client()
    for path in ["/sparql%0d%0aX-Injected:%201", "/sparql/%0d%0aSet-Cookie:%20a=1", "/%0aLocation:%20http://evil/",
                 "/downloads%0d%0a", "/vocab%0d%0aX-Injected:1"]:
        response = client.get(path)
        assert response.status_code < 500, path
        for header, content in response.headers.items():
            assert header.lower() not in ("x-injected", "set-cookie") and "\n" not in content and "\r" not in content


# --- oversized requests ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_MAX_REQUEST_BYTES": "4096"})
    yield app
    close_pool(app)


OVERSIZED = [  # (case, request keyword arguments, statuses)
    ("form body", {"data": {"query": "ASK {}" + " " * 10_000}}, (413,)),
    ("update body", {"data": "CLEAR ALL" + " " * 10_000, "content_type": "application/sparql-update"}, (413,)),
    ("multipart body", {"data": {"query": "ASK {}" + " " * 10_000}, "content_type": "multipart/form-data"}, (413, 415)),
    ("body without a length", {"input_stream": None, "content_type": "application/sparql-query"}, (400, 411, 413)),
    ("thousands of parameters", {"query_string": "&".join(f"p{i}=1" for i in range(1000))}, (200, 414)),
]


@pytest.mark.parametrize("case, request_args, statuses", OVERSIZED, ids=[c[0] for c in OVERSIZED])
def test_oversized_requests_are_refused(small, case, request_args, statuses):
    request_args = dict(request_args)
    method = "GET" if "query_string" in request_args else "POST"
    if request_args.get("input_stream", 0) is None:
        request_args["input_stream"] = io.BytesIO(b"ASK {}" + b" " * 10_000)  # no Content-Length
        request_args["headers"] = {"Transfer-Encoding": "chunked"}
    response = small.test_client().open("/sparql", method=method, **request_args)
    assert response.status_code in statuses and response.get_data().strip(), (response.status_code, response.data[:200])


@pytest.fixture(scope="module")
def live(build_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("live") / "gunicorn.log"
    with running_endpoint(build_dir, log, workers=1, threads=2) as url:
        yield urllib.parse.urlsplit(url)


def _raw(live, request: bytes) -> bytes:
    with socket.create_connection((live.hostname, live.port), timeout=30) as conn:
        conn.sendall(request)
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks):
                break
    return b"".join(chunks)


WIRE = [  # (case, raw request, acceptable status codes) against gunicorn, as a client would send them
    ("request line over 8 KB", b"GET /sparql?query=" + b"A" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", (400, 414)),
    ("one header of 100 KB", b"GET /health HTTP/1.1\r\nHost: x\r\nAccept: " + b"a" * 100_000 + b"\r\n\r\n", (400, 431)),
    ("300 headers", b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(300)) + b"\r\n", (400, 431)),
    ("CR/LF in a parameter", b"GET /sparql?format=json%0d%0aX-Injected:%201&query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", (400,)),
    ("a bare LF inside a header value", b"GET /health HTTP/1.1\r\nHost: x\r\nAccept: a\nX-Injected: 1\r\nConnection: close\r\n\r\n", (200, 400)),
]


@pytest.mark.parametrize("case, raw, statuses", WIRE, ids=[c[0] for c in WIRE])
def test_on_the_wire(live, case, raw, statuses):
    answer = _raw(live, raw)
    head = answer.split(b"\r\n\r\n", 1)[0]
    status = int(head.split(b" ", 2)[1])
    assert status in statuses, head
    assert b"\r\nx-injected" not in head.lower()


# --- the operator's per-client rate limit ---------------------------------------------------------------------

@pytest.fixture()
def limited(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_RATE_LIMIT": "3/minute"})
    yield app
    close_pool(app)


def test_rate_limit_answers_429_with_retry_after(limited):
    client = limited.test_client()
    statuses = [client.get("/sparql", query_string={"query": "ASK {}"}).status_code for _ in range(3)]
    over = client.get("/openapi.json")  # one budget covers every route
    assert statuses == [200, 200, 200] and over.status_code == 429
    assert int(over.headers["Retry-After"]) >= 1 and b"too many requests" in over.data and over.mimetype == "text/plain"


def test_rate_limit_is_per_client_and_spares_health(limited):
    client = limited.test_client()
    for _ in range(4):
        client.get("/sparql", query_string={"query": "ASK {}"}, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert client.get("/health", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 200
    assert client.get("/sparql", query_string={"query": "ASK {}"}, environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 429
    assert client.get("/sparql", query_string={"query": "ASK {}"}, environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code == 200


def test_rate_limit_is_off_by_default(app):
    client = app.test_client()
    statuses = {client.get("/.well-known/void").status_code for _ in range(30)}
    assert statuses == {200}
    assert "Retry-After" not in client.get("/.well-known/void").headers


@pytest.mark.parametrize("rate", ["sixty a minute", "60/fortnight", "-1/second"])
def test_bad_rate_limit_stops_the_app(build_dir, rate):
    with pytest.raises(SettingsError, match="EXOKG_RATE_LIMIT"):
        create_app({"EXOKG_DATA": str(build_dir), "EXOKG_RATE_LIMIT": rate})


# --- pathological queries are cut off by the timeout (bench/pathological.py measures the latency) ------------

def _pathological() -> dict[str, str]:
    path = Path(__file__).resolve().parent.parent / "bench" / "pathological.py"
    spec = importlib.util.spec_from_file_location("pathological", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PATHOLOGICAL


PATHOLOGICAL = _pathological()


@pytest.fixture(scope="module")
def short_timeout(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_QUERY_TIMEOUT": "1.5"})
    yield app
    close_pool(app)


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_query_is_cut_off(short_timeout, name):
    client = short_timeout.test_client()
    response = client.get("/sparql", query_string={"query": PATHOLOGICAL[name]})
    assert response.status_code == 503 and b"was stopped" in response.data, response.data[:300]
    light = client.get("/sparql", query_string={"query": f"ASK {{ ?s ?p ?o }} # after {name}"})
    assert light.status_code == 200  # the next client is served at once


# --- odd characters in entity paths (500s found by schemathesis in tests/test_fuzz_http.py, since fixed) ------

ODD_CHARACTERS = ["%", "[", "]", "\x85", "\ufffe", "\ue000", "<", ">", '"', "{", "\\", "^", "`", "|", " ", "\x00", "\x7f"]
ENTITY_PREFIXES = ["/molecule/a", "/vocab/a", "/vocab.a", "/dataset.a", "/dataset/a", "/graph/a", "/finding/a"]


@pytest.mark.parametrize("char", ODD_CHARACTERS, ids=[f"U+{ord(c):04X}" for c in ODD_CHARACTERS])
def test_odd_characters_in_entity_paths_are_4xx(app, char):
    client = app.test_client()
    for prefix in ENTITY_PREFIXES:
        response = client.get(prefix + urllib.parse.quote(char, safe="") + "b")
        assert response.status_code < 500, (prefix, response.status_code, response.data[:200])
