"""SHACL shapes (the graph's contract) and the validation step."""
