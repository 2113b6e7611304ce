"""HermiT (through owlready2, Java), the complete OWL 2 DL reasoner: consistency and classification."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDFS

from exokg.config import EXO

JAVA_HINT = "HermiT needs a Java runtime: install one (Debian/Ubuntu: apt-get install default-jre-headless)"


class ReasonerUnavailable(RuntimeError):
    pass


@dataclass
class HermitResult:
    consistent: bool
    subsumptions: set[tuple[URIRef, URIRef]] = field(default_factory=set)  # (sub, super), named classes
    types: set[tuple[URIRef, URIRef]] = field(default_factory=set)  # (individual, class), direct types
    seconds: float = 0.0


def java_available() -> bool:
    return shutil.which("java") is not None


# A short JVM run (the review classifies in about two seconds) spends much of its CPU compiling and collecting
# garbage on every core, beside the build's Python steps: C1-only compilation and the serial collector cut
# the build's CPU time by a quarter and its wall time by about 2 s on two cores. Large inputs keep the JVM's
# defaults, whose optimizing compiler pays off on long runs.
QUICK_JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
QUICK_JVM_BELOW = 100_000  # triples of input
_ENVIRONMENT = threading.Lock()


@contextlib.contextmanager
def jvm_options(options: tuple[str, ...]):
    """Java started meanwhile by this process gets ``options`` (through the launcher's JDK_JAVA_OPTIONS:
    owlready2 writes the java command itself). An operator's own JDK_JAVA_OPTIONS is left as it is."""
    with _ENVIRONMENT:
        if not options or "JDK_JAVA_OPTIONS" in os.environ:
            options = ()
        else:
            os.environ["JDK_JAVA_OPTIONS"] = " ".join(options)
    try:
        yield
    finally:
        if options:
            with _ENVIRONMENT:
                os.environ.pop("JDK_JAVA_OPTIONS", None)


def hermit(graph: Graph) -> HermitResult:
    """Consistency and classification of ``graph`` (TBox + individuals) by HermiT, through owlready2."""
    if not java_available():
        raise ReasonerUnavailable(JAVA_HINT)
    import owlready2
    from owlready2 import OwlReadyInconsistentOntologyError, World, sync_reasoner_hermit

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="exokg-hermit-") as tmp:
        path = Path(tmp) / "input.nt"  # owlready2 reads N-Triples (and RDF/XML), not Turtle
        graph.serialize(path, format="nt", encoding="utf-8")
        world = World()
        world.get_ontology(path.as_uri()).load(format="ntriples")
        try:
            with jvm_options(QUICK_JVM_OPTIONS if len(graph) < QUICK_JVM_BELOW else ()):
                sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except OwlReadyInconsistentOntologyError:
            world.close()
            return HermitResult(False, seconds=time.perf_counter() - started)
        result = HermitResult(True)
        inferences = world.get_ontology("http://inferrences/")
        iri = world._unabbreviate
        for s, p, o in inferences.get_triples(None, None, None):
            if not (isinstance(o, int) and o > 0 and s > 0):
                continue
            subject, obj = URIRef(iri(s)), URIRef(iri(o))
            if not str(obj).startswith(str(EXO)):
                continue
            if p == owlready2.rdfs_subclassof and str(subject).startswith(str(EXO)):
                result.subsumptions.add((subject, obj))
            elif p == owlready2.rdf_type:
                result.types.add((subject, obj))
        world.close()
    result.seconds = time.perf_counter() - started
    return result


def told_superclasses(tbox: Graph) -> dict[URIRef, set[URIRef]]:
    """Named superclasses reachable through asserted rdfs:subClassOf and named equivalences."""
    direct: dict[URIRef, set[URIRef]] = defaultdict(set)
    for a, b in tbox.subject_objects(RDFS.subClassOf):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            direct[a].add(b)
    for a, b in tbox.subject_objects(OWL.equivalentClass):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            direct[a].add(b)
            direct[b].add(a)
    closure: dict[URIRef, set[URIRef]] = {}
    for start in list(direct):
        seen, frontier = set(), [start]
        while frontier:
            for sup in direct.get(frontier.pop(), ()):
                if sup not in seen:
                    seen.add(sup)
                    frontier.append(sup)
        closure[start] = seen
    return closure
