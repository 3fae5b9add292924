"""The bundled recipes: ``curator recipe NAME`` writes one out; ``curator build FILE`` runs it."""
