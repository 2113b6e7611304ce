"""The build pipeline: curated rows + ontology → triples → validation → reasoning → dumps.

Each step lives in its own module; this one only strings them together and writes the outputs. Outputs
go to a fresh sibling directory first and replace ``out`` only once everything succeeded, so a failed
or interrupted build leaves the previous outputs as they were.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from exokg import __version__
from exokg.config import GRAPH_DIR, BASE, DATASET_IRI, DCAT, EXO, GRAPH, LICENSE, ONTOLOGY_IRI, VOID, bind_prefixes
from exokg.canonical import sorted_dumps
from exokg.graph import curated
from exokg.graph.triples import asserted_graph
from exokg.jsonld import compacted, context
from exokg.kgx import EDGES_FILE, NODES_FILE, kgx_tsv
from exokg.mappings import FILE_NAME as SSSOM_FILE, sssom_tsv
from exokg.ontology.export import owl_xml
from exokg.ontology.hermit import hermit
from exokg.ontology.reason import hermit_input, reason, reasoning_input
from exokg.ontology.relations import relation_triples
from exokg.ontology.signs import reason_over_signs
from exokg.ontology.vocabulary import load_ontology, vocabulary
from exokg.shapes.validate import ShapesViolated, check_graphs
from exokg.server.store import STORE_DIR, write_store

T = TypeVar("T")
DUMPS = {  # file name → (rdflib format, what it holds)
    "exokg.trig": ("trig", "the dataset: named graphs ontology, asserted and inferred"),
    "exokg.nq": ("nquads", "the dataset as sorted N-Quads"),
    "exokg.nt": ("nt", "the union of all graphs as sorted N-Triples"),
    "exokg.ttl": ("turtle", "the union of all graphs as Turtle"),
    "exokg.jsonld": ("json-ld", "the union of all graphs as JSON-LD"),
    "ontology.ttl": ("turtle", "the ontology with the imported external terms, Turtle"),
    "ontology.owl": ("xml", "the ontology with the imported external terms, RDF/XML (owlready2, Protégé, ROBOT)"),
    "exokg.owl": ("xml", "ontology and individuals together, RDF/XML (owlready2, Protégé, ROBOT)"),
    "ontology.owx": ("owl-xml", "the ontology with the imported external terms, OWL/XML written by the OWL API"),
    # Not RDF: the format named is the file's own (exokg/mappings.py, exokg/kgx.py).
    SSSOM_FILE: ("sssom-tsv", "the verified cross-references as an SSSOM mapping set, with where each was checked"),
    NODES_FILE: ("kgx-tsv", "the graph's entities, cell populations and vesicles as Biolink-categorised KGX nodes"),
    EDGES_FILE: ("kgx-tsv", "relations and effects between the KGX nodes, with Biolink predicates"),
}


def progress(message: str) -> None:
    """Progress for people at a terminal; silent in CI and pipes."""
    if sys.stderr.isatty() and not os.environ.get("CI"):
        print(f"· {message}", file=sys.stderr, flush=True)


@dataclass
class BuildResult:
    out: Path
    triples: dict[str, int] = field(default_factory=dict)  # named graph → triple count
    findings: int = 0
    seconds: float = 0.0


def assemble(
    graph_dir: Path = GRAPH_DIR, extra_finding_files: tuple[Path, ...] = ()
) -> tuple[dict[str, Graph], curated.Corpus]:
    """The three named graphs of the dataset, built from the curated files under ``graph_dir``."""
    progress("reading curated files")
    corpus = curated.load(graph_dir, extra_finding_files=extra_finding_files)
    progress(f"minting triples for {len(corpus.findings)} findings")
    asserted, imports = asserted_graph(corpus, vocabulary().class_by_label)
    asserted += relation_triples(corpus, graph_dir)  # relations between entities (vocabulary/relations.tsv)
    ontology = load_ontology() + imports
    graphs = {"ontology": ontology, "asserted": asserted, "inferred": Graph()}
    return graphs, corpus


def void_description(graphs: dict[str, Graph], union: Graph, files: dict[str, bytes]) -> Graph:
    """VoID + DCAT: triples per named graph, entities per class, license, source and the dumps."""
    g = bind_prefixes(Graph())
    dataset = URIRef(DATASET_IRI)
    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, RDF.type, DCAT.Dataset))
    g.add((dataset, DCTERMS.title, Literal("exokg: tumor-derived small extracellular vesicles in glioma", lang="en")))
    g.add((dataset, DCTERMS.license, LICENSE))
    g.add((dataset, DCTERMS.source, URIRef(BASE + "source/review")))
    g.add((dataset, DCTERMS.hasVersion, Literal(__version__)))
    g.add((dataset, VOID.vocabulary, URIRef(ONTOLOGY_IRI)))
    g.add((dataset, VOID.uriSpace, Literal(BASE)))
    g.add((dataset, VOID.triples, Literal(len(union), datatype=XSD.integer)))
    subjects = {s for s in union.subjects() if isinstance(s, URIRef) and str(s).startswith(BASE)}
    g.add((dataset, VOID.entities, Literal(len(subjects), datatype=XSD.integer)))
    for name, graph in graphs.items():
        part = URIRef(f"{DATASET_IRI}/graph/{name}")
        g.add((dataset, VOID.subset, part))
        g.add((part, RDF.type, VOID.Dataset))
        g.add((part, DCTERMS.identifier, URIRef(GRAPH[name])))
        g.add((part, VOID.triples, Literal(len(graph), datatype=XSD.integer)))
    counts: dict[URIRef, int] = {}
    for _, cls in union.subject_objects(RDF.type):
        if isinstance(cls, URIRef) and str(cls).startswith(str(EXO)):
            counts[cls] = counts.get(cls, 0) + 1
    for cls, count in sorted(counts.items()):
        part = URIRef(f"{DATASET_IRI}/class/{str(cls)[len(str(EXO)):]}")
        g.add((dataset, VOID.classPartition, part))
        g.add((part, VOID["class"], cls))
        g.add((part, VOID.entities, Literal(count, datatype=XSD.integer)))
    for name, data in sorted(files.items()):
        dump = URIRef(f"{BASE}download/{name}")
        g.add((dataset, VOID.dataDump, dump))
        g.add((dataset, DCAT.distribution, dump))
        g.add((dump, RDF.type, DCAT.Distribution))
        g.add((dump, DCTERMS.description, Literal(DUMPS[name][1], lang="en")))
        g.add((dump, DCAT.byteSize, Literal(len(data), datatype=XSD.integer)))
        g.add((dump, EXO.sha256, Literal(hashlib.sha256(data).hexdigest())))
    return g


def _trig(dataset: Dataset) -> bytes:
    # rdflib 7.6's own TriG serializer calls the Dataset API it deprecates; nothing of ours to change.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"Dataset\.\w+ is deprecated", DeprecationWarning)
        return dataset.serialize(format="trig", encoding="utf-8")


def _forked(work: Callable[[], T], job: str) -> Callable[[], T]:
    """Run ``work`` in a forked child and return a function that waits for its answer.

    The child inherits the graphs as they are (nothing is pickled but the answer); the steps are pure
    Python, so a second process is the only way to use the second core. The child's own exception is raised
    again here when it pickles (ShapesViolated does, with its report), else a RuntimeError with its
    traceback. Where fork is missing, runs here.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        try:
            value = work()
        except BaseException as exc:
            failure = exc
            def reraise() -> T:
                raise failure
            return reraise
        return lambda: value
    receive, send = multiprocessing.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send(("value", work()))
        except BaseException as exc:  # the parent re-raises it
            text = "".join(traceback.format_exception(exc))
            try:
                send.send(("raise", (exc, text)))
            except Exception:  # the exception does not pickle: its traceback as text
                send.send(("error", text))
        finally:
            send.close()

    process = multiprocessing.get_context("fork").Process(target=child, name=f"exokg-{job.split()[0]}", daemon=True)
    process.start()
    send.close()

    def wait() -> T:
        try:
            kind, value = receive.recv()
        except EOFError:
            kind, value = "error", f"the process ended without an answer (exit code {process.exitcode})"
        finally:
            receive.close()
            process.join()
        if kind == "raise":
            exc, text = value
            if isinstance(exc, ShapesViolated):
                raise exc  # a curation mistake: its own message names the file:line
            raise RuntimeError(f"{job} failed in the child process:\n{text}") from exc
        if kind == "error":
            raise RuntimeError(f"{job} failed in the child process:\n{value}")
        return value

    return wait


def _checked(graphs: dict[str, Graph]) -> None:
    check_graphs(graphs)  # raises ShapesViolated listing each violation with its curated file:line


def _line_based(graphs: dict[str, Graph]) -> dict[str, bytes]:
    """The per-graph dumps (TriG, N-Quads) and the sorted N-Triples of their union: half of the serializing."""
    dataset = bind_prefixes(Dataset())
    for name, graph in graphs.items():
        named = dataset.graph(GRAPH[name])
        for triple in graph:
            named.add(triple)
    nquads, ntriples = sorted_dumps({GRAPH[name]: graph for name, graph in graphs.items()})
    return {"exokg.trig": _trig(dataset), "exokg.nq": nquads, "exokg.nt": ntriples}


def render(graphs: dict[str, Graph], corpus: curated.Corpus | None = None, owx: bytes | None = None) -> dict[str, bytes]:
    """Every output file's bytes, computed in memory before anything touches the disk.

    The SSSOM mapping set is written from the curated cross-references, so only when ``corpus`` is given;
    ``owx`` is the ontology's OWL/XML when already written (else the OWL API is run here). TriG, N-Quads and
    N-Triples are written by a forked child meanwhile (about half of the serializing).
    """
    line_based = _forked(lambda: _line_based(graphs), "serializing the dumps")
    union = bind_prefixes(Graph())
    for graph in graphs.values():
        union += graph
    ontology = bind_prefixes(Graph()) + graphs["ontology"]
    files = {
        "exokg.ttl": union.serialize(format="turtle", encoding="utf-8"),
        "exokg.jsonld": compacted(union, context(graphs["ontology"])),  # the context /context.jsonld serves
        "ontology.ttl": bind_prefixes(ontology).serialize(format="turtle", encoding="utf-8"),
        "ontology.owl": ontology.serialize(format="xml", encoding="utf-8"),
        "exokg.owl": union.serialize(format="xml", encoding="utf-8"),
        "ontology.owx": owl_xml(ontology) if owx is None else owx,
        **kgx_tsv(graphs),
    }
    files = {**line_based(), **files}  # the dumps in their usual order: TriG, N-Quads, N-Triples first
    if corpus is not None:
        files[SSSOM_FILE] = sssom_tsv(corpus, str(LICENSE))
    files["void.ttl"] = void_description(graphs, union, files).serialize(format="turtle", encoding="utf-8")
    return files


def write_atomically(out: Path, files: dict[str, bytes],
                     directories: dict[str, Callable[[Path], None]] | None = None) -> None:
    """Write ``files`` into a sibling temp directory, then swap it in for ``out`` in one rename.

    ``directories`` maps a subdirectory name to the function that writes it (the Oxigraph store).
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    staging.chmod(0o755)
    try:
        for name, data in files.items():
            with open(staging / name, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for name, write in (directories or {}).items():
            write(staging / name)
        if out.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, retired / out.name)
            try:
                os.rename(staging, out)
            except BaseException:
                os.rename(retired / out.name, out)  # the swap failed: put the previous outputs back
                os.rmdir(retired)
                raise
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def build(out: Path, graph_dir: Path = GRAPH_DIR, extra_finding_files: tuple[Path, ...] = ()) -> BuildResult:
    started = time.perf_counter()
    graphs, corpus = assemble(graph_dir, extra_finding_files)
    # The two Java steps need only what is assembled: they run beside the Python steps (HermiT classifies
    # while the shapes are checked; the OWL API writes OWL/XML meanwhile): the review's build went from
    # about 10 s to 7-8 s of wall clock on two cores (docs/benchmarks.md).
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="exokg-java") as java:
        hermit_run = java.submit(hermit, hermit_input(reasoning_input(graphs)))
        owx = java.submit(owl_xml, graphs["ontology"])
        # The shapes are checked in a forked child while the rules are materialized here (review build about
        # 1.8 s shorter); a violation still wins over anything reasoning says about the same broken rows.
        progress("validating with the SHACL shapes, reasoning: OWL 2 RL rules, then HermiT")
        shapes_checked = _forked(lambda: _checked(graphs), "validating with the SHACL shapes")
        try:
            # raises InconsistentGraph with the why
            graphs["inferred"] = bind_prefixes(reason(graphs, hermit_run=hermit_run).inferred)
        except BaseException:
            shapes_checked()  # raises ShapesViolated listing each violation with its curated file:line
            raise
        shapes_checked()
        signs = reason_over_signs(graphs["asserted"])  # net effects along signed chains, sign conflicts
        graphs["inferred"] += signs.graph
        progress(signs.report())
        progress("serializing dumps")
        files = render(graphs, corpus, owx=owx.result())
    progress(f"writing {len(files)} files to {out}")
    # The Oxigraph store `exokg serve` opens read-only: swapped in with the dumps, never half-written.
    write_atomically(out, files, {STORE_DIR: lambda path: write_store(path, files["exokg.trig"])})
    return BuildResult(
        out=out,
        triples={name: len(graph) for name, graph in graphs.items()},
        findings=len(corpus.findings),
        seconds=time.perf_counter() - started,
    )
