"""The exokg ontology (the hand-edited TBox) and what the other steps read from it."""
