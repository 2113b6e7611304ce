"""Ontology exports for OWL tools: OWL/XML (https://www.w3.org/TR/owl2-xml-serialization/) written by the OWL API.

Protégé and ROBOT open RDF/XML (the build writes ``ontology.owl`` with rdflib) and OWL/XML. The OWL/XML is
rendered by the OWL API itself, through the small ``Save`` program that owlready2 ships beside HermiT
(``owlready2/hermit/Save.class``, run on the OWL API inside ``HermiT.jar``), so the same Java runtime that
HermiT needs writes it, and the export is what the OWL API reads back.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import OWL, RDF

from exokg.canonical import sorted_ntriples
from exokg.ontology.hermit import JAVA_HINT, QUICK_JVM_OPTIONS, ReasonerUnavailable, java_available


def _hermit_dir() -> Path:
    import owlready2

    return Path(owlready2.__file__).resolve().parent / "hermit"


def owl_xml(ontology: Graph) -> bytes:
    """``ontology`` as OWL/XML, rendered by the OWL API."""
    if not java_available():
        raise ReasonerUnavailable(JAVA_HINT.replace("HermiT", "The OWL/XML export"))
    hermit = _hermit_dir()
    with tempfile.TemporaryDirectory(prefix="exokg-owx-") as tmp:
        source, target = Path(tmp) / "ontology.nt", Path(tmp) / "ontology.owx"
        # Sorted N-Triples with canonical blank nodes: the same input every build, so the same output.
        source.write_bytes(sorted_ntriples(ontology))
        # Save <file> <nt|rdf|other> <out>: any format name but nt and rdf means OWL/XML.
        done = subprocess.run(
            ["java", *QUICK_JVM_OPTIONS, "-cp", f"{hermit}:{hermit / 'HermiT.jar'}", "Save", str(source), "owx", str(target)],
            capture_output=True, text=True, timeout=300,
        )
        if done.returncode != 0 or not target.exists():
            raise RuntimeError(f"the OWL API could not write OWL/XML: {done.stderr.strip()[-2000:]}")
        return absolute_iris(target.read_text(encoding="utf-8"), ontology_iri(ontology)).encode("utf-8")


def ontology_iri(ontology: Graph) -> str:
    return str(next(iter(sorted(ontology.subjects(RDF.type, OWL.Ontology)))))


def absolute_iris(owx: str, base: str) -> str:
    """Undo the OWL API 3's shortening of IRIs against xml:base: it writes <https://w3id.org/exokg/vocab/X>
    as IRI="/X" when the ontology IRI is a prefix of the vocabulary's, which RFC 3986 resolves to another
    IRI (https://w3id.org/X). Written out in full, every reader agrees."""
    owx = re.sub(r'(\sIRI=")(/[^"]*")', lambda m: m.group(1) + base + m.group(2), owx)
    owx = re.sub(r"<IRI>(/[^<]*)?</IRI>", lambda m: f"<IRI>{base}{m.group(1) or ''}</IRI>", owx)
    # The OWL API's Turtle reader leaves its own default prefix behind; it names nothing of ours.
    return re.sub(r'\n\s*<Prefix name="" IRI="http://www.semanticweb.org/owl/owlapi/turtle#"/>', "", owx)
