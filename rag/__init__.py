"""zhrag core pipeline: ingest, chunk, embed, retrieve, compose."""
