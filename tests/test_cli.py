"""The exokg command line over a built graph."""

from __future__ import annotations

import subprocess
import sys

import pytest


def exokg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "exokg", *args], capture_output=True, text=True)


def test_query_prints_a_table(build_dir):
    run = exokg("query", "--data", str(build_dir),
                "SELECT ?id WHERE { ?f exo:hasCargo/rdfs:label 'miR-944'@en ; dcterms:identifier ?id }")
    assert run.returncode == 0, run.stderr
    assert "ANG-008" in run.stdout and "(1 row)" in run.stdout


@pytest.mark.parametrize("fmt, marker", [("json", '"bindings"'), ("csv", "id\nANG-008"), ("tsv", "?id\n")])
def test_query_formats(build_dir, fmt, marker):
    run = exokg("query", "--data", str(build_dir), "--format", fmt,
                "SELECT ?id WHERE { ?f exo:hasCargo/rdfs:label 'miR-944'@en ; dcterms:identifier ?id }")
    assert run.returncode == 0 and marker in run.stdout


def test_a_malformed_query_is_an_error_not_a_traceback(build_dir):
    run = exokg("query", "--data", str(build_dir), "SELECT ?x WHERE {")
    assert run.returncode == 1 and run.stderr.startswith("error:") and "Traceback" not in run.stderr


def test_query_without_a_build_says_what_to_do(tmp_path):
    run = exokg("query", "--data", str(tmp_path / "nothing"), "ASK {}")
    assert run.returncode == 2 and "exokg build" in run.stderr
