"""Our endpoint against real SPARQL servers on the same data, interleaved in one run, with ratios (issue 8).

For each data set (the review build, then bench/synthetic.py's graph at each ``--scales`` factor) the runner
starts every server of :mod:`peers` side by side on loopback (ours with its response cache on and off, the
Oxigraph server in memory and on disk, Virtuoso, rdflib-endpoint), checks that each query of the mix
(bench/queries) answers non-empty on each server, then measures: for each concurrency, ``--repetitions``
rounds in which every server gets ``--seconds`` of load in turn (the order rotating each round), so that
noise from other work on the machine falls on all servers alike. Figures per server are pooled over the
rounds. It prints a table of absolute figures and one of ratios (ours ÷ each peer), checks the issue's
targets, and writes the figures as JSON and a plot of queries/s by server and size (PNG).

    python bench/run_peers.py [--data build] [--scales 20] [--concurrency 1 4] [--seconds 5]
                              [--repetitions 3] [--servers exokg oxigraph-mem ...] [--out bench/results]

Progress goes to standard error when it is a terminal; otherwise only the tables are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shlex
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import load  # noqa: E402  (bench/ is a folder of scripts, not a package)
import peers  # noqa: E402

OURS = ("exokg", "exokg-nocache", "exokg-disk", "exokg-virtuoso", "exokg-virtuoso-explicit")
LABEL_QUERY = "01_label_lookup"
# The targets: (data set kind, concurrency, our server, peer, minimum ratio of queries/s).
TARGETS = [
    # "the Oxigraph server": held to both of its storages, the faster (in memory) being the real bar
    ("review", 4, "exokg-nocache", "oxigraph-mem", 0.5),
    ("review", 4, "exokg-nocache", "oxigraph-disk", 0.5),
    ("review", 4, "exokg", "oxigraph-mem", 1.0),
    ("review", 4, "exokg", "oxigraph-disk", 1.0),
    ("review", 4, "exokg-nocache", "virtuoso", 1.0),
    ("review", 4, "exokg-nocache", "rdflib-endpoint", 6.0),
    ("million", 4, "exokg-nocache", "oxigraph-mem", 0.8),
    ("million", 4, "exokg-nocache", "rdflib-endpoint", 15.0),
    ("million", 4, "exokg-virtuoso", "virtuoso", 0.7),
]


def progress(message: str) -> None:
    if sys.stderr.isatty():
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> dict:
    """What the figures were measured on: cores, memory, CPU model, and the load other work put on it."""
    model, memory = "unknown", 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) // 1024
    return {"nproc": os.cpu_count(), "memory_mb": memory, "cpu": model, "python": platform.python_version(),
            "loadavg_at_start": os.getloadavg()}


def pooled(runs: list[dict], names: list[str]) -> dict:
    """One server's figures over several measuring rounds: counts summed, percentiles over all latencies."""
    elapsed = sum(run["seconds"] for run in runs)
    per_query = {}
    for name in names:
        latencies = [x for run in runs for x in run["latencies"][name]]
        per_query[name] = load.summarize(latencies, sum(run["per_query"][name]["errors"] for run in runs), elapsed)
    everything = [x for run in runs for values in run["latencies"].values() for x in values]
    overall = load.summarize(everything, sum(run["overall"]["errors"] for run in runs), elapsed)
    unanswered = [name for name, stats in per_query.items() if stats["queries"] + stats["errors"] == 0]
    return {"seconds": elapsed, "rounds": len(runs), "overall": overall, "per_query": per_query,
            "unanswered": unanswered}


def check_answers(started: dict, mix: list[load.Query]) -> dict:
    """Each server's answer size per query; empty answers and disagreements listed (DESCRIBE may differ)."""
    sizes, problems, engines = {}, [], {}
    for name, running in started.items():
        client = load.Client(running.url)
        sizes[name] = {}
        for query in mix:
            try:
                status, content_type, body = client.send(query)
            except (OSError, load.http.client.HTTPException) as exc:  # a timeout, a dropped connection
                problems.append(f"{name}: {query.name}: no answer: {exc!r}")
                client.close()
                client = load.Client(running.url)
                continue
            if status != 200:
                problems.append(f"{name}: {query.name}: HTTP {status}: {body[:200]!r}")
                continue
            sizes[name][query.name] = load.count_answer(query, content_type, body)
            if sizes[name][query.name] == 0:
                problems.append(f"{name}: {query.name}: empty answer")
            if "x-exokg-engine" in client.headers:
                engines.setdefault(name, set()).add(client.headers["x-exokg-engine"])
        client.close()
    reference = next((n for n in ("oxigraph-mem", "oxigraph-disk") if n in sizes), None)
    if reference:
        for name, answer in sizes.items():
            for query in mix:
                if query.form == "DESCRIBE":
                    continue  # what DESCRIBE returns is up to each server (https://www.w3.org/TR/sparql11-query/#describe)
                if query.name in answer and answer[query.name] != sizes[reference].get(query.name):
                    problems.append(f"{name}: {query.name}: {answer[query.name]} results, "
                                    f"{reference} {sizes[reference].get(query.name)}")
    return {"sizes": sizes, "problems": problems, "engines": {k: sorted(v) for k, v in engines.items()}}


def measure_data(data: peers.DataSet, args, mix: list[load.Query], tmp: Path) -> dict:
    started, failed = {}, {}
    with contextlib.ExitStack() as stack:
        for name in args.servers:
            progress(f"{data.name}: starting {name}")
            directory = tmp / f"{data.name}-{name}"
            directory.mkdir(parents=True, exist_ok=True)
            try:
                started[name] = stack.enter_context(peers.SERVERS[name][1](data, directory, args.workers, started))
            except (RuntimeError, OSError, ValueError) as exc:
                failed[name] = str(exc).splitlines()[0][:300]
                progress(f"{data.name}: {name} did not start: {failed[name]}")
        progress(f"{data.name}: checking the answers")
        answers = check_answers(started, mix)
        for problem in answers["problems"]:
            print(f"warning: {data.name}: {problem}", file=sys.stderr)
        rss_loaded = {name: running.rss_mb() for name, running in started.items()}
        runs: dict[int, dict[str, list]] = {c: {name: [] for name in started} for c in args.concurrency}
        order = list(started)
        for concurrency in args.concurrency:
            for round_ in range(args.repetitions):
                rotated = order[round_ % len(order):] + order[: round_ % len(order)] if order else []
                for name in rotated:
                    progress(f"{data.name}: c={concurrency} round {round_ + 1}/{args.repetitions}: {name}")
                    # each round starts the clients further along the mix, so that rounds cover it evenly
                    runs[concurrency][name].append(load.run_load(
                        started[name].url, mix, concurrency, args.seconds, args.warmup, keep_latencies=True,
                        start=round_ * len(mix) // args.repetitions, max_seconds=args.max_seconds))
        rss_after = {name: running.rss_mb() for name, running in started.items()}
    names = [q.name for q in mix]
    results = []
    for concurrency, by_server in runs.items():
        for name, server_runs in by_server.items():
            results.append({"data": data.name, "triples": data.triples, "server": name,
                            "description": peers.SERVERS[name][0], "concurrency": concurrency,
                            "ready_seconds": started[name].ready_seconds, "rss_mb_loaded": rss_loaded[name],
                            "rss_mb_after": rss_after[name], **pooled(server_runs, names)})
    return {"data": data.name, "triples": data.triples, "results": results, "failed": failed, **answers}


def ratio_rows(results: list[dict]) -> list[dict]:
    """Ours ÷ each peer, in queries/s, per data set and concurrency."""
    rows = []
    index = {(r["data"], r["concurrency"], r["server"]): r for r in results}
    for (data, concurrency, server), ours in index.items():
        if server not in OURS:
            continue
        for (data2, concurrency2, peer), theirs in index.items():
            if (data2, concurrency2) != (data, concurrency) or peer == server or peer in OURS:
                continue
            qps = theirs["overall"]["qps"]
            rows.append({"data": data, "concurrency": concurrency, "ours": server, "peer": peer,
                         "ratio": ours["overall"]["qps"] / qps if qps else float("inf")})
    return rows


def check_targets(results: list[dict], ratios: list[dict]) -> list[dict]:
    checks = []
    by_data = {r["data"]: r["triples"] for r in results}
    million = min((d for d, n in by_data.items() if d != "review"), key=lambda d: abs(by_data[d] - 1e6), default=None)
    for kind, concurrency, ours, peer, minimum in TARGETS:
        data = "review" if kind == "review" else million
        match = [r for r in ratios if (r["data"], r["concurrency"], r["ours"], r["peer"]) == (data, concurrency, ours, peer)]
        if data is None or not match:
            checks.append({"target": f"{kind}: {ours} ≥ {minimum}× {peer} at c={concurrency}", "status": "not measured"})
            continue
        ratio = match[0]["ratio"]
        note = "" if kind == "review" or 0.5e6 <= by_data[data] <= 2e6 else f" (on {by_data[data]:,} triples, not 10^6)"
        checks.append({"target": f"{data}: {ours} ≥ {minimum}× {peer} at c={concurrency}{note}",
                       "ratio": ratio, "status": "met" if ratio >= minimum else "not met"})
    for r in results:
        if r["data"] == "review" and r["server"] in ("exokg", "exokg-nocache") and r["concurrency"] == min(x["concurrency"] for x in results):
            p50 = r["per_query"][LABEL_QUERY]["p50_ms"] if LABEL_QUERY in r["per_query"] else None
            checks.append({"target": f"review: {r['server']} label lookup p50 < 5 ms at c={r['concurrency']}",
                           "value_ms": p50, "status": "not measured" if p50 is None else ("met" if p50 < 5 else "not met")})
    return checks


def tables(report: dict) -> str:
    lines = ["| data | triples | server | c | queries/s | p50 ms | p95 ms | p99 ms | label p50 ms | errors | ready s | RSS MB |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["results"]:
        o = r["overall"]
        label = r["per_query"].get(LABEL_QUERY, {}).get("p50_ms", float("nan"))
        rss = r["rss_mb_after"]
        mark = "*" if r["unanswered"] else ""
        lines.append(f"| {r['data']} | {r['triples']:,} | {r['server']} | {r['concurrency']} | {o['qps']:,.1f}{mark} | "
                     f"{o['p50_ms']:.2f} | {o['p95_ms']:.2f} | {o['p99_ms']:.2f} | {label:.2f} | {o['errors']} | "
                     f"{r['ready_seconds']:.1f} | {'' if rss is None else f'{rss:,.0f}'} |")
    if any(r["unanswered"] for r in report["results"]):
        lines.append("\n\\* some queries of the mix got no answer within --max-seconds: "
                     + "; ".join(f"{r['data']} {r['server']} c={r['concurrency']}: {', '.join(r['unanswered'])}"
                                 for r in report["results"] if r["unanswered"]))
    peers_seen = list(dict.fromkeys(r["peer"] for r in report["ratios"]))
    lines += ["", "Ratios of queries/s (ours ÷ peer; above 1: ours is faster):", "",
              "| data | c | ours | " + " | ".join(peers_seen) + " |", "|---|---:|---|" + "---:|" * len(peers_seen)]
    keys = list(dict.fromkeys((r["data"], r["concurrency"], r["ours"]) for r in report["ratios"]))
    for data, concurrency, ours in keys:
        cells = []
        for peer in peers_seen:
            match = [r["ratio"] for r in report["ratios"] if (r["data"], r["concurrency"], r["ours"], r["peer"]) == (data, concurrency, ours, peer)]
            cells.append(f"{match[0]:.2f}×" if match else "—")
        lines.append(f"| {data} | {concurrency} | {ours} | " + " | ".join(cells) + " |")
    lines += ["", "Targets (issue 8):", ""]
    for check in report["targets"]:
        value = f"{check['ratio']:.2f}×" if "ratio" in check else (f"{check['value_ms']:.2f} ms" if check.get("value_ms") is not None else "")
        lines.append(f"- {check['target']}: {value} — {check['status']}")
    return "\n".join(lines)


def per_query_table(report: dict) -> str:
    """p50 latency (ms) of each query on each server, per data set, at the lowest concurrency."""
    lines = []
    concurrency = min((r["concurrency"] for r in report["results"]), default=1)
    for data in dict.fromkeys(r["data"] for r in report["results"]):
        rows = [r for r in report["results"] if r["data"] == data and r["concurrency"] == concurrency]
        lines += ["", f"p50 ms per query, {data}, c={concurrency}:", "",
                  "| query | " + " | ".join(r["server"] for r in rows) + " |", "|---|" + "---:|" * len(rows)]
        for name in report["queries"]:
            lines.append(f"| {name} | " + " | ".join(f"{r['per_query'][name]['p50_ms']:.1f}" for r in rows) + " |")
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:
    """Grouped bars of queries/s (log scale): one panel per concurrency, one group per data set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = report["results"]
    levels = sorted({r["concurrency"] for r in results})
    datasets = list(dict.fromkeys(r["data"] for r in results))
    servers = list(dict.fromkeys(r["server"] for r in results))
    figure, axes = plt.subplots(1, len(levels), figsize=(5.5 * len(levels), 4.2), squeeze=False, sharey=True)
    width = 0.8 / max(len(servers), 1)
    for ax, concurrency in zip(axes[0], levels):
        for k, server in enumerate(servers):
            values = []
            for data in datasets:
                match = [r["overall"]["qps"] for r in results
                         if (r["data"], r["server"], r["concurrency"]) == (data, server, concurrency)]
                values.append(match[0] if match else 0)
            ax.bar([i + k * width for i in range(len(datasets))], values, width, label=server)
        triples = {r["data"]: r["triples"] for r in results}
        ax.set_xticks([i + width * (len(servers) - 1) / 2 for i in range(len(datasets))],
                      [f"{d}\n{triples[d]:,} triples" for d in datasets])
        ax.set_yscale("log")
        ax.set_title(f"query mix, concurrency {concurrency}")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("queries/s (log)")
    axes[0][-1].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("build"), help="the review build (built there if missing)")
    parser.add_argument("--scales", type=int, nargs="*", default=[],
                        help="synthetic graphs of this many times the review (160: about 10^6 triples)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-review", action="store_true", help="measure only the synthetic graphs")
    parser.add_argument("--servers", nargs="+", default=list(peers.SERVERS), choices=list(peers.SERVERS))
    parser.add_argument("--queries", type=Path, default=load.QUERIES_DIR)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per server and round")
    parser.add_argument("--repetitions", type=int, default=3, help="rounds per concurrency (interleaved)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each measurement")
    parser.add_argument("--max-seconds", type=float, default=120.0,
                        help="a measurement goes on past --seconds until each query was answered once, this long at most")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of our server")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "exokg-bench-data",
                        help="where synthetic data sets are kept between runs")
    parser.add_argument("--out", type=Path, default=Path("bench/results"), help="directory for peers.json, peers.png")
    args = parser.parse_args(argv)
    # SIGTERM (and SIGINT, which a background job ignores) end the run through the servers' cleanup
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    mix = load.load_mix(args.queries)
    report = {"command": shlex.join(["python", "bench/run_peers.py", *(sys.argv[1:] if argv is None else argv)]),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": machine(), "settings": {k: str(v) for k, v in vars(args).items()},
              "queries": [q.name for q in mix], "data": [], "results": []}
    progress("preparing the review graph")
    review = peers.review_data(args.data)
    datasets = [] if args.skip_review else [review]
    for scale in args.scales:
        progress(f"preparing the synthetic graph ×{scale} (cached in {args.cache})")
        began = time.monotonic()
        datasets.append(peers.synthetic_data(scale, review, args.cache, args.seed))
        progress(f"synthetic ×{scale}: {datasets[-1].triples:,} triples ({time.monotonic() - began:.0f} s)")
    with tempfile.TemporaryDirectory(prefix="exokg-peers-") as tmp:
        for data in datasets:
            measured = measure_data(data, args, mix, Path(tmp))
            report["results"] += measured.pop("results")
            report["data"].append(measured)
    report["machine"]["loadavg_at_end"] = os.getloadavg()
    report["ratios"] = ratio_rows(report["results"])
    report["targets"] = check_targets(report["results"], report["ratios"])
    text = tables(report)
    print(f"{report['command']}\n{report['date']}  {report['machine']['nproc']} cores, "
          f"{report['machine']['memory_mb']:,} MB, {report['machine']['cpu']}; load average at start "
          f"{' '.join(f'{x:.1f}' for x in report['machine']['loadavg_at_start'])}, at end "
          f"{' '.join(f'{x:.1f}' for x in report['machine']['loadavg_at_end'])}\n")
    for measured in report["data"]:
        if measured["failed"]:
            print(f"{measured['data']}: not started: {measured['failed']}")
        if measured["engines"]:
            print(f"{measured['data']}: engine that answered our server's queries: {measured['engines']}")
    print(text)
    print(per_query_table(report))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "peers.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    plot(report, args.out / "peers.png")
    print(f"\nwrote {args.out / 'peers.json'} and {args.out / 'peers.png'}")
    # a wrong or empty answer from our own server fails the run; the peers' quirks are only warned about
    ours_wrong = [p for m in report["data"] for p in m["problems"] if p.split(":")[0] in ("exokg", "exokg-nocache")]
    return 1 if ours_wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
