"""Every row of the review's Tables 1–6 is in the graph with its donor, cargo, receiving cell, targets,
effects (with direction), context and reference.

The expectations below were transcribed from the review (graph/source/review.txt), independently of the
curated TSVs: cell types are the ontology classes the review's words denote, targets are the genes and
RNAs of the 'Target' cell other than the cargo itself, effects are (direction, process) pairs.
"""

from __future__ import annotations

import pytest

from conftest import select

P, I, IND, S, R = "promotes", "inhibits", "induces", "stimulates", "regulates"

# id: (context, donor cell type, cargo, receiving cell type, targets, pathways, effects, reference)
TABLES = {
    # Table 1 — tumor microenvironment
    "TME-001": ("tumor-microenvironment", "GlioblastomaCell", set(), "VascularCell", set(), set(),
                {(P, "angiogenesis")}, 74),
    "TME-002": ("tumor-microenvironment", "GliomaCell", set(), "BoneMarrowMesenchymalStemCell", set(), set(),
                {(P, "cell proliferation"), (P, "cell migration"), (P, "cell invasion"), (P, "cell cycle"), (P, "glycolysis")}, 155),
    "TME-003": ("tumor-microenvironment", "GlioblastomaCell", {"CD73"}, "TCell", set(), set(),
                {(I, "cell cycle"), (I, "cell proliferation")}, 75),
    "TME-004": ("tumor-microenvironment", "GliomaCell", {"miR-10a", "miR-21"}, "MyeloidDerivedSuppressorCell",
                {"RORA", "PTEN"}, set(), {(IND, "MDSC expansion"), (IND, "MDSC activation")}, 76),
    "TME-005": ("tumor-microenvironment", "GlioblastomaCell", {"miR-214-5p"}, "MicroglialCell", {"CXCR5"}, set(),
                {(P, "inflammatory response")}, 79),
    "TME-006": ("tumor-microenvironment", "GlioblastomaCell", {"miR-1246"}, "M2Macrophage", {"TERF2IP"},
                {"STAT3 signaling", "NF-κB signaling"}, {(IND, "M2 macrophage polarization")}, 80),
    "TME-007": ("tumor-microenvironment", "GlioblastomaCell", {"miR-155-3p"}, "M2Macrophage", {"IL-6", "STAT3"}, set(),
                {(IND, "M2 macrophage polarization")}, 81),
    "TME-008": ("tumor-microenvironment", "GliomaCell", {"circNEIL3"}, "Macrophage", set(), set(),
                {(IND, "immunosuppression")}, 82),
    # Table 2 — radiation therapy
    "RT-001": ("radiation-therapy", "GlioblastomaCell", {"AHIF"}, "GlioblastomaCell", set(), set(),
               {(R, "cell migration"), (R, "angiogenesis"), (P, "cell survival"), (P, "cell invasion"), (P, "radioresistance")}, 85),
    "RT-002": ("radiation-therapy", "GlioblastomaCell", {"miR-301a"}, "GlioblastomaCell", {"TCEAL7"},
               {"Wnt/β-catenin signaling"}, {(P, "radioresistance")}, 86),
    "RT-003": ("radiation-therapy", "GlioblastomaCell", {"circ-METRN"}, "GlioblastomaCell", {"miR-4709-3p", "GRB14"},
               {"PDGFRα signaling"}, {(P, "radioresistance")}, 103),
    # Table 3 — chemoresistance
    "CHEMO-001": ("chemoresistance", "GlioblastomaCell", set(), "GlioblastomaCell", set(), set(),
                  {(P, "cell migration"), (P, "cell invasion"), (P, "neurosphere growth"), (P, "angiogenesis"), (P, "TMZ resistance")}, 91),
    "CHEMO-002": ("chemoresistance", "GlioblastomaCell", {"Cx43"}, "GlioblastomaCell", set(), set(),
                  {(P, "cell migration"), (P, "cell invasion"), (P, "TMZ resistance")}, 92),
    "CHEMO-003": ("chemoresistance", "GliomaStemCell", set(), "GliomaCell", {"PTEN"},
                  {"PI3K/Akt signaling"}, {(P, "cell migration"), (P, "cell invasion")}, 93),
    "CHEMO-004": ("chemoresistance", "GlioblastomaCell", {"MIF"}, "GlioblastomaCell", {"TIMP3"}, {"PI3K/Akt signaling"},
                  {(P, "TMZ resistance")}, 95),
    "CHEMO-005": ("chemoresistance", "GlioblastomaCell", {"miR-221"}, "GliomaCell", {"RELA", "DNM3"}, set(),
                  {(P, "cell proliferation"), (P, "cell migration"), (P, "TMZ resistance")}, 96),
    "CHEMO-006": ("chemoresistance", "GlioblastomaCell", {"miR-151a"}, "GlioblastomaCell", {"XRCC4"}, set(),
                  {(P, "TMZ resistance")}, 97),
    "CHEMO-007": ("chemoresistance", "GlioblastomaCell", {"miR-1238"}, "GlioblastomaCell", {"CAV1"}, {"EGFR signaling"},
                  {(P, "TMZ resistance")}, 156),
    "CHEMO-008": ("chemoresistance", "GlioblastomaCell", {"SBF2-AS1"}, "GlioblastomaCell", {"miR-151a-3p", "XRCC4"}, set(),
                  {(P, "TMZ resistance")}, 99),
    "CHEMO-009": ("chemoresistance", "GlioblastomaCell", {"miR-25-3p"}, "GlioblastomaCell", {"FBXW7", "c-Myc", "cyclin E"},
                  set(), {(P, "cell proliferation"), (P, "TMZ resistance")}, 100),
    "CHEMO-010": ("chemoresistance", "GlioblastomaCell", {"lnc-TALC"}, "TumorAssociatedMacrophage", {"ENO1"},
                  {"p38 MAPK signaling"}, {(P, "M2 macrophage polarization"), (P, "TMZ resistance")}, 101),
    "CHEMO-011": ("chemoresistance", "GlioblastomaCell", {"circNFIX"}, "GlioblastomaCell", {"miR-132"}, set(),
                  {(P, "cell migration"), (P, "cell invasion"), (P, "TMZ resistance")}, 137),
    "CHEMO-012": ("chemoresistance", "GlioblastomaCell", {"circ-HIPK3"}, "GlioblastomaCell", {"miR-421", "ZIC5"}, set(),
                  {(P, "cell growth"), (P, "cell invasion"), (P, "TMZ resistance")}, 102),
    "CHEMO-013": ("chemoresistance", "GlioblastomaCell", {"circ-007208"}, "GlioblastomaCell",
                  {"miR-1252-5p", "ALKBH5", "NANOG"}, set(), {(P, "cell growth"), (P, "cell invasion"), (P, "TMZ resistance")}, 104),
    "CHEMO-014": ("chemoresistance", "GlioblastomaCell", {"has_circ_0042003"}, "GlioblastomaCell", set(), set(),
                  {(P, "TMZ resistance")}, 105),
    # Table 4 — invasion and metastasis
    "INV-001": ("invasion-and-metastasis", "GliomaCell", {"miR-148a"}, "GliomaCell", {"CADM1"}, {"STAT3 signaling"},
                {(P, "cell proliferation"), (P, "metastasis")}, 114),
    "INV-002": ("invasion-and-metastasis", "GliomaCell", {"lnc-ATB"}, "Astrocyte", {"Ago2", "miR-204-3p"}, set(),
                {(IND, "astrocyte activation")}, 115),
    "INV-003": ("invasion-and-metastasis", "GliomaCell", {"miR-375"}, "GliomaCell", {"CTGF"}, {"EGFR signaling"},
                {(I, "cell proliferation"), (I, "cell invasion")}, 116),
    "INV-004": ("invasion-and-metastasis", "GliomaCell", {"miR-1246", "miR-10b-5p"}, "GliomaCell", {"FRK", "TFAP2A"},
                set(), {(P, "cell migration"), (P, "cell invasion")}, 117),
    "INV-005": ("invasion-and-metastasis", "GliomaCell", {"circ-0001445"}, "GliomaCell", {"miR-127-5p", "SNX5"}, set(),
                {(P, "cell migration"), (P, "cell invasion")}, 118),
    "INV-006": ("invasion-and-metastasis", "GliomaCell", {"circZNF652"}, "GliomaCell", {"miR-486-5p", "SERPINE1"}, set(),
                {(P, "cell migration"), (P, "cell invasion"), (P, "epithelial-mesenchymal transition")}, 93),
    # Table 5 — angiogenesis
    "ANG-001": ("angiogenesis", "GlioblastomaCell", {"VEGF-C"}, "EndothelialCell", {"TAZ"}, {"Hippo signaling"},
                {(S, "cell viability"), (S, "cell migration"), (S, "tubulization")}, 125),
    "ANG-002": ("angiogenesis", "GlioblastomaCell", {"linc-CCAT2"}, "UmbilicalVeinEndothelialCell",
                {"VEGF-A", "TGF-β", "Bcl-2", "Bax", "caspase-3"}, set(),
                {(P, "cell migration"), (P, "cell proliferation"), (P, "tubulization"), (P, "arteriole formation")}, 126),
    "ANG-003": ("angiogenesis", "GliomaStemCell", {"miR-21"}, "EndothelialCell", set(), {"VEGF signaling"},
                {(P, "angiogenesis")}, 127),
    "ANG-004": ("angiogenesis", "GlioblastomaCell", {"VEGF-A"}, "EndothelialCell", set(), set(),
                {(P, "angiogenesis"), (P, "vascular permeability")}, 128),
    "ANG-005": ("angiogenesis", "GliomaStemCell", {"miR-26a"}, "UmbilicalVeinEndothelialCell", {"PTEN"},
                {"PI3K/Akt signaling"}, {(S, "cell viability"), (S, "cell migration"), (S, "tubulization")}, 129),
    "ANG-006": ("angiogenesis", "GlioblastomaCell", {"miR-182-5p"}, "UmbilicalVeinEndothelialCell", {"KLF2", "KLF4"},
                set(), {(S, "cell proliferation"), (S, "tubulization")}, 130),
    "ANG-007": ("angiogenesis", "GlioblastomaCell", {"miR-148a-3p"}, "UmbilicalVeinEndothelialCell", {"ERRFI1"},
                {"EGFR/MAPK signaling"}, {(S, "cell proliferation"), (S, "tubulization")}, 131),
    "ANG-008": ("angiogenesis", "GliomaStemCell", {"miR-944"}, "UmbilicalVeinEndothelialCell", {"VEGF-C"},
                {"AKT/ERK signaling"}, {(I, "cell viability"), (I, "cell migration"), (I, "tubulization")}, 132),
    "ANG-009": ("angiogenesis", "GlioblastomaCell", {"circGLIS3"}, "EndothelialCell", {"Ezrin"}, set(),
                {(S, "tubulization")}, 133),
    # Table 6 — tumor growth
    "GROW-001": ("tumor-growth", "GliomaStemCell", {"Notch1"}, "GliomaCell", set(), set(),
                 {(P, "stemness"), (P, "tumorigenicity")}, 134),
    "GROW-002": ("tumor-growth", "GliomaStemCell", {"linc01060"}, "GliomaCell", {"MZF1", "c-Myc", "HIF1a"}, set(),
                 {(P, "cell growth")}, 135),
    "GROW-003": ("tumor-growth", "GliomaCell", {"ROR1-AS1"}, "GliomaCell", {"miR-4686"}, set(),
                 {(P, "tumor growth")}, 136),
}
ROWS_PER_TABLE = {"Table 1": 8, "Table 2": 3, "Table 3": 14, "Table 4": 6, "Table 5": 9, "Table 6": 3}


def _values(union, finding: str, path: str) -> set[str]:
    rows = select(union, f"SELECT ?v WHERE {{ <https://w3id.org/exokg/finding/{finding}> {path} ?x . ?x rdfs:label ?v }}")
    return {r[0] for r in rows}


def _types(union, finding: str, prop: str) -> set[str]:
    rows = select(union, f"SELECT ?t WHERE {{ <https://w3id.org/exokg/finding/{finding}> exo:{prop} ?p . ?p a ?t }}")
    return {t.rsplit("/", 1)[-1] for (t,) in rows}


@pytest.mark.parametrize("table, count", sorted(ROWS_PER_TABLE.items()))
def test_each_table_has_all_its_rows(union, table, count):
    rows = select(union, f'SELECT ?f WHERE {{ ?f a exo:TableFinding ; exo:fromSource/rdfs:label "{table}"@en }}')
    assert len(rows) == count


@pytest.mark.parametrize("finding", sorted(TABLES))
def test_row(union, finding):
    context, donor, cargo, receiving, targets, pathways, effects, reference = TABLES[finding]
    iri = f"<https://w3id.org/exokg/finding/{finding}>"
    assert select(union, f"SELECT ?c WHERE {{ {iri} exo:hasContext ?c }}") == [(f"https://w3id.org/exokg/vocab/{context}",)]
    assert donor in _types(union, finding, "hasDonorPopulation")
    assert receiving in _types(union, finding, "hasReceivingPopulation")
    assert _values(union, finding, "exo:hasCargo") == cargo
    if not cargo:  # the review's '/' or an unnamed kind ('miRNAs'): an explicit marker instead of a named cargo
        assert union.query(f"ASK {{ {iri} <https://w3id.org/exokg/vocab/cargoUnspecified> true }}").askAnswer
    assert _values(union, finding, "exo:hasTarget") == targets
    assert _values(union, finding, "exo:actsThroughPathway") == pathways
    found = select(union, f"""SELECT ?d ?p WHERE {{ {iri} exo:hasEffect ?e . ?e exo:statedIn "table" ;
        exo:hasDirection/rdfs:label ?d ; exo:affectsProcess/rdfs:label ?p }}""")
    text_only = select(union, f"""SELECT ?d ?p WHERE {{ {iri} exo:hasEffect ?e . ?e exo:statedIn "text" ;
        exo:hasDirection/rdfs:label ?d ; exo:affectsProcess/rdfs:label ?p }}""")
    assert set(found) == effects or (not found and set(text_only) == effects)  # ANG-003: the table has no effect
    assert select(union, f"SELECT ?n WHERE {{ {iri} exo:hasReference/exo:referenceNumber ?n }}") == [(str(reference),)]
    quote = select(union, f"SELECT ?q WHERE {{ {iri} exo:supportingQuote ?q }}")
    assert len(quote) == 1 and quote[0][0]


@pytest.mark.parametrize("finding, text_reference", [("TME-002", 74), ("CHEMO-007", 98)])
def test_contradicting_reference_numbers_are_both_kept(union, finding, text_reference):
    iri = f"<https://w3id.org/exokg/finding/{finding}>"
    assert select(union, f"SELECT ?n WHERE {{ {iri} exo:hasTextReference/exo:referenceNumber ?n }}") == [(str(text_reference),)]
    assert select(union, f"SELECT ?n WHERE {{ {iri} exo:curatorNote ?n }}")


@pytest.mark.parametrize("finding, field, value", [
    ("TME-008", "receiving_population", "https://w3id.org/exokg/population/tumor-associated-macrophages"),
    ("ANG-005", "receiving_population", "https://w3id.org/exokg/population/hbmecs"),
    ("INV-006", "cargo_entities", "https://w3id.org/exokg/molecule/circ-0001445"),
    ("CHEMO-004", "effects", "https://w3id.org/exokg/process/TMZ-sensitivity"),
    ("CHEMO-012", "receiving_population", "https://w3id.org/exokg/population/tmz-resistant-gbm-cells"),
])
def test_text_readings_that_differ_from_the_table_are_kept(union, finding, field, value):
    rows = select(union, f"""SELECT ?e WHERE {{ <https://w3id.org/exokg/finding/{finding}> exo:hasTextVariant ?v .
        ?v exo:variantField "{field}" ; exo:variantEntity ?e }}""")
    assert (value,) in rows


@pytest.mark.parametrize("finding, steps", [
    # the text lists STAT3 activation and NF-κB repression side by side, both via TERF2IP
    ("TME-006", [{"TERF2IP"}, {"STAT3 signaling", "NF-κB signaling"}]),
    # "promoting the expression of c-Myc and cyclin E through downregulation of FBXW7"
    ("CHEMO-009", [{"miR-25-3p"}, {"FBXW7"}, {"c-Myc", "cyclin E"}]),
    # five separate effects of linc-CCAT2, not a cascade
    ("ANG-002", [{"VEGF-A", "TGF-β", "Bcl-2", "Bax", "caspase-3"}]),
])
def test_axis_steps_follow_the_text(union, finding, steps):
    rows = select(union, f"""SELECT ?i ?label WHERE {{ <https://w3id.org/exokg/finding/{finding}> exo:hasAxisStep ?s .
        ?s exo:stepIndex ?i ; exo:stepEntity/rdfs:label ?label }}""")
    found: dict[int, set[str]] = {}
    for index, label in rows:
        found.setdefault(int(index), set()).add(label)
    assert [found[i] for i in sorted(found)] == steps
