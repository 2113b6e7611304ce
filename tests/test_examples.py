"""The worked example queries (server/examples/*.ttl): each is a valid SIB-style example, returns the answer
its file documents on the review graph (locally and through the endpoint), and is served at /examples;
the query page at /query offers them with YASGUI, or as a plain form posting to /sparql without it.
"""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from rdflib import Dataset, Graph, Literal
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS, SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.query import Result

from exokg.config import REVIEW_TEXT
from exokg.server.app import create_app
from exokg.server.store import rdflib_internals
from exokg.server.query_page import (ANSWER, EXAMPLES, EXAMPLES_DIR, PREFIX_DECLARATIONS, VARIABLE, ExampleError,
                                     load_examples, read_example)
from exokg.server.workers import close_pool

EXAMPLE_FILES = sorted(EXAMPLES_DIR.glob("*.ttl"))
ALGEBRA = {"select": "SelectQuery", "construct": "ConstructQuery", "ask": "AskQuery"}


def _words(text: str) -> str:
    return " ".join(text.split())


REVIEW_WORDS = _words(REVIEW_TEXT.read_text(encoding="utf-8"))


def _ids(paths):
    return [p.stem for p in paths]


# --- the files ---------------------------------------------------------------------------------------

def test_there_are_enough_examples():
    assert len(EXAMPLE_FILES) >= 14
    assert [p.name for p in EXAMPLE_FILES] == sorted({p.name for p in EXAMPLE_FILES})
    assert all(re.fullmatch(r"\d{3}-[a-z0-9-]+\.ttl", p.name) for p in EXAMPLE_FILES)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=_ids(EXAMPLE_FILES))
def test_example_file_has_the_sib_properties(path):
    example = read_example(path)  # raises ExampleError naming what is missing
    assert example.iri == EXAMPLES[path.stem]
    assert example.keywords and example.label != path.stem
    assert prepareQuery(example.query).algebra.name == ALGEBRA[example.form]
    documented = {p for p in example.graph.predicates(example.iri) if str(p).startswith(str(ANSWER))}
    assert documented & {ANSWER.rowCount, ANSWER.boolean}, "the file documents no answer"
    evidence = [str(e) for e in example.graph.objects(example.iri, ANSWER.evidence)]
    assert evidence, "the file does not say which words of the review the answer rests on"
    for words in evidence:
        assert _words(words) in REVIEW_WORDS, f"{words!r} is not in the review"


BROKEN = {
    "not Turtle": (r"ex:(\S+) a sh:SPARQLExecutable", r"ex:\1 a sh:SPARQLExecutable ;; ;"),
    "no comment": (r"rdfs:comment \"", "rdfs:seeAlso \""),
    "comment without language": (r"\"@en ;\n    schema:keywords", "\" ;\n    schema:keywords"),
    "other endpoint": (r"schema:target <[^>]+>", "schema:target <http://example.org/sparql>"),
    "no prefixes": (r"sh:prefixes ex:prefixes ;", ""),
    "wrong executable type": (r"sh:SPARQLSelectExecutable", "sh:SPARQLAskExecutable"),
    "two queries": (r"sh:select \"\"\"", "sh:ask \"ASK {}\" ; sh:select \"\"\""),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_example_is_refused(tmp_path, case):
    pattern, replacement = BROKEN[case]
    source = EXAMPLES_DIR / "002-mirnas-promoting-tmz-resistance.ttl"
    text, count = re.subn(pattern, replacement, source.read_text(encoding="utf-8"), count=1)
    assert count == 1
    broken = tmp_path / source.name
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ExampleError, match=source.name):
        read_example(broken)


# --- the answers -------------------------------------------------------------------------------------

def _expected_rows(example) -> list[dict[str, object]]:
    rows = []
    for node in example.graph.objects(example.iri, ANSWER.row):
        rows.append({str(p)[len(str(VARIABLE)):]: o for p, o in example.graph.predicate_objects(node)})
    return rows


def _same(expected, found) -> bool:
    """RDF term equality; numbers compare by value (a count may come back as another numeric type)."""
    if expected == found:
        return True
    numbers = (int, float, Decimal)
    return (isinstance(expected, Literal) and isinstance(found, Literal) and isinstance(expected.value, numbers)
            and not isinstance(expected.value, bool) and isinstance(found.value, numbers) and expected.value == found.value)


def check_answer(example, result: Result) -> None:
    """``result`` is the answer ``example`` documents (count, rows it must hold, boolean, triples)."""
    graph, iri = example.graph, example.iri
    boolean = graph.value(iri, ANSWER.boolean)
    if boolean is not None:
        assert result.askAnswer is boolean.toPython()
        return
    if example.form == "construct":
        triples = result.graph
        assert len(triples) == graph.value(iri, ANSWER.rowCount).toPython()
        for node in graph.objects(iri, ANSWER.triple):
            triple = (graph.value(node, RDF.subject), graph.value(node, RDF.predicate), graph.value(node, RDF.object))
            assert triple in triples, triple
        return
    solutions = [row.asdict() for row in result]
    assert len(solutions) == graph.value(iri, ANSWER.rowCount).toPython()
    for expected in _expected_rows(example):
        assert any(all(_same(v, s.get(k)) for k, v in expected.items()) for s in solutions), (expected, solutions)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=_ids(EXAMPLE_FILES))
def test_example_returns_its_documented_answer(union, path):
    example = read_example(path)
    check_answer(example, union.query(example.query))


def test_a_wrong_answer_is_noticed(union):
    """The answer check can fail: a documented row that the query does not return is caught."""
    example = read_example(EXAMPLES_DIR / "002-mirnas-promoting-tmz-resistance.ttl")
    wrong = example.graph.value(example.iri, ANSWER.row)
    example.graph.set((wrong, VARIABLE.mirna, Literal("miR-21", lang="en")))
    with pytest.raises(AssertionError):
        check_answer(example, union.query(example.query))


# --- the server --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app(build_dir, tmp_path_factory):
    yasgui = tmp_path_factory.mktemp("yasgui")  # stands in for the npm build: the page only links it
    (yasgui / "yasgui.min.js").write_text("window.Yasgui = {};\n")
    (yasgui / "yasgui.min.css").write_text(".yasgui {}\n")
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_YASGUI_DIR": str(yasgui), "TESTING": True})
    yield app
    close_pool(app)


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def plain_client(build_dir, tmp_path_factory):
    """A server without the YASGUI files: the query page is a plain form."""
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_YASGUI_DIR": str(tmp_path_factory.mktemp("empty")),
                      "TESTING": True})
    yield app.test_client()
    close_pool(app)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=_ids(EXAMPLE_FILES))
def test_example_answers_the_same_through_the_endpoint(client, path):
    example = read_example(path)
    accept = "text/turtle" if example.form == "construct" else "application/sparql-results+json"
    response = client.post("/sparql", data={"query": example.query}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    if example.form == "construct":
        result = Result("CONSTRUCT")
        result.graph = Graph().parse(data=response.data, format="turtle")
    else:
        result = Result.parse(io.BytesIO(response.data), format="json")
    check_answer(example, result)


def test_examples_page_lists_every_example(client):
    response = client.get("/examples", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Accept" in response.vary
    for example in load_examples():
        assert f'href="/examples/{example.name}"' in response.text
        assert example.label in response.text


@pytest.mark.parametrize("path, headers, media_type", [
    ("/examples.ttl", {}, "text/turtle"),
    ("/examples", {"Accept": "text/turtle"}, "text/turtle"),
    ("/examples", {"Accept": "application/ld+json"}, "application/ld+json"),
    ("/examples.nt", {"Accept": "text/html"}, "application/n-triples"),
    ("/examples?format=jsonld", {"Accept": "text/html"}, "application/ld+json"),
    ("/examples.trig", {}, "application/trig"),  # quad formats: the examples are the default graph
    ("/examples", {"Accept": "application/n-quads"}, "application/n-quads"),
])
def test_examples_as_rdf(client, path, headers, media_type):
    response = client.get(path, headers=headers)
    assert response.status_code == 200 and response.mimetype == media_type
    syntax = {"text/turtle": "turtle", "application/n-triples": "nt", "application/ld+json": "json-ld",
              "application/trig": "trig", "application/n-quads": "nquads"}[media_type]
    with rdflib_internals():  # rdflib's JSON-LD and quad parsers use its own deprecated API
        parsed = Dataset(default_union=True).parse(data=response.data, format=syntax)
        served = Graph()
        for triple in parsed.triples((None, None, None)):
            served.add(triple)
    examples = load_examples()
    assert set(served.subjects(RDF.type, SH.SPARQLExecutable)) == {e.iri for e in examples}
    for example in examples:
        assert (example.iri, RDFS.comment, None) in served
        assert Literal(example.query) in set(served.objects(example.iri, None))
    assert not any(str(p).startswith(str(ANSWER)) for p in served.predicates())  # the test answers stay here
    declared = {str(served.value(d, SH.prefix)): str(served.value(d, SH.namespace))
                for d in served.objects(PREFIX_DECLARATIONS, SH.declare)}
    assert declared["exo"] == "https://w3id.org/exokg/vocab/"


def test_one_example_in_each_form(client):
    example = load_examples()[1]
    page = client.get(f"/examples/{example.name}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and example.label in page.text and "Accept" in page.vary
    rq = client.get(f"/examples/{example.name}.rq")
    assert rq.mimetype == "application/sparql-query" and rq.text == example.query
    turtle = client.get(f"/examples/{example.name}", headers={"Accept": "text/turtle"})
    served = Graph().parse(data=turtle.data, format="turtle")
    assert isomorphic(served, client_graph(client, f"/examples/{example.name}.ttl"))
    assert (example.iri, SH.select, Literal(example.query)) in served


def client_graph(client, path: str) -> Graph:
    return Graph().parse(data=client.get(path).data, format="turtle")


@pytest.mark.parametrize("path, headers, status", [
    ("/examples/999-no-such-example", {}, 404),
    ("/examples/002-mirnas-promoting-tmz-resistance.png", {}, 404),
    ("/examples.png", {}, 404),
    ("/examples", {"Accept": "image/png"}, 406),
    ("/examples?format=png", {}, 400),
    ("/query/assets/../../settings.py", {}, 404),
    ("/query/assets/index.html", {}, 404),
])
def test_client_mistakes_are_4xx_with_a_message(client, path, headers, status):
    response = client.get(path, headers=headers)
    assert response.status_code == status
    assert response.mimetype == "text/plain" and len(response.text) > 10


class _Forms(HTMLParser):
    """The forms of a page: action, method and the names of their fields."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"id": attrs.get("id"), "action": attrs.get("action"),
                               "method": attrs.get("method", "get").lower(), "fields": []})
        elif tag in ("textarea", "select", "input") and self.forms and attrs.get("name"):
            self.forms[-1]["fields"].append(attrs["name"])
        elif tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        elif tag == "link" and attrs.get("rel") == "stylesheet":
            self.stylesheets.append(attrs["href"])


def _parse(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


def test_query_page_with_yasgui_serves_its_assets_itself(client):
    response = client.get("/query")
    assert response.status_code == 200
    page = _parse(response.text)
    assert "/query/assets/yasgui.min.js" in page.scripts
    assert "/query/assets/yasgui.min.css" in page.stylesheets
    assert all(src.startswith("/") for src in page.scripts + page.stylesheets)  # nothing from another host
    assert 'data-endpoint="http://localhost/sparql"' in response.text
    data = re.search(r'<script type="application/json" id="example-data">(.*?)</script>', response.text, re.S)
    assert [e["name"] for e in json.loads(data.group(1))] == [e.name for e in load_examples()]
    for example in load_examples():
        assert f'data-name="{example.name}"' in response.text
    with client.get("/query/assets/yasgui.min.js") as asset:
        assert asset.status_code == 200 and b"Yasgui" in asset.data


def test_query_page_without_yasgui_is_a_form_that_works(plain_client):
    response = plain_client.get("/query?example=019-is-mir21-angiogenic")
    assert response.status_code == 200
    page = _parse(response.text)
    assert not any("yasgui" in src for src in page.scripts)
    form = next(f for f in page.forms if f["id"] == "query-form")
    assert form["method"] == "post" and form["action"] == "http://localhost/sparql"
    assert {"query", "format"} <= set(form["fields"])
    example = read_example(EXAMPLES_DIR / "019-is-mir21-angiogenic.ttl")
    assert example.query.replace('"', "&#34;").replace("<", "&lt;").replace(">", "&gt;") in response.text
    # What the browser sends when the form is submitted without script: the endpoint's own answer.
    select = read_example(EXAMPLES_DIR / "002-mirnas-promoting-tmz-resistance.ttl")
    answer = plain_client.post("/sparql", data={"query": select.query, "format": "xml"})
    assert answer.status_code == 200 and answer.mimetype == "application/sparql-results+xml"
    check_answer(select, Result.parse(io.BytesIO(answer.data), format="xml"))


def test_data_on_the_pages_is_escaped(build_dir, tmp_path):
    hostile = (EXAMPLES_DIR / "002-mirnas-promoting-tmz-resistance.ttl").read_text(encoding="utf-8").replace(
        "miRNAs that promote temozolomide resistance", "<script>alert(1)</script> miRNAs")
    (tmp_path / "002-mirnas-promoting-tmz-resistance.ttl").write_text(hostile, encoding="utf-8")
    app = create_app({"EXOKG_DATA": str(build_dir), "QUERY_EXAMPLES_DIR": tmp_path, "TESTING": True})
    try:
        client = app.test_client()
        for path in ("/query", "/examples", "/examples/002-mirnas-promoting-tmz-resistance"):
            text = client.get(path, headers={"Accept": "text/html"}).text
            assert "<script>alert(1)</script>" not in text, path
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path
    finally:
        close_pool(app)

