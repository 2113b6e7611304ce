"""The KGX export (exokg_kgx_nodes.tsv, exokg_kgx_edges.tsv): what `kgx validate` says of it, offline.

kgx (the Biolink Model's own exchange tool) and bmt fetch the Biolink Model YAML, its predicate map and
a JSON-LD context from GitHub when they start. Tests have no network, so the validator here is given the
copies the ``biolink-model`` package ships (schema 4.x and its prefix map) plus this graph's own prefixes
(exokg.identifiers.OWN_PREFIXES, the way a knowledge graph declares its local namespace), and is otherwise
kgx's unchanged ``Validator`` run as ``kgx validate`` runs it.
"""

from __future__ import annotations

import csv
import importlib.resources
import io
import json
import re
import warnings
from pathlib import Path

import bioregistry
import pytest
from rdflib import Graph
from rdflib.namespace import RDF

from exokg.config import EXO, GRAPH
from exokg.graph import curated
from exokg.identifiers import OWN_PREFIXES, own, parse
from exokg.kgx import (
    CATEGORIES, DIRECTIONS, EDGE_COLUMNS, EDGES_FILE, NODE_COLUMNS, NODES_FILE, PREDICATES, kgx_tsv,
)
from exokg.mappings import entity_iri

# kgx 2.6 checks category names against ^([A-Z][a-z\d]+)+$, which Biolink's own MicroRNA and
# NoncodingRNAProduct fail (an acronym is not CamelCase to it). Such a message is dropped only when the
# Biolink Model itself declares the category; any other error fails the test.
KGX_CAMELCASE = re.compile(r"Category '(\w+)' is not in CamelCase form")


def read_tsv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8")), delimiter="\t"))


@pytest.fixture(scope="module")
def biolink():
    """kgx's Validator and Transformer and a bmt Toolkit, all reading the packaged Biolink Model."""
    files = importlib.resources.files("biolink_model")
    schema = str(files / "schema" / "biolink_model.yaml")
    context = json.loads((files / "prefixmaps" / "biolink-model-prefix-map.json").read_text(encoding="utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kgx, bmt and linkml deprecation notices on import: not ours to fix
        import bmt

        defaults = bmt.Toolkit.__init__.__defaults__
        # kgx makes its Toolkits with bmt's defaults (URLs): the packaged schema instead, and no predicate
        # map (only bmt's predicate-mapping helpers need it, not validation).
        bmt.Toolkit.__init__.__defaults__ = (schema, {"predicate mappings": []})
        import kgx.config
        from kgx.transformer import Transformer
        from kgx.validator import Validator

        kgx.config.jsonld_context_map["biolink"] = context | OWN_PREFIXES
        toolkit = bmt.Toolkit()
    yield Validator, Transformer, toolkit
    bmt.Toolkit.__init__.__defaults__ = defaults


def kgx_errors(biolink, nodes: Path, edges: Path) -> dict:
    """What `kgx validate -i tsv NODES EDGES` reports, less kgx's CamelCase false positive (see above)."""
    validator_class, transformer_class, toolkit = biolink
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        validator = validator_class()
        transformer_class(stream=True).transform(
            input_args={"filename": [str(nodes), str(edges)], "format": "tsv"},
            output_args={"format": "null"},
            inspector=validator,
        )
        errors = validator.get_errors()
    categories = errors.get("ERROR", {}).get("INVALID_CATEGORY", {})
    for message in list(categories):
        match = KGX_CAMELCASE.fullmatch(message)
        if match and toolkit.is_category(match.group(1)):
            del categories[message]
    return {level: {kind: msgs for kind, msgs in by_kind.items() if msgs}
            for level, by_kind in errors.items() if any(by_kind.values())}


@pytest.fixture(scope="module")
def nodes(build_dir) -> list[dict[str, str]]:
    return read_tsv((build_dir / NODES_FILE).read_bytes())


@pytest.fixture(scope="module")
def edges(build_dir) -> list[dict[str, str]]:
    return read_tsv((build_dir / EDGES_FILE).read_bytes())


# --- kgx validate -----------------------------------------------------------------------------------------

def test_kgx_validate_accepts_the_export(biolink, build_dir):
    assert kgx_errors(biolink, build_dir / NODES_FILE, build_dir / EDGES_FILE) == {}


BREAKAGES = {  # (file, text in it, replacement, the error kgx must report)
    "unknown category": (NODES_FILE, "\tbiolink:Cell\t", "\tbiolink:CellPopulation\t", "INVALID_CATEGORY"),
    "unknown predicate": (EDGES_FILE, "\tbiolink:produces\t", "\tbiolink:secretes\t", "INVALID_EDGE_PREDICATE"),
    "prefix outside Biolink and ours": (NODES_FILE, "\nexokg.drug:", "\nmystery:", "INVALID_NODE_PROPERTY_VALUE"),
    "missing knowledge level": (EDGES_FILE, "\tknowledge_assertion\t", "\t\t", "MISSING_EDGE_PROPERTY"),
}


@pytest.mark.parametrize("breakage", BREAKAGES, ids=list(BREAKAGES))
def test_kgx_validate_reports_a_broken_export(breakage, biolink, build_dir, tmp_path):
    name, old, new, kind = BREAKAGES[breakage]
    for file in (NODES_FILE, EDGES_FILE):
        text = (build_dir / file).read_text(encoding="utf-8")
        if file == name:
            assert old in text
            text = text.replace(old, new, 1)
        (tmp_path / file).write_text(text, encoding="utf-8")
    assert kind in kgx_errors(biolink, tmp_path / NODES_FILE, tmp_path / EDGES_FILE).get("ERROR", {})


# --- the Biolink terms the export uses ----------------------------------------------------------------------

@pytest.mark.parametrize("ours,category", CATEGORIES, ids=[c[0] for c in CATEGORIES])
def test_each_category_is_a_biolink_class(ours, category, biolink):
    assert biolink[2].is_category(category.removeprefix("biolink:"))


@pytest.mark.parametrize("ours", sorted(PREDICATES))
def test_each_predicate_is_a_biolink_predicate(ours, biolink):
    assert biolink[2].is_predicate(PREDICATES[ours].removeprefix("biolink:"))


def test_directions_cover_the_ontology_and_are_biolink_values(biolink, union):
    ours = {str(d)[len(str(EXO)):] for d in union.subjects(RDF.type, EXO.Direction)}
    assert set(DIRECTIONS) == ours
    allowed = set(biolink[2].view.get_enum("DirectionQualifierEnum").permissible_values)
    assert {v for v in DIRECTIONS.values() if v} <= allowed


# --- the content ------------------------------------------------------------------------------------------

def test_columns(nodes, edges):
    assert list(nodes[0]) == NODE_COLUMNS and list(edges[0]) == EDGE_COLUMNS


def test_every_entity_population_and_vesicle_is_a_node(nodes):
    corpus = curated.load()
    ids = [n["id"] for n in nodes]
    assert len(ids) == len(set(ids))
    expected = {own(entity_iri(corpus, key)).written for key in corpus.entities}
    expected |= {f"exokg.population:{key}" for key in corpus.populations}
    expected |= {f"exokg.vesicle:{f.id}" for f in corpus.findings}
    assert expected - set(ids) == set()


def test_edges_join_nodes(nodes, edges):
    ids = {n["id"] for n in nodes}
    assert [e["id"] for e in edges if e["subject"] not in ids or e["object"] not in ids] == []
    assert len({e["id"] for e in edges}) == len(edges)


def test_xrefs_are_the_verified_exact_matches(nodes):
    corpus = curated.load()
    exact = {}
    for xref in corpus.xrefs:
        if xref.predicate == "skos:exactMatch" and not xref.subject.startswith("exo:"):
            exact.setdefault(own(entity_iri(corpus, xref.subject)).written, set()).add(xref.curie.written)
    found = {n["id"]: set(filter(None, n["xref"].split("|"))) for n in nodes}
    assert {node: found.get(node) for node in exact} == exact
    for curies in found.values():
        for curie in curies:
            parse(curie)  # the same Bioregistry-checked prefixes as the SSSOM file and the RDF dumps


def test_a_finding_becomes_directed_effect_edges(edges):
    """TME-004: miR-21 in hypoxic glioma exosomes induces MDSC expansion (Table 1)."""
    pair = ("exokg.molecule:miR-21", "exokg.process:MDSC-expansion")
    effect = [e for e in edges if (e["subject"], e["object"]) == pair]
    assert [(e["predicate"], e["object_direction_qualifier"], e["agent_type"]) for e in effect] == [
        ("biolink:affects", "increased", "manual_agent")
    ]


def test_the_export_is_a_function_of_the_built_graphs(build_dir):
    quads = (build_dir / "exokg.nq").read_text(encoding="utf-8").splitlines()
    graphs = {}
    for name in ("ontology", "asserted", "inferred"):
        context = f" <{GRAPH[name]}> ."
        triples = "".join(q[: -len(context)] + " .\n" for q in quads if q.endswith(context))
        graphs[name] = Graph().parse(data=triples, format="nt")
    again = kgx_tsv(graphs)
    assert again[NODES_FILE] == (build_dir / NODES_FILE).read_bytes()
    assert again[EDGES_FILE] == (build_dir / EDGES_FILE).read_bytes()


def test_every_prefix_is_ours_or_the_registrys(nodes, edges):
    """Prefixes come from one place: exokg.identifiers (ours) or the Bioregistry (biolink, infores, HGNC, …)."""
    curies = [n[c] for n in nodes for c in ("id", "category", "provided_by")]
    curies += [x for n in nodes for x in n["xref"].split("|") if x]
    curies += [e[c] for e in edges for c in ("subject", "predicate", "object", "original_predicate",
                                              "primary_knowledge_source")]
    prefixes = {c.split(":", 1)[0] for c in curies}
    assert {p for p in prefixes if p not in OWN_PREFIXES and not bioregistry.normalize_prefix(p)} == set()
