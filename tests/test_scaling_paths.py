"""The paths for big graphs give what the reference paths give: validate_batched() the same SHACL report as
validate() (shapes/validate.py), the rules run by Oxigraph the same closure, round by round, as the rules
matched by rdflib (ontology/materialize.py), and the streamed synthetic graph the same triples as generate()
(bench/synthetic.py). Inputs: the review graph, a small synthetic graph, and the SHACL and reasoning examples."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rdflib import Graph

from exokg.build import assemble
from exokg.ontology.materialize import materialize, materialize_oxigraph
from exokg.ontology.rules import compile_rules
from exokg.shapes.validate import validate, validate_batched

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parent.parent
SHAPE_EXAMPLES = sorted((DATA / "shapes" / "valid").glob("*.ttl")) + sorted((DATA / "shapes" / "invalid").glob("*.ttl"))
REASON_EXAMPLES = sorted((DATA / "reason").glob("*.ttl")) + sorted((DATA / "reason" / "inconsistent").glob("*.ttl"))


@pytest.fixture(scope="module")
def synthetic():
    sys.path.insert(0, str(REPO / "bench"))
    import synthetic

    return synthetic


@pytest.fixture(scope="module")
def review():
    return assemble()[0]


@pytest.fixture(scope="module")
def synthetic2(synthetic) -> Graph:
    return synthetic.generate(2, seed=7)


def _data(name: str, review, synthetic2) -> Graph:
    if name == "review":
        return review["asserted"]
    if name == "synthetic-2":
        return synthetic2
    base = Graph().parse(DATA / "shapes" / "base.ttl", format="turtle")
    return base + Graph().parse(DATA / name, format="turtle")


SHAPE_INPUTS = ["review", "synthetic-2"] + [str(p.relative_to(DATA)) for p in SHAPE_EXAMPLES]


@pytest.mark.parametrize("name", SHAPE_INPUTS)
def test_batched_validation_gives_the_same_report(name, review, synthetic2):
    data = _data(name, review, synthetic2)
    expected = validate(data, review["ontology"])
    # the graphs in several batches, so that findings, their parts and the nodes they point at fall in
    # different ones; an example (a few triples) in one
    got = validate_batched(data, review["ontology"], batch_triples=2000)
    assert got.lines() == expected.lines()
    assert sorted(got.results, key=repr) == sorted(expected.results, key=repr)


def test_a_sparql_constraint_result_comes_from_oxigraph(review):
    """The comparison above also covers the SPARQL constraints' path: here is one of its results."""
    data = _data("shapes/invalid/two-labels.ttl", review, None)
    found = {(r.shape, r.component) for r in validate_batched(data, review["ontology"]).violations}
    assert found == {("exosh:OneLabel", "SPARQL")}


REASON_INPUTS = ["review", "synthetic-2"] + [str(p.relative_to(DATA)) for p in REASON_EXAMPLES]


def _reasoning_data(name: str, review, synthetic2) -> Graph:
    """The asserted triples reasoned over: a reasoning example is read beside the review's asserted graph."""
    if name in ("review", "synthetic-2"):
        return _data(name, review, synthetic2)
    return review["asserted"] + Graph().parse(DATA / name, format="turtle")


@pytest.mark.parametrize("name", REASON_INPUTS)
def test_rules_on_oxigraph_derive_the_same_closure(name, review, synthetic2):
    data = _reasoning_data(name, review, synthetic2)
    data = data + review["ontology"]
    ruleset = compile_rules(review["ontology"])
    expected = materialize(ruleset, data)
    got = materialize_oxigraph(ruleset, data)
    assert got.derived == expected.derived  # the same triples, each first derived in the same round
    assert got.rounds == expected.rounds
    assert set(got.graph) == set(expected.graph)


@pytest.mark.parametrize("copies", [1, 2, 3])
def test_streamed_graph_is_the_generated_one(copies, synthetic):
    expected = synthetic.generate(copies, seed=7)
    out = io.StringIO()
    written = synthetic.stream_ntriples(len(expected), out, seed=7)
    assert synthetic.copies_for(len(expected)) == copies
    streamed = Graph().parse(data=out.getvalue(), format="nt")
    assert written == len(streamed) == len(expected)
    assert set(streamed) == set(expected)


def test_a_size_below_one_copy_is_a_fragment_of_whole_subjects(synthetic, review):
    out = io.StringIO()
    written = synthetic.stream_ntriples(1000, out, seed=7)
    fragment = Graph().parse(data=out.getvalue(), format="nt")
    assert 1000 <= written < len(review["asserted"])
    for subject in fragment.subjects(unique=True):
        assert set(fragment.triples((subject, None, None))) == set(review["asserted"].triples((subject, None, None)))


def test_finding_rows_rename_every_id(synthetic):
    out = io.StringIO()
    rows = synthetic.finding_rows(2, out)
    lines = out.getvalue().splitlines()
    ids = [line.split("\t")[0] for line in lines[1:]]
    assert rows == len(ids) and len(set(ids)) == len(ids)
    assert all(i.split("-")[1][0] in "12" and len(i.split("-")[1]) == 4 for i in ids)


@pytest.mark.parametrize("name", REASON_INPUTS)
def test_clashes_found_on_oxigraph_are_the_rules_clashes(name, review, synthetic2):
    from exokg.ontology.clashes import clashes_in_store, find_clashes
    from exokg.ontology.materialize import materialize_store, oxigraph_store

    data = _reasoning_data(name, review, synthetic2)
    ruleset = compile_rules(review["ontology"])
    expected = find_clashes(ruleset, materialize(ruleset, data + review["ontology"]), {"asserted": data}, review["ontology"])
    store = oxigraph_store(data, review["ontology"])
    materialize_store(ruleset, store)
    assert clashes_in_store(ruleset, store) == sorted(c.summary for c in expected)
