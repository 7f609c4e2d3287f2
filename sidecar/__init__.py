"""Privacy sidecar: screens model inputs and outputs for PII over gRPC.

Request text lives only in memory, for one inference's lifetime; nothing raw is logged,
traced, persisted or quoted in an error.
"""

__version__ = "0.1.0"
