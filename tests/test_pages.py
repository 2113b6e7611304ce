"""Pages for people (server/pages.py, server/search.py, server/charts.py): overview and its charts, finding
diagrams, search, browse lists and their CSV/TSV, downloads with checksums, how to cite, and escaping.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import pytest
import yaml
from rdflib import URIRef
from rdflib.namespace import RDFS

import exokg
from exokg.config import BASE, REVIEW_TEXT
from exokg.server.app import create_app
from exokg.server.search import KINDS
from exokg.server.workers import close_pool
from conftest import select

ROOT = Path(__file__).resolve().parents[1]
# (query, the IRI that must come first): names, synonyms, identifiers, ignoring case and punctuation.
SEARCHES = [
    ("miR-21", "molecule/miR-21"),
    ("MIR21", "molecule/miR-21"),
    ("hsa-miR-21-5p", "molecule/miR-21"),  # species prefix and arm dropped: the review names neither
    ("mirbase:MI0000077", "molecule/miR-21"),
    ("MIMAT0000076", "molecule/miR-21"),  # hsa-miR-21-5p, a mature product of the arm-unspecified miR-21 (narrowMatch)
    ("mirbase.mature:MIMAT0004494", "molecule/miR-21"),  # hsa-miR-21-3p, the other one
    ("U87", "cell-line/U-87-MG"),
    ("U-87 MG", "cell-line/U-87-MG"),
    ("u87mg", "cell-line/U-87-MG"),
    ("CVCL_0022", "cell-line/U-87-MG"),
    ("cellosaurus:CVCL_0022", "cell-line/U-87-MG"),
    ("PTEN", "molecule/PTEN"),
    ("TME-001", "finding/TME-001"),
    ("angiogenic response", "process/angiogenesis"),  # a synonym
    ("GO:0001525", "process/angiogenesis"),
]


def page(client, url: str, **kwargs) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def local(iri: str) -> str:
    return "/" + iri[len(BASE):]


def search_json(client, q: str) -> list[dict]:
    response = client.get("/search", query_string={"q": q, "format": "json"})
    assert response.status_code == 200
    assert response.get_json()["query"] == q
    return response.get_json()["results"]


# --- overview and pictures -------------------------------------------------------------------------------

def test_overview_shows_the_charts_and_counts(client, union):
    html = page(client, "/")
    assert html == page(client, "/overview")
    for figure in ("context-by-cargo", "top-cargos", "top-targets"):
        assert re.search(rf'<figure id="{figure}"><svg ', html), figure
    findings = select(union, "SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f exo:hasContext ?c }")[0][0]
    assert f"{findings} findings" in html


def test_overview_heat_map_counts_each_context(client, union):
    """Every context of the data is a row, and its cells add up to at least its number of findings."""
    html = page(client, "/")
    rows = select(union, """SELECT ?label (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f exo:hasContext ?c . ?c rdfs:label ?label }
                            GROUP BY ?label""")
    assert rows
    cells = re.findall(r"<title>([^<]+) × ([^<]+): (\d+)</title>", html)
    for label, n in rows:
        total = sum(int(count) for row, _, count in cells if row == label)
        assert total >= int(n), label


def test_overview_bars_match_the_data(client, union):
    html = page(client, "/")
    top = select(union, """SELECT ?label (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f exo:hasCargo ?m . ?m rdfs:label ?label }
                           GROUP BY ?m ?label ORDER BY DESC(?n) ?label LIMIT 1""")[0]
    assert f"<title>{top[0]}: {top[1]}</title>" in html


@pytest.fixture(scope="module")
def findings(union) -> list[tuple[str, ...]]:
    return select(union, """SELECT ?f ?donor ?vesicle WHERE { ?f exo:hasDonorPopulation/rdfs:label ?donor ;
                                                                exo:hasVesicle/rdfs:label ?vesicle } ORDER BY ?f""")


def test_every_finding_page_draws_its_chain(client, union, findings):
    assert len(findings) > 40
    for iri, donor, vesicle in findings:
        html = page(client, local(iri), headers={"Accept": "text/html"})
        svg = re.search(r'<section class="chain">.*?</section>', html, re.S).group(0)
        for label in (donor, vesicle):
            shown = label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            assert shown in svg or shown[:10] in svg, (iri, label)
        for cargo in union.objects(URIRef(iri), URIRef(BASE + "vocab/hasCargo")):
            assert f'href="{local(str(cargo))}"' in svg, (iri, cargo)


def test_finding_page_shows_its_provenance(client, union, findings):
    iri = findings[0][0]
    html = page(client, local(iri), headers={"Accept": "text/html"})
    provenance = re.search(r'<section class="provenance">.*?</section>', html, re.S).group(0)
    quote = union.value(URIRef(iri), URIRef(BASE + "vocab/supportingQuote"))
    curated = union.value(URIRef(iri), URIRef(BASE + "vocab/curatedAt"))
    reference = union.value(URIRef(iri), URIRef(BASE + "vocab/hasReference"))
    assert str(curated) in provenance
    assert str(quote).replace("'", "&#39;").replace('"', "&#34;")[:40] in provenance
    assert f'href="{local(str(reference))}"' in provenance


# --- search ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("q, expected", SEARCHES, ids=[q for q, _ in SEARCHES])
def test_search_finds_by_name_synonym_or_identifier(client, q, expected):
    results = search_json(client, q)
    assert results, q
    assert results[0]["iri"] == BASE + expected, [r["iri"] for r in results[:5]]
    assert results[0]["page"] == "/" + expected


@pytest.mark.parametrize("q, expected", SEARCHES[:3], ids=[q for q, _ in SEARCHES[:3]])
def test_search_page_links_the_results(client, q, expected):
    html = page(client, "/search", query_string={"q": q})
    assert f'href="/{expected}"' in html


def test_every_cross_reference_is_searchable(client, union):
    """Each curated cross-reference finds its subject, by CURIE and by the identifier alone."""
    rows = select(union, "SELECT ?s ?x WHERE { ?s oboInOwl:hasDbXref ?x FILTER(STRSTARTS(STR(?s), 'https://w3id.org/exokg/')) }")
    assert len(rows) > 20
    for subject, xref in rows:
        if subject.startswith(BASE + "vocab/"):
            continue
        for q in (xref, xref.split(":", 1)[1]):
            found = [r["iri"] for r in search_json(client, q)]
            assert subject in found, (q, subject, found[:5])


def test_mature_mirna_identifiers_find_their_cargo(client, union):
    """A miRBase mature accession the graph maps to (MIMAT…) finds the cargo mapped to it, also when the cargo is
    named without its arm and only narrower than the accession (skos:narrowMatch)."""
    rows = select(union, """SELECT ?s ?m WHERE { ?s skos:exactMatch|skos:closeMatch|skos:narrowMatch ?m
                            FILTER(CONTAINS(STR(?m), "MIMAT")) FILTER(STRSTARTS(STR(?s), "https://w3id.org/exokg/")) }""")
    assert rows
    for subject, match in rows:
        accession = re.search(r"MIMAT\d+", match).group(0)
        assert subject in [r["iri"] for r in search_json(client, accession)], accession


@pytest.mark.parametrize("q", ["zzqqxxnotathing", "!!!", ""])
def test_search_without_matches(client, q):
    assert search_json(client, q) == []


def test_search_json_by_accept(client):
    response = client.get("/search", query_string={"q": "PTEN"}, headers={"Accept": "application/json"})
    assert response.mimetype == "application/json"
    assert {"iri", "label", "kind", "types", "matched", "page"} <= set(response.get_json()["results"][0])


@pytest.mark.parametrize("params", [{"q": "x" * 201}, {"q": "PTEN", "format": "xml"}])
def test_search_client_mistakes_are_400(client, params):
    response = client.get("/search", query_string=params)
    assert response.status_code == 400
    assert response.mimetype == "text/plain"


# --- browse ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
def test_browse_lists_every_entity_of_a_kind(client, union, kind):
    expected = {row[0] for row in select(union, f"""SELECT DISTINCT ?s WHERE {{ ?s rdfs:label ?l
        FILTER(STRSTARTS(STR(?s), "{BASE}{kind}/") && !CONTAINS(STRAFTER(STR(?s), "{BASE}{kind}/"), "/")) }}""")}
    html = page(client, f"/browse/{kind}")
    for iri in expected:
        assert f'href="{local(iri)}"' in html
    for ext, delimiter in ((".csv", ","), (".tsv", "\t")):
        response = client.get(f"/browse/{kind}{ext}")
        assert response.status_code == 200
        assert response.mimetype == ("text/csv" if ext == ".csv" else "text/tab-separated-values")
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True)), delimiter=delimiter))
        assert {r["iri"] for r in rows} == expected
        assert all(r["findings"].isdigit() for r in rows)


@pytest.mark.parametrize("accept, media_type", [("text/csv", "text/csv"),
                                                ("text/tab-separated-values", "text/tab-separated-values"),
                                                ("text/html", "text/html"), ("*/*", "text/html")])
def test_browse_negotiates_by_accept(client, accept, media_type):
    response = client.get("/browse/pathway", headers={"Accept": accept})
    assert response.mimetype == media_type
    assert "Accept" in response.headers["Vary"]


def test_browse_counts_the_findings_of_a_cargo(client, union):
    iri, n = select(union, """SELECT ?m (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f exo:hasCargo ?m }
                              GROUP BY ?m ORDER BY DESC(?n) ?m LIMIT 1""")[0]
    rows = csv.DictReader(io.StringIO(client.get("/browse/molecule", query_string={"format": "csv"}).get_data(as_text=True)))
    assert int(next(r for r in rows if r["iri"] == iri)["findings"]) >= int(n)


@pytest.mark.parametrize("url, status", [("/browse/nothing", 404), ("/browse/molecule.xlsx", 400),
                                         ("/browse/molecule?format=pdf", 400)])
def test_browse_client_mistakes(client, url, status):
    assert client.get(url).status_code == status


# --- downloads -------------------------------------------------------------------------------------------

def test_downloads_list_every_dump_with_its_checksum(client, build_dir):
    html = page(client, "/downloads")
    listed = re.findall(r'<tr id="dump-([^"]+)">.*?<td class="num bytes">(\d+)</td>.*?<code class="sha256">([0-9a-f]{64})</code>',
                        html, re.S)
    names = {name for name, _, _ in listed}
    assert {"exokg.trig", "exokg.nt", "exokg.ttl", "exokg.jsonld", "ontology.ttl", "ontology.owl", "void.ttl"} <= names
    for name, size, digest in listed:
        data = (build_dir / name).read_bytes()
        assert int(size) == len(data), name
        assert digest == hashlib.sha256(data).hexdigest(), name
    assert "/.well-known/void" in html and "creativecommons.org/licenses/by/4.0" in html


@pytest.mark.parametrize("name", ["exokg.nt", "void.ttl", "ontology.ttl"])
@pytest.mark.parametrize("prefix", ["/dumps/", "/download/"])
def test_dumps_are_served_as_built(client, build_dir, name, prefix):
    response = client.get(prefix + name)
    assert response.status_code == 200
    assert response.data == (build_dir / name).read_bytes()
    response.close()


@pytest.mark.parametrize("name", ["..%2Fexokg.trig", "../../etc/passwd", "settings.py", ".exokg.trig", "exokg.trig.bak",
                                  "oxigraph"])
def test_only_known_dumps_are_served(client, name):
    assert client.get("/dumps/" + name).status_code == 404


# --- cite ------------------------------------------------------------------------------------------------

def test_cite_page_names_dataset_version_and_review(client):
    html = page(client, "/cite")
    assert exokg.__version__ in html
    assert "This article reviews the role of TEXs in glioma progression" in html


def test_citation_cff_matches_the_package_and_the_review():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert cff["version"] == exokg.__version__
    assert cff["license"] == "CC-BY-4.0"
    review = REVIEW_TEXT.read_text(encoding="utf-8")
    for quoted in re.findall(r'"([^"]{20,})"', cff["abstract"]):  # quotes from the review are the review's words
        assert " ".join(quoted.split()) in " ".join(review.split())
    if "doi" in cff:  # a DOI only if the review text carries it
        assert cff["doi"] in review


# --- escaping --------------------------------------------------------------------------------------------

EVIL = "<script>alert('exokg')</script>"
TINY = f"""@prefix exo: <{BASE}vocab/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<{BASE}graph/ontology> {{ exo:MicroRNA rdfs:label "microRNA <b>class</b>"@en . }}
<{BASE}graph/asserted> {{
  <{BASE}molecule/evil> a exo:MicroRNA ; rdfs:label "{EVIL}"@en ; skos:altLabel "evil-synonym" .
  <{BASE}population/evil-cells> rdfs:label "cells <img src=x onerror=alert(1)>"@en .
  <{BASE}finding/EVIL-001> a exo:TableFinding ; rdfs:label "EVIL-001: {EVIL}"@en ; exo:hasContext exo:evil-context ;
      exo:hasCargo <{BASE}molecule/evil> ; exo:hasTarget <{BASE}molecule/evil> ;
      exo:hasDonorPopulation <{BASE}population/evil-cells> ; exo:supportingQuote "{EVIL}" .
  exo:evil-context rdfs:label "{EVIL}"@en .
}}
<{BASE}graph/inferred> {{ <{BASE}finding/EVIL-001> a exo:Finding . }}
"""
TINY_VOID = f"""@prefix void: <http://rdfs.org/ns/void#> . @prefix dcterms: <http://purl.org/dc/terms/> .
<{BASE}dataset> a void:Dataset ; void:triples 14 ; dcterms:title "{EVIL}" ;
  void:subset <{BASE}dataset/graph/ontology>, <{BASE}dataset/graph/asserted>, <{BASE}dataset/graph/inferred> .
<{BASE}dataset/graph/ontology> dcterms:identifier <{BASE}graph/ontology> ; void:triples 1 .
<{BASE}dataset/graph/asserted> dcterms:identifier <{BASE}graph/asserted> ; void:triples 12 .
<{BASE}dataset/graph/inferred> dcterms:identifier <{BASE}graph/inferred> ; void:triples 1 .
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    data = tmp_path_factory.mktemp("tiny")
    (data / "exokg.trig").write_text(TINY, encoding="utf-8")
    (data / "void.ttl").write_text(TINY_VOID, encoding="utf-8")
    app = create_app({"EXOKG_DATA": str(data), "TESTING": True})
    yield app.test_client()
    close_pool(app)


@pytest.mark.parametrize("url, status", [
    ("/", 200), ("/molecule/evil", 200), ("/finding/EVIL-001", 200), ("/population/evil-cells", 200),
    ("/vocab/MicroRNA", 200), ("/search?q=evil", 200), ("/search?q=%3Cscript%3E", 200), ("/browse/molecule", 200),
    ("/browse/finding", 200), ("/dataset", 200), ("/molecule/%3Cscript%3E", 404)])
def test_data_is_escaped(tiny, url, status):
    response = tiny.get(url, headers={"Accept": "text/html"})
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert "<script>" not in html
    assert "<img src=x" not in html and "<b>class</b>" not in html
    assert "&lt;script&gt;" in html or "&lt;img" in html or "&lt;b&gt;" in html


def test_search_json_keeps_the_label_as_data(tiny):
    results = tiny.get("/search", query_string={"q": "evil-synonym", "format": "json"}).get_json()["results"]
    assert results[0]["label"] == EVIL  # JSON carries the text; escaping is the HTML's business


def test_tiny_label_reaches_rdf_unchanged(tiny):
    from rdflib import Graph

    graph = Graph().parse(data=tiny.get("/molecule/evil", headers={"Accept": "text/turtle"}).data, format="turtle")
    assert str(graph.value(URIRef(BASE + "molecule/evil"), RDFS.label)) == EVIL
