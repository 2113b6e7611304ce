"""The running-text claims in the graph (issue 14 §1): statements written here from the review's own sentences
are found as quoted, typed, signed claims; uncited claims say so; restatements link to their finding; an
unnamed cargo never counts as a named molecule; a bad claim row is refused with its file:line."""

from __future__ import annotations

import shutil

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS

from exokg.config import EXO, GRAPH_DIR, OBO
from exokg.graph.curated import CLAIM_KINDS, CurationError, load

CLAIM_FILE = "tumor_microenvironment.tsv"

# Written from the review's sentences (quoted in the comment), not from the curated rows: the review's words
# for subject and object, the relation it states, the kind, what the claim must carry, and the references.
FROM_THE_REVIEW = [
    # "miR-221 expression was significantly increased in glioma tissues and SEVs ... [96]"
    dict(subject="miR-221", relation="upregulated-in", object="glioma", kind="expression", sample="tissue", refs={96}),
    # "It was observed that hypoxia promotes the secretion of GDEs ... [76]"
    dict(subject="hypoxia", relation="increases-secretion-of", object="small extracellular vesicle", kind="expression", refs={76}),
    # "R-EXO-T/D was reported to have multiple advantages, including good blood–brain barrier (BBB) penetration"
    dict(subject="engineered vesicle", relation="crosses", object="blood–brain barrier (BBB)", kind="delivery", refs={94}),
    # "CD73+ TDEVs released by GBM cells could be taken up by T cells and inhibit ... clonal proliferation of T cells"
    dict(subject="CD73", relation="inhibits", object="cell proliferation", kind="mechanism", population="T cells", refs=set()),
    # "TMZ-based chemotherapy regimens have been widely used in the adjuvant treatment of high-grade gliomas [89, 90]"
    dict(subject="temozolomide", relation="treats", object="high-grade glioma", kind="therapy", use="adjuvant treatment", refs={89, 90}),
    # "Lnc-TALC can bind to ENO1 and promote phosphorylation of p38 MAPK"
    dict(subject="lnc-TALC", relation="increases-phosphorylation-of", object="p38 MAPK", kind="mechanism", refs=set()),
    # "Extracellular matrix (ECM) acts as a natural barrier to tumor invasion and metastasis [108, 109]"
    dict(subject="extracellular matrix", relation="inhibits", object="metastasis", kind="framing", refs={108, 109}),
    # Introduction: "More than half of them are the most malignantglioblastoma multiforme (GBM) [1]."
    dict(subject="glioblastoma", relation="has-proportion", object="glioma", kind="epidemiology", value="more than half", refs={1}),
    # "Gliomas still have low cure rates, high recurrence rates, and poor prognosis [2–4]."
    dict(subject="glioma", relation="has-property", object="high recurrence rates", kind="clinical", refs={2, 3, 4}),
    # "SEVs can effectively carry and deliver molecular signals to recipient cells, promoting ... tumor innervation ... [16–22]"
    dict(subject="small extracellular vesicle", relation="promotes", object="tumor innervation", kind="framing", refs=set(range(16, 23))),
    # Abstract (no citations): "Complete removal of tumor tissues by surgery is difficult."
    dict(subject="complete removal of tumor tissues by surgery", relation="has-property", object="difficult", kind="clinical", refs=set()),
    # Biomarkers: "circ_0072083 expression levels were significantly elevated in serum SEVs of drug-resistant patients ... [104]"
    dict(subject="circ-007208", relation="upregulated-in", object="glioma", kind="expression", sample="serum SEVs", refs={104}),
    # "Glioma can be diagnosed early by measuring the expression level of circulating exosomal miR-148a [114]."
    dict(subject="miR-148a", relation="biomarker-of", object="glioma", kind="biomarker", use="early diagnosis", refs={114}),
    # Fig. 5: "The features of extracellular matrix in GBM are ... promotion of invasion and angiogenesis"
    dict(subject="extracellular matrix in GBM", relation="promotes", object="angiogenesis", kind="figure", refs=set()),
    # Biogenesis: "All SEVs commonly have proteins such as CD9, CD63, CD81, and CD82, which may serve as biomarkers ... [44, 45]"
    dict(subject="small extracellular vesicle", relation="has-marker", object="CD9", kind="vesicle-biology", refs={44, 45}),
    # "Wang et al. reported that Linc01091 encapsulated in TEXs could activate the ELF4/CDX2 axis by binding to miR-128-3p"
    dict(subject="Linc01091", relation="binds", object="miR-128-3p", kind="example", refs={62}),
    # Future prospects: "Because SEVs are widely distributed in body fluids and have a long half-life, they may be suitable drug carriers."
    dict(subject="small extracellular vesicle", relation="prospect-for", object="suitable drug carriers", kind="prospect", refs=set()),
    # "The acquisition of high-purity SEVs remains a challenge due to technical limitations and high costs"
    dict(subject="technical limitations", relation="limitation-of", object="the acquisition of high-purity SEVs", kind="limitation", refs=set()),
    # Fig. 6: "endothelial cells are stimulated by proangiogenic growth factors secreted by tumor cells."
    dict(subject="proangiogenic growth factors", relation="activates", object="endothelial cells", kind="figure", refs=set()),
]
SIGN = {"promotes": "positive", "inhibits": "negative", "upregulated-in": "positive", "increases-secretion-of": "positive",
        "crosses": "unsigned", "treats": "unsigned", "increases-phosphorylation-of": "positive", "has-proportion": "unsigned",
        "has-property": "unsigned", "biomarker-of": "unsigned", "activates": "positive", "has-marker": "unsigned",
        "binds": "unsigned", "prospect-for": "unsigned", "limitation-of": "unsigned"}


def _text(union, node) -> str:
    return str(node) if isinstance(node, Literal) else str(union.value(node, RDFS.label))


@pytest.fixture(scope="module")
def claims(union) -> list[dict]:
    found = []
    for node in union.subjects(RDF.type, EXO.TextClaim):
        row = {"node": node, "id": str(union.value(node, URIRef("http://purl.org/dc/terms/identifier"))),
               "subject": _text(union, union.value(node, EXO.claimSubject)),
               "object": _text(union, union.value(node, EXO.claimObject)),
               "relation": str(union.value(node, EXO.relationWord)), "kind": str(union.value(node, EXO.claimKind)),
               "sign": str(union.value(node, EXO.hasSign))[len(str(EXO)):],
               "quote": str(union.value(node, EXO.supportingQuote)),
               "refs": {int(union.value(r, EXO.referenceNumber)) for r in union.objects(node, EXO.hasReference)},
               "evidence": set(union.objects(node, EXO.hasEvidence)),
               "sample": {str(v) for v in union.objects(node, EXO.claimSample)},
               "use": {str(v) for v in union.objects(node, EXO.claimUse)},
               "value": {str(v) for v in union.objects(node, EXO.claimValue)},
               "population": {_text(union, p) for p in union.objects(node, EXO.claimPopulation)}}
        found.append(row)
    return found


@pytest.mark.parametrize("expected", FROM_THE_REVIEW, ids=lambda e: f"{e['subject']} {e['relation']} {e['object']}")
def test_the_review_says_it_and_the_graph_holds_it(claims, expected):
    matches = [c for c in claims if (c["subject"], c["relation"], c["object"]) == (expected["subject"], expected["relation"], expected["object"])
               and c["kind"] == expected["kind"] and c["refs"] == expected["refs"]
               and all(expected[k] in c[k] for k in ("sample", "use", "population", "value") if k in expected)]
    assert matches, f"no {expected['kind']} claim {expected['subject']} {expected['relation']} {expected['object']}"
    assert all(c["sign"] == SIGN[expected["relation"]] for c in matches)
    assert all(c["quote"] for c in matches)


def test_every_kind_of_claim_has_a_statement_written_from_the_review():
    assert {e["kind"] for e in FROM_THE_REVIEW} == set(CLAIM_KINDS)


def test_a_claim_without_a_citation_is_an_author_statement_without_traceable_support(claims):
    cited = [c for c in claims if c["refs"]]
    uncited = [c for c in claims if not c["refs"]]
    assert cited and uncited
    assert all(c["evidence"] == {OBO.ECO_0000304} for c in cited)
    assert all(c["evidence"] == {OBO.ECO_0000303} for c in uncited)
    # "TEXs were involved in glioma initiation and development by affecting TME, ..." cites nothing
    assert any("TEXs were involved in glioma initiation and development" in c["quote"] for c in uncited)


def test_the_abstract_and_the_introduction_disagree_on_glioma_s_share_and_both_readings_are_kept(union, claims):
    # Abstract: "accounting for approximately half of the primary intracranial tumors" (no citation);
    # Introduction: "accounting for approximately 70% of all primary intracranial tumors" (the passage cites [1]).
    shares = {frozenset(c["value"]): c for c in claims
              if (c["subject"], c["relation"], c["kind"]) == ("glioma", "has-proportion", "epidemiology")
              and "primary intracranial tumors" in c["object"]}
    half, seventy = shares[frozenset({"approximately half"})], shares[frozenset({"approximately 70%"})]
    assert (half["node"], EXO.contradictsClaim, seventy["node"]) in union
    assert (seventy["node"], EXO.contradictsClaim, half["node"]) in union  # symmetric, asserted both ways
    assert half["refs"] == set() and seventy["refs"] == {1}
    for claim in (half, seventy):
        assert union.value(claim["node"], EXO.curatorNote) is not None


def test_a_claim_the_table_holds_links_to_the_table_row(union, claims):
    """The miR-221 sentence [96] restates the Table 3 row whose cargo is miR-221 (found here by cargo and reference)."""
    rows = {f for f in union.subjects(RDF.type, EXO.TableFinding)
            if any(str(union.value(m, RDFS.label)) == "miR-221" for m in union.objects(f, EXO.hasCargo))
            and 96 in {int(union.value(r, EXO.referenceNumber)) for r in union.objects(f, EXO.hasReference)}}
    assert len(rows) == 1
    restating = [c for c in claims if c["subject"] == "miR-221" and c["relation"] == "promotes" and c["object"] == "TMZ resistance"]
    assert restating and all(set(union.objects(c["node"], EXO.restates)) == rows for c in restating)


def test_an_unnamed_cargo_of_a_claim_is_its_own_node_and_never_a_named_molecule(union, claims):
    # "Exosomal small nuclear RNA enhances the expression of MMP-9 ... in the lung premetastatic niche" names no RNA
    unnamed = [union.value(c["node"], EXO.claimSubject) for c in claims
               if c["subject"].startswith("unspecified SmallNuclearRNA")]
    assert unnamed and len(set(unnamed)) == len(unnamed)  # one node per claim
    for node in unnamed:
        assert (node, RDF.type, EXO.UnspecifiedCargo) in union
        assert not any((node, RDF.type, cls) in union for cls in (EXO.MolecularEntity, EXO.SmallNuclearRNA))
    named_mirnas = {m for m in union.subjects(RDF.type, EXO.MicroRNA)}
    assert not any((m, RDF.type, EXO.UnspecifiedCargo) in union for m in named_mirnas)


@pytest.fixture()
def curated_copy(tmp_path):
    copy = tmp_path / "graph"
    shutil.copytree(GRAPH_DIR, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return copy


BAD_CELLS = [
    ("relation", "frobnicates", "relation 'frobnicates' is not one of"),
    ("subject", "miR-99999", "subject 'miR-99999' is not an entity or population key"),
    ("object", "unspecified:Gossip", "unspecified cargo kind 'Gossip'"),
    ("kind", "rumour", "kind 'rumour' is not one of"),
    ("qualifiers", "donor=nobody", "donor=nobody: not a population key"),
    ("qualifiers", "colour=blue", "qualifier 'colour=blue' must be key=value"),
    ("qualifiers", "contradicts=TMEC-999", "contradicts=TMEC-999: no claim or finding has that id"),
    ("reference", "99999", "reference [99999] is not in references.tsv"),
    ("restates", "TME-999", "restates 'TME-999'"),
    ("quote", "words the review never wrote", "quote not found in the review text"),
    ("id", "TMEC-1", "claim id 'TMEC-1' must look like PREFIX-001"),
]


@pytest.mark.parametrize("column,value,message", BAD_CELLS, ids=[f"{c}={v}" for c, v, _ in BAD_CELLS])
def test_a_bad_claim_cell_is_refused_with_its_file_and_line(curated_copy, column, value, message):
    path = curated_copy / "text" / "claims" / CLAIM_FILE
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    cells = lines[5].split("\t")
    cells[header.index(column)] = value
    lines[5] = "\t".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CurationError) as error:
        load(curated_copy)
    assert any(f"claims/{CLAIM_FILE}:6" in str(p.origin) and message in p.message for p in error.value.problems), str(error.value)


def test_a_left_out_sentence_needs_a_reason_and_the_review_s_words(curated_copy):
    path = curated_copy / "text" / "claims" / "left_out" / CLAIM_FILE
    path.write_text(path.read_text(encoding="utf-8") + "The roles of TEXs in TME\tno such sentence at all\t\n", encoding="utf-8")
    with pytest.raises(CurationError) as error:
        load(curated_copy)
    messages = [p.message for p in error.value.problems if f"left_out/{CLAIM_FILE}" in str(p.origin)]
    assert any("missing reason" in m for m in messages) and any("quote not found" in m for m in messages)
