"""The validate step: a graph against the SHACL shapes, with a report that names the curated row of each node.

The shapes (``exokg-shapes.ttl``) are the graph's contract. pySHACL checks the data with the whole ontology
graph mixed in, so that ``sh:class`` and class targets follow ``rdfs:subClassOf`` and the ontology's own
vocabulary nodes (cell types, cell states, the imported external terms) are checked too — pySHACL's
``ont_graph`` would mix in the TBox axioms only. No RDFS/OWL inference: the subclass walk is all the shapes
need, and inferred domain/range types would make every ``sh:class`` check pass whatever the value. Results
are grouped by focus node; each says which curated file and line produced the node (``exo:curatedAt``, or
that of the finding it hangs from), the rule that failed, and the value found.

Inputs (``exokg validate``): the built graph, curated TSV files (checked row by row by
:mod:`exokg.graph.curated` first, then built and validated with the rest of the curated directory), or RDF
files (merged with the graph built from the curated directory, as they would be published, or alone).

Spec: SHACL https://www.w3.org/TR/shacl/ ; SHACL-AF SPARQL targets https://www.w3.org/TR/shacl-af/#SPARQLTarget
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from xml.sax import SAXException

from rdflib import BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.exceptions import ParserError
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from exokg.config import BASE, EXO, GRAPH, GRAPH_DIR, ONTOLOGY_FILE, PREFIXES

SHAPES_FILE = Path(__file__).resolve().parent / "exokg-shapes.ttl"
SHAPES = Namespace(BASE + "shapes/")  # the shapes' own IRIs (exosh:Finding…)
# Options for pySHACL, in one place so that the build, the CLI and the tests validate alike.
PYSHACL_OPTIONS = {
    "inference": "none",  # the ontology is mixed in; see the module docstring for why not "rdfs"
    "advanced": True,  # SHACL-AF: the SPARQL target that selects the cell-type classes
    "allow_warnings": True,  # warnings are curation gaps: reported, never blocking
    "abort_on_first": False,
}
RDF_FORMATS = {  # file suffix → rdflib parser
    ".ttl": "turtle",
    ".nt": "nt",
    ".nq": "nquads",
    ".trig": "trig",
    ".jsonld": "json-ld",
    ".json": "json-ld",
    ".rdf": "xml",
    ".owl": "xml",
    ".xml": "xml",
    ".n3": "n3",
}
_IRI = re.compile(r"https?://[^\s,;()<>\"]*[^\s,;:.()<>\"]")  # an IRI in a message, without trailing punctuation
BATCHED_ABOVE = 100_000  # triples: above this, `exokg validate` runs validate_batched() (bench/scaling.py)
SEVERITIES = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}
PARTS = (EXO.hasEffect, EXO.hasAxisStep, EXO.hasTextVariant, EXO.hasVesicle)  # a node → its finding


class ShapesViolated(Exception):
    """The graph does not conform; the message lists every violation with the curated file:line of its node."""

    def __init__(self, report: Report):
        self.report = report
        lines = report.lines(warnings=False)
        super().__init__(f"{len(report.violations)} SHACL violation(s):\n" + "\n".join(lines))

    def __reduce__(self):  # rebuilt from its report when the shapes were checked in a forked child
        return type(self), (self.report,)


@dataclass(frozen=True)
class Result:
    severity: str  # violation | warning | info
    focus: Node
    focus_name: str  # compact IRI and label, for people
    origin: str  # "FILE:LINE" where the node is (see _Origins), or "" when unknown
    row: str  # the curated row it was built from, when that is not ``origin``
    message: str
    path: str
    found: str  # the value (or values) found, as text
    shape: str
    component: str

    def line(self) -> str:
        where = f"{self.origin}: " if self.origin else ""
        details = [f"path {self.path}"] if self.path else []
        if self.found:
            details.append(f"found {self.found}")
        details.append(f"rule {self.shape} ({self.component})")
        if self.row:
            details.append(f"curated at {self.row}")
        return f"{where}{self.severity}: {self.message} [{'; '.join(details)}]"


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)
    triples: int = 0
    seconds: float = 0.0

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.severity == "violation"]

    @property
    def warnings(self) -> list[Result]:
        return [r for r in self.results if r.severity != "violation"]

    @property
    def conforms(self) -> bool:
        return not self.violations

    def lines(self, warnings: bool = True, only_origins: tuple[str, ...] = ()) -> list[str]:
        """The report as text: one heading per focus node, then one line per failed rule, violations first.

        ``only_origins`` keeps warnings only for nodes from those files (violations are always kept).
        """
        groups: dict[Node, list[Result]] = defaultdict(list)
        for result in self.results:
            if result.severity != "violation":
                if not warnings:
                    continue
                if only_origins and not any(_same_file(result.origin, o) for o in only_origins):
                    continue
            groups[result.focus].append(result)
        out = []
        order = sorted(groups, key=lambda n: (min(_rank(r) for r in groups[n]), _origin_key(groups[n][0].origin), str(n)))
        for node in order:
            results = sorted(groups[node], key=lambda r: (_rank(r), r.path, r.message, r.line()))  # same order every run
            out.append(results[0].focus_name)
            out += [f"  {r.line()}" for r in results]
        return out


def _rank(result: Result) -> int:
    return 0 if result.severity == "violation" else 1


def _origin_key(origin: str) -> tuple[str, int]:
    file, _, line = origin.rpartition(":")
    return (file, int(line)) if line.isdigit() else (origin, 0)


def _same_file(origin: str, file: str) -> bool:
    return origin.rpartition(":")[0] == file


@lru_cache(maxsize=1)
def shapes_graph() -> Graph:
    return Graph().parse(SHAPES_FILE, format="turtle")


def _compact(node: Node | None, graph: Graph) -> str:
    if node is None:
        return ""
    if isinstance(node, URIRef):
        text = str(node)
        if text.startswith(BASE) and not text.startswith(str(EXO)) and not text.startswith(str(SHAPES)):
            return text[len(BASE):]  # finding/TME-004: shorter than a CURIE, and what the curator knows
        if text.startswith(str(SHAPES)):
            return "exosh:" + text[len(SHAPES):]
        for prefix, namespace in PREFIXES.items():
            if text.startswith(str(namespace)) and prefix != "exog":
                return f"{prefix}:{text[len(str(namespace)):]}"
        return f"<{text}>"
    if isinstance(node, Literal):
        return f'"{node}"' + (f"@{node.language}" if node.language else "")
    return _path_text(node, graph)


def _path_text(node: Node, shapes: Graph) -> str:
    """A SHACL path (IRI, sequence, alternative, inverse…) as SPARQL-like text."""
    if isinstance(node, URIRef):
        return _compact(node, shapes)
    for kind, sign in ((SH.alternativePath, "|"), (SH.inversePath, "^"), (SH.zeroOrMorePath, "*"),
                       (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        inner = shapes.value(node, kind)
        if inner is not None:
            if kind == SH.alternativePath:
                return "(" + "|".join(_path_text(p, shapes) for p in shapes.items(inner)) + ")"
            return f"^{_path_text(inner, shapes)}" if sign == "^" else f"{_path_text(inner, shapes)}{sign}"
    if shapes.value(node, RDF.first) is not None:
        return "/".join(_path_text(p, shapes) for p in shapes.items(node))
    return str(node)


class _Origins:
    """Where each focus node came from.

    ``row``: its ``exo:curatedAt`` (the curated file:line), or that of the finding it is part of. ``mention``:
    the first line of an input RDF file that names it, or for an ontology term without a row, the line of
    ontology/exokg.ttl that declares it. A node named by an input file is located there first: that is where a
    curator's edit is; the row it was built from follows.
    """

    def __init__(self, data: Graph, files: tuple[Path, ...], nodes: set[Node]):
        self.data = data
        self.mentions: dict[str, str] = {}
        wanted = {str(n) for n in nodes if isinstance(n, URIRef)}
        for path in files:
            self._scan(path, wanted)
        rowless = {n for n in wanted if n not in self.mentions and not self.row(URIRef(n))}
        if rowless:
            self._scan(ONTOLOGY_FILE, rowless)

    def row(self, node: Node) -> str:
        own = self.data.value(node, EXO.curatedAt)
        if own is not None:
            return str(own)
        for link in PARTS:  # effects, axis steps, text variants and vesicles come from their finding's row
            for parent in self.data.subjects(link, node):
                origin = self.data.value(parent, EXO.curatedAt)
                if origin is not None:
                    return str(origin)
        return ""

    def __call__(self, node: Node) -> tuple[str, str]:
        """(where to look first, the curated row when that is somewhere else)."""
        mention, row = self.mentions.get(str(node), ""), self.row(node)
        return (mention, row if row != mention else "") if mention else (row, "")

    def _scan(self, path: Path, wanted: set[str]) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return
        prefixes = dict(re.findall(r"(?im)^\s*@?prefix\s+([\w.-]*):\s*<([^>]*)>", text))
        shown = _display(path)
        for number, line in enumerate(text.splitlines(), start=1):
            found = [a or b for a, b in re.findall(r"<([^>\s]+)>|\"(https?://[^\"\s]+)\"", line)]
            if prefixes:  # Turtle's prefixed names, with its \-escapes (f:TME-001\/effect\/1)
                found += [
                    prefixes[prefix] + local.replace("\\", "")
                    for prefix, local in re.findall(r"(?<![\w<\"/#])([A-Za-z][\w.-]*|):((?:[\w.-]|\\[/#?&=])*[\w-])", line)
                    if prefix in prefixes
                ]
            for iri in found:
                if iri in wanted and iri not in self.mentions:
                    self.mentions[iri] = f"{shown}:{number}"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _found(result: Node, report: Graph, data: Graph, focus: Node, path: Node | None) -> str:
    value = report.value(result, SH.value)
    if value is not None and (value != focus or path is not None):
        return _compact(value, data)
    if isinstance(path, URIRef):  # counts: say what is there
        values = sorted(_compact(v, data) for v in data.objects(focus, path))
        return f"{len(values)}: " + ", ".join(values) if values else "nothing"
    return "nothing" if path is not None else ""


def _shape_name(shape: Node, shapes: Graph) -> str:
    if isinstance(shape, URIRef):
        return _compact(shape, shapes)
    parent = next(shapes.subjects(SH.property, shape), None)
    if parent is None:
        parent = next(shapes.subjects(SH.qualifiedValueShape, shape), None)
    return _compact(parent, shapes) if isinstance(parent, URIRef) else "(anonymous shape)"


class _DataGraph(Graph):
    """The graph pySHACL validates in place. pySHACL runs a SPARQL constraint once per focus node, with the same
    text and the node pre-bound; rdflib would parse the text every time, so each text is parsed once here."""

    def query(self, query_object, *args, **kwargs):
        if isinstance(query_object, str):
            query_object = _prepared(query_object)
        return super().query(query_object, *args, **kwargs)


@lru_cache(maxsize=256)
def _prepared(text: str):
    from rdflib.plugins.sparql import prepareQuery

    return prepareQuery(text)


def validate(data: Graph, ontology: Graph, files: tuple[Path, ...] = ()) -> Report:
    """``data`` with ``ontology`` against the shapes; ``files`` are the inputs, to locate nodes that lack an origin."""
    import pyshacl

    merged = _DataGraph()
    for graph in (data, ontology):
        for triple in graph:
            merged.add(triple)
    triples = len(merged)
    started = time.perf_counter()
    _, report_graph, _ = pyshacl.validate(merged, shacl_graph=shapes_graph(), inplace=True, **PYSHACL_OPTIONS)
    seconds = time.perf_counter() - started
    return _report(report_graph, merged, files, triples, seconds)


def _report(report_graph: Graph, merged, files: tuple[Path, ...], triples: int, seconds: float) -> Report:
    """pySHACL's report graph as :class:`Report`; ``merged`` (data and ontology) gives labels and origins."""
    shapes = shapes_graph()
    top = list(report_graph.objects(None, SH.result))  # top-level results (nested ones are their sh:detail)
    origins = _Origins(merged, files, {report_graph.value(node, SH.focusNode) for node in top})
    results = []
    for node in top:
        focus = report_graph.value(node, SH.focusNode)
        path = report_graph.value(node, SH.resultPath)
        shape = report_graph.value(node, SH.sourceShape)
        component = report_graph.value(node, SH.sourceConstraintComponent)
        messages = sorted(str(m) for m in report_graph.objects(node, SH.resultMessage))
        label = min(merged.objects(focus, RDFS.label), key=str, default=None)  # one, the same every run
        name = _compact(focus, merged) + (f" — {label}" if label is not None else "")
        origin, row = origins(focus)
        results.append(
            Result(
                severity=SEVERITIES.get(report_graph.value(node, SH.resultSeverity), "violation"),
                focus=focus,
                focus_name=name,
                origin=origin,
                row=row,
                message=_IRI.sub(lambda m: _compact(URIRef(m.group(0)), merged), "; ".join(messages))
                or "does not conform",
                path=_path_text(path, report_graph) if path is not None else "",
                found=_found(node, report_graph, merged, focus, path),
                shape=_shape_name(shape, shapes),
                component=str(component).rpartition("#")[2].replace("ConstraintComponent", "") if component else "",
            )
        )
    return Report(results=results, triples=triples, seconds=seconds)


# --- the same report for graphs too big for one pySHACL run ---------------------------------------------
# pySHACL's time grows linearly but its constant is large, it needs the data copied into the graph it
# validates, and it runs each SPARQL constraint once per focus node (the one-label rule: once per labelled
# node). validate_batched() gives the same report (tests/test_shapes.py compares them): the SPARQL
# constraints run once each on Oxigraph, over all their focus nodes; the core constraints run in pySHACL
# batch by batch, each batch the triples of some subjects plus those of the nodes they point at (what
# sh:class and the two-step paths read) plus the ontology, keeping only the results about the batch's own
# subjects. Memory is the data graph plus one batch. Measured by bench/scaling.py (docs/benchmarks.md).
class _Union:
    """Read-only view of several graphs, as much of the Graph API as the report needs (no copy)."""

    def __init__(self, *graphs: Graph):
        self.graphs = graphs

    def value(self, subject=None, predicate=RDF.value, object=None):
        for graph in self.graphs:
            found = graph.value(subject, predicate, object)
            if found is not None:
                return found
        return None

    def triples(self, pattern):
        for graph in self.graphs:
            yield from graph.triples(pattern)

    def objects(self, subject=None, predicate=None):
        for graph in self.graphs:
            yield from graph.objects(subject, predicate)

    def subjects(self, predicate=None, object=None):
        for graph in self.graphs:
            yield from graph.subjects(predicate, object)

    def items(self, node):
        return self.graphs[0].items(node) if (node, RDF.first, None) in self.graphs[0] else self.graphs[-1].items(node)

    def __contains__(self, triple) -> bool:
        return any(triple in graph for graph in self.graphs)


@lru_cache(maxsize=1)
def core_shapes() -> Graph:
    """The shapes without their SPARQL constraints (those run on Oxigraph, see :func:`sparql_results`)."""
    core = Graph()
    for triple in shapes_graph():
        if triple[1] != SH.sparql:
            core.add(triple)
    return core


def _targets(shape: Node, shapes: Graph) -> str:
    """The focus nodes of ``shape`` as a SPARQL group binding ?this (https://www.w3.org/TR/shacl/#targets)."""
    parts = []
    for cls in shapes.objects(shape, SH.targetClass):
        parts.append(f"?this a/<{RDFS.subClassOf}>* <{cls}> .")
    if (shape, RDF.type, RDFS.Class) in shapes:  # implicit class target
        parts.append(f"?this a/<{RDFS.subClassOf}>* <{shape}> .")
    for prop in shapes.objects(shape, SH.targetSubjectsOf):
        parts.append(f"?this <{prop}> [] .")
    for prop in shapes.objects(shape, SH.targetObjectsOf):
        parts.append(f"[] <{prop}> ?this .")
    for node in shapes.objects(shape, SH.targetNode):
        parts.append(f"VALUES ?this {{ {node.n3()} }}")
    for target in shapes.objects(shape, SH.target):
        select = shapes.value(target, SH.select)
        if select is None:
            raise ValueError(f"target {target} of {shape} has no sh:select: the batched validator reads only "
                             "SPARQL-based targets besides the core ones")
        parts.append("{ " + str(select) + " }")
    # DISTINCT: a node with two labels is one focus node, not two
    return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join("{ " + part + " }" for part in parts) + " } }"


def _prefix_lines(declarations: Node, shapes: Graph) -> str:
    lines = []
    for declared in shapes.objects(declarations, SH.declare):
        lines.append(f"PREFIX {shapes.value(declared, SH.prefix)}: <{shapes.value(declared, SH.namespace)}>")
    return "\n".join(sorted(set(lines)))


def sparql_results(store, shapes: Graph | None = None) -> Graph:
    """The SPARQL constraints' results (https://www.w3.org/TR/shacl/#sparql-constraints) as pySHACL reports them,
    each constraint one query on the pyoxigraph ``store`` (data and ontology in its default graph)."""
    from exokg.ontology.materialize import rdflib_term

    shapes = shapes if shapes is not None else shapes_graph()
    report = Graph()
    for shape, constraint in sorted(shapes.subject_objects(SH.sparql)):
        if shapes.value(shape, SH.deactivated) == Literal(True) or shapes.value(constraint, SH.deactivated) == Literal(True):
            continue
        select = re.sub(r"\$(\w+)", r"?\1", str(shapes.value(constraint, SH.select)))
        where = select.index("{", select.upper().index("WHERE"))
        text = (_prefix_lines(shapes.value(constraint, SH.prefixes), shapes) + "\n" + select[: where + 1]
                + " " + _targets(shape, shapes) + " " + select[where + 1 :])
        severity = shapes.value(shape, SH.severity) or SH.Violation
        messages = sorted(set(shapes.objects(shape, SH.message)) | set(shapes.objects(constraint, SH.message)), key=str)
        for row in store.query(text):
            bound = {name: rdflib_term(row[name]) for name in _variables(row) if row[name] is not None}
            node = BNode()
            report.add((node, RDF.type, SH.ValidationResult))
            report.add((node, SH.sourceConstraintComponent, SH.SPARQLConstraintComponent))
            report.add((node, SH.sourceShape, shape))
            report.add((node, SH.resultSeverity, severity))
            report.add((node, SH.focusNode, bound["this"]))
            report.add((node, SH.sourceConstraint, constraint))
            if "value" in bound:
                report.add((node, SH.value, bound["value"]))
            if "path" in bound:
                report.add((node, SH.resultPath, bound["path"]))
            for message in messages:
                text_ = str(message)
                for name, value in bound.items():  # as pySHACL substitutes {?var} and {$var}
                    text_ = re.sub("{[?$]" + name + "}", str(value).replace("\\", "\\\\"), text_)
                report.add((node, SH.resultMessage, Literal(text_)))
            report.add((BNode("report"), SH.result, node))
    return report


def _variables(row) -> list[str]:
    import pyoxigraph as ox

    return [v.value for v in row.variables] if hasattr(row, "variables") else [
        name for name in ("this", "value", "path", "other") if row[ox.Variable(name)] is not None]


def _copy_result(source: Graph, node: Node, target: Graph) -> None:
    """A result node with everything it reaches through blank nodes (details, complex paths)."""
    todo, seen = [node], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for triple in source.triples((current, None, None)):
            target.add(triple)
            if isinstance(triple[2], BNode):
                todo.append(triple[2])


def validate_batched(data: Graph, ontology: Graph, files: tuple[Path, ...] = (), batch_triples: int = 100_000,
                     progress=None) -> Report:
    """:func:`validate` for big graphs: the same report, in bounded extra memory (see the comment above).

    ``batch_triples``: about how many of the data's own triples one pySHACL run takes. ``progress(done, total)``
    is told after each batch (subjects).
    """
    import pyshacl

    from exokg.ontology.materialize import oxigraph_store

    started = time.perf_counter()
    report_graph = sparql_results(oxigraph_store(data, ontology))
    subjects = sorted(set(data.subjects()), key=str)  # a finding beside its effects and steps: fewer neighbours
    batches, batch, size = [], [], 0
    for subject in subjects:
        batch.append(subject)
        size += sum(1 for _ in data.predicate_objects(subject))
        if size >= batch_triples:
            batches.append(batch)
            batch, size = [], 0
    batches.append(batch)
    ontology_subjects = set(ontology.subjects())
    core = core_shapes()
    done = 0
    for number, batch in enumerate(batches):
        own = set(batch) | (ontology_subjects if number == 0 else set())
        graph = _DataGraph()
        for triple in ontology:
            graph.add(triple)
        neighbours = set()
        for subject in batch:
            for triple in data.triples((subject, None, None)):
                graph.add(triple)
                if not isinstance(triple[2], Literal) and triple[2] not in own:
                    neighbours.add(triple[2])
        for node in neighbours:
            for triple in data.triples((node, None, None)):
                graph.add(triple)
        for subject in batch:  # what points at a node, with its types: shapes with inverse paths (^exo:hasOutcome)
            for triple in data.triples((None, None, subject)):
                graph.add(triple)
                for kind in data.objects(triple[0], RDF.type):
                    graph.add((triple[0], RDF.type, kind))
        _, batch_report, _ = pyshacl.validate(graph, shacl_graph=core, inplace=True, **PYSHACL_OPTIONS)
        for result in batch_report.objects(None, SH.result):
            if batch_report.value(result, SH.focusNode) in own:
                _copy_result(batch_report, result, report_graph)
                report_graph.add((BNode("report"), SH.result, result))
        done += len(batch)
        if progress is not None:
            progress(done, len(subjects))
    triples = len(data) + len(ontology)
    return _report(report_graph, _Union(data, ontology), files, triples, time.perf_counter() - started)


def check_graphs(graphs: dict[str, Graph]) -> Report:
    """The build's gate: the assembled ontology and asserted graphs must conform, else :class:`ShapesViolated`."""
    report = validate(graphs["asserted"], graphs["ontology"])
    if not report.conforms:
        raise ShapesViolated(report)
    return report


# --- inputs of `exokg validate` --------------------------------------------------------------------
def built_graphs(build_dir: Path) -> dict[str, Graph]:
    """The ontology and asserted named graphs of a build (the inferred graph is not validated: its types come
    from domain/range entailments and would hide the very mistakes the shapes look for)."""
    path = build_dir / "exokg.trig"
    if not path.is_file():
        raise FileNotFoundError(f"no built graph at {path}: run `exokg build --out {build_dir}` first, or name files")
    dataset = _parse_dataset(path, "trig")
    return {name: _copy(dataset.graph(GRAPH[name])) for name in ("ontology", "asserted")}


def _parse_dataset(path: Path, fmt: str) -> Dataset:
    dataset = Dataset()
    # rdflib 7's TriG and N-Quads parsers call the Dataset API that rdflib itself deprecates: nothing of ours.
    with warnings.catch_warnings(), open(path, "rb") as handle:
        warnings.filterwarnings("ignore", r"(Dataset\.\w+|ConjunctiveGraph) is deprecated", DeprecationWarning)
        dataset.parse(source=handle, format=fmt, publicID=path.resolve().as_uri())
    return dataset


def _copy(graph: Graph) -> Graph:
    copy = Graph()
    for triple in graph:
        copy.add(triple)
    return copy


def read_rdf(paths: tuple[Path, ...]) -> Graph:
    """RDF files as one graph; a dataset's ``inferred`` named graph is left out (see :func:`built_graphs`)."""
    graph = Graph()
    for path in paths:
        fmt = RDF_FORMATS[path.suffix.lower()]
        if fmt in ("nquads", "trig"):
            for context in _parse_dataset(path, fmt).graphs():
                if context.identifier != GRAPH.inferred:
                    for triple in context:
                        graph.add(triple)
        else:
            with open(path, "rb") as handle:  # closed here, whatever the parser does
                graph.parse(source=handle, format=fmt, publicID=path.resolve().as_uri())
    return graph


def union_of(*graphs: Graph) -> Graph:
    """One graph of all triples: the files as the review graph would hold them once merged."""
    union = Graph()
    for graph in graphs:
        for triple in graph:
            union.add(triple)
    return union


@dataclass
class CuratedOverlay:
    """A curated directory with some files replaced by the curator's: a tree of symbolic links, so that every
    row still reports its real file (origins resolve the links)."""

    graph_dir: Path
    finding_files: tuple[Path, ...]
    cleanup: Path | None = None

    def close(self) -> None:
        if self.cleanup is not None:
            shutil.rmtree(self.cleanup, ignore_errors=True)


def curated_role(path: Path) -> str | None:
    """Which curated file a TSV stands for, by its header: "findings", or its path under the curated directory."""
    from exokg.graph import curated

    try:
        with open(path, "rb") as handle:
            header = handle.readline().decode("utf-8", errors="replace").rstrip("\r\n").split("\t")
    except OSError:
        return None
    roles = {
        tuple(curated.FINDING_COLUMNS): "findings",
        tuple(curated.ENTITY_COLUMNS): "vocabulary/entities.tsv",
        tuple(curated.POPULATION_COLUMNS): "vocabulary/populations.tsv",
        tuple(curated.REFERENCE_COLUMNS): "vocabulary/references.tsv",
        tuple(curated.XREF_COLUMNS): "vocabulary/xrefs.tsv",
        tuple(curated.VESICLE_CLAIM_COLUMNS): "text/vesicle_biology.tsv",
        tuple(curated.BIOMARKER_COLUMNS): "text/biomarkers.tsv",
        tuple(curated.STEP_COLUMNS): "mechanisms/steps.tsv",
        tuple(curated.OUTCOME_COLUMNS): "mechanisms/outcomes.tsv",
    }
    return roles.get(tuple(header))


def overlay(graph_dir: Path, tsv_files: tuple[Path, ...]) -> CuratedOverlay:
    """The curated directory as the build would read it with ``tsv_files`` in it.

    A findings file is an extra findings file (a curator's new paper) unless it is one of the directory's own;
    a vocabulary or text file replaces the directory's file of the same kind. A file whose header matches no
    curated kind is read as a findings file, so that the reader reports what is wrong with its header.
    """
    graph_dir = graph_dir.resolve()
    replaced: dict[str, Path] = {}
    findings: list[Path] = []
    for path in tsv_files:
        role = curated_role(path) or "findings"
        inside = path.resolve().is_relative_to(graph_dir)
        if inside:
            continue  # already read with the rest of the directory
        if role == "findings":
            findings.append(path)
        else:
            replaced[role] = path.resolve()
    if not replaced:
        return CuratedOverlay(graph_dir, tuple(findings))
    root = Path(tempfile.mkdtemp(prefix="exokg-validate-"))
    for source in graph_dir.rglob("*"):
        if source.is_file() and "__pycache__" not in source.parts:
            rel = source.relative_to(graph_dir)
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(replaced.pop(rel.as_posix(), source), root / rel)
    for rel, path in replaced.items():  # a kind the directory did not have yet
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(path, root / rel)
    return CuratedOverlay(root, tuple(findings), cleanup=root)


def relink(text: str, overlay_dir: Path | None) -> str:
    """Origins written inside an overlay tree, shown as the real files they link to."""
    if overlay_dir is None:
        return text

    def real(match: re.Match) -> str:
        return _display(Path(match.group(0)).resolve())

    return re.sub(re.escape(str(overlay_dir)) + r"/[^\s:]+", real, text)


# --- `exokg validate FILE…` -----------------------------------------------------------------------
class InputError(ValueError):
    """A file that cannot be validated at all (missing, of an unknown kind): a usage mistake."""


@dataclass
class Outcome:
    """What ``exokg validate`` found: the curated files' problems (the rows could not even become triples),
    or the SHACL report; ``inputs`` are the files named, as origins show them."""

    problems: list[str] = field(default_factory=list)
    report: Report | None = None
    inputs: tuple[str, ...] = ()

    @property
    def conforms(self) -> bool:
        return not self.problems and self.report is not None and self.report.conforms


def validate_inputs(
    files: tuple[Path, ...], build_dir: Path, graph_dir: Path = GRAPH_DIR, alone: bool = False
) -> Outcome:
    """Validate the built graph in ``build_dir`` (no ``files``), or the named curated TSV and RDF files.

    TSV files are read with the curated directory ``graph_dir`` (see :func:`overlay`) and checked row by row
    first. RDF files are validated merged with the graph built from ``graph_dir``, as they would be published
    (a curator's Turtle may point at ``reference/74`` or ``population/u87-cells``), or with the ontology only
    when ``alone`` (a dump, a synthetic graph).
    """
    from exokg.build import assemble
    from exokg.graph.curated import CurationError

    if not files:
        graphs = built_graphs(build_dir)
        return Outcome(report=validate(graphs["asserted"], graphs["ontology"]))
    for path in files:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        if path.suffix.lower() != ".tsv" and path.suffix.lower() not in RDF_FORMATS:
            raise InputError(f"{path}: not a curated .tsv file nor RDF ({', '.join(sorted(RDF_FORMATS))})")
    tsv = tuple(p for p in files if p.suffix.lower() == ".tsv")
    rdf = tuple(p for p in files if p.suffix.lower() != ".tsv")
    inputs = tuple(_display(p) for p in files)
    layout = overlay(graph_dir, tsv)
    try:
        try:
            graphs, _ = assemble(layout.graph_dir, layout.finding_files)
        except CurationError as exc:
            return Outcome(problems=[relink(str(p), layout.cleanup) for p in exc.problems], inputs=inputs)
        data = graphs["asserted"]
        if rdf:
            try:
                data = read_rdf(rdf) if alone and not tsv else union_of(read_rdf(rdf), data)
            except (SyntaxError, ValueError, ParserError, SAXException) as exc:  # a syntax mistake in a file
                return Outcome(problems=[f"{' '.join(_display(p) for p in rdf)}: cannot parse: {exc}"], inputs=inputs)
        # The same report either way (tests/test_scaling_paths.py); batches keep big graphs in bounds.
        check = validate_batched if len(data) > BATCHED_ABOVE else validate
        report = check(data, graphs["ontology"], files=rdf)
        if layout.cleanup is not None:  # while the links still exist
            report.results = [
                Result(**{**r.__dict__, "origin": relink(r.origin, layout.cleanup), "row": relink(r.row, layout.cleanup)})
                for r in report.results
            ]
    finally:
        layout.close()
    return Outcome(report=report, inputs=inputs)
