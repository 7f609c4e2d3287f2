"""`python -m bench.ledgerless serve ...`: `sidecar serve` without the audit ledger.

Only for bench/ledger_overhead.py, which measures what the ledger costs the screening
path; the sidecar itself has no switch that turns the ledger off.
"""

from __future__ import annotations

from sidecar.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main(ledger=False))
