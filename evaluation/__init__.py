"""Detection quality: a labelled corpus, a scorer, and `make eval` (sidecar vs stock Presidio)."""
