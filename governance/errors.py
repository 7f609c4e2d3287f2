"""Errors of the governance package. str(err) names keys, lines and limits, never data.

GovernanceError
├── PolicyError    policies.yaml is unreadable or invalid (key and line in the message)
├── KeyFileError   a key file is unreadable, malformed, too widely readable, or an
│                  operation on it is not allowed (e.g. retiring the primary KEK)
└── (vault.py)     SealError, DataKeyExhausted

This module must not import grpc: the sidecar maps these to status codes at its edge.
"""

from __future__ import annotations

__all__ = ["GovernanceError", "KeyFileError", "PolicyError"]


class GovernanceError(Exception):
    """Base of every error the governance package raises on purpose."""


class PolicyError(GovernanceError):
    """policies.yaml cannot be used; the message names the key and line at fault."""

    def __init__(self, message: str, *, line: int | None = None, source: str = "") -> None:
        where = f"{source or 'policies'}:{line}" if line is not None else source or "policies"
        super().__init__(f"{where}: {message}")
        self.line = line


class KeyFileError(GovernanceError):
    """A key file cannot be used; the message names the file, never key material."""
