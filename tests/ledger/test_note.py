"""C2SP signed notes and checkpoints: known-answer vectors from the spec and Go's sumdb."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.merkle import leaf_hash, root_hash
from governance.note import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    open_note,
    parse_checkpoint,
)

EM = "\u2014"
# golang.org/x/mod/sumdb/note note_test.go: a published key pair and signature.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIG = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
ENOCH_SIG = (
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
)
# c2sp.org/signed-note: the example note and its key.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    f"{EM} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFX"
    "mRKuwHjG1Yu72IneyaQM=\n"
)


def test_go_signer_reproduces_published_note() -> None:
    """Ed25519 is deterministic: Go's key signs Go's text into Go's exact note."""
    signer = NoteSigner.from_key(GO_SKEY)
    assert signer.verifier.key() == GO_VKEY
    assert signer.sign(GO_TEXT) == f"{GO_TEXT}\n{EM} PeterNeumann {GO_SIG}\n"


def test_open_published_notes() -> None:
    """The spec's example and Go's note open with their verifier keys."""
    assert (
        open_note(SPEC_NOTE, [NoteVerifier.from_key(SPEC_VKEY)]) == "This is an example message.\n"
    )
    note = f"{GO_TEXT}\n{EM} PeterNeumann {GO_SIG}\n{EM} EnochRoot {ENOCH_SIG}\n"
    assert open_note(note, [NoteVerifier.from_key(GO_VKEY)]) == GO_TEXT
    assert open_note(note, [NoteVerifier.from_key(ENOCH_VKEY)]) == GO_TEXT


@pytest.mark.parametrize(
    "note",
    [
        f"{GO_TEXT.replace('cryptography', 'cryptographY')}\n{EM} PeterNeumann {GO_SIG}\n",
        f"{GO_TEXT}\n{EM} PeterNeumann {GO_SIG[:-4]}AAA=\n",
        f"{GO_TEXT}{EM} PeterNeumann {GO_SIG}\n",
        f"{GO_TEXT}\n- PeterNeumann {GO_SIG}\n",
        f"{GO_TEXT}\n{EM} Someone {GO_SIG}\n",
        f"{GO_TEXT}\n{EM} PeterNeumann {GO_SIG}",
        f"{GO_TEXT}\r\n{EM} PeterNeumann {GO_SIG}\n",
    ],
    ids=[
        "text-changed",
        "signature-changed",
        "no-blank-line",
        "not-em-dash",
        "unknown-key-only",
        "no-final-newline",
        "control-character",
    ],
)
def test_open_rejects_bad_notes(note: str) -> None:
    """Changed text or signature, malformed layout or no trusted signature: NoteError."""
    with pytest.raises(NoteError):
        open_note(note, [NoteVerifier.from_key(GO_VKEY)])


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhptDUdQ3IK2pd2JgoDWLR9yobNjNPwFyN5Ys8Q9N6jc",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a3+not base64",
    ],
)
def test_verifier_key_rejects_malformed(vkey: str) -> None:
    """Wrong key id, bad name, wrong type byte, missing or broken material: NoteError."""
    with pytest.raises(NoteError):
        NoteVerifier.from_key(vkey)


def test_checkpoint_round_trip_signed() -> None:
    """A checkpoint signs as a note, opens, and parses back to the same tree head."""
    leaves = [leaf_hash(f"entry {i}".encode()) for i in range(7)]
    head = Checkpoint("sidecar.example/ledger", 7, root_hash(leaves), ("ext line",))
    signer = NoteSigner("sidecar.example/ledger", Ed25519PrivateKey.generate())
    note = signer.sign(head.text())
    assert head.text() == (
        f"sidecar.example/ledger\n7\n{base64.b64encode(head.root).decode()}\next line\n"
    )
    assert parse_checkpoint(open_note(note, [signer.verifier])) == head
    verifier = NoteVerifier.from_key(signer.verifier.key())
    assert verifier == signer.verifier


@pytest.mark.parametrize(
    "text",
    [
        "origin\n5\n",
        "origin\n05\n" + "A" * 43 + "=\n",
        "origin\nfive\n" + "A" * 43 + "=\n",
        "origin\n5\nnot-base64\n",
        "origin\n5\nAAAA\n",
        "\n5\n" + "A" * 43 + "=\n",
        "origin\n5\n" + "A" * 43 + "=",
        "origin\n5\n" + "A" * 43 + "=\n\n",
    ],
)
def test_parse_checkpoint_rejects_malformed(text: str) -> None:
    """Missing lines, non-decimal sizes, roots that are not 32 bytes: NoteError."""
    with pytest.raises(NoteError):
        parse_checkpoint(text)
