"""Signing keys sealed with a passphrase (scrypt + AES-GCM)."""

from __future__ import annotations

import json

import pytest

from chain import note
from chain.errors import MalformedError, PassphraseError
from chain.keys import (
    envelope_vkey,
    generate_signing_key,
    load_signer,
    open_signing_key,
    seal_signing_key,
)

FAST_N = 2**10  # keep tests quick; the default is exercised once below


@pytest.fixture(scope="module")
def sealed() -> tuple[str, str, str]:
    skey, vkey = generate_signing_key("suanpan.example/ledger")
    return skey, vkey, seal_signing_key(skey, "correct horse", scrypt_n=FAST_N)


def test_round_trip(sealed) -> None:
    skey, vkey, env = sealed
    assert skey not in env
    assert open_signing_key(env, "correct horse") == skey
    assert envelope_vkey(env) == vkey
    signer = load_signer(env, "correct horse")
    assert note.open(note.sign("x\n", [signer]), [note.new_verifier(vkey)]).sigs


def test_default_cost_round_trip() -> None:
    skey, _ = generate_signing_key("a.example")
    env = seal_signing_key(skey, "pw")
    assert json.loads(env)["kdf"]["n"] == 2**15
    assert open_signing_key(env, "pw") == skey


def test_wrong_passphrase(sealed) -> None:
    with pytest.raises(PassphraseError):
        open_signing_key(sealed[2], "wrong horse")


def test_header_is_authenticated(sealed) -> None:
    _, _, env = sealed
    data = json.loads(env)
    _, data["vkey"] = generate_signing_key("suanpan.example/ledger")
    with pytest.raises(PassphraseError):
        open_signing_key(json.dumps(data), "correct horse")
    data = json.loads(env)
    data["kdf"]["n"] = FAST_N * 2
    with pytest.raises(PassphraseError):
        open_signing_key(json.dumps(data), "correct horse")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(format="suanpan-signing-key/v0"),
        lambda d: d["kdf"].update(n=2**30),
        lambda d: d["kdf"].update(n=1000),
        lambda d: d.update(ciphertext="!!"),
        lambda d: d.pop("cipher"),
        lambda d: d.update(extra=1),
    ],
)
def test_malformed_envelopes(sealed, mutate) -> None:
    data = json.loads(sealed[2])
    mutate(data)
    with pytest.raises(MalformedError):
        open_signing_key(json.dumps(data), "correct horse")


def test_refuses_empty_passphrase_and_non_keys() -> None:
    skey, _ = generate_signing_key("a.example")
    with pytest.raises(ValueError):
        seal_signing_key(skey, "")
    with pytest.raises(MalformedError):
        seal_signing_key("not a key", "pw")
    with pytest.raises(MalformedError):
        open_signing_key("{}", "pw")
