"""Checked curated records → RDF triples (the ``asserted`` graph) and the external-term imports.

Every minted node gets a stable, readable IRI from its curated key (``finding/TME-004``,
``molecule/miR-21``, ``population/hypoxic-glioma-cells``) and keeps its origin (file:line) as
``exo:curatedAt`` so that validation can point back at the row.
"""

from __future__ import annotations

import re
import unicodedata

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from exokg.config import ECO_AUTHOR_STATEMENT, ECO_UNTRACEABLE_STATEMENT, ENTITY_SEGMENTS, EXO, OBOINOWL, BASE, mint
from exokg.graph.curated import (
    CARGO_SUBJECT,
    VESICLE_TERMS,
    BiomarkerClaim,
    Corpus,
    Finding,
    Origin,
    Term,
    TextClaim,
    VesicleClaim,
    display_path,
)

from exokg.ontology.claim_relations import claim_relations
from exokg.ontology.signs import SYMBOL, iri as sign_iri, relations

EN = "en"
UNSPECIFIED_CLASSES = {"MicroRNA": "UnspecifiedMicroRNAs", "SmallNuclearRNA": "UnspecifiedSmallNuclearRNA"}
GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "κ": "kappa", "–": "-", "—": "-"}
REVIEW = URIRef(BASE + "source/review")
PREDICATES = {
    "rdfs:subClassOf": RDFS.subClassOf,
    "skos:exactMatch": SKOS.exactMatch,
    "skos:closeMatch": SKOS.closeMatch,
    "skos:broadMatch": SKOS.broadMatch,
    "skos:narrowMatch": SKOS.narrowMatch,
    "skos:relatedMatch": SKOS.relatedMatch,
}
# oboInOwl:hasDbXref reads as "this entity's own identifier" (example 013 lists a cargo's MIMAT xrefs; OBO
# tools treat xrefs as near-equivalents). A narrowMatch target is only one part of our entity (hsa-miR-21-5p
# of the arm-unspecified miR-21), so it stays a skos:narrowMatch only: no arm is picked.
NOT_DB_XREFS = frozenset({"skos:narrowMatch"})


def slug(text: str) -> str:
    """A readable IRI segment: Greek letters spelled out, anything else unsafe turned into '-'."""
    text = "".join(GREEK.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")
    return re.sub(r"-{2,}", "-", text)


def label(text: str) -> Literal:
    return Literal(text, lang=EN)


class TripleWriter:
    """Adds the triples of one corpus to a graph; one method per kind of record."""

    def __init__(self, corpus: Corpus, graph: Graph, class_by_label: dict[str, str]):
        self.corpus = corpus
        self.g = graph
        self.class_by_label = class_by_label
        self._minted: dict[URIRef, str] = {}  # IRI → the key it was minted for, to catch slug collisions
        self._text_claim_ids = {c.id for c in corpus.text_claims}

    # -- IRIs --------------------------------------------------------------------------------------
    def _mint(self, kind: str, key: str, local: str | None = None) -> URIRef:
        iri = URIRef(mint(kind, local if local is not None else slug(key)))
        previous = self._minted.setdefault(iri, key)
        if previous != key:
            raise ValueError(f"{key!r} and {previous!r} would share the IRI {iri}: rename one")
        return iri

    def entity(self, key: str) -> URIRef:
        kind = ENTITY_SEGMENTS.get(self.corpus.entities[key].type, "molecule")
        return self._mint(kind, key)

    def population(self, key: str) -> URIRef:
        return self._mint("population", key, key)

    def reference(self, number: int) -> URIRef:
        return self._mint("reference", str(number), str(number))

    def source(self, name: str) -> URIRef:
        iri = self._mint("source", name, slug(name.lower().replace(".", "")))
        self.g.add((iri, RDF.type, EXO.SourceSection))
        self.g.add((iri, RDFS.label, label(name)))
        self.g.add((iri, DCTERMS.isPartOf, REVIEW))
        return iri

    # -- shared pieces -----------------------------------------------------------------------------
    def provenance(self, node: URIRef, origin: Origin, note: str = "") -> None:
        self.g.add((node, EXO.curatedAt, Literal(f"{display_path(origin.path)}:{origin.line}")))
        if note:
            self.g.add((node, EXO.curatorNote, label(note)))

    def claim(self, node: URIRef, source: str, quote: str, references: tuple[int, ...]) -> None:
        self.g.add((node, EXO.fromSource, self.source(source)))
        self.g.add((node, EXO.supportingQuote, Literal(quote)))
        # A claim the review makes without a bracket citation is an author statement without traceable support.
        self.g.add((node, EXO.hasEvidence, ECO_AUTHOR_STATEMENT if references else ECO_UNTRACEABLE_STATEMENT))
        self.g.add((node, DCTERMS.source, REVIEW))
        for number in references:
            self.g.add((node, EXO.hasReference, self.reference(number)))

    # -- vocabularies ------------------------------------------------------------------------------
    def write_vocabularies(self) -> None:
        g = self.g
        g.add((REVIEW, RDF.type, EXO.SourceSection))
        g.add((REVIEW, RDFS.label, label("the review")))
        for entity in self.corpus.entities.values():
            node = self.entity(entity.key)
            g.add((node, RDF.type, OWL.NamedIndividual))
            g.add((node, RDF.type, EXO[entity.type]))
            for category in entity.categories:
                g.add((node, RDF.type, EXO[category]))
            g.add((node, RDFS.label, label(entity.key)))
            for synonym in entity.synonyms:
                g.add((node, SKOS.altLabel, label(synonym)))
            self.provenance(node, entity.origin, entity.note)
        for pop in self.corpus.populations.values():
            node = self.population(pop.key)
            g.add((node, RDF.type, OWL.NamedIndividual))
            g.add((node, RDF.type, EXO.CellPopulation))
            g.add((node, RDF.type, EXO[pop.cell_type]))
            g.add((node, RDFS.label, label(pop.label)))
            if pop.cell_line:
                g.add((node, EXO.fromCellLine, self.entity(pop.cell_line)))
            for state in pop.states:
                g.add((node, EXO.hasCellState, EXO[state]))
            if pop.disease:
                g.add((node, EXO.hasDisease, self.entity(pop.disease)))
            self.provenance(node, pop.origin, pop.note)
        for ref in self.corpus.references.values():
            node = self.reference(ref.number)
            g.add((node, RDF.type, OWL.NamedIndividual))
            g.add((node, RDF.type, EXO.Reference))
            g.add((node, RDFS.label, label(f"[{ref.number}]")))
            g.add((node, EXO.referenceNumber, Literal(ref.number, datatype=XSD.integer)))
            g.add((node, DCTERMS.isPartOf, REVIEW))
            if ref.first_author:
                g.add((node, EXO.firstAuthor, Literal(ref.first_author)))
            self.provenance(node, ref.origin, ref.note)

    def write_xrefs(self, imports: Graph) -> None:
        """Cross-references on our nodes; the external terms' labels go to ``imports`` (the ontology graph)."""
        for xref in self.corpus.xrefs:
            target = URIRef(xref.curie.iri)
            if xref.subject.startswith("exo:"):
                subject, graph = EXO[xref.subject[4:]], imports
                imports.add((target, RDF.type, OWL.Class))
            else:
                subject, graph = self.entity(xref.subject), self.g
            graph.add((subject, PREDICATES[xref.predicate], target))
            if xref.predicate not in NOT_DB_XREFS:
                graph.add((subject, OBOINOWL.hasDbXref, Literal(xref.curie.written)))
            if xref.object_label:
                imports.add((target, RDFS.label, Literal(xref.object_label)))
            imports.add((target, EXO.verifiedIn, Literal(xref.checked_in)))

    # -- findings ----------------------------------------------------------------------------------
    def write_finding(self, f: Finding) -> None:
        g = self.g
        node = self._mint("finding", f.id, f.id)
        g.add((node, RDF.type, OWL.NamedIndividual))
        g.add((node, RDF.type, EXO.TableFinding if f.kind == "table" else EXO.TextFinding))
        receiving = f.receiving or "unspecified cells"
        g.add((node, RDFS.label, label(f"{f.id}: {f.cargo} from {f.donor} to {receiving}")))
        g.add((node, DCTERMS.identifier, Literal(f.id)))
        g.add((node, EXO.hasContext, EXO[f.context]))
        self.claim(node, f.source, f.quote, (f.reference,))
        self.provenance(node, f.origin, f.note)
        for prop, text in (
            (EXO.donorText, f.donor),
            (EXO.cargoText, f.cargo),
            (EXO.receivingText, f.receiving),
            (EXO.targetsText, f.targets_text),
            (EXO.effectsText, f.effects_text),
        ):
            if text:
                g.add((node, prop, Literal(text)))

        donor = self.population(f.donor_population)
        vesicle = self._mint("vesicle", f.id, f.id)
        g.add((node, EXO.hasDonorPopulation, donor))
        g.add((node, EXO.hasVesicle, vesicle))
        g.add((vesicle, RDF.type, OWL.NamedIndividual))
        for cls in VESICLE_TERMS[f.vesicle_term]:
            g.add((vesicle, RDF.type, EXO[cls]))
        g.add((vesicle, RDFS.label, label(f"{f.vesicle_term} of {f.id}")))
        g.add((vesicle, EXO.termUsedInSource, Literal(f.vesicle_term)))
        g.add((vesicle, EXO.secretedBy, donor))

        cargos = [self.entity(key) for key in f.cargo_entities]
        for cargo in cargos:
            g.add((node, EXO.hasCargo, cargo))
            g.add((vesicle, EXO.carries, cargo))
        if not cargos:
            g.add((node, EXO.cargoUnspecified, Literal(True)))
        # A step's 'cargo' is each named cargo, or the finding's own unspecified-cargo node (which is no
        # molecule: the axis triples below, whose domain is exo:MolecularEntity, use the named cargo only).
        step_subjects = list(cargos)
        if f.unspecified_cargo is not None:
            step_subjects = [self.write_unspecified_cargo(f, node, vesicle)]
        for key in f.receiving_populations:
            g.add((node, EXO.hasReceivingPopulation, self.population(key)))
            g.add((vesicle, EXO.takenUpBy, self.population(key)))
        if not f.receiving_populations:
            g.add((node, EXO.receivingUnspecified, Literal(True)))

        for index, step in enumerate(f.axis, start=1):
            step_node = URIRef(f"{node}/step/{index}")
            g.add((node, EXO.hasAxisStep, step_node))
            g.add((step_node, RDF.type, OWL.NamedIndividual))
            g.add((step_node, RDF.type, EXO.AxisStep))
            g.add((step_node, RDFS.label, label(f"{f.id} step {index}: {' + '.join(step)}")))
            g.add((step_node, EXO.stepIndex, Literal(index, datatype=XSD.integer)))
            for key in step:
                entity = self.entity(key)
                g.add((step_node, EXO.stepEntity, entity))
                kind = self.corpus.entities[key].type
                if kind == "Pathway":
                    g.add((node, EXO.actsThroughPathway, entity))
                    for cargo in cargos:
                        g.add((cargo, EXO.modulatesPathway, entity))
                elif kind != "BiologicalProcess" and key not in f.cargo_entities:
                    g.add((node, EXO.hasTarget, entity))
                    for cargo in cargos:
                        g.add((cargo, EXO.targets, entity))

        effect_nodes = {}
        for index, effect in enumerate(f.effects, start=1):
            effect_node = URIRef(f"{node}/effect/{index}")
            effect_nodes[f"{effect.direction}:{effect.process}"] = effect_node
            for key in (effect.population,) if effect.population else f.receiving_populations:
                g.add((effect_node, EXO.effectIn, self.population(key)))  # whose process the effect changes
            g.add((node, EXO.hasEffect, effect_node))
            g.add((effect_node, RDF.type, OWL.NamedIndividual))
            g.add((effect_node, RDF.type, EXO.Effect))
            g.add((effect_node, RDFS.label, label(f"{effect.direction} {effect.process}")))
            g.add((effect_node, EXO.hasDirection, EXO[effect.direction]))
            g.add((effect_node, EXO.affectsProcess, self.entity(effect.process)))
            g.add((effect_node, EXO.statedIn, Literal(effect.stated_in)))

        self.write_signed_steps(f, node, step_subjects)
        for index, outcome in enumerate(f.outcomes, start=1):
            o = URIRef(f"{node}/outcome/{index}")
            g.add((node, EXO.hasOutcome, o))
            g.add((o, RDF.type, OWL.NamedIndividual))
            g.add((o, RDF.type, EXO.OutcomeStatement))
            g.add((o, RDFS.label, label(f"{f.id}: {outcome.outcome} ({outcome.stated_in})")))
            g.add((o, EXO.tumourOutcome, EXO[outcome.outcome]))
            g.add((o, EXO.outcomeReason, Literal(outcome.reason)))
            g.add((o, EXO.stepStatedIn, Literal(outcome.stated_in)))
            if outcome.basis:
                g.add((o, EXO.outcomeBasis, effect_nodes[outcome.basis]))
            if outcome.quote:
                g.add((o, EXO.supportingQuote, Literal(outcome.quote)))
                g.add((o, EXO.hasReference, self.reference(f.reference)))
            self.provenance(o, outcome.origin, outcome.note)

        for index, variant in enumerate(f.variants, start=1):
            v = URIRef(f"{node}/variant/{index}")
            g.add((node, EXO.hasTextVariant, v))
            g.add((v, RDF.type, OWL.NamedIndividual))
            g.add((v, RDF.type, EXO.TextVariant))
            g.add((v, RDFS.label, label(f"{f.id} text reading of {variant.field}: {variant.value}")))
            g.add((v, EXO.variantField, Literal(variant.field)))
            g.add((v, EXO.variantValue, Literal(variant.value)))
            for entity in self._variant_entities(variant.field, variant.value):
                g.add((v, EXO.variantEntity, entity))
            if variant.field == "reference":
                g.add((node, EXO.hasTextReference, self.reference(int(variant.value))))

    def write_unspecified_cargo(self, f: Finding, node: URIRef, vesicle: URIRef) -> URIRef:
        """The finding's own node for a cargo the review does not name: never a named molecule."""
        g = self.g
        cargo = URIRef(f"{node}/unspecified-cargo")
        kind = f.unspecified_cargo
        g.add((cargo, RDF.type, OWL.NamedIndividual))
        g.add((cargo, RDF.type, EXO[UNSPECIFIED_CLASSES.get(kind, "UnspecifiedCargo")]))
        g.add((cargo, RDF.type, EXO.UnspecifiedCargo))
        words = f.cargo if f.cargo != "/" else "cargo"
        g.add((cargo, RDFS.label, label(f"unspecified {words} ({f.id})")))
        if kind:
            g.add((cargo, EXO.unspecifiedKind, EXO[kind]))
        g.add((node, EXO.hasUnspecifiedCargo, cargo))
        g.add((vesicle, EXO.carriesUnspecifiedCargo, cargo))
        self.provenance(cargo, f.origin)
        return cargo

    def write_signed_steps(self, f: Finding, node: URIRef, cargos: list[URIRef]) -> None:
        """One exo:SignedStep per step and subject ('cargo' stands for each of the finding's cargos), and the
        relation itself between subject and object, so that SPARQL and the rules see it directly."""
        g = self.g
        index = 0
        for step in f.steps:
            relation = relations()[step.relation]
            obj = self.entity(step.object)
            subjects = cargos if step.subject == CARGO_SUBJECT else [self.entity(step.subject)]
            names = [self._name(s) for s in subjects]
            both_processes = all(self._is_process(k) for k in (step.subject, step.object) if k != CARGO_SUBJECT) and step.subject != CARGO_SUBJECT
            prop = sign_iri(relation.process_property if both_processes and relation.process_property else relation.property)
            for subject, name in zip(subjects, names):
                index += 1
                s = URIRef(f"{node}/signed-step/{index}")
                g.add((node, EXO.hasSignedStep, s))
                g.add((s, RDF.type, OWL.NamedIndividual))
                g.add((s, RDF.type, EXO.SignedStep))
                g.add((s, RDFS.label, label(f"{f.id} step {step.position}: {name} {SYMBOL[relation.sign]} {step.object} ({step.relation})")))
                g.add((s, EXO.chainPosition, Literal(step.position, datatype=XSD.integer)))
                g.add((s, EXO.statementSubject, subject))
                g.add((s, EXO.statementObject, obj))
                g.add((s, EXO.statementRelation, prop))
                g.add((s, EXO.relationWord, Literal(step.relation)))
                g.add((s, EXO.hasSign, EXO[relation.sign]))
                g.add((s, EXO.stepStatedIn, Literal(step.stated_in)))
                g.add((s, EXO.supportingQuote, Literal(step.quote)))
                g.add((s, EXO.hasReference, self.reference(f.reference)))
                if step.detail:
                    g.add((s, EXO.stepDetail, Literal(step.detail)))
                self.provenance(s, step.origin, step.note)
                g.add((subject, prop, obj))

    def _name(self, node: URIRef) -> str:
        return str(self.g.value(node, RDFS.label))

    def _is_process(self, key: str) -> bool:
        return self.corpus.entities[key].type in ("Pathway", "BiologicalProcess")

    def _variant_entities(self, field: str, value: str) -> list[URIRef]:
        parts = [p.strip() for p in re.split(r";|>|\+", value) if p.strip()]
        if field in ("donor_population", "receiving_population"):
            return [self.population(p) for p in parts]
        if field == "reference":
            return [self.reference(int(value))]
        if field == "effects":
            return [self.entity(p.split(":", 1)[1].split(" @", 1)[0].replace(" [text]", "").strip()) for p in parts]
        return [self.entity(p) for p in parts]

    # -- claims ------------------------------------------------------------------------------------
    def write_vesicle_claim(self, c: VesicleClaim) -> None:
        g = self.g
        vocab_classes = self.class_by_label
        node = self._mint("claim", c.id, c.id)
        g.add((node, RDF.type, OWL.NamedIndividual))
        g.add((node, RDF.type, EXO.VesicleBiologyClaim))
        g.add((node, RDFS.label, label(f"{c.id}: {c.kind} of {c.subject}")))
        g.add((node, DCTERMS.identifier, Literal(c.id)))
        g.add((node, EXO.claimKind, Literal(c.kind)))
        g.add((node, EXO.aboutVesicleClass, EXO[vocab_classes[c.subject]]))
        for obj in c.objects:
            if c.kind in ("morphology", "definition"):
                g.add((node, EXO.claimObject, Literal(obj)))
            elif obj in self.corpus.entities:
                g.add((node, EXO.claimObject, self.entity(obj)))
            else:
                g.add((node, EXO.claimObject, EXO[vocab_classes[obj]]))
        for prop, value in ((EXO.minDiameterNm, c.min_nm), (EXO.maxDiameterNm, c.max_nm)):
            if value:
                g.add((node, prop, Literal(value, datatype=XSD.decimal)))
        self.claim(node, c.source, c.quote, c.references)
        self.provenance(node, c.origin, c.note)

    def write_biomarker(self, b: BiomarkerClaim) -> None:
        g = self.g
        node = self._mint("biomarker", b.id, b.id)
        g.add((node, RDF.type, OWL.NamedIndividual))
        g.add((node, RDF.type, EXO.BiomarkerClaim))
        where = f" in {b.sample}" if b.sample else ""
        g.add((node, RDFS.label, label(f"{b.id}: {b.cargo}{where} as a {' and '.join(b.uses)} biomarker")))
        g.add((node, DCTERMS.identifier, Literal(b.id)))
        g.add((node, EXO.biomarker, self.entity(b.cargo_entity)))
        for fluid in b.body_fluids:
            g.add((node, EXO.measuredIn, self.entity(fluid)))
        if b.sample:
            g.add((node, EXO.sample, Literal(b.sample)))
        if b.disease:
            g.add((node, EXO.hasDisease, self.entity(b.disease)))
        if b.patients:
            g.add((node, EXO.patients, Literal(b.patients)))
        for use in b.uses:
            g.add((node, EXO.hasBiomarkerUse, EXO[use]))
        if b.change:
            g.add((node, EXO.hasExpressionChange, EXO[b.change]))
        g.add((node, EXO.isVesicular, Literal(bool(b.vesicle_term))))
        if b.vesicle_term:
            g.add((node, EXO.termUsedInSource, Literal(b.vesicle_term)))
        g.add((node, EXO.cargoText, Literal(b.cargo)))
        self.claim(node, b.source, b.quote, (b.reference,))
        self.provenance(node, b.origin, b.note)

    def curated_node(self, identifier: str) -> URIRef:
        """The node of a running-text claim, finding, vesicle-biology or biomarker claim, by its curated id."""
        if identifier.startswith("VES-") or identifier in self._text_claim_ids:
            kind = "claim"
        else:
            kind = "biomarker" if identifier.startswith("BIO-") else "finding"
        return self._mint(kind, identifier, identifier)

    def write_text_claim(self, c: TextClaim) -> None:
        g = self.g
        relation = claim_relations()[c.relation]
        node = self._mint("claim", c.id, c.id)
        subject, obj = self.claim_term(node, c.subject, "subject"), self.claim_term(node, c.object, "object")
        g.add((node, RDF.type, OWL.NamedIndividual))
        g.add((node, RDF.type, EXO.TextClaim))
        g.add((node, RDFS.label, label(f"{c.id}: {self.term_text(c.subject)} {c.relation} {self.term_text(c.object)}")))
        g.add((node, DCTERMS.identifier, Literal(c.id)))
        g.add((node, EXO.claimKind, Literal(c.kind)))
        g.add((node, EXO.claimSubject, subject))
        g.add((node, EXO.claimRelation, sign_iri(relation.property)))
        g.add((node, EXO.relationWord, Literal(c.relation)))
        g.add((node, EXO.hasSign, EXO[relation.sign]))
        g.add((node, EXO.claimObject, obj))
        for key, value in c.qualifiers:
            if key in ("donor", "population"):
                g.add((node, EXO.claimDonor if key == "donor" else EXO.claimPopulation, self.population(value)))
            elif key == "disease":
                g.add((node, EXO.hasDisease, self.entity(value)))
            elif key == "comparator":
                g.add((node, EXO.claimComparator, self.population(value) if value in self.corpus.populations else Literal(value)))
            elif key == "contradicts":
                g.add((node, EXO.contradictsClaim, self.curated_node(value)))
            else:
                g.add((node, EXO["claim" + key.capitalize()], Literal(value)))
        for other in c.restates:
            g.add((node, EXO.restates, self.curated_node(other)))
        self.claim(node, c.section, c.quote, c.references)
        self.provenance(node, c.origin, c.note)

    def claim_term(self, node: URIRef, term: Term, role: str) -> URIRef | Literal:
        if term.kind == "entity":
            return self.entity(term.value)
        if term.kind == "population":
            return self.population(term.value)
        if term.kind == "class":
            return EXO[term.value]
        if term.kind == "literal":
            return Literal(term.value, lang=EN)
        # An unnamed cargo ("exosomal miRNAs") is the claim's own node, never a named molecule (as in findings).
        cargo = URIRef(f"{node}/unspecified-{role}")
        self.g.add((cargo, RDF.type, OWL.NamedIndividual))
        self.g.add((cargo, RDF.type, EXO[UNSPECIFIED_CLASSES.get(term.value, "UnspecifiedCargo")]))
        self.g.add((cargo, RDF.type, EXO.UnspecifiedCargo))
        self.g.add((cargo, RDFS.label, label(f"{self.term_text(term)} ({node.rsplit('/', 1)[1]})")))
        self.g.add((cargo, EXO.unspecifiedKind, EXO[term.value]))
        return cargo

    def term_text(self, term: Term) -> str:
        if term.kind == "class":
            return next(k for k, v in self.class_by_label.items() if v == term.value)
        if term.kind == "unspecified":
            return f"unspecified {term.value}"
        if term.kind == "population":
            return self.corpus.populations[term.value].label
        return term.value


def asserted_graph(corpus: Corpus, class_by_label: dict[str, str]) -> tuple[Graph, Graph]:
    """The asserted findings graph, and the imported external terms (labels, sources) for the ontology graph."""
    graph, imports = Graph(), Graph()
    writer = TripleWriter(corpus, graph, class_by_label)
    writer.write_vocabularies()
    writer.write_xrefs(imports)
    for finding in corpus.findings:
        writer.write_finding(finding)
    for claim in corpus.vesicle_claims:
        writer.write_vesicle_claim(claim)
    for biomarker in corpus.biomarkers:
        writer.write_biomarker(biomarker)
    for claim in corpus.text_claims:
        writer.write_text_claim(claim)
    return graph, imports
