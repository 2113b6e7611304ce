"""Hostile requests never get a 500 and never hang: hypothesis-generated requests, then schemathesis
driven by the server's own OpenAPI description (/openapi.json).

Each request runs in the Flask test client with a short query timeout (the query processes enforce it),
inside a watchdog thread: a request that outlives a generous bound fails the test instead of hanging
CI. CI tries a few hundred examples; EXOKG_FUZZ_EXAMPLES raises that (say 2000) for a deeper run.
The number of requests each strategy made is written to EXOKG_FUZZ_COUNTS (a JSON file) when set,
for bench/robustness_report.py.
"""

from __future__ import annotations

import collections
import json
import os
import threading
import urllib.parse

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from exokg.server.app import create_app
from exokg.server.openapi import openapi_path
from exokg.server.workers import close_pool

TIMEOUT = 2.0  # EXOKG_QUERY_TIMEOUT of the app under test
BOUND = TIMEOUT * 10 + 30  # no request may take longer than this (a hang, not a slow answer)
EXAMPLES = int(os.environ.get("EXOKG_FUZZ_EXAMPLES", "60"))  # per strategy; 6 strategies + schemathesis
MAX_REQUEST_BYTES = 64 * 1024
NO_EXPLAIN = [phase for phase in Phase if phase != Phase.explain]  # its line tracing breaks when files change mid-run
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="EXOKG_FUZZ_EXAMPLES" not in os.environ, phases=NO_EXPLAIN,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])

COUNTS: collections.Counter = collections.Counter()  # strategy → requests made
STATUSES: collections.Counter = collections.Counter()  # status code → requests


@pytest.fixture(scope="module")
def app(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_QUERY_TIMEOUT": str(TIMEOUT),
                      "EXOKG_MAX_REQUEST_BYTES": str(MAX_REQUEST_BYTES), "EXOKG_QUERY_PROCESSES": "2"})
    yield app
    close_pool(app)
    if os.environ.get("EXOKG_FUZZ_COUNTS"):
        with open(os.environ["EXOKG_FUZZ_COUNTS"], "w") as out:
            json.dump({"requests": dict(COUNTS), "statuses": {str(k): v for k, v in sorted(STATUSES.items())}}, out)


def bounded(call):
    """``call()``'s result, or a failure if it is still running after BOUND seconds."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(BOUND)
    assert not thread.is_alive(), f"the request did not finish within {BOUND} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def assert_answered(response, strategy: str) -> None:
    """The endpoint's promise: a 2xx-4xx, or a 503 that says the query was stopped or the pool is busy."""
    COUNTS[strategy] += 1
    STATUSES[response.status_code] += 1
    body = response.get_data()
    if response.status_code >= 500:
        assert response.status_code == 503 and (b"was stopped" in body or b"busy" in body or b"memory" in body), \
            (response.status_code, body[:500])
    if response.status_code >= 400 and response.request.method != "HEAD":  # a HEAD answer has no body
        assert body.strip(), f"{response.status_code} without a message"
    for name, value in response.headers.items():
        assert "\r" not in value and "\n" not in value, (name, value)


# --- the strategies --------------------------------------------------------------------------------------

TOKENS = ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "{", "}", "(", ")", "?s", "?p", "?o", "*", ".", ";",
          ",", "a", "exo:Finding", "<urn:x>", '"x"', "'y'@en", "1", "1.5e9", "FILTER", "REGEX", "OPTIONAL",
          "UNION", "MINUS", "GRAPH", "SERVICE", "VALUES", "BIND", "AS", "LIMIT", "OFFSET", "ORDER BY", "GROUP BY",
          "COUNT", "DISTINCT", "PREFIX", "BASE", "FROM", "NAMED", "/", "|", "^", "!", "+", "?", "INSERT", "DELETE",
          "LOAD", "CLEAR", "\\u0000", "#", "\n", "<>", "_:b", "[]", "(", "))"]

malformed = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join),
)


@st.composite
def nested(draw) -> str:
    """Queries nested hundreds or thousands deep: groups, subqueries, OPTIONALs, expressions, paths."""
    depth = draw(st.integers(min_value=1, max_value=3000))
    shape = draw(st.sampled_from(["group", "subquery", "optional", "expression", "path", "list", "unbalanced"]))
    if shape == "group":
        return "SELECT * WHERE " + "{ " * depth + "?s ?p ?o" + " }" * depth
    if shape == "subquery":
        depth = min(depth, 400)
        return "SELECT * WHERE { " + "{ SELECT * WHERE " * depth + "{ ?s ?p ?o }" + " }" * depth + " } LIMIT 1"
    if shape == "optional":
        return "SELECT * WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * depth + "}" * depth + " } LIMIT 1"
    if shape == "expression":
        return "ASK { FILTER(" + "(" * depth + "1" + " + 1)" * depth + ") }"
    if shape == "path":
        return "ASK { ?s " + "(" * depth + "rdfs:label" + ")*" * depth + " ?o }"
    if shape == "list":
        return "ASK { ?s ?p " + "(" * depth + ")" * depth + " }"  # nested collections
    return "SELECT * WHERE " + "{ " * depth + "?s ?p ?o"  # a syntax error deep inside


@st.composite
def huge_literal(draw) -> tuple[str, str]:
    size = draw(st.sampled_from([1_000, 60_000, 70_000, 500_000, 3_000_000]))
    char = draw(st.sampled_from(["a", "é", "\U0001f9ec", '\\"', "\\u0041"]))
    text = f'ASK {{ ?s ?p "{char * (size // len(char))}" }}'
    return draw(st.sampled_from(["GET", "POST form", "POST body"])), text


PARAM_NAMES = ["query", "update", "format", "default-graph-uri", "named-graph-uri", "using-graph-uri", "q",
               "callback", "", "query[]", "Query", "%71uery", "output", "timeout"]
PARAM_VALUES = st.one_of(st.sampled_from(["ASK {}", "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "json", "csv", "html",
                                          "text/turtle", "https://w3id.org/exokg/graph/asserted", "", "*/*",
                                          "http://127.0.0.1:9/x", "\r\nX-Injected: 1"]),
                         st.text(max_size=40))
odd_params = st.lists(st.tuples(st.sampled_from(PARAM_NAMES), PARAM_VALUES), max_size=8)

header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80)
ACCEPTS = ["", "*/*", "text/*", "application/*", "*/json", "application/sparql-results+json;q=0",
           "text/csv;q=2", "text/csv;q=abc", "application/sparql-results+json;q=0.1, */*;q=0",
           ",,,;;;", "text/html, image/png;q=0.9", "application/json; charset=utf-16", "a" * 5000]
CONTENT_TYPES = ["", "application/sparql-query", "application/sparql-update", "application/x-www-form-urlencoded",
                 "application/sparql-query; charset=latin-1", "application/sparql-query; charset=utf-16",
                 "application/x-www-form-urlencoded; charset=koi8-r", "multipart/form-data; boundary=x",
                 "multipart/form-data", "text/plain", "application/json", "application/sparql-query;;;=",
                 "/", "application/", "*/*"]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
PATHS = ["/sparql", "/sparql/", "/health", "/.well-known/void", "/openapi.json", "/"]


# --- the tests -------------------------------------------------------------------------------------------

def _sender(client, method: str, text: str):
    """A call sending ``text`` as a query the way ``method`` names: GET, POST form or POST body."""
    if method == "GET":
        return lambda: client.get("/sparql", query_string={"query": text})
    if method == "POST form":
        return lambda: client.post("/sparql", data={"query": text})
    return lambda: client.post("/sparql", data=text.encode("utf-8", "surrogatepass"), content_type="application/sparql-query")


@FUZZ
@given(text=malformed, method=st.sampled_from(["GET", "POST form", "POST body"]))
def test_malformed_queries(app, text, method):
    assert_answered(bounded(_sender(app.test_client(), method, text)), "malformed queries")


@FUZZ
@given(text=nested(), update=st.booleans())
def test_deeply_nested_queries(app, text, update):
    client = app.test_client()
    field = "update" if update else "query"
    response = bounded(lambda: client.post("/sparql", data={field: text}))
    assert_answered(response, "deeply nested queries")


# Found by the fuzzing above: a syntax error inside 50 or more nested groups was a 500 (RDFLib's parser,
# re-parsing for the message, recursed past Python's limit); a regression test now.
DEEP_SYNTAX_ERRORS = [(shape, depth) for shape in ("unclosed groups", "unclosed parentheses") for depth in (50, 300, 3000)]
# At 3000 Oxigraph's own parser may exhaust the query process's stack: it dies, is replaced, and the client
# gets a 503 saying so (server/executor.py), which is also an honest answer.


@pytest.mark.parametrize("shape, depth", DEEP_SYNTAX_ERRORS)
def test_a_deep_syntax_error_is_a_400(app, shape, depth):
    text = ("SELECT * WHERE " + "{ " * depth + "?s ?p ?o") if shape == "unclosed groups" else \
        ("ASK { FILTER(" + "(" * depth + "1 + 1) }")
    response = bounded(lambda: app.test_client().post("/sparql", data={"query": text}))
    assert_answered(response, "deeply nested queries")
    assert response.status_code == 400 or (depth >= 3000 and b"without answering" in response.data), response.data[:200]


@settings(FUZZ, max_examples=max(10, EXAMPLES // 4))
@given(case=huge_literal())
def test_huge_literals(app, case):
    method, text = case
    response = bounded(_sender(app.test_client(), method, text))
    assert_answered(response, "huge literals")
    if len(text.encode()) > 2 * MAX_REQUEST_BYTES:  # far over the cap: refused before any parsing
        assert response.status_code in (413, 414), response.status_code


@FUZZ
@given(raw=st.binary(max_size=300), where=st.sampled_from(["query string", "form body", "query body", "update body"]))
def test_invalid_utf8(app, raw, where):
    client = app.test_client()
    raw = raw + b"\xff\xfe\xc3("  # never valid UTF-8, whatever came before
    if where == "query string":
        call = lambda: client.get("/sparql?query=" + urllib.parse.quote_from_bytes(raw))  # noqa: E731
    elif where == "form body":
        call = lambda: client.post("/sparql", data=b"query=" + urllib.parse.quote_from_bytes(raw).encode(),  # noqa: E731
                                   content_type="application/x-www-form-urlencoded")
    else:
        kind = "application/sparql-query" if where == "query body" else "application/sparql-update"
        call = lambda: client.post("/sparql", data=raw, content_type=kind)  # noqa: E731
    response = bounded(call)
    assert_answered(response, "invalid UTF-8")
    if where.endswith(" body") and where != "form body":
        assert response.status_code in (400, 403), response.data


@FUZZ
@given(params=odd_params, method=st.sampled_from(METHODS), path=st.sampled_from(PATHS), as_form=st.booleans())
def test_odd_and_repeated_parameters(app, params, method, path, as_form):
    client = app.test_client()
    encoded = urllib.parse.urlencode(params)
    if as_form and method != "GET":
        call = lambda: client.open(path, method=method, data=encoded,  # noqa: E731
                                   content_type="application/x-www-form-urlencoded")
    else:
        call = lambda: client.open(f"{path}?{encoded}", method=method)  # noqa: E731
    response = bounded(call)
    assert_answered(response, "odd and repeated parameters")
    queries = [v for k, v in params if k == "query"]
    if method == "GET" and path == "/sparql" and len(queries) > 1:
        assert response.status_code == 400


@FUZZ
@given(accept=st.one_of(st.sampled_from(ACCEPTS), header_text),
       content_type=st.one_of(st.sampled_from(CONTENT_TYPES), header_text),
       method=st.sampled_from(["GET", "POST"]), path=st.sampled_from(PATHS),
       body=st.sampled_from([b"", b"ASK {}", b"query=ASK%20%7B%7D", b"--x\r\n\r\n", b"\x00" * 10]))
def test_bad_accept_and_content_type(app, accept, content_type, method, path, body):
    client = app.test_client()
    headers = {"Accept": accept}
    if method == "GET":
        call = lambda: client.get(path, query_string={"query": "ASK {}"}, headers=headers)  # noqa: E731
    else:
        call = lambda: client.post(path, data=body, headers={**headers, "Content-Type": content_type})  # noqa: E731
    assert_answered(bounded(call), "bad Accept and Content-Type headers")


# --- schemathesis: every route and parameter the OpenAPI description declares ------------------------------

@pytest.fixture(scope="module")
def openapi_schema(app):
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


def test_openapi_routes(openapi_schema):
    """Every operation of the description, with schemathesis-generated parameters and bodies.

    Driven through hypothesis directly: schemathesis's pytest plugin (from_fixture) does not run under
    pytest 9 (it sets the removed ``Item._nodeid``).
    """
    operations = [result.ok() for result in openapi_schema.get_all_operations()]
    assert len(operations) >= 5
    for operation in operations:
        @settings(max_examples=max(5, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize="EXOKG_FUZZ_EXAMPLES" not in os.environ, phases=NO_EXPLAIN)
        @given(case=operation.as_strategy())
        def call(case):
            response = bounded(case.call)
            COUNTS["schemathesis (OpenAPI)"] += 1
            STATUSES[response.status_code] += 1
            assert response.status_code < 500 or (response.status_code == 503 and b"stopped" in response.content), \
                (case.method, case.path, response.status_code, response.content[:300])

        call()


def test_the_description_lists_every_route(app):
    paths = app.test_client().get("/openapi.json").get_json()["paths"]
    assert {"/sparql", "/health", "/.well-known/void", "/openapi.json"} <= set(paths)
    assert set(paths["/sparql"]) == {"get", "post"} and "requestBody" in paths["/sparql"]["post"]
    routes = {openapi_path(rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert set(paths) == routes
