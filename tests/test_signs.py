"""Signed mechanism steps, tumour outcomes, unspecified cargo and the reasoning over signs.

Expectations are written from the review (graph/source/review.txt), not read back from the build: TME-006
"MiR-1246 could activate the STAT3 signaling pathway and repress NF-κB signaling ... via targeting TERF2IP"
[80]; CD73+ TDEVs "inhibit cell cycle entry and clonal proliferation of T cells" and their loss "repressed
tumor growth" [75]; Table 1 and Table 3 give "miRNAs" without naming one, Tables 1 and 3 give '/' for two
rows, the running text gives unnamed miRNAs (GSC-EV) and small nuclear RNA.
"""

from __future__ import annotations

import shutil

import pytest
from rdflib import Graph, Literal, URIRef

from conftest import select
from exokg.config import EXO, GRAPH_DIR
from exokg.graph.curated import CurationError, load
from exokg.ontology.signs import Step, compose, multiply, reason_over_signs, relations

F = "https://w3id.org/exokg/finding/"


def _signs(union, finding: str) -> set[tuple[str, str, str]]:
    rows = select(union, f"""SELECT ?s ?sign ?o WHERE {{ <{F}{finding}> exo:hasSignedStep ?st .
        ?st exo:statementSubject/rdfs:label ?s ; exo:hasSign ?g ; exo:statementObject/rdfs:label ?o .
        BIND(STRAFTER(STR(?g), "vocab/") AS ?sign) }}""")
    return set(rows)


@pytest.mark.parametrize("finding, expected", [
    ("TME-006", {("miR-1246", "negative", "TERF2IP"), ("miR-1246", "positive", "STAT3 signaling"),
                 ("miR-1246", "negative", "NF-κB signaling")}),
    # "promoting the expression of c-Myc and cyclin E through downregulation of FBXW7" [100]
    ("CHEMO-009", {("miR-25-3p", "negative", "FBXW7"), ("miR-25-3p", "positive", "c-Myc"),
                   ("miR-25-3p", "positive", "cyclin E"), ("FBXW7", "negative", "c-Myc"), ("FBXW7", "negative", "cyclin E")}),
    # "upregulate the expression of VEGFA and TGFβ, promote the expression of Bcl-2, and inhibit the expression
    # of Bax and caspase-3" [126]
    ("ANG-002", {("linc-CCAT2", "positive", "VEGF-A"), ("linc-CCAT2", "positive", "TGF-β"), ("linc-CCAT2", "positive", "Bcl-2"),
                 ("linc-CCAT2", "negative", "Bax"), ("linc-CCAT2", "negative", "caspase-3")}),
    # "circ-NEIL3 stabilizes ... IGF2BP3 by blocking HECTD4-mediated ubiquitination" [82]
    ("TME-008", {("circNEIL3", "negative", "HECTD4"), ("HECTD4", "unsigned", "IGF2BP3"), ("circNEIL3", "positive", "IGF2BP3")}),
])
def test_signed_steps_follow_the_review(union, finding, expected):
    assert _signs(union, finding) == expected


def test_tme006_parallel_steps_stay_parallel_with_opposite_signs(union):
    rows = select(union, f"""SELECT ?i ?o ?w WHERE {{ <{F}TME-006> exo:hasSignedStep ?s .
        ?s exo:chainPosition ?i ; exo:statementObject/rdfs:label ?o ; exo:relationWord ?w }}""")
    assert set(rows) == {("1", "TERF2IP", "targets"), ("2", "STAT3 signaling", "activates"), ("2", "NF-κB signaling", "inhibits")}


def test_tme006_steps_carry_their_own_quote(union):
    rows = select(union, f"""SELECT ?q WHERE {{ <{F}TME-006> exo:hasSignedStep ?s . ?s exo:statementObject/rdfs:label "NF-κB signaling"@en ;
        exo:supportingQuote ?q }}""")
    assert rows and "repress NF-κB" in rows[0][0]


def test_the_relation_itself_is_asserted_with_ro_where_ro_has_one(union):
    # ubiquitinates is RO's own relation (RO:0002480); sponges is ours, a sub-property of RO:0002436
    assert union.query("ASK { <https://w3id.org/exokg/molecule/HECTD4> obo:RO_0002480 <https://w3id.org/exokg/molecule/IGF2BP3> }",
                       initNs={"obo": "http://purl.obolibrary.org/obo/"}).askAnswer
    assert select(union, "SELECT ?p WHERE { exo:sponges rdfs:subPropertyOf ?p }") == [("http://purl.obolibrary.org/obo/RO_0002436",)]


def test_cd73_inhibits_t_cells_and_so_helps_the_tumour(union):
    effect = select(union, f"""SELECT ?d ?p ?pop WHERE {{ <{F}TME-003> exo:hasEffect ?e . ?e exo:hasDirection/rdfs:label ?d ;
        exo:affectsProcess/rdfs:label ?p ; exo:effectIn/rdfs:label ?pop }}""")
    assert ("inhibits", "cell proliferation", "T cells") in effect
    outcome = select(union, f"""SELECT ?out ?basis WHERE {{ <{F}TME-003> exo:hasOutcome ?o . ?o exo:tumourOutcome ?out ;
        exo:outcomeBasis/exo:hasDirection/rdfs:label ?basis ; exo:outcomeReason ?why }}""")
    assert outcome == [("https://w3id.org/exokg/vocab/pro-tumour", "inhibits")]


def test_every_finding_states_its_outcome(union):
    missing = select(union, "SELECT ?f WHERE { ?f a exo:Finding FILTER NOT EXISTS { ?f exo:hasOutcome ?o } }")
    assert missing == []


def test_mif_table_and_text_outcomes_are_a_listed_conflict(union):
    rows = select(union, f"""SELECT ?k WHERE {{ ?c a exo:SignConflict ; exo:conflictKind ?k ; exo:conflictingStatement ?o .
        <{F}CHEMO-004> exo:hasOutcome ?o }}""")
    assert ("opposite tumour outcomes",) in rows
    outcomes = select(union, f"SELECT ?out WHERE {{ <{F}CHEMO-004> exo:hasOutcome/exo:tumourOutcome/rdfs:label ?out }}")
    assert sorted(outcomes) == [("anti-tumour",), ("pro-tumour",)]  # both kept, not merged


# --- unspecified cargo -------------------------------------------------------------------------
UNSPECIFIED = {"TME-001": "MicroRNA", "CHEMO-003": "MicroRNA", "TXT-008": "MicroRNA", "TXT-005": "SmallNuclearRNA",
               "TME-002": None, "CHEMO-001": None}


def test_unspecified_cargo_is_its_own_node_per_finding(union):
    rows = select(union, "SELECT ?f ?c WHERE { ?f exo:hasUnspecifiedCargo ?c }")
    assert {f.rsplit("/", 1)[-1] for f, _ in rows} == set(UNSPECIFIED)
    assert len({c for _, c in rows}) == len(UNSPECIFIED)


@pytest.mark.parametrize("finding, kind", sorted(UNSPECIFIED.items()))
def test_unspecified_cargo_is_typed_by_its_kind_and_never_a_named_molecule(union, finding, kind):
    node = f"{F}{finding}/unspecified-cargo"
    kinds = select(union, f"SELECT ?k WHERE {{ <{node}> exo:unspecifiedKind ?k }}")
    assert kinds == ([(str(EXO[kind]),)] if kind else [])
    types = {t for (t,) in select(union, f"SELECT ?t WHERE {{ <{node}> a ?t }}")}
    assert str(EXO.UnspecifiedCargo) in types
    assert not types & {str(EXO.MicroRNA), str(EXO.MolecularEntity), str(EXO.SmallNuclearRNA)}


def test_named_mirna_counts_leave_unspecified_cargo_out(union):
    # Table cargos the review names as miRNAs: Table 1 miR-10a, miR-21, miR-214-5p, miR-1246, miR-155-3p (5);
    # Table 2 miR-301a (6); Table 3 miR-221, miR-151a, miR-1238, miR-25-3p (10); Table 4 miR-148a, miR-375,
    # miR-10b-5p, and miR-1246 again (13); Table 5 miR-26a, miR-182-5p, miR-148a-3p, miR-944, and miR-21 again
    # (17). The "miRNAs" of TME-001 and CHEMO-003 are not among them.
    rows = select(union, "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?f a exo:TableFinding ; exo:hasCargo ?m . ?m a exo:MicroRNA }")
    assert rows == [("17",)]


# --- composition and conflicts ---------------------------------------------------------------------
def test_mir21_ends_up_activating_pi3k_akt_with_its_derivation(union):
    rows = select(union, """SELECT ?d ?f WHERE { ?n a exo:NetEffect ; exo:statementSubject <https://w3id.org/exokg/molecule/miR-21> ;
        exo:statementObject <https://w3id.org/exokg/pathway/PI3K-Akt-signaling> ; exo:hasSign exo:positive ;
        exo:derivation ?d ; exo:derivedFromFinding ?f }""")
    assert {f.rsplit("/", 1)[-1] for _, f in rows} >= {"TME-004", "ANG-005"}
    assert any("PTEN" in d for d, _ in rows)


def _step(name: str, s: str, o: str, sign: str, finding: str = "F-1") -> Step:
    return Step(URIRef(f"urn:step:{name}"), URIRef(f"urn:e:{s}"), URIRef(f"urn:e:{o}"), sign, URIRef(f"urn:f:{finding}"), "text", name)


@pytest.mark.parametrize("a, b, product", [("positive", "positive", "positive"), ("negative", "negative", "positive"),
                                           ("positive", "negative", "negative"), ("negative", "positive", "negative"),
                                           ("unsigned", "positive", "unsigned")])
def test_signs_multiply(a, b, product):
    assert multiply(a, b) == product


def test_composition_stops_at_unsigned_steps_and_never_revisits_a_node():
    steps = [_step("1", "A", "B", "negative"), _step("2", "B", "C", "negative"), _step("3", "C", "D", "unsigned"),
             _step("4", "C", "A", "positive")]
    nets = {(str(n.subject)[-1], n.sign, str(n.object)[-1]) for n in compose(steps)}
    assert ("A", "positive", "C") in nets  # ⊣ ⊣ = →
    assert not any(o == "D" for _, _, o in nets)  # the unsigned step ends the chain
    assert not any(s == o for s, _, o in nets)  # the loop back to A is not a net effect of A on itself


def test_opposite_signs_between_two_findings_are_listed_not_merged():
    g = Graph()
    g.parse(data=(GRAPH_DIR.parent / "tests" / "data" / "signs" / "conflicting-steps.ttl").read_text(), format="turtle")
    result = reason_over_signs(g)
    kinds = [c.kind for c in result.conflicts]
    assert kinds.count("opposite stated signs") == 1
    assert "conflict 1: opposite stated signs" in result.report()
    assert len(list(result.graph.subjects(None, EXO.SignConflict))) == 1


# --- the curated files ------------------------------------------------------------------------------
def test_the_registry_relations_are_declared_in_the_ontology():
    from exokg.ontology.signs import iri
    from exokg.ontology.vocabulary import load_ontology
    from rdflib.namespace import OWL, RDF
    onto = load_ontology()
    for relation in relations().values():
        assert (iri(relation.property), RDF.type, OWL.ObjectProperty) in onto, relation.word


@pytest.mark.parametrize("cell, message", [
    ("cargo\tpromotes\tPTEN", "relation 'promotes' is not one of"),
    ("cargo\ttargets\tnot-an-entity", "unknown object 'not-an-entity'"),
    ("PTEN\ttargets\tRORA", "'targets' is a microRNA's relation"),
])
def test_a_bad_step_is_reported_with_its_file_and_line(tmp_path, cell, message):
    copy = tmp_path / "graph"
    shutil.copytree(GRAPH_DIR, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = copy / "mechanisms" / "steps.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    subject, relation, obj = cell.split("\t")
    lines.append("\t".join(["TME-004", "1", subject, relation, obj, "", "text", "by targeting RORA and PTEN", ""]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CurationError) as caught:
        load(copy)
    assert any(p.origin.line == len(lines) and message in p.message for p in caught.value.problems), caught.value


# --- pages ----------------------------------------------------------------------------------------------
def test_the_chain_diagram_draws_signs_and_whole_labels(client):
    page = client.get("/finding/TME-006", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "M2 macrophage polarization</text>" in page  # whole, not 'M2 macrophage polarizat…'
    assert "…</text>" not in page.split("<svg", 1)[1].rsplit("</svg>", 1)[0]
    # miR-1246 → STAT3 signalling is an arrow, miR-1246 ⊣ NF-κB signalling a bar-headed line
    assert 'marker-end="url(#activates)" class="positive"><title>positive: activates</title>' in page
    assert 'marker-end="url(#inhibits)" class="negative"><title>negative: inhibits</title>' in page


def test_the_most_connected_cargo_chart_counts_named_cargo_only(client):
    page = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    chart = page.split("The cargos named by the most findings", 1)[1].split("</svg>", 1)[0]
    assert "unspecified" not in chart and "miRNAs" not in chart
    assert "miR-21" in chart


def test_exokg_validate_names_the_bad_step_row(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "steps.tsv"
    lines = (GRAPH_DIR / "mechanisms" / "steps.tsv").read_text(encoding="utf-8").splitlines()
    lines.append("\t".join(["TME-006", "2", "cargo", "represses", "STAT3 signaling", "", "text", "via targeting TERF2IP", ""]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "exokg", "validate", str(path)], capture_output=True, text=True)
    assert run.returncode == 1
    assert f"steps.tsv:{len(lines)}: relation 'represses' is not one of" in run.stdout + run.stderr
