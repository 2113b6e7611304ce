"""The cross-reference table (graph/vocabulary/xrefs.tsv), the SSSOM mapping set built from it, and the
identifier report (docs/identifiers.md).

Every CURIE is checked against the Bioregistry (a maintained prefix registry), the mapping set is validated
by sssom-py (JSON Schema, prefix-map completeness, strict CURIE format) and compared with the RDF dump, so
one identifier reads and expands the same in every output.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import bioregistry
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDFS, SKOS

from exokg.config import GRAPH_DIR, OBOINOWL
from exokg.graph import curated
from exokg.identifiers import OWN_PREFIXES, IdentifierError, own, parse, prefix_map, term
from exokg.mappings import COLUMNS, FILE_NAME, REPORT_COMMAND, entity_iri, identifier_report

XREFS = GRAPH_DIR / "vocabulary" / "xrefs.tsv"
REPORT = Path(__file__).resolve().parents[1] / "docs" / "identifiers.md"
SSSOM = Path(sys.executable).with_name("sssom")  # sssom-py's command line, from the test extra
SSSOM_CHECKS = ["JsonSchema", "PrefixMapCompleteness", "StrictCurieFormat"]  # its other two are unimplemented
# Where an identifier may have been checked: a PyPI package that ships the resource's data, or a file of a
# public repository read with the search tool (optionally at a commit).
CHECKED_IN = re.compile(r"pypi:[A-Za-z0-9_.-]+==[0-9][^:]*:\S+|[\w.-]+/[\w.-]+:\S+?(@[0-9a-f]{40})?")


def xref_rows() -> list[dict[str, str]]:
    with open(XREFS, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


ROWS = xref_rows()
ROW_IDS = [f"{r['subject_id']}->{r['object_id']}" for r in ROWS]


def read_sssom(data: bytes) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(curie_map, rows) of an SSSOM TSV as this project writes it."""
    text = data.decode("utf-8")
    metadata = [line for line in text.splitlines() if line.startswith("#")]
    curie_map = dict(re.findall(r'^#  "([^"]+)": "([^"]+)"$', "\n".join(metadata), flags=re.M))
    table = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return curie_map, list(csv.DictReader(io.StringIO(table), delimiter="\t"))


@pytest.fixture(scope="module")
def sssom_file(build_dir) -> Path:
    return build_dir / FILE_NAME


# --- the table: well-formed, checked, sorted --------------------------------------------------------------

@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_object_curie_is_well_formed_for_its_prefix(row):
    curie = parse(row["object_id"])  # raises IdentifierError: unknown prefix, or local part off-pattern
    assert bioregistry.is_valid_identifier(curie.prefix, curie.local)


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_each_identifier_says_where_it_was_checked(row):
    assert CHECKED_IN.fullmatch(row["checked_in"]), (
        f"checked_in {row['checked_in']!r}: write pypi:NAME==VERSION:PATH or OWNER/REPO:PATH[@COMMIT]"
    )
    assert row["evidence"].strip(), "evidence: the text found in the checked file"
    assert row["mapping_justification"] == "semapv:ManualMappingCuration"


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_evidence_quotes_the_identifier_it_supports(row):
    written_local = row["object_id"].split(":", 1)[1]
    assert written_local in row["evidence"] or row["object_id"] in row["evidence"]


def test_rows_are_sorted_by_subject_then_object():
    keys = [(r["subject_id"].casefold(), r["object_id"]) for r in ROWS]
    first_unsorted = next((i for i, (a, b) in enumerate(zip(keys, keys[1:])) if a > b), None)
    assert first_unsorted is None, (
        f"{XREFS.name}:{first_unsorted + 2 if first_unsorted is not None else 0}: rows out of order; sort by "
        "subject_id (casefold) then object_id"
    )


# --- miRNAs named without their arm: the precursor (closeMatch) and each mature product (narrowMatch) ----------

PRECURSOR_ROWS = [r for r in ROWS if r["predicate_id"] == "skos:closeMatch" and r["object_id"].startswith("mirbase:")]
NARROW_ROWS = [r for r in ROWS if r["predicate_id"] == "skos:narrowMatch"]


def mature_products_named(row: dict[str, str]) -> list[str]:
    """The MIMAT accessions a precursor row's comment lists ('v22 mature products of hsa-mir-21: ...')."""
    return re.findall(r"MIMAT\d+", row["comment"])


@pytest.mark.parametrize("row", NARROW_ROWS, ids=[f"{r['subject_id']}->{r['object_id']}" for r in NARROW_ROWS])
def test_narrow_match_is_a_mature_product_of_the_subjects_precursor(row):
    """hsa.gff3 says the mature miRNA derives, under this name, from a precursor the subject is closeMatch to;
    and the subject has no mature exactMatch (where the review names the arm, that is the mapping instead)."""
    precursors = {r["object_id"].split(":", 1)[1] for r in PRECURSOR_ROWS if r["subject_id"] == row["subject_id"]}
    accession = row["object_id"].split(":", 1)[1]
    assert row["object_id"].startswith("mirbase.mature:MIMAT")
    assert precursors, f"{row['subject_id']} has no miRBase precursor (closeMatch) to be broader than"
    derived = set(re.findall(rf"ID={accession}(?:_\d+)?;Alias={accession};Name=([^;]+);Derives_from=(MI\d+)",
                             row["evidence"]))
    assert derived and {mi for _, mi in derived} <= precursors, (derived, precursors)
    assert {name for name, _ in derived} == {row["object_label"]}
    assert not [r for r in ROWS if r["subject_id"] == row["subject_id"] and r["predicate_id"] == "skos:exactMatch"
                and r["object_id"].startswith("mirbase.mature:")]


@pytest.mark.parametrize("row", PRECURSOR_ROWS, ids=[f"{r['subject_id']}->{r['object_id']}" for r in PRECURSOR_ROWS])
def test_each_mature_product_of_an_arm_unspecified_precursor_is_a_narrow_match(row):
    products = mature_products_named(row)
    assert products, "name the precursor's mature products (MIMAT) in the comment, as checked in hsa.gff3"
    narrow = {r["object_id"] for r in NARROW_ROWS if r["subject_id"] == row["subject_id"]}
    assert {f"mirbase.mature:{m}" for m in products} <= narrow


def test_narrow_matches_are_not_database_cross_references(union):
    """The graph holds skos:narrowMatch to each mature product but no oboInOwl:hasDbXref: no arm is picked."""
    corpus = curated.load()
    assert NARROW_ROWS
    for row in NARROW_ROWS:
        subject, target = URIRef(entity_iri(corpus, row["subject_id"])), URIRef(parse(row["object_id"]).iri)
        assert (subject, SKOS.narrowMatch, target) in union, row["object_id"]
        assert (subject, OBOINOWL.hasDbXref, Literal(row["object_id"])) not in union, row["object_id"]


def test_one_spelling_and_one_expansion_per_prefix():
    spellings: dict[str, set[str]] = {}
    for row in ROWS:
        curie = parse(row["object_id"])
        spellings.setdefault(curie.prefix, set()).add(row["object_id"].split(":", 1)[0])
    assert {p: s for p, s in spellings.items() if len(s) > 1} == {}
    prefix_map(parse(r["object_id"]) for r in ROWS)  # raises when a spelling expands two ways


@pytest.mark.parametrize("written", ["exo:Astrocyte", "exokg.molecule:miR-21", "CVCL_0022", "HGNC:ABC", "nosuchdb:1"])
def test_own_and_malformed_curies_are_refused_as_external_identifiers(written):
    with pytest.raises(IdentifierError):
        parse(written)


def test_own_prefixes_are_not_other_resources_except_exo():
    """'exo' is the Bioregistry's ExO too (see identifiers.OWN_PREFIXES); no other prefix of ours is taken."""
    assert {p for p in OWN_PREFIXES if bioregistry.normalize_prefix(p)} == {"exo"}


def test_own_curies_round_trip():
    for prefix, namespace in OWN_PREFIXES.items():
        assert own(namespace + "x-1").written == f"{prefix}:x-1"
    with pytest.raises(IdentifierError):
        own("https://w3id.org/exokg/finding/TME-004/effect/1")  # a local part with '/' is no CURIE for KGX


# --- the SSSOM mapping set ----------------------------------------------------------------------------------

def test_sssom_has_one_row_per_cross_reference(sssom_file):
    _, rows = read_sssom(sssom_file.read_bytes())
    assert list(rows[0]) == COLUMNS
    assert sorted(r["object_id"] for r in rows) == sorted(r["object_id"] for r in ROWS)
    assert all(r["object_source_version"] and r["comment"] for r in rows)


def test_sssom_curie_map_lists_exactly_the_prefixes_used(sssom_file):
    curie_map, rows = read_sssom(sssom_file.read_bytes())
    columns = ("subject_id", "predicate_id", "object_id", "mapping_justification")
    used = {r[c].split(":", 1)[0] for r in rows for c in columns}
    assert set(curie_map) == used


def test_sssom_prefixes_expand_as_the_registry_says(sssom_file):
    curie_map, rows = read_sssom(sssom_file.read_bytes())
    for row in rows:
        expected = parse(row["object_id"]).iri
        prefix, local = row["object_id"].split(":", 1)
        assert curie_map[prefix] + local == expected
    assert curie_map["skos"] + "exactMatch" == term("skos:exactMatch").iri == str(SKOS.exactMatch)


def test_sssom_mappings_are_the_triples_of_the_rdf_dump(sssom_file, union):
    """Subject and object expand, through the file's own curie_map, to a triple the graph holds."""
    curie_map, rows = read_sssom(sssom_file.read_bytes())
    predicates = {"skos:exactMatch": SKOS.exactMatch, "skos:closeMatch": SKOS.closeMatch,
                  "skos:broadMatch": SKOS.broadMatch, "skos:narrowMatch": SKOS.narrowMatch,
                  "rdfs:subClassOf": RDFS.subClassOf}
    expand = lambda curie: URIRef(curie_map[curie.split(":", 1)[0]] + curie.split(":", 1)[1])  # noqa: E731
    missing = [r["subject_id"] + " " + r["object_id"] for r in rows
               if (expand(r["subject_id"]), predicates[r["predicate_id"]], expand(r["object_id"])) not in union]
    assert missing == []


def sssom_verdict(path: Path) -> tuple[bool, str]:
    """(accepted, output) of sssom-py's validator. It drops a malformed row with only a warning and exit 0,
    so a dropped row counts as refused too."""
    if not SSSOM.exists():
        pytest.fail(f"sssom-py is not installed next to {sys.executable}: pip install -e '.[test]'")
    checks = [arg for check in SSSOM_CHECKS for arg in ("-V", check)]
    result = subprocess.run([str(SSSOM), "validate", *checks, str(path)], capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    return result.returncode == 0 and "not well-formed" not in output, output[-3000:]


def test_sssom_py_validates_the_mapping_set(sssom_file):
    accepted, output = sssom_verdict(sssom_file)
    assert accepted, output


BREAKAGES = {  # how a mapping set goes wrong → a change that does it; sssom-py must notice each
    "prefix missing from curie_map": lambda text: re.sub(r'^#  "HGNC": .*\n', "", text, flags=re.M),
    "prefix unknown to curie_map": lambda text: text.replace("\tHGNC:", "\tNOPE:", 1),
    "justification outside SEMAPV": lambda text: text.replace("semapv:ManualMappingCuration", "semapv:Guesswork"),
    "subject_type outside its enum": lambda text: text.replace("\towl named individual\t", "\tindividual\t", 1),
}


@pytest.mark.parametrize("breakage", BREAKAGES, ids=list(BREAKAGES))
def test_sssom_py_refuses_a_broken_mapping_set(breakage, sssom_file, tmp_path):
    broken = tmp_path / "broken.sssom.tsv"
    original = sssom_file.read_text(encoding="utf-8")
    broken.write_text(BREAKAGES[breakage](original), encoding="utf-8")
    assert broken.read_text(encoding="utf-8") != original
    accepted, _ = sssom_verdict(broken)
    assert not accepted


# --- the identifier report ----------------------------------------------------------------------------------

def test_identifier_report_is_current():
    assert REPORT.read_text(encoding="utf-8") == identifier_report(curated.load()), f"regenerate: {REPORT_COMMAND}"


def test_identifier_report_lists_each_unmapped_entity():
    corpus = curated.load()
    mapped = {x.subject for x in corpus.xrefs}
    report = identifier_report(corpus)
    for key in set(corpus.entities) - mapped:
        assert f"  - {key}" in report
