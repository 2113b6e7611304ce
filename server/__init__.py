"""The Flask SPARQL endpoint serving the built dataset read-only."""
