"""The pipeline's stages, one module per verb: fetch, feeds, extract, tag, load."""
