"""The query editor's server side (server/query_page.py): the terms it completes, read from the data, and the
addresses it and the examples give, which follow the request's host or EXOKG_PUBLIC_BASE. The editor in a
browser is tests/test_browser.py."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef

from exokg.config import BASE, EXO, PREFIXES
from exokg.server.app import create_app
from exokg.server.query_page import SCHEMA, load_examples
from exokg.server.workers import close_pool
from conftest import select

PUBLIC = "https://kg.example.org/exokg/"


@pytest.fixture(scope="module")
def public_client(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_PUBLIC_BASE": PUBLIC, "TESTING": True})
    yield app.test_client()
    close_pool(app)


def test_terms_are_the_data_s_classes_and_properties_with_labels(client, union):
    terms = client.get("/query/terms.json").get_json()
    properties = {t["iri"]: t["label"] for t in terms["properties"]}
    classes = {t["iri"]: t["label"] for t in terms["classes"]}
    assert properties[str(EXO.hasCargo)] == "has cargo"
    used = {row[0] for row in select(union, "SELECT DISTINCT ?p WHERE { ?s ?p ?o }")}
    assert used <= set(properties)
    typed = {row[0] for row in select(union, "SELECT DISTINCT ?c WHERE { ?x a ?c FILTER(isIRI(?c)) }")}
    assert typed <= set(classes) and str(EXO.Finding) in classes


def test_completed_prefixes_are_those_the_data_uses(client, union):
    prefixes = client.get("/query/terms.json").get_json()["prefixes"]
    assert prefixes["exo"] == str(EXO) and prefixes["exog"] == BASE + "graph/"  # exog: the named graphs' names
    assert set(prefixes) <= set(PREFIXES)
    for prefix, namespace in PREFIXES.items():  # a prefix is offered exactly when some IRI of the data has it
        if prefix == "exog":
            continue
        uses = union.query(f'ASK {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{namespace}") || STRSTARTS(STR(?p), "{namespace}") '
                             f'|| STRSTARTS(STR(?o), "{namespace}") || (isLiteral(?o) && STRSTARTS(STR(DATATYPE(?o)), "{namespace}"))) }}').askAnswer
        assert (prefix in prefixes) == uses, prefix


@pytest.mark.parametrize("base_url, expected", [("http://localhost/", "http://localhost/sparql"),
                                                ("http://kg.test:8080/mirror/", "http://kg.test:8080/mirror/sparql")])
def test_example_targets_name_the_serving_endpoint(client, base_url, expected):
    served = Graph().parse(data=client.get("/examples.ttl", base_url=base_url).data, format="turtle")
    targets = set(served.objects(None, SCHEMA.target))
    assert targets == {URIRef(expected)} and len(list(served.subject_objects(SCHEMA.target))) == len(load_examples())


def test_example_targets_and_editor_links_follow_the_public_base(public_client):
    served = Graph().parse(data=public_client.get("/examples.ttl").data, format="turtle")
    assert set(served.objects(None, SCHEMA.target)) == {URIRef(PUBLIC + "sparql")}
    page = public_client.get("/sparql", headers={"Accept": "text/html"}).text
    assert f'data-own-base="{BASE}"' in page and f'data-local-base="{PUBLIC}"' in page


def test_editor_links_our_iris_to_the_request_host(client):
    page = client.get("/sparql", base_url="http://kg.test:8080/mirror/", headers={"Accept": "text/html"}).text
    assert 'data-local-base="http://kg.test:8080/mirror/"' in page
    assert 'data-terms="/mirror/query/terms.json"' in page
