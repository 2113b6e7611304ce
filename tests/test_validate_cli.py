"""`exokg validate` and the build's SHACL gate, from the command line.

Broken inputs live in tests/data/curated_invalid/<case>/: one input file (a curated TSV or RDF) and an
``expected.txt`` whose lines are ``FILE:LINE: MESSAGE`` — each must appear on one line of the output, and the
command must exit non-zero.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from exokg.cli import main

DATA = Path(__file__).parent / "data"
CASES = sorted(p for p in (DATA / "curated_invalid").iterdir() if p.is_dir())


def case_input(case: Path) -> Path:
    (found,) = [p for p in case.iterdir() if p.name != "expected.txt"]
    return found


def expectations(case: Path) -> list[tuple[str, str]]:
    """(LOCATION, MESSAGE) pairs; LOCATION is FILE:LINE relative to the case folder."""
    pairs = []
    for line in (case / "expected.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            file, number, message = line.split(":", 2)
            pairs.append((f"{case.name}/{file}:{number}:", message.strip()))
    return pairs


def run(capsys, *argv: str) -> tuple[int, list[str]]:
    code = main(["validate", *argv])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_broken_input_is_refused_with_its_file_and_line(case, capsys):
    code, lines = run(capsys, str(case_input(case)))
    assert code == 1
    assert expectations(case), f"{case.name}/expected.txt lists what to expect"
    for location, message in expectations(case):
        assert any(location in line and message in line for line in lines), (location, message, lines)


def test_a_curators_new_findings_file_conforms(capsys):
    code, lines = run(capsys, "--no-warnings", str(DATA / "curated_valid" / "new-findings.tsv"))
    assert code == 0, lines
    assert lines[-1].startswith("conforms: 0 violation(s)")


def test_warnings_are_listed_for_the_named_files_only(capsys):
    code, lines = run(capsys, str(DATA / "curated_valid" / "new-findings.tsv"))
    assert code == 0
    assert [line for line in lines if "warning:" in line] == []  # the new row's nodes all have verified mappings


def test_the_built_graph_conforms_and_its_warnings_name_their_rows(build_dir, capsys):
    code, lines = run(capsys, "--data", str(build_dir))
    assert code == 0
    warnings = [line for line in lines if "warning:" in line]
    assert warnings and all(line.strip().split(": ", 1)[0].rsplit(":", 1)[1].isdigit() for line in warnings)
    assert lines[-1].startswith("conforms: 0 violation(s)")


def test_a_dump_validates_alone(build_dir, capsys):
    code, lines = run(capsys, "--alone", "--no-warnings", str(build_dir / "exokg.nt"))
    assert code == 0, lines


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--data", "no/such/build"], "no built graph at"),
        (["no/such/file.tsv"], "no such file"),
        (["pyproject.toml"], "not a curated .tsv file nor RDF"),
    ],
    ids=["no-build", "no-file", "unknown-kind"],
)
def test_unusable_input_is_a_usage_error(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    code, lines = run(capsys, *argv)
    assert code == 2
    assert any(message in line for line in lines)


@pytest.mark.parametrize(
    "name,text",
    [("bad.ttl", '@prefix exo: <https://w3id.org/exokg/vocab/> .\nexo:x exo:y "unterminated .\n'),
     ("bad.jsonld", '{"@id": '),
     ("bad.rdf", "<a")],
    ids=["turtle", "json-ld", "rdf-xml"],
)
def test_an_rdf_file_that_does_not_parse_is_refused(name, text, tmp_path, capsys):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, lines = run(capsys, str(path))
    assert code == 1
    assert any(f"{path}: cannot parse" in line for line in lines), lines


def test_build_refuses_a_graph_that_violates_the_shapes_and_keeps_the_previous_outputs(tmp_path, capsys):
    out = tmp_path / "build"
    out.mkdir()
    (out / "exokg.nt").write_text("previous\n", encoding="utf-8")
    broken = DATA / "curated_invalid" / "promotes-and-inhibits" / "findings.tsv"
    code = main(["build", "--out", str(out), "--finding-file", str(broken)])
    err = capsys.readouterr().err
    assert code == 1
    assert "promotes-and-inhibits/findings.tsv:2: violation: both increases and inhibits" in err
    assert "SHACL violation(s)" in err
    assert (out / "exokg.nt").read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in out.iterdir()) == ["exokg.nt"]


def test_a_replacement_vocabulary_file_reports_its_own_path(tmp_path, capsys):
    """A file standing in for one of the curated directory's is reported under its own name, not a temporary one."""
    xrefs = tmp_path / "xrefs.tsv"
    shutil.copy(DATA / "curated_invalid" / "malformed-identifier" / "xrefs.tsv", xrefs)
    code, lines = run(capsys, str(xrefs))
    assert code == 1
    assert any(f"{xrefs}:2: malformed identifier" in line for line in lines), lines
