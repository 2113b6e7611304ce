"""The SHACL shapes: each classifies its conforming and non-conforming examples correctly; the shapes graph is
itself valid SHACL; identifier patterns and value lists agree with their sources; the review graph and the
synthetic benchmark graphs conform. Examples and their expectations: tests/data/shapes/ (see its README)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import bioregistry
import pyshacl
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH

from exokg.build import assemble
from exokg.config import EXO, OBOINOWL
from exokg.graph.curated import CLAIM_KINDS, VARIANT_FIELDS, VESICLE_CLAIM_KINDS, VESICLE_TERMS
from exokg.ontology.vocabulary import load_ontology, vocabulary
from exokg.shapes.validate import SHAPES, shapes_graph, validate

DATA = Path(__file__).parent / "data" / "shapes"
REPO = Path(__file__).resolve().parent.parent
VALID = sorted((DATA / "valid").glob("*.ttl"))
INVALID = sorted((DATA / "invalid").glob("*.ttl"))


def header(path: Path) -> tuple[set[str], set[tuple[str, str, str]]]:
    """The ``# shape:`` names and the ``# expect: SEVERITY SHAPE PATH`` results of an example file."""
    shapes, expected = set(), set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# shape:"):
            shapes.update(line.split(":", 1)[1].split())
        elif line.startswith("# expect:"):
            severity, shape, result_path = line.split(":", 1)[1].split(maxsplit=2)
            expected.add((severity, shape, result_path))
    return shapes, expected


def screened(path: Path) -> set[str]:
    """The ``# screened:`` names: shapes whose SPARQL target selects only the nodes that could break them
    (exosh:Claim, exosh:OneLabel): a conforming example is one they do not select."""
    return {name for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("# screened:")
            for name in line.split(":", 1)[1].split()}


def shape_iri(name: str) -> URIRef:
    assert name.startswith("exosh:"), name
    return SHAPES[name[len("exosh:"):]]


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_ontology()


@pytest.fixture(scope="module")
def base() -> Graph:
    return Graph().parse(DATA / "base.ttl", format="turtle")


def results_on(example: Graph, base: Graph, ontology: Graph) -> set[tuple[str, str, str]]:
    report = validate(base + example, ontology)
    subjects = set(example.subjects())
    return {(r.severity, r.shape, r.path or "-") for r in report.results if r.focus in subjects}


def targets(shape: URIRef, data: Graph) -> set:
    """The focus nodes ``shape`` selects in ``data`` (class, subjects-of and SPARQL targets)."""
    sg = shapes_graph()
    nodes = set()
    for cls in sg.objects(shape, SH.targetClass):
        nodes |= {s for s, in data.query("SELECT ?s WHERE { ?s a/<%s>* <%s> }" % (RDFS.subClassOf, cls))}
    for prop in sg.objects(shape, SH.targetSubjectsOf):
        nodes |= set(data.subjects(prop, None))
    for target in sg.objects(shape, SH.target):
        query = str(sg.value(target, SH.select))
        nodes |= {row[0] for row in data.query(query, initNs={"exo": EXO, "rdfs": RDFS})}
    return nodes


def test_base_conforms(base, ontology):
    report = validate(base, ontology)
    subjects = set(base.subjects())
    assert [r.line() for r in report.results if r.focus in subjects] == []


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_conforming_example(path, base, ontology):
    shapes, expected = header(path)
    example = Graph().parse(path, format="turtle")
    assert {severity for severity, _, _ in expected} <= {"warning"}, "a valid example may expect warnings only"
    assert results_on(example, base, ontology) == expected
    merged = base + example + ontology
    for name in shapes:
        assert targets(shape_iri(name), merged) & set(example.subjects()), f"{name} targets nothing in {path.name}"
    for name in screened(path):
        assert not targets(shape_iri(name), merged) & set(example.subjects()), f"{name} selects a node of {path.name}"


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_non_conforming_example(path, base, ontology):
    _, expected = header(path)
    example = Graph().parse(path, format="turtle")
    assert expected, f"{path.name} says what it expects"
    assert results_on(example, base, ontology) == expected


def node_shapes_with_targets() -> set[str]:
    sg = shapes_graph()
    kinds = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode, SH.target)
    return {f"exosh:{str(s)[len(SHAPES):]}" for kind in kinds for s in sg.subjects(kind, None)}


def named_property_shapes() -> set[str]:
    sg = shapes_graph()
    return {f"exosh:{str(s)[len(SHAPES):]}" for s in sg.subjects(RDF.type, SH.PropertyShape) if isinstance(s, URIRef)}


def test_every_shape_has_a_conforming_and_a_non_conforming_example():
    named_valid = set().union(*(header(p)[0] | screened(p) for p in VALID))
    named_invalid = set().union(*(header(p)[0] for p in INVALID))
    assert node_shapes_with_targets() - named_valid == set()
    assert (node_shapes_with_targets() | named_property_shapes()) - named_invalid == set()


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_non_conforming_example_fails_the_shapes_it_names(path):
    """An invalid example's expected results come from the shapes it is about (or their shared property shapes)."""
    sg = shapes_graph()
    names, expected = header(path)
    sources = {shape for _, shape, _ in expected}
    for name in names:
        reached = {name} | {f"exosh:{str(p)[len(SHAPES):]}" for p in sg.objects(shape_iri(name), SH.property)}
        assert reached & sources, f"{path.name}: no expected result comes from {name}"


def test_shapes_graph_conforms_to_shacl_shacl():
    conforms, _, text = pyshacl.validate(
        shapes_graph(), shacl_graph=Graph().parse(DATA / "shacl-shacl.ttl", format="turtle")
    )
    assert conforms, text


def test_every_constraint_says_what_to_do():
    """Each property shape, SPARQL constraint and node-level logical constraint carries a plain-words sh:message."""
    sg = shapes_graph()
    silent = []
    property_shapes = set(sg.objects(None, SH.property)) | set(sg.subjects(RDF.type, SH.PropertyShape))
    for shape in property_shapes | set(sg.objects(None, SH.sparql)):
        if sg.value(shape, SH.message) is None:
            silent.append(sg.value(shape, SH.path) or shape)
    for shape in sg.subjects(RDF.type, SH.NodeShape):
        if any(sg.value(shape, p) is not None for p in (SH.xone, SH["or"], SH["and"], SH["not"])):
            if sg.value(shape, SH.message) is None:
                silent.append(shape)
    assert silent == []
    languages = {m.language for m in sg.objects(None, SH.message)}
    assert languages == {"en"}


def alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of ``^(A|B|…)$``."""
    assert pattern.startswith("^(") and pattern.endswith(")$"), pattern
    body, parts, depth, current = pattern[2:-2], [], 0, ""
    for char in body:
        depth += char == "("
        depth -= char == ")"
        if char == "|" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return parts + [current]


def identifier_patterns() -> list[tuple[str, str]]:
    """(shape, alternative) for every identifier pattern of the shapes, each ``PREFIX:LOCAL``."""
    sg = shapes_graph()
    found = []
    for shape in sg.subjects(SH.path, OBOINOWL.hasDbXref):
        pattern = sg.value(shape, SH.pattern)
        if pattern is None or shape == SHAPES.dbXref:  # the generic CURIE syntax, not a prefix's
            continue
        found += [(str(pattern), alternative) for alternative in alternatives(str(pattern))]
    return sorted(found)


@pytest.mark.parametrize("pattern,alternative", identifier_patterns(), ids=[a for _, a in identifier_patterns()])
def test_identifier_pattern_is_the_bioregistry_one(pattern, alternative):
    written, _, local = alternative.partition(":")
    prefix = bioregistry.normalize_prefix(written.replace("\\.", "."))
    assert prefix is not None, f"{written} is not a Bioregistry prefix"
    resource = bioregistry.get_resource(prefix)
    banana, peel = resource.get_banana(), resource.get_banana_peel()
    if banana and peel != ":" and local.startswith(banana + peel):  # cellosaurus:CVCL_0022
        local = local[len(banana + peel):]
    assert f"^{local}$" == bioregistry.get_pattern(prefix)


def sh_in(path: URIRef) -> set[str]:
    sg = shapes_graph()
    values = set()
    for shape in sg.subjects(SH.path, path):
        members = sg.value(shape, SH["in"])
        if members is not None:
            values |= {str(v)[len(EXO):] if isinstance(v, URIRef) else str(v) for v in sg.items(members)}
    return values


@pytest.mark.parametrize(
    "path,source",
    [
        (EXO.hasDirection, lambda: vocabulary().directions),
        (EXO.hasContext, lambda: vocabulary().contexts),
        (EXO.hasBiomarkerUse, lambda: vocabulary().biomarker_uses),
        (EXO.hasExpressionChange, lambda: vocabulary().expression_changes),
        (EXO.termUsedInSource, lambda: set(VESICLE_TERMS)),
        (EXO.claimKind, lambda: set(VESICLE_CLAIM_KINDS) | set(CLAIM_KINDS)),  # vesicle-biology and text claims
        (EXO.variantField, lambda: set(VARIANT_FIELDS)),
    ],
    ids=lambda v: str(v).rpartition("/")[2] if isinstance(v, URIRef) else "",
)
def test_value_list_agrees_with_its_source(path, source):
    assert sh_in(path) == set(source())


def test_every_targeted_class_is_declared(ontology):
    sg = shapes_graph()
    declared = set(ontology.subjects(RDF.type, OWL.Class))
    assert {c for c in sg.objects(None, SH.targetClass)} - declared == set()


@pytest.fixture(scope="module")
def review() -> dict[str, Graph]:
    return assemble()[0]


def test_review_graph_conforms_and_names_the_row_of_every_result(review):
    report = validate(review["asserted"], review["ontology"])
    assert [r.line() for r in report.violations] == []
    assert [r.line() for r in report.results if not re.search(r":\d+$", r.origin)] == []


# --- the synthetic benchmark graphs (bench/synthetic.py) --------------------------------------------
@pytest.fixture(scope="module")
def synthetic():
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import synthetic
    finally:
        sys.path.remove(str(REPO / "bench"))
    return synthetic


def copy_of(node) -> int:
    """Which copy a synthetic node belongs to: finding/TME-2004 → 2, population/t-cells-s2 → 2, review nodes → 0."""
    found = re.search(r"-(\d+)\d{3}$", str(node)) if "/finding/" in str(node) else re.search(r"-s(\d+)$", str(node))
    return int(found.group(1)) if found else 0


@pytest.fixture(scope="module")
def synthetic3(synthetic) -> Graph:
    return synthetic.generate(3, seed=7)


def test_synthetic_graph_conforms_and_scales(synthetic3, review):
    shared = [t for t in review["asserted"] if "/source/" in str(t[0])]  # the review's sections, described once
    assert len(synthetic3) == 3 * len(review["asserted"]) - 2 * len(shared)
    assert validate(synthetic3, review["ontology"]).violations == []


def test_synthetic_copies_share_their_vocabulary(synthetic3):
    """Findings of one copy point at other copies' populations: one graph, not islands."""
    links = list(synthetic3.subject_objects(EXO.hasDonorPopulation))
    assert {copy_of(f) for f, _ in links} == {0, 1, 2}
    assert any(copy_of(f) != copy_of(p) for f, p in links)
    assert all(copy_of(p) == 0 for f, p in links if copy_of(f) == 0)  # copy 0 is the review


def test_synthetic_scale_one_is_the_review(synthetic, review):
    assert set(synthetic.generate(1, seed=7)) == set(review["asserted"])


def test_synthetic_graph_depends_on_the_seed_only(synthetic, synthetic3):
    assert set(synthetic.generate(3, seed=7)) == set(synthetic3)
    assert set(synthetic.generate(3, seed=8)) != set(synthetic3)


def test_synthetic_cli_output_does_not_depend_on_the_hash_seed():
    def run(hash_seed: str) -> bytes:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        return subprocess.run([sys.executable, str(REPO / "bench" / "synthetic.py"), "2"],
                              capture_output=True, check=True, env=env, cwd=REPO).stdout

    first = run("1")
    assert first and first == run("2")
