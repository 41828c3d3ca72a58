"""One module per feature; each has `register(app)`. Handlers never import each other."""
