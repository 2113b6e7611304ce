"""Curated rows (one TSV per review table, the running text's claims, vocabularies) → checked records → triples."""
