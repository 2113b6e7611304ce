"""Read and check the curated TSV files: every bad cell is reported with its file:line and the reason.

The files are the human-edited source of the graph (one per review table, three for the running text, and
the vocabularies they draw on). Nothing here builds RDF: this step turns text into checked records and
refuses, all at once, every row that would produce a wrong or dangling triple.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from exokg import config
from exokg.identifiers import Curie, IdentifierError, parse
from exokg.ontology.vocabulary import Vocabulary, cargo_types, vocabulary

FINDING_COLUMNS = (
    "id source context donor donor_population vesicle_term cargo cargo_entities receiving receiving_population "
    "targets axis effects_text effects reference quote variants note"
).split()
ENTITY_COLUMNS = ["key", "type", "synonyms", "categories", "note"]
POPULATION_COLUMNS = ["key", "label", "cell_type", "cell_line", "states", "disease", "note"]
REFERENCE_COLUMNS = ["number", "first_author", "note"]
XREF_COLUMNS = (
    "subject_id predicate_id object_id object_label mapping_justification checked_in evidence comment".split()
)
VESICLE_CLAIM_COLUMNS = "id source kind subject object min_nm max_nm references quote note".split()
STEP_COLUMNS = "finding step subject relation object detail stated_in quote note".split()
OUTCOME_COLUMNS = "finding outcome basis stated_in reason quote note".split()
OUTCOMES = ("pro-tumour", "anti-tumour")
STATED_IN = ("table", "text")
CARGO_SUBJECT = "cargo"  # a step's subject: the finding's own cargo (each named cargo, or its unspecified cargo)
UNSPECIFIED = "unspecified:"  # cargo_entities cell of a cargo the review does not name: unspecified:MicroRNA
CLAIM_COLUMNS = "id section kind subject relation object qualifiers reference quote restates note".split()
LEFT_OUT_COLUMNS = ["section", "quote", "reason"]
CLAIM_KINDS = (
    "epidemiology clinical vesicle-biology framing mechanism expression therapy delivery biomarker limitation "
    "prospect example figure"
).split()
# A claim's qualifiers (key=value; …): what each value must be. "population" is the population whose process
# changes (as an effect's @population); "contradicts" names another claim or finding (TME-, VES-, BIO- id) giving a
# different reading.
CLAIM_QUALIFIERS = {
    "donor": "population", "population": "population", "disease": "disease", "comparator": "population or text",
    "contradicts": "claim", "condition": "text", "sample": "text", "hedge": "text", "species": "text",
    "use": "text", "value": "text",
}
BIOMARKER_COLUMNS = (
    "id source cargo cargo_entity vesicle_term sample body_fluid disease patients uses change reference quote note"
).split()

TABLE_FILES = (
    "table1_tumor_microenvironment.tsv",
    "table2_radiation_therapy.tsv",
    "table3_chemoresistance.tsv",
    "table4_invasion_and_metastasis.tsv",
    "table5_angiogenesis.tsv",
    "table6_tumor_growth.tsv",
)
TABLE_ID_PREFIX = {"Table 1": "TME", "Table 2": "RT", "Table 3": "CHEMO", "Table 4": "INV", "Table 5": "ANG", "Table 6": "GROW"}
TEXT_FINDING_PREFIX = "TXT"
VARIANT_FIELDS = ("donor_population", "receiving_population", "reference", "cargo_entities", "axis", "effects")
MAPPING_PREDICATES = (
    "rdfs:subClassOf",
    "skos:exactMatch",
    "skos:closeMatch",
    "skos:broadMatch",
    "skos:narrowMatch",
    "skos:relatedMatch",
)
VESICLE_CLAIM_KINDS = (
    "size morphology origin biogenesis classification marker cargo-class body-fluid secreted-by "
    "uptake-mechanism definition"
).split()
# The review's words for the vesicle → the classes asserted (MISEV2023: keep the word, assert the class).
VESICLE_TERMS = {
    "SEVs": ("SmallExtracellularVesicle",),
    "exosome": ("SmallExtracellularVesicle",),
    "TEXs": ("SmallExtracellularVesicle",),
    "EV": ("ExtracellularVesicle",),
    "TDEVs": ("ExtracellularVesicle",),
    "R-EXO": ("SmallExtracellularVesicle", "EngineeredVesicle"),
}
LIST_SEP = "; "
STEP_SEP = " > "
PARALLEL_SEP = " + "
VARIANT_SEP = " | "
TEXT_MARK = " [text]"
POPULATION_MARK = " @"  # an effect on another population than the receiving cells: promotes:cell proliferation @glioma-cells


# --- errors ------------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class Origin:
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{display_path(self.path)}:{self.line}"


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Problem:
    origin: Origin
    message: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


class CurationError(Exception):
    """One or more curated rows are wrong; ``problems`` lists each with its file:line."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: p.origin)
        super().__init__("\n".join(str(p) for p in self.problems))


# --- records -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entity:
    key: str
    type: str
    synonyms: tuple[str, ...]
    categories: tuple[str, ...]
    note: str
    origin: Origin


@dataclass(frozen=True)
class Population:
    key: str
    label: str
    cell_type: str
    cell_line: str
    states: tuple[str, ...]
    disease: str
    note: str
    origin: Origin


@dataclass(frozen=True)
class Reference:
    number: int
    first_author: str
    note: str
    origin: Origin


@dataclass(frozen=True)
class Xref:
    subject: str  # an entity key, or "exo:LocalName" for an ontology term
    predicate: str
    curie: Curie
    object_label: str
    justification: str
    checked_in: str
    evidence: str
    comment: str
    origin: Origin


@dataclass(frozen=True)
class Effect:
    direction: str
    process: str
    stated_in: str  # "table" or "text"
    population: str = ""  # the population whose process it changes, when not the receiving cells ("@glioma-cells")


@dataclass(frozen=True)
class Variant:
    field: str
    value: str


@dataclass(frozen=True)
class Finding:
    id: str
    kind: str  # "table" or "text"
    source: str
    context: str
    donor: str
    donor_population: str
    vesicle_term: str
    cargo: str
    cargo_entities: tuple[str, ...]
    receiving: str
    receiving_populations: tuple[str, ...]
    targets_text: str
    axis: tuple[tuple[str, ...], ...]  # ordered steps; the entities of one step act in parallel
    effects_text: str
    effects: tuple[Effect, ...]
    reference: int
    quote: str
    variants: tuple[Variant, ...]
    note: str
    origin: Origin
    unspecified_cargo: str | None = None  # the kind ("MicroRNA", or "" when unknown) of an unnamed cargo
    steps: tuple[SignedStep, ...] = ()
    outcomes: tuple[Outcome, ...] = ()


@dataclass(frozen=True)
class SignedStep:
    """One step of a finding's mechanism (graph/mechanisms/steps.tsv)."""

    finding: str
    position: int  # steps of one position act in parallel
    subject: str  # an entity key, or CARGO_SUBJECT
    relation: str  # a word of ontology/step_relations.tsv
    object: str
    detail: str
    stated_in: str
    quote: str
    note: str
    origin: Origin


@dataclass(frozen=True)
class Outcome:
    """A finding's outcome for the tumour and why (graph/mechanisms/outcomes.tsv)."""

    finding: str
    outcome: str
    basis: str  # "direction:process", one of the finding's effects, or empty
    stated_in: str
    reason: str
    quote: str
    note: str
    origin: Origin


@dataclass(frozen=True)
class VesicleClaim:
    id: str
    source: str
    kind: str
    subject: str  # a vesicle class label from the ontology
    objects: tuple[str, ...]
    min_nm: str
    max_nm: str
    references: tuple[int, ...]
    quote: str
    note: str
    origin: Origin


@dataclass(frozen=True)
class BiomarkerClaim:
    id: str
    source: str
    cargo: str
    cargo_entity: str
    vesicle_term: str
    sample: str
    body_fluids: tuple[str, ...]
    disease: str
    patients: str
    uses: tuple[str, ...]
    change: str
    reference: int
    quote: str
    note: str
    origin: Origin


@dataclass(frozen=True)
class Term:
    """A claim's subject or object: a curated node, an ontology class, an unnamed cargo, or the review's words."""

    kind: str  # entity | population | class | unspecified | literal
    value: str  # the entity/population key, the class's local name, the cargo kind, or the literal text


@dataclass(frozen=True)
class TextClaim:
    """One claim of the running text (graph/text/claims/<section>.tsv)."""

    id: str
    section: str
    kind: str
    subject: Term
    relation: str
    object: Term
    qualifiers: tuple[tuple[str, str], ...]
    references: tuple[int, ...]
    quote: str
    restates: tuple[str, ...]  # ids of findings, vesicle-biology or biomarker claims holding the same statement
    note: str
    origin: Origin

    def qualifier(self, key: str) -> tuple[str, ...]:
        return tuple(v for k, v in self.qualifiers if k == key)


@dataclass(frozen=True)
class LeftOut:
    """A sentence of the running text deliberately not curated, with the reason (the audit of issue 14)."""

    section: str
    quote: str
    reason: str
    origin: Origin


@dataclass
class Corpus:
    """Everything curated, checked and cross-linked."""

    entities: dict[str, Entity] = field(default_factory=dict)
    populations: dict[str, Population] = field(default_factory=dict)
    references: dict[int, Reference] = field(default_factory=dict)
    xrefs: list[Xref] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    vesicle_claims: list[VesicleClaim] = field(default_factory=list)
    biomarkers: list[BiomarkerClaim] = field(default_factory=list)
    text_claims: list[TextClaim] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)


# --- reading -----------------------------------------------------------------------------------------
def normalize_for_quote(text: str) -> str:
    """Whitespace-free form: the review's PDF text breaks lines mid-phrase, quotes are written joined."""
    return re.sub(r"\s+", "", text)


class _Reader:
    """Collects problems instead of stopping at the first, so a curator sees every bad row at once."""

    def __init__(self, vocab: Vocabulary):
        self.vocab = vocab
        self.problems: list[Problem] = []

    def problem(self, origin: Origin, message: str) -> None:
        self.problems.append(Problem(origin, message))

    def rows(self, path: Path, columns: list[str]) -> list[tuple[Origin, dict[str, str]]]:
        """The rows of a TSV with exactly ``columns`` as header; structural problems are recorded."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.problem(Origin(path, 0), f"cannot read file: {exc.strerror}")
            return []
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            self.problem(Origin(path, line), f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}")
            return []
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if not lines:
            self.problem(Origin(path, 1), "empty file: expected the header " + "\t".join(columns))
            return []
        header = lines[0].rstrip("\r").split("\t")
        if header != columns:
            self.problem(Origin(path, 1), f"wrong header: expected {columns}, found {header}")
            return []
        result = []
        for number, line in enumerate(lines[1:], start=2):
            origin = Origin(path, number)
            cells = line.rstrip("\r").split("\t")
            if line.strip() == "":
                self.problem(origin, "blank line")
            elif len(cells) != len(columns):
                self.problem(origin, f"wrong column count: expected {len(columns)}, found {len(cells)}")
            else:
                result.append((origin, {c: v.strip() for c, v in zip(columns, cells)}))
        return result

    # -- cell parsers --------------------------------------------------------------------------------
    def integer(self, origin: Origin, column: str, value: str) -> int | None:
        if not value:
            self.problem(origin, f"missing {column}")
            return None
        if not re.fullmatch(r"[1-9][0-9]*", value):
            self.problem(origin, f"{column} must be a positive whole number, found {value!r}")
            return None
        return int(value)

    def listed(self, value: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in value.split(LIST_SEP.strip()) if v.strip()) if value else ()

    def one_of(self, origin: Origin, column: str, value: str, allowed: frozenset[str] | tuple[str, ...]) -> bool:
        if value not in allowed:
            self.problem(origin, f"{column} {value!r} is not one of: {', '.join(sorted(allowed))}")
            return False
        return True


def _read_entities(reader: _Reader, path: Path) -> dict[str, Entity]:
    entities: dict[str, Entity] = {}
    for origin, row in reader.rows(path, ENTITY_COLUMNS):
        if not row["key"]:
            reader.problem(origin, "missing key")
            continue
        if row["key"] in entities:
            reader.problem(origin, f"duplicate key {row['key']!r} (first at {entities[row['key']].origin})")
            continue
        reader.one_of(origin, "type", row["type"], reader.vocab.entity_types)
        categories = reader.listed(row["categories"])
        for category in categories:
            reader.one_of(origin, "category", category, reader.vocab.process_categories)
        entities[row["key"]] = Entity(
            row["key"], row["type"], reader.listed(row["synonyms"]), categories, row["note"], origin
        )
    return entities


def _read_populations(reader: _Reader, path: Path, entities: dict[str, Entity]) -> dict[str, Population]:
    populations: dict[str, Population] = {}
    for origin, row in reader.rows(path, POPULATION_COLUMNS):
        key = row["key"]
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key):
            reader.problem(origin, f"population key {key!r} must be lower-case words joined by '-'")
            continue
        if key in populations:
            reader.problem(origin, f"duplicate key {key!r} (first at {populations[key].origin})")
            continue
        if not row["label"]:
            reader.problem(origin, "missing label")
        if row["cell_type"] not in reader.vocab.cell_types:
            reader.problem(origin, f"unknown cell type {row['cell_type']!r}: add it to ontology/exokg.ttl under exo:Cell")
        if row["cell_line"] and _entity_of(entities, row["cell_line"]) != "CellLine":
            reader.problem(origin, f"unknown cell line {row['cell_line']!r}: add it to entities.tsv with type CellLine")
        states = reader.listed(row["states"])
        for state in states:
            reader.one_of(origin, "cell state", state, reader.vocab.cell_states)
        if row["disease"] and _entity_of(entities, row["disease"]) != "Disease":
            reader.problem(origin, f"unknown disease {row['disease']!r}")
        populations[key] = Population(
            key, row["label"], row["cell_type"], row["cell_line"], states, row["disease"], row["note"], origin
        )
    return populations


def _entity_of(entities: dict[str, Entity], key: str) -> str | None:
    entity = entities.get(key)
    return entity.type if entity else None


def _read_references(reader: _Reader, path: Path) -> dict[int, Reference]:
    references: dict[int, Reference] = {}
    for origin, row in reader.rows(path, REFERENCE_COLUMNS):
        number = reader.integer(origin, "number", row["number"])
        if number is None:
            continue
        if number in references:
            reader.problem(origin, f"duplicate reference {number} (first at {references[number].origin})")
            continue
        references[number] = Reference(number, row["first_author"], row["note"], origin)
    return references


def _read_xrefs(reader: _Reader, path: Path, entities: dict[str, Entity]) -> list[Xref]:
    xrefs: list[Xref] = []
    seen: dict[tuple[str, str], Origin] = {}
    for origin, row in reader.rows(path, XREF_COLUMNS):
        subject = row["subject_id"]
        if subject.startswith("exo:"):
            if subject[4:] not in reader.vocab.terms:
                reader.problem(origin, f"unknown ontology term {subject!r}")
                continue
        elif subject not in entities:
            reader.problem(origin, f"unknown subject {subject!r}: not a key of entities.tsv")
            continue
        if not reader.one_of(origin, "predicate_id", row["predicate_id"], MAPPING_PREDICATES):
            continue
        try:
            curie = parse(row["object_id"])
        except IdentifierError as exc:
            reader.problem(origin, str(exc))
            continue
        if not row["checked_in"] or not row["evidence"]:
            reader.problem(origin, "an identifier needs the place it was checked (checked_in) and the evidence")
            continue
        pair = (subject, row["object_id"])
        if pair in seen:
            reader.problem(origin, f"duplicate mapping {subject} → {row['object_id']} (first at {seen[pair]})")
            continue
        seen[pair] = origin
        xrefs.append(
            Xref(
                subject,
                row["predicate_id"],
                curie,
                row["object_label"],
                row["mapping_justification"],
                row["checked_in"],
                row["evidence"],
                row["comment"],
                origin,
            )
        )
    return xrefs


class _FindingReader:
    """Checks one finding row's cells against the vocabularies."""

    def __init__(self, reader: _Reader, corpus: Corpus, review: str):
        self.reader = reader
        self.corpus = corpus
        self.review = review
        self.cargo_types = cargo_types(reader.vocab)

    def populations(self, origin: Origin, column: str, value: str) -> tuple[str, ...]:
        keys = self.reader.listed(value)
        for key in keys:
            if key not in self.corpus.populations:
                self.reader.problem(origin, f"unknown cell population {key!r} in {column}: add it to populations.tsv")
        return keys

    def cargo(self, origin: Origin, value: str) -> tuple[str, ...]:
        keys = tuple(k for k in self.reader.listed(value) if not k.startswith(UNSPECIFIED))
        for key in keys:
            entity = self.corpus.entities.get(key)
            if entity is None:
                self.reader.problem(origin, f"unknown cargo {key!r}: add it to entities.tsv")
            elif entity.type not in self.cargo_types:
                self.reader.problem(
                    origin, f"unknown cargo type: {key!r} is a {entity.type}, not one of {sorted(self.cargo_types)}"
                )
        return keys

    def axis(self, origin: Origin, value: str) -> tuple[tuple[str, ...], ...]:
        if not value:
            return ()
        steps = tuple(tuple(e.strip() for e in step.split(PARALLEL_SEP.strip())) for step in value.split(STEP_SEP.strip()))
        for step in steps:
            for key in step:
                if key not in self.corpus.entities:
                    self.reader.problem(origin, f"unknown axis entity {key!r}: add it to entities.tsv")
        return steps

    def effects(self, origin: Origin, value: str) -> tuple[Effect, ...]:
        effects = []
        for item in self.reader.listed(value):
            stated_in, population = "table", ""
            if POPULATION_MARK in item:
                item, _, population = (part.strip() for part in item.rpartition(POPULATION_MARK))
                if population not in self.corpus.populations:
                    self.reader.problem(origin, f"unknown cell population {population!r} after '@' in effect {item!r}")
            if item.endswith(TEXT_MARK.strip()):
                item, stated_in = item[: -len(TEXT_MARK.strip())].strip(), "text"
            direction, sep, process = item.partition(":")
            if not sep:
                self.reader.problem(origin, f"effect {item!r} must be written direction:process")
                continue
            self.reader.one_of(origin, "direction", direction, self.reader.vocab.directions)
            if _entity_of(self.corpus.entities, process) != "BiologicalProcess":
                self.reader.problem(origin, f"unknown process {process!r}: add it to entities.tsv as a BiologicalProcess")
            effects.append(Effect(direction, process, stated_in, population))
        return tuple(effects)

    def reference(self, origin: Origin, value: str) -> int | None:
        number = self.reader.integer(origin, "reference", value)
        if number is not None and number not in self.corpus.references:
            self.reader.problem(origin, f"reference [{number}] is not in references.tsv")
        return number

    def quote(self, origin: Origin, value: str) -> None:
        if not value:
            self.reader.problem(origin, "missing supporting quote")
        elif normalize_for_quote(value) not in self.review:
            self.reader.problem(origin, f"quote not found in the review text: {value[:60]!r}…")

    def variants(self, origin: Origin, value: str) -> tuple[Variant, ...]:
        variants = []
        for item in (v.strip() for v in value.split(VARIANT_SEP.strip()) if v.strip()) if value else ():
            name, sep, content = item.partition("=")
            if not sep or name not in VARIANT_FIELDS:
                self.reader.problem(origin, f"variant {item!r} must be FIELD=VALUE with FIELD one of {VARIANT_FIELDS}")
                continue
            check = {
                "donor_population": lambda v: self.populations(origin, "variants", v),
                "receiving_population": lambda v: self.populations(origin, "variants", v),
                "reference": lambda v: self.reference(origin, v),
                "cargo_entities": lambda v: self.cargo(origin, v),
                "axis": lambda v: self.axis(origin, v),
                "effects": lambda v: self.effects(origin, v),
            }[name]
            check(content.strip())
            variants.append(Variant(name, content.strip()))
        return tuple(variants)

    def read(self, origin: Origin, row: dict[str, str], kind: str) -> Finding | None:
        reader = self.reader
        prefix = TABLE_ID_PREFIX.get(row["source"]) if kind == "table" else TEXT_FINDING_PREFIX
        if kind == "table" and prefix is None:
            reader.problem(origin, f"source {row['source']!r} is not one of {sorted(TABLE_ID_PREFIX)}")
            return None
        if not re.fullmatch(rf"{prefix}-\d{{3}}", row["id"]):
            reader.problem(origin, f"finding id {row['id']!r} must look like {prefix}-001")
            return None
        reader.one_of(origin, "context", row["context"], reader.vocab.contexts)
        reader.one_of(origin, "vesicle_term", row["vesicle_term"], tuple(VESICLE_TERMS))
        donors = self.populations(origin, "donor_population", row["donor_population"])
        if len(donors) != 1:
            reader.problem(origin, "a finding needs exactly one donor_population")
        cargo = self.cargo(origin, row["cargo_entities"])
        unspecified = self.unspecified(origin, row["cargo_entities"], row["cargo"])
        if not cargo and unspecified is None:
            reader.problem(origin, "cargo_entities is empty: map the cargo, write unspecified:KIND (unspecified:MicroRNA) "
                           "when the review names only the kind, or '/' in cargo when the review gives none")
        if cargo and unspecified is not None:
            reader.problem(origin, "a finding names its cargo or leaves it unspecified, not both")
        receiving = self.populations(origin, "receiving_population", row["receiving_population"])
        if kind == "table" and not receiving:
            reader.problem(origin, "a table finding needs a receiving_population")
        effects = self.effects(origin, row["effects"])
        if not effects:
            reader.problem(origin, "a finding needs at least one effect")
        reference = self.reference(origin, row["reference"])
        self.quote(origin, row["quote"])
        finding = Finding(
            id=row["id"],
            kind=kind,
            source=row["source"],
            context=row["context"],
            donor=row["donor"],
            donor_population=donors[0] if donors else "",
            vesicle_term=row["vesicle_term"],
            cargo=row["cargo"],
            cargo_entities=cargo,
            receiving=row["receiving"],
            receiving_populations=receiving,
            targets_text=row["targets"],
            axis=self.axis(origin, row["axis"]),
            effects_text=row["effects_text"],
            effects=effects,
            reference=reference or 0,
            quote=row["quote"],
            variants=self.variants(origin, row["variants"]),
            note=row["note"],
            origin=origin,
            unspecified_cargo=unspecified,
        )
        return finding

    def unspecified(self, origin: Origin, value: str, cargo_text: str) -> str | None:
        """The kind of a cargo the review does not name ('' when it gives none at all), or None."""
        kinds = [k[len(UNSPECIFIED):] for k in self.reader.listed(value) if k.startswith(UNSPECIFIED)]
        for kind in kinds:
            if kind not in self.cargo_types:
                self.reader.problem(origin, f"unspecified cargo kind {kind!r} is not one of {sorted(self.cargo_types)}")
        if len(kinds) > 1:
            self.reader.problem(origin, "at most one unspecified:KIND per finding")
        if kinds:
            return kinds[0]
        return "" if cargo_text == "/" and not value else None


def _read_vesicle_claims(reader: _Reader, path: Path, corpus: Corpus, review: str, class_labels: dict[str, str]) -> None:
    for origin, row in reader.rows(path, VESICLE_CLAIM_COLUMNS):
        if not re.fullmatch(r"VES-\d{3}", row["id"]):
            reader.problem(origin, f"claim id {row['id']!r} must look like VES-001")
            continue
        reader.one_of(origin, "kind", row["kind"], tuple(VESICLE_CLAIM_KINDS))
        if row["subject"] not in class_labels:
            reader.problem(origin, f"subject {row['subject']!r} is not the label of an ontology class")
        objects = reader.listed(row["object"]) if row["kind"] not in ("morphology", "definition") else (
            (row["object"],) if row["object"] else ()
        )
        if row["kind"] not in ("morphology", "definition", "size"):
            for obj in objects:
                if obj not in corpus.entities and obj not in class_labels:
                    reader.problem(origin, f"object {obj!r} is neither an entity key nor an ontology class label")
        for column in ("min_nm", "max_nm"):
            if row[column] and not re.fullmatch(r"\d+(\.\d+)?", row[column]):
                reader.problem(origin, f"{column} must be a number of nanometres, found {row[column]!r}")
        if row["kind"] == "size" and not (row["min_nm"] and row["max_nm"]):
            reader.problem(origin, "a size claim needs min_nm and max_nm")
        references = tuple(n for n in (reader.integer(origin, "references", r) for r in reader.listed(row["references"])) if n)
        for number in references:
            if number not in corpus.references:
                reader.problem(origin, f"reference [{number}] is not in references.tsv")
        if not references and not (row["source"].startswith("Fig.") or row["source"] == "Abstract" or "no reference" in row["note"].lower()):
            reader.problem(origin, "missing reference: give the numbers, or say in the note that the review cites none")
        if not row["quote"] or normalize_for_quote(row["quote"]) not in review:
            reader.problem(origin, "missing supporting quote, or quote not found in the review text")
        corpus.vesicle_claims.append(
            VesicleClaim(row["id"], row["source"], row["kind"], row["subject"], objects, row["min_nm"], row["max_nm"],
                         references, row["quote"], row["note"], origin)
        )


def _read_biomarkers(reader: _Reader, path: Path, corpus: Corpus, review: str) -> None:
    for origin, row in reader.rows(path, BIOMARKER_COLUMNS):
        if not re.fullmatch(r"BIO-\d{3}", row["id"]):
            reader.problem(origin, f"biomarker id {row['id']!r} must look like BIO-001")
            continue
        if row["cargo_entity"] not in corpus.entities:
            reader.problem(origin, f"unknown cargo {row['cargo_entity']!r}: add it to entities.tsv")
        fluids = reader.listed(row["body_fluid"])
        for fluid in fluids:
            if _entity_of(corpus.entities, fluid) != "BodyFluid":
                reader.problem(origin, f"unknown body fluid {fluid!r}")
        if row["disease"] and _entity_of(corpus.entities, row["disease"]) != "Disease":
            reader.problem(origin, f"unknown disease {row['disease']!r}")
        uses = reader.listed(row["uses"])
        if not uses:
            reader.problem(origin, "a biomarker claim needs at least one use")
        for use in uses:
            reader.one_of(origin, "use", use, reader.vocab.biomarker_uses)
        if row["change"]:
            reader.one_of(origin, "change", row["change"], reader.vocab.expression_changes)
        number = reader.integer(origin, "reference", row["reference"])
        if number is not None and number not in corpus.references:
            reader.problem(origin, f"reference [{number}] is not in references.tsv")
        if not row["quote"] or normalize_for_quote(row["quote"]) not in review:
            reader.problem(origin, "missing supporting quote, or quote not found in the review text")
        corpus.biomarkers.append(
            BiomarkerClaim(row["id"], row["source"], row["cargo"], row["cargo_entity"], row["vesicle_term"],
                           row["sample"], fluids, row["disease"], row["patients"], uses, row["change"], number or 0,
                           row["quote"], row["note"], origin)
        )


def _read_steps(reader: _Reader, path: Path, corpus: Corpus, review: str) -> dict[str, list[SignedStep]]:
    """Signed mechanism steps, per finding id; each bad cell reported with its file:line."""
    from exokg.ontology.signs import ARROWS, relation_of, relations

    findings = {f.id: f for f in corpus.findings}
    steps: dict[str, list[SignedStep]] = {}
    seen: dict[tuple[str, ...], Origin] = {}
    for origin, row in reader.rows(path, STEP_COLUMNS):
        finding = findings.get(row["finding"])
        if finding is None:
            reader.problem(origin, f"unknown finding {row['finding']!r}")
            continue
        position = reader.integer(origin, "step", row["step"])
        relation = relation_of(row["relation"])
        if relation is None:
            words = sorted(relations()) + sorted(ARROWS)
            reader.problem(origin, f"relation {row['relation']!r} is not one of: {', '.join(words)} (ontology/step_relations.tsv)")
        for column in ("subject", "object"):
            key = row[column]
            if column == "subject" and key == CARGO_SUBJECT:
                continue
            if key not in corpus.entities:
                reader.problem(origin, f"unknown {column} {key!r}: add it to entities.tsv"
                               + (", or write 'cargo' for the finding's cargo" if column == "subject" else ""))
        if relation is not None and relation.word == "targets":
            subject_types = ({_entity_of(corpus.entities, k) for k in finding.cargo_entities} | (
                {finding.unspecified_cargo} if finding.unspecified_cargo is not None else set())
                if row["subject"] == CARGO_SUBJECT else {_entity_of(corpus.entities, row["subject"])})
            if subject_types != {"MicroRNA"}:
                reader.problem(origin, "'targets' is a microRNA's relation; the subject here is not a microRNA "
                               "(use regulates, or the signed relation the review states)")
        reader.one_of(origin, "stated_in", row["stated_in"], STATED_IN)
        if not row["quote"]:
            reader.problem(origin, "missing supporting quote")
        elif normalize_for_quote(row["quote"]) not in review:
            reader.problem(origin, f"quote not found in the review text: {row['quote'][:60]!r}…")
        key = (row["finding"], row["step"], row["subject"], row["relation"], row["object"], row["stated_in"])
        if key in seen:
            reader.problem(origin, f"duplicate step (first at {seen[key]})")
            continue
        seen[key] = origin
        if position is None or relation is None:
            continue
        steps.setdefault(finding.id, []).append(
            SignedStep(finding.id, position, row["subject"], relation.word, row["object"], row["detail"],
                       row["stated_in"], row["quote"], row["note"], origin))
    return steps


def _read_outcomes(reader: _Reader, path: Path, corpus: Corpus, review: str) -> dict[str, list[Outcome]]:
    findings = {f.id: f for f in corpus.findings}
    outcomes: dict[str, list[Outcome]] = {}
    for origin, row in reader.rows(path, OUTCOME_COLUMNS):
        finding = findings.get(row["finding"])
        if finding is None:
            reader.problem(origin, f"unknown finding {row['finding']!r}")
            continue
        ok = reader.one_of(origin, "outcome", row["outcome"], OUTCOMES)
        ok &= reader.one_of(origin, "stated_in", row["stated_in"], STATED_IN)
        if row["basis"]:
            written = {f"{e.direction}:{e.process}" for e in finding.effects}
            if row["basis"] not in written:
                reader.problem(origin, f"basis {row['basis']!r} is not an effect of {finding.id}: {', '.join(sorted(written))}")
                ok = False
        if not row["reason"]:
            reader.problem(origin, "missing reason: say why the effect helps or hinders the tumour")
        if row["quote"] and normalize_for_quote(row["quote"]) not in review:
            reader.problem(origin, f"quote not found in the review text: {row['quote'][:60]!r}…")
        if any(o.stated_in == row["stated_in"] for o in outcomes.get(finding.id, ())):
            reader.problem(origin, f"{finding.id} already has an outcome stated in the {row['stated_in']}")
            ok = False
        if ok:
            outcomes.setdefault(finding.id, []).append(
                Outcome(finding.id, row["outcome"], row["basis"], row["stated_in"], row["reason"], row["quote"],
                        row["note"], origin))
    return outcomes


def _claim_term(reader: _Reader, origin: Origin, column: str, value: str, corpus: Corpus) -> Term | None:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return Term("literal", value[1:-1])
    if value in corpus.entities:
        return Term("entity", value)
    if value in corpus.populations:
        return Term("population", value)
    if value in reader.vocab.class_by_label:
        return Term("class", reader.vocab.class_by_label[value])
    if value.startswith(UNSPECIFIED):
        kind, kinds = value[len(UNSPECIFIED):], cargo_types(reader.vocab)
        if kind in kinds:
            return Term("unspecified", kind)
        reader.problem(origin, f"{column}: unspecified cargo kind {kind!r} is not one of {sorted(kinds)}")
        return None
    reader.problem(origin, f"{column} {value!r} is not an entity or population key, an ontology class label, "
                   'unspecified:KIND or a "quoted literal" (add the entity to vocabulary/entities.tsv)')
    return None


def _read_text_claims(reader: _Reader, claims_dir: Path, corpus: Corpus, review: str) -> None:
    """The running-text claims, one file per section, and the sentences left out (``left_out/``)."""
    from exokg.ontology.claim_relations import claim_relations

    relations = claim_relations()
    restatable = {f.id for f in corpus.findings} | {c.id for c in corpus.vesicle_claims} | {b.id for b in corpus.biomarkers}
    seen: dict[str, Origin] = {}
    contradictions: list[tuple[Origin, str]] = []
    for path in sorted(claims_dir.glob("*.tsv")):
        prefixes: set[str] = set()
        previous = ""
        for origin, row in reader.rows(path, CLAIM_COLUMNS):
            identifier = row["id"]
            match = re.fullmatch(r"([A-Z]+)-\d{3}", identifier)
            if not match:
                reader.problem(origin, f"claim id {identifier!r} must look like PREFIX-001")
                continue
            if identifier in seen:
                reader.problem(origin, f"duplicate claim id {identifier} (first at {seen[identifier]})")
                continue
            seen[identifier] = origin
            prefixes.add(match.group(1))
            if len(prefixes) > 1:
                reader.problem(origin, f"{identifier}: one id prefix per file, found {', '.join(sorted(prefixes))}")
            if identifier <= previous:
                reader.problem(origin, f"{identifier} comes after {previous}: keep the ids sorted")
            previous = max(previous, identifier)
            ok = bool(row["section"])
            if not ok:
                reader.problem(origin, "missing section")
            ok &= reader.one_of(origin, "kind", row["kind"], tuple(CLAIM_KINDS))
            if row["relation"] not in relations:
                reader.problem(origin, f"relation {row['relation']!r} is not one of: {', '.join(sorted(relations))} "
                               "(ontology/claim_relations.tsv)")
                ok = False
            subject = _claim_term(reader, origin, "subject", row["subject"], corpus)
            obj = _claim_term(reader, origin, "object", row["object"], corpus)
            qualifiers = []
            for part in reader.listed(row["qualifiers"]):
                key, sep, value = (p.strip() for p in part.partition("="))
                wanted = CLAIM_QUALIFIERS.get(key)
                if not sep or not value or wanted is None:
                    reader.problem(origin, f"qualifier {part!r} must be key=value with key one of: {', '.join(sorted(CLAIM_QUALIFIERS))}")
                    ok = False
                    continue
                if wanted == "population" and value not in corpus.populations:
                    reader.problem(origin, f"{key}={value}: not a population key of vocabulary/populations.tsv")
                    ok = False
                elif wanted == "disease" and _entity_of(corpus.entities, value) != "Disease":
                    reader.problem(origin, f"disease={value}: not a Disease of vocabulary/entities.tsv")
                    ok = False
                elif wanted == "claim":
                    contradictions.append((origin, value))
                qualifiers.append((key, value))
            references = []
            for cell in reader.listed(row["reference"]):
                number = reader.integer(origin, "reference", cell)
                if number is not None and number not in corpus.references:
                    reader.problem(origin, f"reference [{number}] is not in references.tsv")
                elif number is not None:
                    references.append(number)
            restates = reader.listed(row["restates"])
            for other in restates:
                if other not in restatable:
                    reader.problem(origin, f"restates {other!r}: no finding, vesicle-biology or biomarker claim has that id")
            if not row["quote"]:
                reader.problem(origin, "missing supporting quote")
            elif normalize_for_quote(row["quote"]) not in review:
                reader.problem(origin, f"quote not found in the review text: {row['quote'][:60]!r}…")
            if ok and subject and obj:
                corpus.text_claims.append(TextClaim(
                    identifier, row["section"], row["kind"], subject, row["relation"], obj, tuple(qualifiers),
                    tuple(references), row["quote"], restates, row["note"], origin))
    for origin, other in contradictions:  # another text claim, or the table row / record it contradicts
        if other not in seen and other not in restatable:
            reader.problem(origin, f"contradicts={other}: no claim or finding has that id")
    for path in sorted((claims_dir / "left_out").glob("*.tsv")):
        for origin, row in reader.rows(path, LEFT_OUT_COLUMNS):
            if not row["reason"]:
                reader.problem(origin, "missing reason: say why the sentence holds no claim to curate")
            if not row["quote"] or normalize_for_quote(row["quote"]) not in review:
                reader.problem(origin, "missing quote, or quote not found in the review text")
            corpus.left_out.append(LeftOut(row["section"], row["quote"], row["reason"], origin))


def load(
    graph_dir: Path = config.GRAPH_DIR,
    review_text: Path | None = None,
    extra_finding_files: tuple[Path, ...] = (),
) -> Corpus:
    """Read and check every curated file; raise :class:`CurationError` listing every problem found.

    ``extra_finding_files`` are further finding files in the table format (a curator's new paper).
    """
    vocab = vocabulary()
    reader = _Reader(vocab)
    corpus = Corpus()
    if review_text is None:  # a curated directory may bring its own source text
        own = graph_dir / "source" / "review.txt"
        review_text = own if own.is_file() else config.REVIEW_TEXT
    review = normalize_for_quote(review_text.read_text(encoding="utf-8"))
    vocabulary_dir = graph_dir / "vocabulary"
    corpus.entities = _read_entities(reader, vocabulary_dir / "entities.tsv")
    corpus.populations = _read_populations(reader, vocabulary_dir / "populations.tsv", corpus.entities)
    corpus.references = _read_references(reader, vocabulary_dir / "references.tsv")
    corpus.xrefs = _read_xrefs(reader, vocabulary_dir / "xrefs.tsv", corpus.entities)

    findings = _FindingReader(reader, corpus, review)
    seen: dict[str, Origin] = {}
    sources = [(graph_dir / "tables" / name, "table") for name in TABLE_FILES]
    sources += [(graph_dir / "text" / "text_findings.tsv", "text")]
    sources += [(path, "table") for path in extra_finding_files]
    for path, kind in sources:
        for origin, row in reader.rows(path, FINDING_COLUMNS):
            finding = findings.read(origin, row, kind)
            if finding is None:
                continue
            if finding.id in seen:
                reader.problem(origin, f"duplicate finding id {finding.id} (first at {seen[finding.id]})")
                continue
            seen[finding.id] = origin
            corpus.findings.append(finding)
    mechanisms = graph_dir / "mechanisms"
    if mechanisms.is_dir():  # a curator's own directory may have no mechanisms yet
        steps = _read_steps(reader, mechanisms / "steps.tsv", corpus, review)
        outcomes = _read_outcomes(reader, mechanisms / "outcomes.tsv", corpus, review)
        corpus.findings = [
            replace(f, steps=tuple(sorted(steps.get(f.id, ()), key=lambda s: s.position)), outcomes=tuple(outcomes.get(f.id, ())))
            for f in corpus.findings
        ]
    _read_vesicle_claims(reader, graph_dir / "text" / "vesicle_biology.tsv", corpus, review, vocab.class_by_label)
    _read_biomarkers(reader, graph_dir / "text" / "biomarkers.tsv", corpus, review)
    claims = graph_dir / "text" / "claims"
    if claims.is_dir():  # a curator's own directory may hold no running-text claims
        _read_text_claims(reader, claims, corpus, review)
    if reader.problems:
        raise CurationError(reader.problems)
    return corpus
