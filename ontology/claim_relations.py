"""The running-text claims' relations (``ontology/claim_relations.tsv``): which word means which property.

A claim of the review's prose is ``subject RELATION object``; the relation word a curator writes maps to an
RO relation where one fits (each checked in ``ro_terms.tsv``) or to an exo: property declared in
``exokg.ttl``, with the sign the word carries (promotes: positive; inhibits: negative; associated-with:
unsigned). Claims are reified statements: the property names what the claim says, it is not asserted
between subject and object (many objects are the review's own words, not nodes).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from exokg.ontology.signs import SIGNS

REGISTRY = Path(__file__).with_name("claim_relations.tsv")
REGISTRY_COLUMNS = ["relation", "property", "parent", "sign", "definition"]


@dataclass(frozen=True)
class ClaimRelation:
    word: str
    property: str  # a CURIE: exo:… or RO:…
    parent: str  # an RO CURIE the exo: property specializes, or empty
    sign: str
    definition: str


@lru_cache(maxsize=1)
def claim_relations() -> dict[str, ClaimRelation]:
    with open(REGISTRY, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    if rows[0] != REGISTRY_COLUMNS:
        raise ValueError(f"{REGISTRY}:1: wrong header: expected {REGISTRY_COLUMNS}")
    found = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(REGISTRY_COLUMNS):
            raise ValueError(f"{REGISTRY}:{line}: expected {len(REGISTRY_COLUMNS)} columns, found {len(row)}")
        relation = ClaimRelation(*row)
        if relation.sign not in SIGNS:
            raise ValueError(f"{REGISTRY}:{line}: sign {relation.sign!r} is not one of {SIGNS}")
        if relation.word in found:
            raise ValueError(f"{REGISTRY}:{line}: duplicate relation {relation.word!r}")
        found[relation.word] = relation
    return found
