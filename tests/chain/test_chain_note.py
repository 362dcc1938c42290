"""Signed notes: C2SP/Go vectors (incl. exact TestSign output) and round trips."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from chain import note
from chain.errors import (
    ChainError,
    InvalidSignatureError,
    MalformedError,
    SignatureError,
    UnverifiedNoteError,
)

GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)


@pytest.fixture(scope="module")
def vectors(conformance: Path) -> dict:
    return json.loads((conformance / "signed-note/signed-note-vectors.json").read_text())


@pytest.fixture(scope="module")
def keys(vectors: dict) -> dict[str, dict]:
    return {k["id"]: k for k in vectors["keys"]}


def test_vector_keys_parse(vectors: dict) -> None:
    for k in vectors["keys"]:
        v = note.new_verifier(k["vkey"])
        assert v.vkey == k["vkey"]
        name, hex8, _ = k["vkey"].split("+", 2)
        assert (v.name, f"{v.key_id:08x}") == (name, hex8)
        if k["skey"]:
            s = note.new_signer(k["skey"])
            assert s.verifier == v


def test_invalid_vkeys_rejected(vectors: dict) -> None:
    for bad in vectors["invalid_vkeys"]:
        with pytest.raises(MalformedError):
            note.new_verifier(bad["vkey"])


def test_go_sign_output_reproduced(vectors: dict, keys: dict) -> None:
    want = next(n for n in vectors["notes"] if n["id"] == "go-sign-output")["note"]
    assert note.sign(GO_TEXT, [note.new_signer(keys["go-peter"]["skey"])]) == want


def test_vector_notes(vectors: dict, keys: dict) -> None:
    for v in vectors["notes"]:
        msg = v["note"].encode() if v["note"] is not None else bytes.fromhex(v["note_hex"])
        verifiers = [note.new_verifier(keys[k]["vkey"]) for k in v["verifier_keys"]]
        if v["expect"] == "valid":
            opened = note.open(msg, verifiers)
            assert [s.name for s in opened.sigs] == v["verified_by"], v["id"]
            assert [s.name for s in opened.unverified_sigs] == v.get("unverified", []), v["id"]
            assert msg.decode().startswith(opened.text)
        elif v["expect"] == "error":
            with pytest.raises(ChainError) as e:
                note.open(msg, verifiers)
            assert v["error"] in str(e.value), v["id"]
        else:  # parse-only: no published key, so the note opens as unverified
            with pytest.raises(UnverifiedNoteError) as e:
                note.open(msg, verifiers)
            assert e.value.note.text.startswith("example.com/behind-the-sofa\n")
            assert not e.value.note.sigs


def test_cosignature_layout(vectors: dict) -> None:
    v = next(n for n in vectors["notes"] if n["id"] == "c2sp-cosigned-checkpoint-example")
    with pytest.raises(UnverifiedNoteError) as e:
        note.open(v["note"], [])
    cosig = e.value.note.unverified_sigs[1]
    assert cosig.name == v["cosignature"]["name"]
    assert f"{cosig.key_id:08x}" == v["cosignature"]["key_id_hex"]
    raw = base64.b64decode(cosig.base64)
    assert int.from_bytes(raw[4:12], "big") == v["cosignature"]["timestamp"]


def test_round_trip_and_tampering() -> None:
    skey, vkey = note.generate_key("example.org/suanpan")
    signer, verifier = note.new_signer(skey), note.new_verifier(vkey)
    assert signer.verifier == verifier
    signed = note.sign("hello\nworld\n", [signer])
    opened = note.open(signed, [verifier])
    assert opened.text == "hello\nworld\n"
    assert [s.key_id for s in opened.sigs] == [verifier.key_id]

    with pytest.raises(InvalidSignatureError):
        note.open(signed.replace("world", "w0rld"), [verifier])
    sig_line = signed.split("\n")[-2]
    raw = bytearray(base64.b64decode(sig_line.split(" ")[-1]))
    raw[10] ^= 1
    tampered = signed.replace(sig_line.split(" ")[-1], base64.b64encode(raw).decode())
    with pytest.raises(InvalidSignatureError):
        note.open(tampered, [verifier])

    _, other_vkey = note.generate_key("example.org/suanpan")
    with pytest.raises(UnverifiedNoteError):
        note.open(signed, [note.new_verifier(other_vkey)])


def test_two_signers_and_unknown_ignored() -> None:
    a, b = (note.new_signer(note.generate_key(n)[0]) for n in ("a.example", "b.example"))
    signed = note.sign("text\n", [a, b])
    assert [s.name for s in note.open(signed, [b.verifier]).sigs] == ["b.example"]
    both = note.open(signed, [a.verifier, b.verifier])
    assert [s.name for s in both.sigs] == ["a.example", "b.example"]


def test_sign_rejects_bad_text() -> None:
    signer = note.new_signer(note.generate_key("x.example")[0])
    for text in ("no newline", "ctrl\x01\n"):
        with pytest.raises(MalformedError):
            note.sign(text, [signer])
    with pytest.raises(SignatureError):
        note.sign("ok\n", [])


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "text\n\n— name\n",  # no signature after the name
        "text\n\n— name AAAA\n",  # signature too short
        "text\n\n— name !!!!\n",  # not base64
        "text\n\n- name QUFBQUFBQUE=\n",  # hyphen, not em dash
    ],
)
def test_malformed_notes(bad: str) -> None:
    with pytest.raises(MalformedError):
        note.open(bad, [])


def test_key_names_and_ids() -> None:
    assert not note.is_valid_name("has space")
    assert not note.is_valid_name("has+plus")
    assert not note.is_valid_name("")
    with pytest.raises(MalformedError):
        note.generate_key("bad name")
    skey, vkey = note.generate_key("ok.example")
    with pytest.raises(MalformedError):
        note.new_signer(skey.replace("PRIVATE+KEY", "PUBLIC+KEY"))
    with pytest.raises(MalformedError):
        note.new_verifier(vkey.replace("ok.example", "ko.example"))  # ID no longer matches
