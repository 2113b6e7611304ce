"""The reasoning step: inference queries, consistency failures with their explanation, exports.

Expectations live in the data files under tests/data/reason/ (see its README): every inference query
states the answers inference adds, worked out from the curated rows and the review.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import OWL, RDF
from rdflib.plugins.sparql import prepareQuery

from exokg.build import assemble
from exokg.cli import main
from exokg.config import BASE, EXO, GRAPH, ONTOLOGY_FILE, PREFIXES
from exokg.graph.curated import CurationError
from exokg.ontology.clashes import InconsistentGraph
from exokg.ontology.reason import reason
from exokg.ontology.relations import RELATION_COLUMNS, relation_triples
from exokg.ontology.rules import compile_rules, short

DATA = Path(__file__).parent / "data" / "reason"
QUERIES = sorted((DATA / "queries").glob("*.rq"))
INCONSISTENT = sorted((DATA / "inconsistent").glob("*.ttl"))
SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


def expectations(path: Path, key: str) -> list[str]:
    """The values of the ``# key:`` header lines of a data file."""
    return [m.group(1).strip() for m in re.finditer(rf"^# {key}:(.*)$", path.read_text(encoding="utf-8"), re.M)]


def answers(graph: Graph, query: str) -> set[str]:
    return {" | ".join(short(term) for term in row) for row in graph.query(SPARQL_PREFIXES + query)}


@pytest.fixture(scope="module")
def named_graphs(build_dir) -> dict[str, Graph]:
    # The sorted N-Quads end each line with its graph: split them into N-Triples per named graph (rdflib
    # 7.6's Dataset.parse warns about its own deprecated API).
    lines: dict[str, list[str]] = {name: [] for name in ("ontology", "asserted", "inferred")}
    for line in (build_dir / "exokg.nq").read_text(encoding="utf-8").splitlines():
        triple, _, graph = line[: -len(" .")].rpartition(" ")
        lines[graph.strip("<>")[len(str(GRAPH)):]].append(triple + " .")
    return {name: Graph().parse(data="\n".join(rows), format="nt") for name, rows in lines.items()}


@pytest.fixture(scope="module")
def without_inference(named_graphs) -> Graph:
    return named_graphs["ontology"] + named_graphs["asserted"]


@pytest.fixture(scope="module")
def with_inference(without_inference, named_graphs) -> Graph:
    return without_inference + named_graphs["inferred"]


@pytest.fixture(scope="module")
def review_graphs():
    """The review's graphs as the build assembles them, before reasoning (shared, not modified)."""
    graphs, _ = assemble()
    return graphs


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_inference_adds_exactly_the_expected_answers(path, without_inference, with_inference):
    query = path.read_text(encoding="utf-8")
    plain, inferred = answers(without_inference, query), answers(with_inference, query)
    assert plain <= inferred
    assert inferred - plain == set(expectations(path, "extra"))
    if expectations(path, "asserted"):
        assert plain == set(expectations(path, "asserted"))


def test_at_least_eight_queries_grow_with_inference():
    assert len([p for p in QUERIES if expectations(p, "extra")]) >= 8


def test_inferred_graph_is_apart_from_asserted_and_has_no_blank_nodes(named_graphs):
    inferred = named_graphs["inferred"]
    assert len(inferred) > 0
    assert not set(inferred) & set(named_graphs["asserted"])
    assert not [t for t in inferred if any(isinstance(term, BNode) for term in t)]


@pytest.fixture(scope="module")
def reason_output() -> tuple[int, str]:
    """`exokg reason` on the review graph: the one extra HermiT run of this module."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["reason"])
    return code, out.getvalue()


def test_reason_command_reports_verdict_hierarchy_counts_and_time(reason_output):
    code, text = reason_output
    assert code == 0
    assert text.startswith("consistent: yes (OWL 2 RL rules and HermiT)")
    # HermiT classifies the defined classes under their genus (not asserted in the TBox).
    assert "  exo:TumorDerivedExosome ⊑ exo:SmallExtracellularVesicle" in text
    assert re.search(r"^  exo:modulatesPathway +2$", text, re.M)  # miR-10a and miR-21 → PI3K/Akt
    assert re.search(r"^time: rules [0-9.]+ s, hermit [0-9.]+ s", text, re.M)
    # HermiT's individual types are all among the rules' entailments.
    assert "types HermiT found that the rules missed" not in text


@pytest.mark.parametrize("path", INCONSISTENT, ids=lambda p: p.stem)
def test_inconsistent_input_is_explained(path, review_graphs):
    needs_hermit = any("HermiT" in line for line in expectations(path, "expect-clash"))
    extra = {str(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path):
             Graph().parse(path, format="turtle")}
    with pytest.raises(InconsistentGraph) as caught:
        reason(review_graphs, extra=extra, use_hermit=needs_hermit)
    text = str(caught.value)
    for key in ("expect-clash", "expect-axiom", "expect-row"):
        for expected in expectations(path, key):
            assert expected in text
    if not needs_hermit:
        assert path.name in text  # the added file is named as a source of the clash


def test_inconsistent_input_stops_the_command_with_the_explanation(capsys):
    path = DATA / "inconsistent" / "cargo-mirna-and-circrna.ttl"
    assert main(["reason", "--no-hermit", "--add", str(path)]) == 1
    err = capsys.readouterr().err
    assert "clash 1: molecule/miR-21 is both exo:MicroRNA and exo:CircRNA, which are disjoint" in err
    assert "graph/vocabulary/entities.tsv:" in err


def test_part_of_is_transitive(review_graphs):
    path = DATA / "part-of-chain.ttl"
    result = reason(review_graphs, extra={path.name: Graph().parse(path, format="turtle")}, use_hermit=False)
    found = {f"{short(s)} exo:partOf {short(o)}" for s, o in result.inferred.subject_objects(EXO.partOf)}
    assert found == set(expectations(path, "expect"))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("tubulization\texo:partOf\tangiogenesis\tnot a sentence of the review\t", "quote not found"),
        ("tube making\texo:partOf\tangiogenesis\tform lumen with pericytes\t", "unknown subject 'tube making'"),
        ("tubulization\texo:causes\tangiogenesis\tform lumen with pericytes\t", "predicate 'exo:causes'"),
        ("tubulization\texo:partOf\tangiogenesis", "expected 5 columns"),
    ],
)
def test_bad_relation_rows_are_reported(row, message, tmp_path):
    from exokg.graph import curated

    path = tmp_path / "relations.tsv"
    path.write_text("\t".join(RELATION_COLUMNS) + "\n" + row + "\n", encoding="utf-8")
    with pytest.raises(CurationError) as caught:
        relation_triples(curated.load(), path=path)
    assert any(message in str(problem) and ":2" in str(problem) for problem in caught.value.problems)


def test_rule_export_is_sparql_and_deterministic(tmp_path, review_graphs):
    first, second = tmp_path / "a.rq", tmp_path / "b.rq"
    for path in (first, second):
        rules = compile_rules(review_graphs["ontology"]).rules
        path.write_text("\n".join(rule.construct_text() for rule in rules), encoding="utf-8")
    assert first.read_bytes() == second.read_bytes()
    queries = first.read_text(encoding="utf-8").split("\n# ")
    assert len(queries) == len(rules)
    for text in queries:
        prepareQuery(text if text.startswith("#") else "# " + text)


def test_owl_xml_export_declares_every_class_and_axiom_kind(build_dir):
    tbox = Graph().parse(ONTOLOGY_FILE, format="turtle")
    root = ET.parse(build_dir / "ontology.owx").getroot()
    ns = {"owl": str(OWL)}
    assert root.get("ontologyIRI") == BASE + "vocab"
    declared = {e.get("IRI") or e.get("abbreviatedIRI") for e in root.findall("owl:Declaration/owl:Class", ns)}
    declared = {d.replace("exo:", str(EXO)) for d in declared if d}
    classes = {str(c) for c in tbox.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    assert classes <= declared
    named_equivalences = {c for c in tbox.subjects(OWL.equivalentClass, None) if isinstance(c, URIRef)}
    assert len(root.findall("owl:EquivalentClasses", ns)) == len(named_equivalences)
    assert len(root.findall("owl:SubObjectPropertyOf/owl:ObjectPropertyChain", ns)) == 1
    assert len(root.findall("owl:TransitiveObjectProperty", ns)) == 1


def test_inconsistent_graph_stops_the_build_and_keeps_the_previous_output(monkeypatch, tmp_path, capsys):
    import exokg.build

    path = DATA / "inconsistent" / "vesicle-exosome-and-microvesicle.ttl"
    graphs, corpus = assemble()
    graphs["asserted"] += Graph().parse(path, format="turtle")
    monkeypatch.setattr(exokg.build, "assemble", lambda *args, **kwargs: (graphs, corpus))
    out = tmp_path / "build"
    out.mkdir()
    (out / "previous.txt").write_text("the last good build", encoding="utf-8")
    assert main(["build", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "vesicle/TME-004 is both exo:SmallExtracellularVesicle and exo:Microvesicle" in err
    assert "graph/tables/table1_tumor_microenvironment.tsv:5" in err
    assert [p.name for p in out.iterdir()] == ["previous.txt"]


@pytest.mark.parametrize("operator", [None, "-Xmx3g"])
def test_quick_jvm_options_are_set_only_meanwhile_and_never_over_the_operators(monkeypatch, operator):
    from exokg.ontology.hermit import QUICK_JVM_OPTIONS, jvm_options

    if operator is None:
        monkeypatch.delenv("JDK_JAVA_OPTIONS", raising=False)
    else:
        monkeypatch.setenv("JDK_JAVA_OPTIONS", operator)
    with jvm_options(QUICK_JVM_OPTIONS):
        assert os.environ["JDK_JAVA_OPTIONS"] == (operator or " ".join(QUICK_JVM_OPTIONS))
    assert os.environ.get("JDK_JAVA_OPTIONS") == operator
