"""Broken curated rows never crash the reader: hypothesis damages one curated TSV at a time (random bytes,
wrong columns, Unicode look-alikes, byte-order marks, CRLF, truncation...) in a copy of graph/, and the
reader either accepts the result or raises CurationError whose every problem names file:line.

CI tries a few hundred cases; EXOKG_FUZZ_EXAMPLES raises that. The cases tried and a sample of the
messages are written to EXOKG_FUZZ_CURATED (a JSON file) when set, for bench/robustness_report.py.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exokg.config import GRAPH_DIR
from exokg.graph.curated import CurationError, load

EXAMPLES = int(os.environ.get("EXOKG_FUZZ_EXAMPLES", "60")) * 4
PROBLEM = re.compile(r"^\S.*\.tsv:\d+: \S")  # file:line: message
LOOKALIKES = {"a": "\u0430", "e": "\u0435", "o": "\u03bf", "i": "\u0456", "-": "\u2010", " ": "\u00a0", "1": "\uff11",
              "I": "\u04c0", "p": "\u0440", "c": "\u0441", ";": "\u037e", "'": "\u2019", "R": "\u211b"}
COUNTS: collections.Counter = collections.Counter()  # mutation → cases tried
OUTCOMES: collections.Counter = collections.Counter()  # "accepted" / "CurationError"
SAMPLES: dict[str, str] = {}  # mutation → one message it produced

# every file the reader reads (vocabulary/relations.tsv is the ontology's, read by ontology/vocabulary.py)
TSV_FILES = sorted(str(p.relative_to(GRAPH_DIR)) for p in GRAPH_DIR.rglob("*.tsv") if p.name != "relations.tsv")


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    copy = tmp_path_factory.mktemp("curated") / "graph"
    shutil.copytree(GRAPH_DIR, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    load(copy)  # the copy itself is accepted: every problem below comes from the damage
    yield copy
    if os.environ.get("EXOKG_FUZZ_CURATED"):
        with open(os.environ["EXOKG_FUZZ_CURATED"], "w") as out:
            json.dump({"cases": dict(COUNTS), "outcomes": dict(OUTCOMES), "samples": SAMPLES}, out, ensure_ascii=False, indent=1)


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


@st.composite
def damage(draw) -> tuple[str, str, object]:
    """(file, mutation, function from the file's bytes to its damaged bytes)."""
    name = draw(st.sampled_from(TSV_FILES))
    kind = draw(st.sampled_from(["random bytes line", "random text row", "cell dropped", "cell added",
                                 "unicode look-alikes", "zero-width characters", "byte-order mark", "UTF-16",
                                 "CRLF", "lone CR", "truncated", "empty file", "header only", "NUL bytes",
                                 "row duplicated", "cell emptied", "huge cell", "header look-alike"]))
    index = draw(st.integers(min_value=1, max_value=10_000))
    noise = draw(st.binary(min_size=1, max_size=200))
    text = draw(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
    column = draw(st.integers(min_value=0, max_value=30))
    picks = draw(st.lists(st.sampled_from(sorted(LOOKALIKES)), min_size=1, max_size=3))

    def row_of(lines: list[bytes]) -> int:
        return 1 + index % max(1, len(lines) - 1) if len(lines) > 1 else 0

    def mutate(data: bytes) -> bytes:
        lines = _lines(data)
        at = row_of(lines)
        cells = lines[at].split(b"\t")
        if kind == "random bytes line":
            lines.insert(at, noise)
        elif kind == "random text row":
            lines.insert(at, text.encode("utf-8"))
        elif kind == "cell dropped":
            del cells[column % len(cells)]
            lines[at] = b"\t".join(cells)
        elif kind == "cell added":
            cells.insert(column % (len(cells) + 1), text.replace("\t", " ").replace("\n", " ").encode())
            lines[at] = b"\t".join(cells)
        elif kind in ("unicode look-alikes", "header look-alike"):
            at = 0 if kind == "header look-alike" else at
            line = lines[at].decode("utf-8")
            for char in picks:
                line = line.replace(char, LOOKALIKES[char], 1 + index % 3)
            lines[at] = line.encode("utf-8")
        elif kind == "zero-width characters":
            cell = column % len(cells)
            cells[cell] = "\u200b".encode() + cells[cell] + "\ufeff".encode()
            lines[at] = b"\t".join(cells)
        elif kind == "byte-order mark":
            return b"\xef\xbb\xbf" + data
        elif kind == "UTF-16":
            return data.decode("utf-8").encode("utf-16")
        elif kind == "CRLF":
            return data.replace(b"\n", b"\r\n")
        elif kind == "lone CR":
            return data.replace(b"\n", b"\r", 1 + index % 5)
        elif kind == "truncated":
            return data[: index % max(1, len(data))]
        elif kind == "empty file":
            return b""
        elif kind == "header only":
            return lines[0] + b"\n"
        elif kind == "NUL bytes":
            lines[at] = lines[at][: index % (len(lines[at]) + 1)] + b"\x00" * (1 + column) + lines[at][index % (len(lines[at]) + 1):]
        elif kind == "row duplicated":
            lines.insert(at, lines[at])
        elif kind == "cell emptied":
            cells[column % len(cells)] = b"   "
            lines[at] = b"\t".join(cells)
        elif kind == "huge cell":
            cells[column % len(cells)] = b"x" * 200_000
            lines[at] = b"\t".join(cells)
        return b"\n".join(lines)

    return name, kind, mutate


@settings(max_examples=EXAMPLES, deadline=None, derandomize="EXOKG_FUZZ_EXAMPLES" not in os.environ,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=damage())
def test_damaged_rows_get_file_line_messages(curated, case):
    name, kind, mutate = case
    path = curated / name
    original = path.read_bytes()
    path.write_bytes(mutate(original))
    COUNTS[kind] += 1
    try:
        load(curated)
    except CurationError as exc:
        OUTCOMES["CurationError"] += 1
        assert exc.problems, "a CurationError without problems"
        for problem in exc.problems:
            assert PROBLEM.match(str(problem)), str(problem)
        mine = [str(p) for p in exc.problems if str(p.origin.path).endswith(name)]
        SAMPLES.setdefault(kind, (mine or [str(exc.problems[0])])[0][:300])
    else:
        OUTCOMES["accepted"] += 1
    finally:
        path.write_bytes(original)


@pytest.mark.parametrize("name", TSV_FILES)
def test_bom_and_crlf_are_named(curated, name):
    """A byte-order mark is reported at line 1 of its file; CRLF line ends are read like LF."""
    path = curated / name
    original = path.read_bytes()
    try:
        path.write_bytes(b"\xef\xbb\xbf" + original)
        with pytest.raises(CurationError, match=re.escape(name) + ":1: "):
            load(curated)
        path.write_bytes(original.replace(b"\n", b"\r\n"))
        load(curated)
    finally:
        path.write_bytes(original)


RELATIONS = "vocabulary/relations.tsv"  # read at build time by ontology/relations.py, beside the reader's files
RELATION_DAMAGE = [  # (case, damage to the file's bytes)
    ("byte-order mark", lambda b: b"\xef\xbb\xbf" + b),
    ("a row with too few cells", lambda b: b + b"only\ttwo\n"),
    ("a look-alike in the first row", lambda b: b.split(b"\n", 1)[0] + b"\n" + b.split(b"\n", 1)[1].replace(b"\t", "\t\u0440".encode(), 1)),
    ("random bytes in a row", lambda b: b + b"a\tb\tc\t\xc3\x28\xff\n"),
    ("UTF-16", lambda b: b.decode("utf-8").encode("utf-16")),
]
@pytest.mark.parametrize("case, damage", RELATION_DAMAGE, ids=[c for c, _ in RELATION_DAMAGE])
def test_damaged_relations_get_file_line_messages(curated, case, damage):
    from exokg.ontology.relations import relation_triples

    path = curated / RELATIONS
    original = path.read_bytes()
    corpus = load(curated)
    try:
        path.write_bytes(damage(original))
        with pytest.raises(CurationError) as raised:
            relation_triples(corpus, curated)
        assert all(PROBLEM.match(str(p)) for p in raised.value.problems), str(raised.value)
    finally:
        path.write_bytes(original)
