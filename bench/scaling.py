"""Time and peak memory of every step of the pipeline against graph size, with the growth exponent of each.

Steps (each measured in its own child process, so each peak is its own; the parent keeps nothing big):

- ``parse``: curated.load of the review's table findings copied until the graph reaches the size;
- ``build``: those records → triples (graph/triples.py asserted_graph);
- ``validate-pyshacl``: pySHACL on the whole graph (shapes/validate.py ``validate``, what `exokg validate` runs);
- ``validate-batched``: the same report, batch by batch plus the SPARQL constraints on Oxigraph
  (shapes/validate.py ``validate_batched``);
- ``reason-rdflib``: the OWL 2 RL rules matched by rdflib (ontology/materialize.py ``materialize``);
- ``reason-oxigraph``: the same rules run by Oxigraph to the same fixpoint (``materialize_store``);
- ``store-load``: pyoxigraph bulk load of the N-Triples into an on-disk store;
- ``open``: opening that store read-only and answering one query (what `exokg serve` waits for);
- ``query``: a few queries on the store (label lookup, a join, an aggregate, a class-hierarchy path).

The graphs come from bench/synthetic.py (``stream_ntriples``: copies of the review, written one at a time).
Each step records wall-clock and CPU seconds; the plot and the exponents use CPU seconds, which a shared
machine's load does not inflate (``--timeout`` is wall-clock). Memory is the child's peak RSS (``ru_maxrss``),
interpreter and inputs included. Exponents: least-squares slope of log(CPU seconds) on log(triples), over all
sizes and between the two largest. A benchmark, not a test: it asserts nothing.

    python bench/scaling.py [--sizes 1e4 1e5 1e6] [--steps ...] [--timeout 900] [--work /tmp/exokg-scaling]
    python bench/scaling.py --plot-only   # redraw docs/scaling*.png from the last results
    python bench/scaling.py --plot-only --merge /tmp/other-run   # fold in a run made beside this one

Results: WORK/results.json (merged across runs), docs/scaling.png (time) and docs/scaling-memory.png.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DOCS = BENCH_DIR.parent / "docs"
STEPS = ("parse", "build", "validate-pyshacl", "validate-batched", "reason-rdflib", "reason-oxigraph",
         "store-load", "open", "query")
RDFLIB_STEPS = {"parse", "build", "validate-pyshacl", "validate-batched", "reason-rdflib"}  # hold rdflib graphs
SEED = 7
QUERIES = {  # name → SPARQL on the store (default graph: the synthetic asserted triples)
    "label lookup": 'SELECT ?s WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> "miR-21"@en }',
    "finding join": """PREFIX exo: <https://w3id.org/exokg/vocab/>
        SELECT ?f ?cargo ?pop WHERE { ?f exo:hasCargo ?cargo ; exo:hasDonorPopulation ?pop ;
        exo:hasContext exo:angiogenesis } LIMIT 1000""",
    "cargo count": """PREFIX exo: <https://w3id.org/exokg/vocab/>
        SELECT ?cargo (COUNT(?f) AS ?n) WHERE { ?f exo:hasCargo ?cargo } GROUP BY ?cargo ORDER BY DESC(?n) LIMIT 10""",
    "typed path": """PREFIX exo: <https://w3id.org/exokg/vocab/>
        SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* exo:Finding }""",
}


def say(message: str) -> None:
    """Progress, on a terminal only."""
    if sys.stderr.isatty():
        print(message, file=sys.stderr, flush=True)


# --- inputs ---------------------------------------------------------------------------------------------
def synthetic():
    sys.path.insert(0, str(BENCH_DIR))
    import synthetic as module  # bench/synthetic.py

    return module


def inputs(size: int, work: Path) -> dict[str, Path]:
    """The N-Triples of about ``size`` triples and the curated rows of the same copies (made once, then reused)."""
    gen = synthetic()
    work.mkdir(parents=True, exist_ok=True)
    paths = {"nt": work / f"syn-{size}.nt", "rows": work / f"rows-{size}.tsv"}
    if not paths["nt"].is_file():
        say(f"  generating {size:,} triples → {paths['nt']}")
        partial = paths["nt"].with_suffix(".partial")
        with open(partial, "w", encoding="utf-8") as out:
            gen.stream_ntriples(size, out, SEED)
        partial.rename(paths["nt"])
    if not paths["rows"].is_file():
        with open(paths["rows"], "w", encoding="utf-8") as out:
            gen.finding_rows(max(0, gen.copies_for(size) - 1), out)
    return paths


# --- one step, in a child ------------------------------------------------------------------------------
def _widen_ids() -> None:
    """The curated reader takes ids of exactly three digits (TME-001); the copies need more (TME-12001)."""
    from exokg.graph import curated

    class _Re:
        def __getattr__(self, name):
            return getattr(re, name)

        @staticmethod
        def fullmatch(pattern, text, flags=0):
            return re.fullmatch(pattern.replace(r"\d{3}", r"\d{3,}"), text, flags)

    curated.re = _Re()


def _ontology():
    from exokg.build import assemble

    return assemble()[0]["ontology"]


def _rdflib_graph(path: Path):
    from rdflib import Graph

    return Graph().parse(path, format="nt")


def run_step(step: str, size: int, work: Path) -> dict:
    """Do ``step`` on the graph of ``size`` triples; time only the step, not the loading of its input."""
    paths = inputs(size, work)
    store_dir = work / f"store-{size}"
    out: dict = {}
    if step in ("parse", "build"):
        from exokg.graph import curated
        from exokg.graph.triples import asserted_graph
        from exokg.ontology.vocabulary import vocabulary

        _widen_ids()
        vocabulary()
        started = time.perf_counter(), time.process_time()
        corpus = curated.load(extra_finding_files=(paths["rows"],))
        if step == "build":
            started = time.perf_counter(), time.process_time()
            graph, _ = asserted_graph(corpus, vocabulary().class_by_label)
            out["triples"] = len(graph)
        else:
            out["rows"] = len(corpus.findings)
    elif step in ("validate-pyshacl", "validate-batched"):
        from exokg.shapes import validate as shacl

        ontology, data = _ontology(), _rdflib_graph(paths["nt"])
        started = time.perf_counter(), time.process_time()
        if step == "validate-pyshacl":
            report = shacl.validate(data, ontology)
        else:
            report = shacl.validate_batched(data, ontology)
        out.update(violations=len(report.violations), warnings=len(report.warnings))
    elif step == "reason-rdflib":
        from exokg.ontology.materialize import materialize
        from exokg.ontology.rules import compile_rules

        ontology, data = _ontology(), _rdflib_graph(paths["nt"])
        for triple in ontology:
            data.add(triple)
        started = time.perf_counter(), time.process_time()
        closure = materialize(compile_rules(ontology), data)
        out.update(derived=len(closure.derived), rounds=closure.rounds)
    elif step == "reason-oxigraph":
        import pyoxigraph as ox

        from exokg.ontology.clashes import clashes_in_store
        from exokg.ontology.materialize import materialize_store, oxigraph_store
        from exokg.ontology.rules import compile_rules

        ontology = _ontology()
        started = time.perf_counter(), time.process_time()
        store = oxigraph_store(ontology)
        store.bulk_load(path=str(paths["nt"]), format=ox.RdfFormat.N_TRIPLES)
        ruleset = compile_rules(ontology)
        derived, rounds = materialize_store(ruleset, store, lambda r, n: say(f"    round {r}: {n:,} new"))
        out.update(derived=len(derived), rounds=rounds, clashes=len(clashes_in_store(ruleset, store)))
    elif step == "store-load":
        import shutil

        import pyoxigraph as ox

        shutil.rmtree(store_dir, ignore_errors=True)
        started = time.perf_counter(), time.process_time()
        store = ox.Store(str(store_dir))
        store.bulk_load(path=str(paths["nt"]), format=ox.RdfFormat.N_TRIPLES)
        store.flush()
        out["triples"] = len(store)
        del store
    elif step == "open":
        import pyoxigraph as ox

        started = time.perf_counter(), time.process_time()
        store = ox.Store.read_only(str(store_dir))
        out["answered"] = bool(store.query("ASK { ?s ?p ?o }"))
    elif step == "query":
        import pyoxigraph as ox

        store = ox.Store.read_only(str(store_dir))
        started = time.perf_counter(), time.process_time()
        for name, text in QUERIES.items():
            began = time.perf_counter()
            rows = len(list(store.query(text)))
            out[name] = {"seconds": round(time.perf_counter() - began, 4), "rows": rows}
    else:
        raise ValueError(f"unknown step {step!r}")
    out["seconds"] = time.perf_counter() - started[0]
    out["cpu"] = time.process_time() - started[1]
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def measure(step: str, size: int, work: Path, timeout: float) -> dict:
    """``step`` in a fresh process: its own peak memory, and a time limit that stops it cleanly."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", step, "--sizes", str(size),
               "--work", str(work)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"stopped at {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- results, fits, plots ----------------------------------------------------------------------------------
def graph_size(size: int, work: Path) -> int:
    """Triples actually generated for the nominal ``size`` (its N-Triples line count)."""
    with open(inputs(size, work)["nt"], "rb") as handle:
        return sum(1 for _ in handle)


def exponent(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(value) against log(size): 1 is linear, 2 quadratic."""
    points = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else None


def size_of(run: dict, step: str) -> int:
    """The x of a step: the graph's triples, or for the curated steps the triples the rows build (the copies'
    findings, without the vocabulary the copies of the graph also carry)."""
    if step in ("parse", "build"):
        return run.get("steps", {}).get("build", {}).get("triples") or run["triples"]
    return run["triples"]


def series(results: dict, field: str) -> dict[str, list[tuple[int, float]]]:
    out: dict[str, list[tuple[int, float]]] = {}
    for step in STEPS:
        points = []
        for key, run in sorted(results["sizes"].items(), key=lambda kv: int(kv[0])):
            value = run.get("steps", {}).get(step, {}).get(field)
            if value is not None:
                points.append((size_of(run, step), value))
        if points:
            out[step] = points
    return out


def table(results: dict) -> str:
    sizes = sorted(results["sizes"], key=int)
    head = ("| step | " + " | ".join(f"{results['sizes'][s]['triples']:,} triples" for s in sizes)
            + " | exponent (CPU time) |")
    lines = [head, "|---" * (len(sizes) + 2) + "|"]
    times = series(results, "cpu")
    for step in STEPS:
        cells = []
        for s in sizes:
            got = results["sizes"][s].get("steps", {}).get(step)
            if got is None:
                cells.append("—")
            elif "error" in got:
                cells.append(got["error"])
            else:
                cells.append(f"{got['seconds']:.2f} s (cpu {got['cpu']:.2f}) / {got['peak_mb']:.0f} MB")
        points = times.get(step, [])
        slope, last = exponent(points), exponent(points[-2:])
        fit = f"{slope:.2f} (last step {last:.2f})" if slope is not None else "—"
        lines.append(f"| {step} | " + " | ".join(cells) + f" | {fit} |")
    return "\n".join(lines)


def plot(results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # CPU seconds, not wall-clock: on a shared machine the wall clock measures the neighbours' load too.
    for field, name, label in (("cpu", "scaling.png", "CPU seconds of the step"),
                               ("peak_mb", "scaling-memory.png", "peak memory (MB, RSS)")):
        figure, axes = plt.subplots(figsize=(8, 5.5))
        for step, points in series(results, field).items():
            slope = exponent(points)
            style = "--" if step in ("validate-pyshacl", "reason-rdflib") else "-"
            axes.plot([x for x, _ in points], [y for _, y in points], style, marker="o",
                      label=f"{step} (slope {slope:.2f})" if slope is not None else step)
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("triples in the synthetic graph")
        axes.set_ylabel(label)
        axes.set_title(f"exokg scaling per step: {label} (dashed: the old engines)")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
        figure.tight_layout()
        DOCS.mkdir(exist_ok=True)
        figure.savefig(DOCS / name, dpi=110)
        plt.close(figure)


def machine() -> str:
    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GB RAM, Python {sys.version.split()[0]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e5, 1e6], help="target triple counts")
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    parser.add_argument("--timeout", type=float, default=900, help="seconds per step before it is stopped")
    parser.add_argument("--work", type=Path, default=Path("/tmp/exokg-scaling"), help="inputs, stores, results")
    parser.add_argument("--plot-only", action="store_true", help="redraw the plots from WORK/results.json")
    parser.add_argument("--merge", nargs="+", type=Path, default=[],
                        help="first merge the results of runs made in these work directories (run side by side)")
    parser.add_argument("--child", choices=STEPS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes]
    if args.child:
        print(json.dumps(run_step(args.child, sizes[0], args.work)))
        return 0
    results_file = args.work / "results.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else {"sizes": {}}
    for other in args.merge:  # their measurements replace ours, step by step
        for size, run in json.loads((other / "results.json").read_text())["sizes"].items():
            mine = results["sizes"].setdefault(size, {"steps": {}, "triples": run["triples"]})
            mine["steps"].update(run["steps"])
    if args.merge:
        results_file.write_text(json.dumps(results, indent=1))
    if not args.plot_only:
        results.update(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine=machine(),
                       load=os.getloadavg()[0])
        for size in sizes:
            say(f"{size:,} triples")
            run = results["sizes"].setdefault(str(size), {"steps": {}})
            run["triples"] = graph_size(size, args.work)
            for step in args.steps:  # the store steps read the store store-load writes: keep STEPS' order
                say(f"  {step} …")
                got = measure(step, size, args.work, args.timeout)
                run["steps"][step] = got
                say(f"  {step}: " + (got["error"] if "error" in got else
                                     f"{got['seconds']:.2f} s (cpu {got['cpu']:.2f} s), {got['peak_mb']:.0f} MB"))
                results_file.write_text(json.dumps(results, indent=1))
    plot(results)
    print(table(results))
    for step, points in series(results, "cpu").items():
        slope = exponent(points)
        if slope is not None:
            print(f"growth exponent of {step}: CPU time {slope:.2f} (largest two sizes {exponent(points[-2:]):.2f}), "
                  f"peak memory {exponent(series(results, 'peak_mb')[step]):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
