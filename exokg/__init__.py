"""exokg: a knowledge graph of tumor-derived small extracellular vesicles in glioma.

Data flows one way: curated rows (``exokg.graph``) + ontology (``exokg.ontology``) → triples →
SHACL validation (``exokg.shapes``) → reasoning → dumps → served (``exokg.server``).
"""

__version__ = "0.1.0"
