"""The ``exokg`` command line: one subcommand per pipeline step that exists."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from exokg import __version__
from exokg.config import DEFAULT_BUILD_DIR, GRAPH_DIR


def _read_query(text: str) -> str:
    """A query given inline, as @FILE, or as '-' for standard input."""
    if text == "-":
        return sys.stdin.read()
    if text.startswith("@"):
        return Path(text[1:]).read_text(encoding="utf-8")
    return text


def cmd_build(args: argparse.Namespace) -> int:
    from exokg.build import build
    from exokg.graph.curated import CurationError
    from exokg.ontology.clashes import InconsistentGraph
    from exokg.ontology.hermit import ReasonerUnavailable
    from exokg.shapes.validate import ShapesViolated

    try:
        result = build(
            Path(args.out),
            graph_dir=Path(args.curated),
            extra_finding_files=tuple(Path(p) for p in args.finding_file),
        )
    except CurationError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"build failed: {len(exc.problems)} problem(s); {args.out} left unchanged", file=sys.stderr)
        return 1
    except ShapesViolated as exc:
        print("\n".join(exc.report.lines(warnings=False)), file=sys.stderr)
        print(f"build failed: {len(exc.report.violations)} SHACL violation(s); {args.out} left unchanged",
              file=sys.stderr)
        return 1
    except (InconsistentGraph, ReasonerUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"build failed; {args.out} left unchanged", file=sys.stderr)
        return 1 if isinstance(exc, InconsistentGraph) else 2
    counts = ", ".join(f"{name} {count}" for name, count in result.triples.items())
    print(f"built {result.out}: {result.findings} findings; triples per graph: {counts} ({result.seconds:.1f} s)")
    return 0


def _format_table(variables: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(v)] + [len(r[i]) for r in rows]) for i, v in enumerate(variables)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(variables), line(["-" * w for w in widths])] + [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def cmd_query(args: argparse.Namespace) -> int:
    from rdflib.query import Result

    from exokg.server.sparql_results import compact, serialize_result
    from exokg.server.store import DatasetMissing, open_store

    try:
        store = open_store(Path(args.data))
    except DatasetMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        result: Result = store.query(_read_query(args.sparql))
    except Exception as exc:  # a parse or evaluation error in the user's query
        print(f"error: query failed: {exc}", file=sys.stderr)
        return 1
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        sys.stdout.write(result.graph.serialize(format="turtle"))
        return 0
    if result.type == "ASK":
        print("true" if result.askAnswer else "false")
        return 0
    if args.format == "table":
        variables = [str(v) for v in result.vars]
        rows = [[compact(row[v], store.namespace_manager) for v in result.vars] for row in result]
        print(_format_table(variables, rows))
    else:
        sys.stdout.write(serialize_result(result, args.format).decode("utf-8"))
    return 0


def cmd_reason(args: argparse.Namespace) -> int:
    """Reason over the curated graph without writing it: verdict, new subsumptions, inferred triples, time."""
    import time

    from rdflib import Graph

    from exokg.build import assemble
    from exokg.graph.curated import CurationError
    from exokg.ontology.clashes import InconsistentGraph
    from exokg.ontology.hermit import ReasonerUnavailable
    from exokg.ontology.reason import reason
    from exokg.ontology.rules import compile_rules, short
    from exokg.ontology.signs import reason_over_signs

    started = time.perf_counter()
    try:
        graphs, _ = assemble(Path(args.curated), tuple(Path(p) for p in args.finding_file))
        extra = {}
        for path in args.add:  # labelled by file, so an explanation can name it as the source
            extra[path] = Graph().parse(path, format="turtle")
        if args.rules:
            rules = compile_rules(graphs["ontology"]).rules
            Path(args.rules).write_text("\n".join(rule.construct_text() for rule in rules), encoding="utf-8")
        result = reason(graphs, extra=extra, use_hermit=not args.no_hermit)
    except CurationError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    except InconsistentGraph as exc:
        print(f"inconsistent: {exc}", file=sys.stderr)
        return 1
    except (ReasonerUnavailable, OSError, SyntaxError) as exc:  # no Java; an unreadable --add file
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engines = "OWL 2 RL rules" + ("" if args.no_hermit else " and HermiT")
    print(f"consistent: yes ({engines})")
    if not args.no_hermit:
        print(f"classes whose hierarchy changed (HermiT): {len(result.hierarchy)}")
        for cls in sorted(result.hierarchy, key=short):
            print(f"  {short(cls)} ⊑ {', '.join(sorted(short(s) for s in result.hierarchy[cls]))}")
    print(f"inferred triples per property: {len(result.inferred)} in all")
    for prop, count in sorted(result.per_property.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {prop:<24} {count}")
    if result.hermit_only:
        print(f"types HermiT found that the rules missed: {len(result.hermit_only)}")
    print(reason_over_signs(graphs["asserted"]).report())  # net effects along signed chains; sign conflicts
    times = ", ".join(f"{engine} {seconds:.2f} s" for engine, seconds in result.seconds.items())
    print(f"time: {times} ({result.rules} rules, {result.rounds} rounds); "
          f"total {time.perf_counter() - started:.2f} s")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """The built graph, or curated TSV / RDF files, against the SHACL shapes: 0 conforms, 1 not, 2 unusable input."""
    from exokg.shapes.validate import InputError, validate_inputs

    files = tuple(Path(p) for p in args.files)
    try:
        outcome = validate_inputs(files, Path(args.data), Path(args.curated), alone=args.alone)
    except (InputError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if outcome.problems:
        for problem in outcome.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"not valid: {len(outcome.problems)} problem(s) in the files; no shape was checked", file=sys.stderr)
        return 1
    report = outcome.report
    lines = report.lines(warnings=not args.no_warnings, only_origins=outcome.inputs)
    if lines:
        print("\n".join(lines))
    verdict = "conforms" if report.conforms else "does not conform"
    print(f"{verdict}: {len(report.violations)} violation(s), {len(report.warnings)} warning(s); "
          f"{report.triples} triples checked in {report.seconds:.2f} s")
    return 0 if report.conforms else 1


def cmd_serve(args: argparse.Namespace) -> int:
    from exokg.server.backend import BackendError
    from exokg.server.serve import serve
    from exokg.server.settings import SettingsError
    from exokg.server.store import DatasetMissing

    try:
        return serve(args.host, args.port, args.data, workers=args.workers, threads=args.threads,
                     query_timeout=args.query_timeout, backend=args.backend, backend_dataset=args.backend_dataset)
    except (DatasetMissing, SettingsError, BackendError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def cmd_push(args: argparse.Namespace) -> int:
    """Every graph of the build into a store speaking the Graph Store Protocol; 0 all arrived, 1 not, 2 unusable input."""
    import os

    from exokg.push import Client, PushError, push

    auth = args.auth or os.environ.get("EXOKG_PUSH_AUTH")
    user, password = (auth.split(":", 1) + [""])[:2] if auth else (None, None)
    store = args.graph_store or args.url
    client = Client((args.url, store), user, password, args.token or os.environ.get("EXOKG_PUSH_TOKEN"))
    print(f"pushing {args.data} to {store}")
    try:
        report = push(Path(args.data), args.url, args.graph_store, args.format, client, verify=not args.no_verify,
                      log=lambda line: print(f"  {line}", flush=True))
    except PushError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if "exokg build" in str(exc) else 1
    total = sum(g.sent for g in report.graphs)
    if not report.complete:
        print(f"push incomplete: the store's counts differ from the triples sent ({total} sent)", file=sys.stderr)
        return 1
    checked = "" if args.no_verify else ", counts checked on the store's query endpoint"
    print(f"pushed {len(report.graphs)} graph(s), {total} triples{checked}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="exokg", description=__doc__)
    top.add_argument("--version", action="version", version=f"exokg {__version__}")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="build the graph from the ontology and the curated files")
    p.add_argument("--out", default=str(DEFAULT_BUILD_DIR), help="output directory (replaced atomically)")
    p.add_argument("--curated", default=str(GRAPH_DIR), metavar="DIR",
                   help="the curated files, laid out like graph/ (default: the packaged ones)")
    p.add_argument("--finding-file", action="append", default=[], metavar="TSV",
                   help="an extra findings file in the table format (repeatable)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("reason", help="check consistency, classify and count the entailments (writes nothing)")
    p.add_argument("--curated", default=str(GRAPH_DIR), metavar="DIR",
                   help="the curated files, laid out like graph/ (default: the packaged ones)")
    p.add_argument("--finding-file", action="append", default=[], metavar="TSV",
                   help="an extra findings file in the table format (repeatable)")
    p.add_argument("--add", action="append", default=[], metavar="TTL",
                   help="extra asserted triples in Turtle, to try an axiom or a merge before curating it (repeatable)")
    p.add_argument("--no-hermit", action="store_true", help="OWL 2 RL rules only (no Java needed)")
    p.add_argument("--rules", metavar="FILE", help="also write the rule set as SPARQL CONSTRUCT queries to FILE")
    p.set_defaults(func=cmd_reason)

    p = sub.add_parser("validate", help="check the built graph, or curated TSV / RDF files, against the SHACL shapes")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="curated .tsv files (a new findings file, or a replacement vocabulary file) or RDF files; "
                        "none: the built graph in --data")
    p.add_argument("--data", default=str(DEFAULT_BUILD_DIR), help="the build directory (when no FILE is named)")
    p.add_argument("--curated", default=str(GRAPH_DIR), metavar="DIR",
                   help="the curated files the named FILEs join (default: the packaged ones)")
    p.add_argument("--alone", action="store_true",
                   help="validate RDF files with the ontology only, not merged with the curated graph (a dump)")
    p.add_argument("--no-warnings", action="store_true", help="list violations only")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("query", help="run a SPARQL query over the built graph")
    p.add_argument("sparql", help="the query, @FILE, or - for standard input")
    p.add_argument("--data", default=str(DEFAULT_BUILD_DIR), help="the build directory")
    p.add_argument("--format", default="table", choices=["table", "json", "xml", "csv", "tsv"])
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("serve", help="serve the built graph over the SPARQL protocol (gunicorn; other settings: EXOKG_* variables)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--data", default=str(DEFAULT_BUILD_DIR), help="the build directory")
    p.add_argument("--workers", type=int, default=2, help="server processes (each with its own query processes)")
    p.add_argument("--threads", type=int, default=4, help="requests served at once by each server process")
    p.add_argument("--backend", metavar="URL", default=None,
                   help="answer from this SPARQL 1.1 query endpoint (loaded with 'exokg push') instead of the build "
                        "(default: EXOKG_BACKEND)")
    p.add_argument("--backend-dataset", choices=("explicit", "backend-default"), default=None,
                   help="a query naming no dataset is sent with our graphs as its dataset (explicit), or without "
                        "one, over the backend's own default graph (faster on Virtuoso; default: EXOKG_BACKEND_DATASET "
                        "or explicit)")
    p.add_argument("--query-timeout", type=float, default=None, metavar="SECONDS",
                   help="stop a query after this long (default: EXOKG_QUERY_TIMEOUT or 10)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("push", help="load the build, named graphs included, into a store (SPARQL 1.1 Graph Store Protocol)")
    p.add_argument("url", help="the store's SPARQL query endpoint (also its graph store unless --graph-store is given)")
    p.add_argument("--data", default=str(DEFAULT_BUILD_DIR), help="the build directory")
    p.add_argument("--graph-store", metavar="URL",
                   help="the store's Graph Store Protocol endpoint (Oxigraph: /store; Virtuoso: /sparql-graph-crud-auth)")
    p.add_argument("--auth", metavar="USER:PASSWORD",
                   help="credentials, sent as Basic or Digest when the store asks (default: EXOKG_PUSH_AUTH)")
    p.add_argument("--token", help="a bearer token sent with every request (default: EXOKG_PUSH_TOKEN)")
    p.add_argument("--format", default="nt", choices=["nt", "turtle"], help="the RDF syntax of each PUT")
    p.add_argument("--no-verify", action="store_true", help="do not count the triples on the store afterwards")
    p.set_defaults(func=cmd_push)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)
