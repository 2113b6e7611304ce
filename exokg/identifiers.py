"""External identifiers (CURIEs): parsing, validation and expansion through the Bioregistry.

Prefixes, identifier patterns and IRIs all come from the maintained registry, never from a hand-written
dict: OBO Foundry ontologies expand to their PURLs, everything else to identifiers.org.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


class IdentifierError(ValueError):
    """A CURIE whose prefix is unknown or whose local part does not match the prefix's pattern."""


@dataclass(frozen=True)
class Curie:
    prefix: str  # the Bioregistry's normalized prefix, e.g. "cl", "mirbase.mature"
    local: str  # the local identifier without banana, e.g. "0000084", "0022"
    written: str  # the CURIE as curated, e.g. "CL:0000084", "cellosaurus:CVCL_0022"
    iri: str


@lru_cache(maxsize=None)
def parse(written: str) -> Curie:
    import bioregistry  # slow to import: only the build needs it

    if ":" not in written:
        raise IdentifierError(f"malformed identifier {written!r}: expected PREFIX:ID")
    raw_prefix, local = written.split(":", 1)
    prefix = bioregistry.normalize_prefix(raw_prefix)
    if prefix is None:
        raise IdentifierError(f"malformed identifier {written!r}: prefix {raw_prefix!r} is not in the Bioregistry")
    banana = bioregistry.get_banana(prefix)
    if banana and local.startswith(banana + "_"):
        local = local[len(banana) + 1 :]
    if not bioregistry.is_valid_identifier(prefix, local):
        pattern = bioregistry.get_pattern(prefix)
        raise IdentifierError(f"malformed identifier {written!r}: {local!r} does not match {prefix} pattern {pattern}")
    iri = bioregistry.get_obofoundry_iri(prefix, local) or bioregistry.get_identifiers_org_iri(prefix, local)
    if iri is None:
        raise IdentifierError(f"identifier {written!r}: the Bioregistry gives no IRI for prefix {prefix!r}")
    return Curie(prefix, local, written, iri)
