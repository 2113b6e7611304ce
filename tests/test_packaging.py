"""Packaging (pyproject.toml): building the project's wheel (what ``pip install .`` installs) prints no warning and
packs every data file the steps read; ``make install``'s editable install prints nothing.

Offline and quick: the build runs on a copy of the project's sources (not in the worktree, where setuptools
would write into ``build/``, the graph's output folder), with the setuptools of this virtualenv (the test
extra pins one recent enough for the project's metadata) and no build isolation, so nothing is downloaded.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "exokg", "graph", "ontology", "shapes", "server")
# What the build, the reasoner and the server read from the installed package (a sample of every data folder).
DATA_FILES = ("exokg/ontology/exokg.ttl", "exokg/shapes/exokg-shapes.ttl", "exokg/graph/source/review.txt",
              "exokg/graph/vocabulary/entities.tsv", "exokg/server/templates/query.html",
              "exokg/server/static/exokg.css", "exokg/server/examples/001-cargos-per-context.ttl")


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("exokg-sources")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=ignore)
        else:
            shutil.copy2(source, copy / name)
    return copy


def run(command: list[str], cwd: Path, warnings: str = "default") -> str:
    # PYTHONDONTWRITEBYTECODE (set by some shells and CI) makes setuptools note that it skips byte-compiling.
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    # No index and no machine-wide pip configuration: offline, and only the project's own output is read.
    environment.update(PIP_NO_INDEX="1", PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
                       PYTHONWARNINGS=warnings)
    done = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def warnings_in(output: str) -> list[str]:
    return [line for line in output.splitlines() if "warning" in line.lower() or "!!" in line]


def test_building_the_wheel_prints_no_warning_and_packs_the_data(sources, tmp_path):
    output = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--verbose",
                  "--wheel-dir", str(tmp_path), str(sources)], cwd=tmp_path)
    assert "Building wheel for exokg" in output  # the backend's own output is in what was read
    assert warnings_in(output) == [], output
    (wheel,) = tmp_path.glob("exokg-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(DATA_FILES) <= names, sorted(set(DATA_FILES) - names)
    tables = {n for n in names if n.startswith("exokg/graph/tables/")}
    assert tables == {f"exokg/graph/tables/{p.name}" for p in (ROOT / "graph" / "tables").glob("*.tsv")}


def test_the_editable_install_of_make_install_prints_nothing(sources, tmp_path):
    """``make install``'s own command (its quiet editable install, with the Makefile's one filter for setuptools'
    note on editable layouts) prints nothing when nothing is wrong. Into a ``--target`` folder: that leaves this
    virtualenv's own install alone (``--prefix`` would uninstall it first)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (note,) = re.findall(r'^EDITABLE_NOTE := PYTHONWARNINGS="([^"]*)"$', makefile, flags=re.MULTILINE)
    assert "$(EDITABLE_NOTE) $(BIN)/python -m pip install --quiet -e" in makefile
    output = run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", str(sources),
                  "--target", str(tmp_path / "target")], cwd=tmp_path, warnings=note)
    assert output == ""
    assert list((tmp_path / "target").glob("__editable__*exokg*.pth"))
