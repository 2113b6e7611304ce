"""Identifiers (CURIEs): parsing, validation, expansion and the prefix maps every output declares.

Prefixes, identifier patterns and IRIs all come from the maintained registry (the Bioregistry), never from a
hand-written dict: OBO Foundry ontologies expand to their PURLs, everything else to identifiers.org, and
the terms of the vocabularies the exports use (skos:, semapv:, biolink:, …) to the Bioregistry's URI prefix.
Our own IRIs are compacted with the prefixes of :mod:`exokg.config`. The RDF dumps, the SSSOM mapping
set and the KGX export all take their prefixes from here, so one CURIE reads the same in each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from exokg.config import BASE, EXO, IRI_SEGMENTS

# Our own namespaces: the vocabulary, and one prefix per kind of minted node (finding/, molecule/, …), so a
# local part never holds a '/' (KGX refuses such CURIEs). "exo" is also the Bioregistry's prefix of the
# Exposure Ontology (ExO): in our outputs it always means our vocabulary, and it is never accepted as an
# external identifier (see parse), so the two cannot meet in one file.
OWN_PREFIXES = {"exo": str(EXO)} | {
    f"exokg.{segment}": f"{BASE}{segment}/" for segment in sorted(set(IRI_SEGMENTS.values()))
}


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
    if raw_prefix in OWN_PREFIXES:
        raise IdentifierError(f"identifier {written!r}: {raw_prefix!r} is this project's own prefix, not a resource's")
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


def written_prefix(curie: Curie) -> str:
    """The prefix as written in the curated table (``HGNC``, ``REACT``): one spelling per prefix in every output."""
    return curie.written.split(":", 1)[0]


def uri_prefix(curie: Curie) -> str:
    """The IRI prefix that, followed by the local part as written, gives ``curie.iri``."""
    written_local = curie.written.split(":", 1)[1]
    if not curie.iri.endswith(written_local):
        raise IdentifierError(f"identifier {curie.written!r}: its IRI {curie.iri} does not end with {written_local!r}")
    return curie.iri[: -len(written_local)]


@lru_cache(maxsize=None)
def term(written: str) -> Curie:
    """A term of a vocabulary the exports use as a predicate or a type: ``skos:exactMatch``, ``biolink:Gene``."""
    import bioregistry

    if ":" not in written:
        raise IdentifierError(f"malformed term {written!r}: expected PREFIX:NAME")
    raw_prefix, local = written.split(":", 1)
    prefix = bioregistry.normalize_prefix(raw_prefix)
    base = bioregistry.get_uri_prefix(prefix) if prefix else None
    if base is None:
        raise IdentifierError(f"term {written!r}: the Bioregistry has no URI prefix for {raw_prefix!r}")
    return Curie(prefix, local, written, base + local)


def own(iri: str) -> Curie:
    """One of our IRIs (vocabulary term or minted node) as a CURIE with our own prefixes."""
    for prefix, namespace in sorted(OWN_PREFIXES.items(), key=lambda item: -len(item[1])):
        local = iri[len(namespace) :]
        if iri.startswith(namespace) and local and "/" not in local:
            return Curie(prefix, local, f"{prefix}:{local}", iri)
    raise IdentifierError(f"{iri} is not under one of this project's namespaces with a one-segment local part")


def prefix_map(curies: Iterable[Curie]) -> dict[str, str]:
    """Exactly the prefixes ``curies`` use → their IRI prefixes; one prefix with two expansions is an error."""
    found: dict[str, str] = {}
    for curie in curies:
        prefix, base = written_prefix(curie), uri_prefix(curie)
        if found.setdefault(prefix, base) != base:
            raise IdentifierError(f"prefix {prefix!r} expands both to {found[prefix]} and to {base}")
    return dict(sorted(found.items()))
