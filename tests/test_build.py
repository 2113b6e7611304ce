"""The build: deterministic, loadable by OWL tools, and atomic when a curated row is broken."""

from __future__ import annotations

import shutil
import subprocess
import sys

import owlready2
import pytest

from exokg.build import build
from exokg.config import GRAPH_DIR

EXPECTED_OUTPUTS = ["exokg.trig", "exokg.nq", "exokg.nt", "exokg.ttl", "exokg.jsonld", "ontology.ttl", "ontology.owl",
                    "exokg.owl", "void.ttl"]


def test_outputs_are_all_written(build_dir):
    for name in EXPECTED_OUTPUTS:
        assert (build_dir / name).stat().st_size > 0, name


def test_two_builds_give_byte_identical_ntriples(build_dir, tmp_path):
    build(tmp_path / "again")
    assert (tmp_path / "again" / "exokg.nt").read_bytes() == (build_dir / "exokg.nt").read_bytes()
    assert (tmp_path / "again" / "exokg.nq").read_bytes() == (build_dir / "exokg.nq").read_bytes()


def test_owlready2_loads_the_ontology(build_dir):
    world = owlready2.World()
    onto = world.get_ontology((build_dir / "ontology.owl").as_uri()).load()
    labels = {str(label) for cls in onto.classes() for label in cls.label}
    assert {"small extracellular vesicle", "microRNA", "glioma stem cell", "finding"} <= labels


def test_a_broken_row_fails_with_file_line_and_keeps_previous_outputs(tmp_path):
    curated = tmp_path / "curated"
    shutil.copytree(GRAPH_DIR, curated, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    table = curated / "tables" / "table1_tumor_microenvironment.tsv"
    lines = table.read_text(encoding="utf-8").split("\n")
    cells = lines[4].split("\t")
    cells[14] = ""  # TME-004 loses its reference
    lines[4] = "\t".join(cells)
    table.write_text("\n".join(lines), encoding="utf-8")

    out = tmp_path / "out"
    build(out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    run = subprocess.run(
        [sys.executable, "-m", "exokg", "build", "--out", str(out), "--curated", str(curated)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert run.returncode == 1
    assert "curated/tables/table1_tumor_microenvironment.tsv:5: missing reference" in run.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_a_failure_in_the_serializing_child_stops_the_build_and_leaves_the_output(build_dir, tmp_path, monkeypatch):
    """TriG/N-Quads/N-Triples are written by a forked child: its error reaches the build, nothing is half-written."""
    import exokg.build

    out = tmp_path / "out"
    shutil.copytree(build_dir, out)
    before = (out / "exokg.nt").read_bytes()

    def broken(graphs):
        raise ValueError("serializer broke")

    monkeypatch.setattr(exokg.build, "_line_based", broken)
    with pytest.raises(RuntimeError, match="serializer broke"):
        build(out)
    assert (out / "exokg.nt").read_bytes() == before
