"""Reasoning time per engine on the review graph and the synthetic 10× and 100× graphs.

Engines: ``rules`` (exokg's OWL 2 RL rules, what the build materializes with), ``hermit`` (HermiT through
owlready2: consistency and classification), ``owlrl`` (the owlrl package's OWL 2 RL closure, for
comparison; ``pip install -e '.[bench]'``). Each measurement runs in its own process with a time limit,
so one slow engine cannot stall the rest. A benchmark, not a test: it prints a table and asserts nothing.

    python bench/reason_bench.py [--scales 1 10 100] [--engines rules hermit owlrl] [--timeout 900]

The synthetic graphs come from bench/synthetic.py (``generate(scale, seed)``), the project's one generator.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from rdflib import Graph

BENCH_DIR = Path(__file__).resolve().parent
ENGINES = ("rules", "hermit", "owlrl")
SEED = 7


def review_graphs() -> dict[str, Graph]:
    from exokg.build import assemble

    graphs, _ = assemble()
    return graphs


def synthetic_graphs(scale: int) -> dict[str, Graph]:
    """The review graph (scale 1) or the synthetic graph ``scale`` times its size, as named graphs."""
    if scale == 1:
        return review_graphs()
    sys.path.insert(0, str(BENCH_DIR))
    from synthetic import generate  # bench/synthetic.py

    made = generate(scale, SEED)
    if isinstance(made, dict):  # named graphs, as the build assembles them
        graphs = dict(made)
    elif isinstance(made, tuple):  # (graphs, corpus), like exokg.build.assemble
        graphs = dict(made[0])
    elif isinstance(made, Graph):  # the asserted graph alone
        graphs = {"asserted": made}
    else:  # a curated corpus
        from exokg.graph.triples import asserted_graph
        from exokg.ontology.vocabulary import vocabulary

        graphs = {"asserted": asserted_graph(made, vocabulary().class_by_label)[0]}
    if "ontology" not in graphs:
        graphs["ontology"] = review_graphs()["ontology"]
    return graphs


def measure(engine: str, scale: int) -> dict:
    """One engine on one graph, in this process."""
    graphs = synthetic_graphs(scale)
    triples = len(graphs["ontology"]) + len(graphs["asserted"])
    started = time.perf_counter()
    if engine == "rules":
        from exokg.ontology.materialize import materialize
        from exokg.ontology.rules import compile_rules

        data = graphs["ontology"] + graphs["asserted"]
        closure = materialize(compile_rules(graphs["ontology"]), data)
        produced = len(closure.derived)
    elif engine == "hermit":
        import owlready2

        from exokg.ontology.hermit import hermit

        owlready2.reasoning.JAVA_MEMORY = 12000  # MB; the default 2000 is too small past 10×
        result = hermit(graphs["ontology"] + graphs["asserted"])
        produced = len(result.types) + len(result.subsumptions)
        if not result.consistent:
            produced = "inconsistent"
    elif engine == "owlrl":
        import owlrl

        data = graphs["ontology"] + graphs["asserted"]
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(data)
        produced = len(data) - triples
    else:
        raise SystemExit(f"unknown engine {engine!r}")
    return {"engine": engine, "scale": scale, "triples": triples, "seconds": time.perf_counter() - started,
            "produced": produced}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement")
    parser.add_argument("--one", nargs=2, metavar=("ENGINE", "SCALE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]))))
        return 0
    print(f"{'graph':<8} {'engine':<7} {'input triples':>13} {'seconds':>9}  produced")
    for scale in args.scales:
        for engine in args.engines:
            label = "review" if scale == 1 else f"{scale}x"
            try:
                done = subprocess.run([sys.executable, __file__, "--one", engine, str(scale)], capture_output=True,
                                      text=True, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                print(f"{label:<8} {engine:<7} {'':>13} {'>' + str(int(args.timeout)):>9}  (stopped)", flush=True)
                continue
            if done.returncode != 0:
                reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
                print(f"{label:<8} {engine:<7} {'':>13} {'':>9}  error: {reason}", flush=True)
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{label:<8} {engine:<7} {row['triples']:>13} {row['seconds']:>9.1f}  {row['produced']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
