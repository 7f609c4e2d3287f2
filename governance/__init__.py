"""Data governance: policies today; encrypted log store, ledger and retention to come."""
