"""Dereferenceable IRIs (server/entity.py): content negotiation on the graph's own IRIs.

One named test per negotiation rule, each run on a cargo, a cell population, a finding, the ontology IRI
and a class IRI, picked from the built graph; plus extensions, 404s, validators and the public base.
"""

from __future__ import annotations

import re

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDFS

from exokg.config import BASE, EXO, ONTOLOGY_IRI
from exokg.server.app import create_app
from exokg.server.store import rdflib_internals
from exokg.server.workers import close_pool
from conftest import select

ROLES = ("cargo", "cell", "finding", "ontology", "class")
FORMATS = {  # Accept → (media type answered, rdflib parser; None for HTML)
    "text/html": ("text/html", None),
    "text/turtle": ("text/turtle", "turtle"),
    "application/ld+json": ("application/ld+json", "json-ld"),
    "application/n-triples": ("application/n-triples", "nt"),
    "application/rdf+xml": ("application/rdf+xml", "xml"),
}
EXTENSIONS = {".ttl": "turtle", ".jsonld": "json-ld", ".nt": "nt", ".rdf": "xml"}


@pytest.fixture(scope="module")
def examples(union) -> dict[str, str]:
    """One IRI per role, taken from the data: the cargo and the receiving cells of the first finding."""
    finding, cargo, cell = select(union, """
        SELECT ?f ?cargo ?cell WHERE { ?f exo:hasCargo ?cargo ; exo:hasReceivingPopulation ?cell }
        ORDER BY ?f ?cargo ?cell LIMIT 1""")[0]
    return {"cargo": cargo, "cell": cell, "finding": finding, "ontology": ONTOLOGY_IRI, "class": str(EXO.MicroRNA)}


def path(iri: str) -> str:
    assert iri.startswith(BASE)
    return "/" + iri[len(BASE):]


def parse(body: bytes, fmt: str) -> Graph:
    with rdflib_internals():  # RDFLib's JSON-LD parser calls its own deprecated ConjunctiveGraph
        return Graph().parse(data=body, format=fmt)


def expected_out(union: Graph, iri: str) -> set:
    return {(s, p, o) for s, p, o in union.triples((URIRef(iri), None, None)) if not isinstance(o, BNode)}


@pytest.mark.parametrize("accept", FORMATS)
@pytest.mark.parametrize("role", ROLES)
def test_accept_selects_the_representation(client, union, examples, role, accept):
    iri = examples[role]
    response = client.get(path(iri), headers={"Accept": accept})
    media_type, parser = FORMATS[accept]
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == media_type
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Content-Location"].endswith(path(iri) + {
        "text/html": ".html", "text/turtle": ".ttl", "application/ld+json": ".jsonld",
        "application/n-triples": ".nt", "application/rdf+xml": ".rdf"}[accept])
    if parser is None:
        page = response.get_data(as_text=True)
        assert iri in page
        label = union.value(URIRef(iri), RDFS.label)
        if label is not None:
            assert str(label).replace("&", "&amp;").replace("<", "&lt;") in page
    else:
        graph = parse(response.data, parser)
        missing = expected_out(union, iri) - set(graph)
        assert not missing, f"{len(missing)} statements missing, e.g. {sorted(missing)[:3]}"
        incoming = {(s, p, o) for s, p, o in union.triples((None, None, URIRef(iri))) if not isinstance(s, BNode)}
        assert incoming <= set(graph)


@pytest.mark.parametrize("ext", EXTENSIONS)
@pytest.mark.parametrize("role", ROLES)
def test_extension_gives_the_same_graph_without_negotiating(client, examples, role, ext):
    iri = examples[role]
    by_ext = client.get(path(iri) + ext, headers={"Accept": "text/html"})  # the extension wins over Accept
    assert by_ext.status_code == 200
    assert "Content-Location" not in by_ext.headers
    negotiated = client.get(path(iri), headers={"Accept": by_ext.mimetype})
    assert isomorphic(parse(by_ext.data, EXTENSIONS[ext]), parse(negotiated.data, EXTENSIONS[ext]))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("accept", [None, "*/*", "text/*", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
                         ids=["no-accept", "anything", "any-text", "browser"])
def test_browsers_and_anything_get_html(client, examples, role, accept):
    response = client.get(path(examples[role]), headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("role", ROLES)
def test_q_values_are_honoured(client, examples, role):
    response = client.get(path(examples[role]), headers={"Accept": "text/html;q=0.5, text/turtle"})
    assert response.mimetype == "text/turtle"


@pytest.mark.parametrize("value, media_type", [("turtle", "text/turtle"), ("jsonld", "application/ld+json"),
                                                ("nt", "application/n-triples"), ("html", "text/html")])
def test_format_parameter(client, examples, value, media_type):
    response = client.get(path(examples["cargo"]), query_string={"format": value}, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == media_type


def test_unsatisfiable_accept_is_406(client, examples):
    response = client.get(path(examples["cargo"]), headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "text/turtle" in response.get_data(as_text=True)


def test_unknown_format_parameter_is_400(client, examples):
    response = client.get(path(examples["cargo"]), query_string={"format": "docx"})
    assert response.status_code == 400


@pytest.mark.parametrize("local", ["molecule/no-such-cargo", "finding/XYZ-999", "vocab/NoSuchClass", "population/nobody",
                                   "finding/TME-001/effect/99", "graph/nothing", "dataset/nothing"])
@pytest.mark.parametrize("accept, media_type", [("text/html", "text/html"), ("text/turtle", "text/plain"), (None, "text/plain")])
def test_unknown_iris_are_404(client, local, accept, media_type):
    response = client.get("/" + local, headers={"Accept": accept} if accept else {})
    assert response.status_code == 404
    assert response.mimetype == media_type
    assert BASE + local in response.get_data(as_text=True)


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_unknown_iri_with_extension_is_404(client, ext):
    assert client.get("/molecule/no-such-cargo" + ext).status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_etag_revalidation(client, examples, role):
    first = client.get(path(examples[role]), headers={"Accept": "text/turtle"})
    etag = first.headers["ETag"]
    again = client.get(path(examples[role]), headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304
    html = client.get(path(examples[role]), headers={"Accept": "text/html"})
    assert html.headers["ETag"] != etag  # another representation, another validator


def test_every_minted_iri_resolves(client, union):
    """Each IRI the graph mints under BASE answers 200 with a non-empty description."""
    minted = sorted({str(t) for triple in union for t in triple if isinstance(t, URIRef) and str(t).startswith(BASE)})
    assert len(minted) > 100
    failed = []
    for iri in minted:
        response = client.get(path(iri), headers={"Accept": "application/n-triples"})
        if response.status_code != 200 or not response.data.strip():
            failed.append((iri, response.status_code))
    assert not failed, failed[:10]


def test_nested_finding_iris_resolve(client, union):
    nested = [row[0] for row in select(union, """SELECT ?e WHERE { ?f exo:hasEffect ?e } ORDER BY ?e LIMIT 3""")]
    for iri in nested:
        assert re.search(r"/finding/[^/]+/effect/\d+$", iri)
        response = client.get(path(iri), headers={"Accept": "text/turtle"})
        assert (URIRef(iri), None, None) in parse(response.data, "turtle")


@pytest.mark.parametrize("name", ["ontology", "asserted", "inferred"])
def test_named_graph_iris(client, app, name):
    page = client.get(f"/graph/{name}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    graph = parse(client.get(f"/graph/{name}", headers={"Accept": "application/n-triples"}).data, "nt")
    with app.app_context():
        from exokg.server.store import current_store

        assert len(graph) == current_store().info.triples[name]


@pytest.mark.parametrize("accept", ["text/html", "text/turtle"])
def test_dataset_iri_is_described_by_void(client, accept):
    response = client.get("/dataset", headers={"Accept": accept})
    assert response.status_code == 200
    if accept == "text/turtle":
        assert (URIRef(BASE + "dataset"), None, None) in parse(response.data, "turtle")


def test_class_page_lists_its_instances_and_definition(client, union):
    page = client.get("/vocab/MicroRNA", headers={"Accept": "text/html"}).get_data(as_text=True)
    instances = [row[0] for row in select(union, "SELECT ?m WHERE { ?m a exo:MicroRNA }")]
    assert instances
    for iri in instances:
        assert f'href="{path(iri)}"' in page


def test_links_follow_to_local_routes(client, examples):
    """Internal IRIs link to this server's routes, and every such link on a finding page answers."""
    page = client.get(path(examples["finding"]), headers={"Accept": "text/html"}).get_data(as_text=True)
    links = set(re.findall(r'href="(/(?:molecule|population|vesicle|reference|source|process|pathway|vocab)[^"#?]*)"', page))
    assert path(examples["cargo"]) in links
    for link in sorted(links):
        assert client.get(link, headers={"Accept": "text/html"}).status_code == 200, link
    assert 'href="https://w3id.org/exokg/' not in page  # never a link off to the canonical IRI by default


def test_public_base_rewrites_links(build_dir, examples):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_PUBLIC_BASE": "https://kg.example.org/exokg/"})
    try:
        page = app.test_client().get(path(examples["finding"]), headers={"Accept": "text/html"}).get_data(as_text=True)
    finally:
        close_pool(app)
    assert f'href="https://kg.example.org/exokg/{examples["cargo"][len(BASE):]}"' in page


@pytest.mark.parametrize("value", ["kg.example.org/", "https://kg.example.org/exokg", "ftp://x.org/"])
def test_public_base_is_validated(build_dir, value):
    from exokg.server.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="EXOKG_PUBLIC_BASE"):
        Settings.load({"EXOKG_DATA": str(build_dir), "EXOKG_PUBLIC_BASE": value}, environ={})


@pytest.mark.parametrize("junk", ["/molecule/%00", "/molecule/a%20b", "/molecule/%22x", "/molecule/x%5C", "/vocab/%3E",
                                  "/graph/%3E", "/dataset/%3E", "/molecule/%7Bx%7D", "/molecule/" + "a" * 3000])
@pytest.mark.parametrize("accept", ["text/html", "text/turtle"])
def test_text_that_is_no_iri_is_404_not_500(client, junk, accept):
    assert client.get(junk, headers={"Accept": accept}).status_code == 404


@pytest.mark.parametrize("ext", [".ttl", ".nt"])
def test_ontology_iri_returns_the_whole_ontology(client, build_dir, ext):
    served = parse(client.get("/vocab" + ext).data, EXTENSIONS[ext])
    assert isomorphic(served, Graph().parse(build_dir / "ontology.ttl", format="turtle"))


def test_ontology_page_indexes_its_terms(client, union):
    page = client.get("/vocab", headers={"Accept": "text/html"}).get_data(as_text=True)
    classes = [row[0] for row in select(union, f"""SELECT ?c WHERE {{ ?c a owl:Class FILTER(STRSTARTS(STR(?c), "{EXO}")) }}""")]
    assert len(classes) > 20
    for iri in classes:
        assert f'href="{path(iri)}"' in page, iri


def test_a_proxy_prefix_is_honoured(client, examples):
    """Served under a path prefix (SCRIPT_NAME, as gunicorn sets it), pages link and negotiate under it."""
    response = client.get(path(examples["finding"]), base_url="http://localhost/exokg/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert f'href="/exokg{path(examples["cargo"])}"' in response.get_data(as_text=True)
    assert response.headers["Content-Location"] == f"/exokg{path(examples['finding'])}.html"
