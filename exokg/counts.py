"""The graph's counts per section of the review and kind of node: the table in docs/graph-counts.md.

A node's section is the source it comes from (``exo:fromSource``: Table 1-6, a running-text section, a
figure legend); a node without one of its own (an effect, a signed step, a tumour outcome, an unspecified
cargo) counts under its finding's section. A node's kind is its most specific asserted exo: class. Net
effects and sign conflicts, which the reasoning step composes across findings, are counted apart.
The running-text claims (graph/text/claims/) get a second table: per section, the review's sentences that
carry a curated claim (each claim's quote located in its sentence by exokg.coverage), the claim
rows, how many restate a table or text record and how many cite nothing, and the sentences left out on
purpose, listed one by one with the curator's reason at the end (the audit of what is not in the graph).
Against what each section says: its sentences in the review text (exokg.coverage cuts the text into
sections, drops the flattened tables, keeps figure legends apart) and those that neither hold a claim's quote
nor are left out on purpose, listed one by one: the curation still to do.
``python -m exokg.counts --report docs/graph-counts.md`` rewrites the file; tests/test_counts.py checks it
is current.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS

from exokg.config import EXO, REVIEW_TEXT
from exokg.coverage import coverage
from exokg.graph.curated import Corpus

REPORT_COMMAND = "python -m exokg.counts --report docs/graph-counts.md"
# A finding's own nodes, counted under the finding's section: property from the finding → the node.
OWN_NODES = (EXO.hasEffect, EXO.hasSignedStep, EXO.hasOutcome, EXO.hasUnspecifiedCargo, EXO.hasTextVariant)


def _kind(graph: Graph, ontology: Graph, node: URIRef) -> str | None:
    types = {t for t in graph.objects(node, RDF.type) if isinstance(t, URIRef) and str(t).startswith(str(EXO))}
    specific = [t for t in types if not any((o, RDFS.subClassOf, t) in ontology for o in types if o != t)]
    return min((str(ontology.value(t, RDFS.label) or t[len(str(EXO)):]) for t in specific), default=None)


def _unspecified_parts(asserted: Graph, node: URIRef) -> list[URIRef]:
    """A running-text claim's own unspecified-cargo nodes (its subject or object when the review names none)."""
    return [o for prop in (EXO.claimSubject, EXO.claimObject) for o in asserted.objects(node, prop)
            if (o, RDF.type, EXO.UnspecifiedCargo) in asserted]


def counts(asserted: Graph, ontology: Graph) -> Counter:
    """(section, kind) → number of nodes, over the asserted graph."""
    found: Counter = Counter()
    for node, source in asserted.subject_objects(EXO.fromSource):
        section = str(asserted.value(source, RDFS.label))
        kind = _kind(asserted, ontology, node)
        if kind:
            found[(section, kind)] += 1
        own_nodes = [own for prop in OWN_NODES for own in asserted.objects(node, prop)]
        for own in own_nodes + _unspecified_parts(asserted, node):
            own_kind = _kind(asserted, ontology, own)
            if own_kind:
                found[(section, own_kind)] += 1
    return found


def claim_lines(corpus: Corpus) -> list[str]:
    """The running-text tables: coverage per section, claims per section and kind, and the left-out audit."""
    by_section: dict[str, list] = {}
    for claim in corpus.text_claims:
        by_section.setdefault(claim.section, []).append(claim)
    left: Counter = Counter(row.section for row in corpus.left_out)
    sections = sorted(set(by_section) | set(left))
    audit = {c.section: c for c in coverage(corpus, REVIEW_TEXT.read_text(encoding="utf-8"))}
    lines = ["## Running-text claims", "",
             "Sentences in the text: the section's sentences in the review (tables removed, figure legends apart).",
             "Sentences with a claim: the sentences of the review that hold at least one curated claim's quote.",
             "Restating: claims that link to the table row or text record holding the same statement (exo:restates).",
             "Uncited: claims the review makes without a bracket reference (evidence ECO:0000303).",
             "Not accounted for: sentences of the text with neither a claim nor a left-out row.", "",
             "| section | sentences in the text | sentences with a claim | claims | restating | uncited | sentences left out "
             "| not accounted for |", "|---|---|---|---|---|---|---|---|"]
    for section in sections:
        claims = by_section.get(section, [])
        text = audit.get(section)
        lines.append(f"| {section} | {len(text.sentences) if text else ''} | {text.with_claim if text else ''} | {len(claims)} | "
                     f"{sum(1 for c in claims if c.restates)} | {sum(1 for c in claims if not c.references)} | "
                     f"{left.get(section, 0)} | {len(text.missing) if text else ''} |")
    everything = corpus.text_claims
    lines.append(f"| **all** | {sum(len(a.sentences) for a in audit.values())} | "
                 f"{sum(a.with_claim for a in audit.values())} | {len(everything)} | "
                 f"{sum(1 for c in everything if c.restates)} | {sum(1 for c in everything if not c.references)} | "
                 f"{len(corpus.left_out)} | {sum(len(a.missing) for a in audit.values())} |")
    kinds = sorted({c.kind for c in everything})
    table = Counter((c.section, c.kind) for c in everything)
    lines += ["", "| section | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    for section in sorted(by_section):
        lines.append(f"| {section} | " + " | ".join(str(table.get((section, k), "")) for k in kinds) + " |")
    missing = [(a.section, sentence) for a in audit.values() for sentence in a.missing]
    lines += ["", "### Not accounted for yet", ""]
    lines += [f"- {section}: {sentence}" for section, sentence in missing] or ["None: every sentence of the running text holds a claim or is left out on purpose."]
    lines += ["", "### Left out on purpose", "", "| section | sentence | why |", "|---|---|---|"]
    for row in corpus.left_out:
        lines.append(f"| {row.section} | {row.quote.replace('|', '/')} | {row.reason.replace('|', '/')} |")
    return lines + [""]


def report(asserted: Graph, inferred: Graph, ontology: Graph, corpus: Corpus | None = None) -> str:
    table = counts(asserted, ontology)
    sections = sorted({s for s, _ in table}, key=lambda s: (not s.startswith("Table"), s))
    kinds = sorted({k for _, k in table})
    lines = ["# Graph counts per section of the review", "",
             f"Generated by `{REPORT_COMMAND}` from the curated files (the asserted graph); do not edit by hand.",
             "A finding's effects, signed steps, tumour outcomes, text variants and unspecified cargo count under",
             "the finding's section.", "",
             "| section | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    for section in sections:
        lines.append(f"| {section} | " + " | ".join(str(table.get((section, k), "")) for k in kinds) + " |")
    lines.append("| **all** | " + " | ".join(str(sum(v for (_, k), v in table.items() if k == kind)) for kind in kinds) + " |")
    signs = Counter(str(o)[len(str(EXO)):] for s in asserted.subjects(RDF.type, EXO.SignedStep) for o in asserted.objects(s, EXO.hasSign))
    outcomes = Counter(str(o)[len(str(EXO)):] for o in asserted.objects(None, EXO.tumourOutcome))
    lines += ["", "Signed steps by sign: " + ", ".join(f"{k} {v}" for k, v in sorted(signs.items())) + ".",
              "Tumour outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) + ".",
              f"Composed across findings (inferred graph): {len(set(inferred.subjects(RDF.type, EXO.NetEffect)))} net effects, "
              f"{len(set(inferred.subjects(RDF.type, EXO.SignConflict)))} sign conflicts.", ""]
    if corpus is not None and corpus.text_claims:
        lines += claim_lines(corpus)
    return "\n".join(lines)


def current_report() -> str:
    from exokg.build import assemble
    from exokg.ontology.signs import reason_over_signs

    graphs, corpus = assemble()
    return report(graphs["asserted"], reason_over_signs(graphs["asserted"]).graph, graphs["ontology"], corpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the table of graph counts per section and kind.")
    parser.add_argument("--report", type=Path, required=True, help="the Markdown file to write (docs/graph-counts.md)")
    args = parser.parse_args(argv)
    text = current_report()
    tmp = args.report.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(args.report)  # atomic
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
