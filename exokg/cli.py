"""The ``exokg`` command line: one subcommand per pipeline step that exists."""

from __future__ import annotations

import argparse
import json
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
    from exokg.server.store import DatasetMissing, GraphStore

    try:
        store = GraphStore(Path(args.data))
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
        rows = [[compact(row[v], store.dataset.namespace_manager) for v in result.vars] for row in result]
        print(_format_table(variables, rows))
    else:
        sys.stdout.write(serialize_result(result, args.format).decode("utf-8"))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from exokg.server.app import create_app
    from exokg.server.store import DatasetMissing

    try:
        app = create_app({"EXOKG_DATA": args.data})
    except DatasetMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app.run(host=args.host, port=args.port, threaded=True)
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

    p = sub.add_parser("query", help="run a SPARQL query over the built graph")
    p.add_argument("sparql", help="the query, @FILE, or - for standard input")
    p.add_argument("--data", default=str(DEFAULT_BUILD_DIR), help="the build directory")
    p.add_argument("--format", default="table", choices=["table", "json", "xml", "csv", "tsv"])
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("serve", help="serve the built graph over the SPARQL protocol")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--data", default=str(DEFAULT_BUILD_DIR), help="the build directory")
    p.set_defaults(func=cmd_serve)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)
