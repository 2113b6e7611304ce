"""The benchmark's data sets and the SPARQL servers compared on them, each on a free loopback port.

A data set is one N-Quads file (named graphs ontology / asserted / inferred, as ``exokg build`` writes
them) plus a build directory our server opens (``exokg.trig``, ``void.ttl`` and the Oxigraph store that
``exokg build`` writes). The review's comes from ``exokg build``; a synthetic one is the review's ontology
graph beside ``bench/synthetic.py``'s asserted graph (no inferred graph: the query mix reaches subclasses
through ``rdfs:subClassOf*`` paths, not through materialized types).

Every server is a context manager yielding its SPARQL query URL; each runs in its own process group,
ended on exit (:func:`exokg.server.testing.running_process`). Peers:

- ``exokg``: our endpoint under gunicorn, configured as ``make run`` (``EXOKG_CACHE_BYTES=0`` turns the
  response cache off: ``exokg-nocache``); up to 2,000,000 triples it serves from memory, so
  ``exokg-disk`` (cache off, ``EXOKG_MEMORY_TRIPLES=0``) shows the on-disk store at the same sizes;
- ``oxigraph-disk`` / ``oxigraph-mem``: the Oxigraph server (PyPI ``oxigraph``), read-only over a RocksDB
  store loaded with ``oxigraph load``, or in memory loaded over the Graph Store Protocol;
- ``virtuoso``: Virtuoso Open Source 7 (Debian ``virtuoso-opensource-7-bin``) with a private ini in a
  temporary directory, listening on loopback only, loaded with the bulk loader (``ld_dir`` +
  ``rdf_loader_run``, https://vos.openlinksw.com/owiki/wiki/VOS/VirtBulkRDFLoader);
- ``rdflib-endpoint``: rdflib-endpoint (PyPI, FastAPI + rdflib) serving the N-Quads file;
- ``exokg-virtuoso``: our endpoint as the front of that Virtuoso (``exokg serve --backend``, cache off),
  sending queries that name no dataset without one (``--backend-dataset backend-default``);
  ``exokg-virtuoso-explicit`` names our three graphs as every query's dataset (the default mode).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from exokg.config import DATASET_IRI, GRAPH
from exokg.server import testing
from exokg.server.testing import free_port, running_endpoint, running_oxigraph, running_process

HERE = Path(__file__).parent
DATA_FILE = "exokg.nq"
VIRTUOSO = "virtuoso-t"
VIRTUOSO_ISQL = "isql-vt"  # Debian's name for Virtuoso's isql (the plain isql is unixODBC's)
VIRTUOSO_HINT = "Virtuoso is not installed: apt-get install virtuoso-opensource (or virtuoso-opensource-7-bin)"
LOADING_SECONDS = 900  # servers that parse the data before they answer: rdflib needs minutes for 10^6 triples


@contextlib.contextmanager
def startup_allowance(seconds: float) -> Iterator[None]:
    """Let :func:`running_process` wait ``seconds`` for a server to answer, instead of the tests' minute."""
    before = testing.STARTUP_SECONDS
    testing.STARTUP_SECONDS = max(seconds, before)
    try:
        yield
    finally:
        testing.STARTUP_SECONDS = before


@dataclass(frozen=True)
class DataSet:
    name: str  # "review" or "synthetic-<scale>"
    quads: Path  # N-Quads, named graphs as the build writes them
    build_dir: Path  # what our server opens (EXOKG_DATA)
    triples: int


def review_data(build_dir: Path) -> DataSet:
    """The review graph as ``exokg build`` wrote it into ``build_dir`` (built there first when missing)."""
    build_dir = Path(build_dir)
    if not (build_dir / DATA_FILE).is_file():
        subprocess.run([str(Path(sys.executable).with_name("exokg")), "build", "--out", str(build_dir)], check=True)
    return DataSet("review", build_dir / DATA_FILE, build_dir, _count_lines(build_dir / DATA_FILE))


def synthetic_data(scale: int, review: DataSet, cache: Path, seed: int = 7) -> DataSet:
    """``bench/synthetic.py``'s graph at ``scale`` with the review's ontology, written once under ``cache``.

    The cache key holds the generator's source and the review's quads, so a change to either makes new files.
    """
    sys.path.insert(0, str(HERE))
    import synthetic

    ontology_graph = f"<{GRAPH['ontology']}>"
    ontology = [line for line in review.quads.read_text(encoding="utf-8").splitlines()
                if line.endswith(f" {ontology_graph} .")]
    key = hashlib.sha256(Path(synthetic.__file__).read_bytes() + review.quads.read_bytes()).hexdigest()[:12]
    directory = Path(cache) / f"synthetic-{scale}-seed{seed}-{key}"
    quads, build_dir = directory / DATA_FILE, directory / "build"
    if not (directory / "complete").is_file():
        shutil.rmtree(directory, ignore_errors=True)
        build_dir.mkdir(parents=True)
        graph = synthetic.generate(scale, seed)
        asserted = f" <{GRAPH['asserted']}> .\n"
        lines = graph.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines()
        with open(quads, "w", encoding="utf-8") as out:
            out.writelines(line + "\n" for line in ontology)
            out.writelines(line[: -len(" .")] + asserted for line in lines if line.strip())
        del graph, lines
        write_build_dir(build_dir, quads, {"ontology": len(ontology), "asserted": _count_lines(quads) - len(ontology)})
        (directory / "complete").write_text("")
    return DataSet(f"synthetic-{scale}", quads, build_dir, _count_lines(quads))


def write_build_dir(build_dir: Path, quads: Path, triples: dict[str, int]) -> None:
    """What our server opens: ``exokg.trig`` and ``void.ttl`` (triples per graph), and the Oxigraph store."""
    import pyoxigraph as ox

    trig = build_dir / "exokg.trig"
    ox.serialize(ox.parse(path=str(quads), format=ox.RdfFormat.N_QUADS), output=str(trig), format=ox.RdfFormat.TRIG)
    void = ["@prefix void: <http://rdfs.org/ns/void#> .", "@prefix dcterms: <http://purl.org/dc/terms/> .",
            f"<{DATASET_IRI}> a void:Dataset ; void:triples {sum(triples.values())} ."]
    for name, n in triples.items():  # the shape of exokg.build.void_description's subsets, which the store reads
        void.append(f"<{DATASET_IRI}> void:subset <{DATASET_IRI}/graph/{name}> .")
        void.append(f"<{DATASET_IRI}/graph/{name}> a void:Dataset ; dcterms:identifier <{GRAPH[name]}> ; "
                    f"void:triples {n} .")
    (build_dir / "void.ttl").write_text("\n".join(void) + "\n", encoding="utf-8")
    from exokg.server import store

    write_store = getattr(store, "write_store", None)  # the engine's on-disk store, when this build has one
    if write_store is not None:
        write_store(build_dir / getattr(store, "STORE_DIR", "oxigraph"), trig.read_bytes())


def _count_lines(path: Path) -> int:
    with open(path, "rb") as data:
        return sum(1 for line in data if line.strip())


def process_rss_mb(leader: int) -> float:
    """Resident memory (MB) of every process in ``leader``'s process group (the server and its children)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != leader:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ProcessLookupError):
            continue  # ended meanwhile
    return total / 1024


def _group_leader(port: int) -> int | None:
    """The process group of whatever listens on loopback ``port`` (for memory figures), if found."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:
                    inode = fields[9]
    if inode is None:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) == f"socket:[{inode}]":
                    return os.getpgid(int(proc.name))
    return None


@dataclass
class Running:
    """A started server: its query URL, how long it took to answer, and its process group."""
    url: str
    ready_seconds: float
    leader: int | None

    def rss_mb(self) -> float | None:
        return process_rss_mb(self.leader) if self.leader else None


def _port_of(url: str) -> int:
    return int(url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


@contextlib.contextmanager
def exokg_server(data: DataSet, tmp: Path, workers: int = 2, threads: int = 4, cache: bool = True,
                 backend: str | None = None, disk: bool = False, backend_dataset: str = "explicit") -> Iterator[Running]:
    """Our endpoint; with ``backend``, the front of that SPARQL endpoint (``exokg serve --backend``,
    ``backend_dataset`` as EXOKG_BACKEND_DATASET); with ``disk``, serving from the on-disk store whatever
    the dataset's size (EXOKG_MEMORY_TRIPLES=0)."""
    settings = {} if cache else {"EXOKG_CACHE_BYTES": "0"}
    if backend:
        settings["EXOKG_BACKEND"] = backend
        settings["EXOKG_BACKEND_DATASET"] = backend_dataset
    if disk:
        settings["EXOKG_MEMORY_TRIPLES"] = "0"
    started = time.monotonic()
    log = tmp / f"exokg-{'cache' if cache else 'nocache'}{'-backend-' + backend_dataset if backend else ''}{'-disk' if disk else ''}.log"
    with running_endpoint(data.build_dir, log, workers=workers, threads=threads, settings=settings) as url:
        yield Running(url, time.monotonic() - started, _group_leader(_port_of(url)))


@contextlib.contextmanager
def oxigraph_disk(data: DataSet, tmp: Path) -> Iterator[Running]:
    started = time.monotonic()
    location = tmp / "oxigraph-disk"
    shutil.rmtree(location, ignore_errors=True)
    with running_oxigraph(tmp / "oxigraph-disk.log", data=data.quads, location=location) as base:
        url = f"{base}/query"
        yield Running(url, time.monotonic() - started, _group_leader(_port_of(url)))


@contextlib.contextmanager
def oxigraph_memory(data: DataSet, tmp: Path) -> Iterator[Running]:
    from exokg.server.testing import oxigraph_command

    program = oxigraph_command()
    if program is None:
        raise RuntimeError("the oxigraph server is not installed (pip install oxigraph)")
    port = free_port()
    started = time.monotonic()
    command = [program, "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    with running_process(command, f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", tmp / "oxigraph-mem.log") as process:
        # Graph Store Protocol: POST a dataset to /store adds its quads (https://github.com/oxigraph/oxigraph/tree/main/cli)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/store", data=data.quads.read_bytes(), method="POST",
                                         headers={"Content-Type": "application/n-quads"})
        with urllib.request.urlopen(request, timeout=600):
            pass
        yield Running(f"http://127.0.0.1:{port}/query", time.monotonic() - started, process.pid)


def virtuoso_available() -> bool:
    return shutil.which(VIRTUOSO) is not None and shutil.which(VIRTUOSO_ISQL) is not None


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
LiteModeOn = 0
DisableUnixSocket = 1
DisableTcpSocket = 0
ServerThreads = 20
CheckpointInterval = 0
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
MaxQueryMem = 2G
DirsAllowed = ., {dir}
ThreadCleanupInterval = 0
ResourcesCleanupInterval = 0
DefaultIsolation = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 16
ServerThreads = 16
DavRoot = DAV
EnabledDavVSP = 0
HTTPProxyEnabled = 0
MaxKeepAlives = 16
KeepAliveTimeout = 10

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 120
DefaultQuery = ASK {{}}
"""


def _isql(port: int, statements: str, log: Path) -> None:
    """Run SQL statements through isql-vt as dba (the fresh database's default password, loopback only)."""
    with open(log, "ab") as out:
        subprocess.run([VIRTUOSO_ISQL, f"127.0.0.1:{port}", "dba", "dba", f"exec={statements}"], check=True,
                       stdout=out, stderr=subprocess.STDOUT, timeout=1800)


@contextlib.contextmanager
def virtuoso(data: DataSet, tmp: Path, buffers: int = 170_000) -> Iterator[Running]:
    """A fresh Virtuoso database in ``tmp``, bulk-loaded with the data set's quads."""
    if not virtuoso_available():
        raise RuntimeError(VIRTUOSO_HINT)
    directory = tmp / "virtuoso"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    try:  # DirsAllowed: the loader reads only from the database's own directory
        os.link(data.quads, directory / DATA_FILE)
    except OSError:
        shutil.copy(data.quads, directory / DATA_FILE)
    sql_port, http_port = free_port(), free_port()
    (directory / "virtuoso.ini").write_text(VIRTUOSO_INI.format(
        dir=directory, sql_port=sql_port, http_port=http_port, buffers=buffers, dirty=buffers * 3 // 4))
    started = time.monotonic()
    command = [shutil.which(VIRTUOSO), "+foreground", "+configfile", str(directory / "virtuoso.ini")]
    url = f"http://127.0.0.1:{http_port}/sparql"
    with running_process(command, f"{url}?query=ASK%7B%7D", tmp / "virtuoso-server.log") as process:
        # .nq files keep their quads' graphs; the third argument only names the graph of triple files.
        _isql(sql_port, f"ld_dir('{directory}', '{DATA_FILE}', '{GRAPH['asserted']}'); rdf_loader_run(); checkpoint;",
              tmp / "virtuoso-load.log")
        yield Running(url, time.monotonic() - started, process.pid)


@contextlib.contextmanager
def rdflib_endpoint(data: DataSet, tmp: Path) -> Iterator[Running]:
    program = Path(sys.executable).with_name("rdflib-endpoint")
    if not program.exists():
        raise RuntimeError("rdflib-endpoint is not installed (pip install -e '.[bench]')")
    port = free_port()
    started = time.monotonic()
    command = [str(program), "serve", "--host", "127.0.0.1", "--port", str(port), str(data.quads)]
    url = f"http://127.0.0.1:{port}/"  # its CLI serves the endpoint at the root
    with startup_allowance(LOADING_SECONDS), \
            running_process(command, f"{url}?query=ASK%7B%7D", tmp / "rdflib-endpoint.log") as process:
        yield Running(url, time.monotonic() - started, process.pid)


def _exokg_on_virtuoso(backend_dataset: str):
    def start(data: DataSet, tmp: Path, workers: int, started: dict) -> contextlib.AbstractContextManager:
        if "virtuoso" not in started:
            raise RuntimeError("exokg-virtuoso fronts the virtuoso server: list virtuoso before it in --servers")
        return exokg_server(data, tmp, workers, cache=False, backend=started["virtuoso"].url,
                            backend_dataset=backend_dataset)

    return start


# name → (description, starter(data, tmp, workers, started)), ``started`` being the servers already running
# for this data set by name; the runner's --servers picks among these names, in this order.
SERVERS = {
    "exokg": ("exokg (gunicorn, cache on)",
              lambda data, tmp, workers, started: exokg_server(data, tmp, workers, cache=True)),
    "exokg-nocache": ("exokg (gunicorn, cache off)",
                      lambda data, tmp, workers, started: exokg_server(data, tmp, workers, cache=False)),
    "exokg-disk": ("exokg (gunicorn, cache off, on-disk store)",
                   lambda data, tmp, workers, started: exokg_server(data, tmp, workers, cache=False, disk=True)),
    "oxigraph-mem": ("Oxigraph server, in memory", lambda data, tmp, workers, started: oxigraph_memory(data, tmp)),
    "oxigraph-disk": ("Oxigraph server, on disk", lambda data, tmp, workers, started: oxigraph_disk(data, tmp)),
    "virtuoso": ("Virtuoso 7 (Debian)", lambda data, tmp, workers, started: virtuoso(data, tmp)),
    "exokg-virtuoso": ("exokg --backend Virtuoso --backend-dataset backend-default (cache off)",
                       _exokg_on_virtuoso("backend-default")),
    "exokg-virtuoso-explicit": ("exokg --backend Virtuoso, our graphs sent as the dataset (cache off)",
                                _exokg_on_virtuoso("explicit")),
    "rdflib-endpoint": ("rdflib-endpoint (FastAPI + rdflib)",
                        lambda data, tmp, workers, started: rdflib_endpoint(data, tmp)),
}
