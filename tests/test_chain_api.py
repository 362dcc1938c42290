"""The chain over HTTP: key, checkpoints, leaves, proofs, blocks and offline receipts."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import zxingcpp
from flask import Flask
from PIL import Image

from chain import note
from chain.checkpoint import open_checkpoint
from chain.errors import ChainError, LeafMismatchError, ProofError, SignatureError
from chain.proof import check_record, check_tree
from chain.receipt import verify_receipt
from tests.chain_helpers import FAST_KEYS, busy_day, post_entry, seal
from tests.conftest import Api, join

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "verify_receipt.py"


@pytest.fixture
def app(app_factory) -> Flask:  # type: ignore[no-untyped-def]
    return app_factory(**FAST_KEYS)


def unb64(s: str) -> bytes:
    return base64.b64decode(s, validate=True)


def vkey(api: Api) -> str:
    r = api.get("/chain/key", token="")
    assert r.status_code == 200
    return r.get_json()["vkey"]


def test_key_is_public_and_a_signed_note_vkey(api: Api) -> None:
    key = vkey(api)
    verifier = note.new_verifier(key)
    assert verifier.name == "test.suanpan/chain"
    name, key_id, data = key.split("+", 2)
    assert name == verifier.name and key_id == f"{verifier.key_id:08x}"
    assert unb64(data)[0] == 0x01 and len(unb64(data)) == 33
    assert vkey(api) == key  # generated once, then kept


def test_checkpoint_is_a_plain_c2sp_checkpoint(books: Api, business: dict) -> None:
    bid = business["id"]
    r = books.get(f"/businesses/{bid}/chain/checkpoint")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "no_checkpoint"
    post_entry(books, bid)
    block = seal(books, bid)
    assert block["sealed"] is True and block["block"]["tree_size"] == 2
    r = books.get(f"/businesses/{bid}/chain/checkpoint")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    text = r.get_data(as_text=True)
    cp, opened = open_checkpoint(text, [note.new_verifier(vkey(books))])
    assert cp.origin == f"test.suanpan/chain/{bid}"
    assert cp.size == 2 and cp.extensions == ()
    assert opened.text == f"{cp.origin}\n2\n{base64.b64encode(cp.root).decode()}\n"
    assert seal(books, bid)["sealed"] is False  # nothing new: no empty block


def test_leaves_and_inclusion_proofs_lead_to_the_signed_root(books: Api, business: dict) -> None:
    bid = business["id"]
    busy_day(books, bid)
    seal(books, bid)
    text = books.get(f"/businesses/{bid}/chain/checkpoint").get_data(as_text=True)
    cp, _ = open_checkpoint(text, [note.new_verifier(vkey(books))])
    assert cp.size == 14
    for i in range(cp.size):
        leaf = books.get(f"/businesses/{bid}/chain/leaves/{i}").get_json()
        assert leaf["index"] == i
        lh = hashlib.sha256(b"\x00" + leaf["leaf"].encode()).digest()
        assert unb64(leaf["leaf_hash"]) == lh
        r = books.get(
            f"/businesses/{bid}/chain/proof/inclusion", query={"index": i, "size": cp.size}
        )
        assert r.status_code == 200, r.get_json()
        proof = r.get_json()
        assert (proof["index"], proof["size"]) == (i, cp.size)
        check_record([unb64(h) for h in proof["hashes"]], cp.size, cp.root, i, lh)
        with pytest.raises(ProofError):
            check_record([unb64(h) for h in proof["hashes"]], cp.size, cp.root, i, bytes(32))


def test_consistency_proofs_between_checkpoints(books: Api, business: dict) -> None:
    bid = business["id"]
    key = [note.new_verifier(vkey(books))]
    seen = []
    for n in range(4):
        for _ in range(n + 1):
            post_entry(books, bid)
        seal(books, bid)
        text = books.get(f"/businesses/{bid}/chain/checkpoint").get_data(as_text=True)
        seen.append(open_checkpoint(text, key)[0])
    for old in seen:
        for new in seen:
            if old.size > new.size:
                continue
            r = books.get(
                f"/businesses/{bid}/chain/proof/consistency",
                query={"from": old.size, "to": new.size},
            )
            assert r.status_code == 200, r.get_json()
            body = r.get_json()
            assert (body["from"], body["to"]) == (old.size, new.size)
            hashes = [unb64(h) for h in body["hashes"]]
            check_tree(hashes, new.size, new.root, old.size, old.root)
            if old.size < new.size:
                with pytest.raises(ProofError):
                    check_tree(hashes, new.size, new.root, old.size, bytes(32))


@pytest.mark.parametrize(
    "path,query",
    [
        ("proof/inclusion", {"index": 5, "size": 5}),
        ("proof/inclusion", {"index": 0, "size": 99}),
        ("proof/inclusion", {"index": "x", "size": 1}),
        ("proof/inclusion", {"index": 0}),
        ("proof/consistency", {"from": 0, "to": 2}),
        ("proof/consistency", {"from": 3, "to": 2}),
        ("proof/consistency", {"from": 1, "to": 50}),
        ("blocks", {"limit": 0}),
    ],
)
def test_bad_proof_requests_are_json_errors(books: Api, business: dict, path, query) -> None:
    bid = business["id"]
    post_entry(books, bid)
    seal(books, bid)
    r = books.get(f"/businesses/{bid}/chain/{path}", query=query)
    assert r.status_code in (400, 422), r.get_data(as_text=True)
    assert set(r.get_json()["error"]) >= {"code", "message"}


def test_unknown_leaf_is_404(books: Api, business: dict) -> None:
    r = books.get(f"/businesses/{business['id']}/chain/leaves/7")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "leaf_not_found"


def test_blocks_newest_first_form_a_hash_chain(books: Api, business: dict) -> None:
    bid = business["id"]
    for n in range(5):
        for _ in range(n + 1):
            post_entry(books, bid)
        seal(books, bid)
    page = books.get(f"/businesses/{bid}/chain/blocks", query={"limit": 3}).get_json()
    assert [b["height"] for b in page["items"]] == [4, 3, 2]
    rest = books.get(
        f"/businesses/{bid}/chain/blocks", query={"before": page["next_before"]}
    ).get_json()
    assert [b["height"] for b in rest["items"]] == [1, 0] and rest["next_before"] is None
    blocks = list(reversed(page["items"] + rest["items"]))
    assert blocks[0]["prev_hash"] == base64.b64encode(bytes(32)).decode()
    for prev, cur in zip(blocks, blocks[1:], strict=False):
        assert cur["prev_hash"] == prev["hash"] and cur["first_leaf"] == prev["end_leaf"]
    # block 0 seals the owner's grant and one entry; block n seals n + 1 entries
    assert [b["entries"] for b in blocks] == [1, 2, 3, 4, 5]
    assert [b["leaves"] for b in blocks] == [2, 2, 3, 4, 5]
    status = books.get(f"/businesses/{bid}/chain").get_json()
    assert status["size"] == status["sealed_size"] == 16 and status["height"] == 4


def receipt_of(api: Api, bid: int, eid: int) -> dict:
    r = api.get(f"/businesses/{bid}/entries/{eid}/receipt")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def run_script(tmp_path: Path, receipt: dict, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt, ensure_ascii=False))
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # nowhere near the project: the script must stand alone
    )


def test_receipt_verifies_offline_with_the_standalone_script(
    books: Api, business: dict, tmp_path: Path
) -> None:
    bid = business["id"]
    made = busy_day(books, bid)
    key = vkey(books)
    for entry in made["entries"]:
        receipt = receipt_of(books, bid, entry["id"])  # seals on demand
        assert set(receipt) == {"leaf", "proof", "vkey"} and receipt["vkey"] == key
        leaf = json.loads(receipt["leaf"])
        assert leaf["content"]["entry"]["id"] == entry["id"]
        assert leaf["content"]["entry"]["lines"] == entry["lines"]
        ok = verify_receipt(
            receipt["leaf"].encode(), receipt["proof"], key, f"test.suanpan/chain/{bid}"
        )
        assert ok.index == leaf["sequence"]
        done = run_script(tmp_path, receipt, "--vkey", key)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"OK index={leaf['sequence']} ")


def _tampered(receipt: dict, what: str, other_key: str) -> dict:
    r = dict(receipt)
    proof_head, _, cp = r["proof"].partition("\n\n")
    cp_text, _, sigs = cp.partition("\n\n")
    if what == "leaf":
        r["leaf"] = r["leaf"].replace('"debit":"10.00"', '"debit":"100.00"', 1)
        assert r["leaf"] != receipt["leaf"]
    elif what == "proof":
        lines = proof_head.split("\n")
        lines[-1] = base64.b64encode(bytes(32)).decode()
        r["proof"] = "\n".join(lines) + "\n\n" + cp
    elif what == "root":
        origin, size, _root = cp_text.split("\n")[:3]
        fake = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
        r["proof"] = f"{proof_head}\n\n{origin}\n{size}\n{fake}\n\n{sigs}"
    elif what == "signature":
        name, sig = sigs.rstrip("\n").split(" ")[1:3]
        raw = bytearray(base64.b64decode(sig))
        raw[-1] ^= 1
        bad = base64.b64encode(bytes(raw)).decode()
        r["proof"] = f"{proof_head}\n\n{cp_text}\n\n\u2014 {name} {bad}\n"
    elif what == "vkey":
        r["vkey"] = other_key
    return r


@pytest.mark.parametrize("what", ["leaf", "proof", "root", "signature", "vkey"])
def test_an_altered_receipt_fails(books: Api, business: dict, tmp_path: Path, what: str) -> None:
    bid = business["id"]
    for _ in range(5):
        post_entry(books, bid)
    entry = post_entry(books, bid)
    post_entry(books, bid)
    receipt = receipt_of(books, bid, entry["id"])
    _, other = note.generate_key("test.suanpan/chain")
    bad = _tampered(receipt, what, other)
    with pytest.raises(ChainError) as err:
        verify_receipt(bad["leaf"].encode(), bad["proof"], bad["vkey"])
    expected = {
        "leaf": LeafMismatchError,
        "proof": ProofError,
        "root": SignatureError,
        "signature": SignatureError,
        "vkey": SignatureError,
    }[what]
    assert isinstance(err.value, expected), err.value
    done = run_script(tmp_path, bad, "--vkey", bad["vkey"])
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.startswith("FAILED")
    if what == "vkey":  # pinning the real key catches a receipt that brings its own
        pinned = run_script(tmp_path, bad, "--vkey", receipt["vkey"])
        assert pinned.returncode == 0, pinned.stderr


def test_receipt_png_carries_the_receipt(books: Api, business: dict) -> None:
    bid = business["id"]
    entry = post_entry(books, bid, memo="小票")
    r = books.get(f"/businesses/{bid}/entries/{entry['id']}/receipt", query={"format": "png"})
    assert r.status_code == 200 and r.mimetype == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(r.data)))
    assert len(decoded) == 1
    carried = json.loads(decoded[0].text)
    assert carried == receipt_of(books, bid, entry["id"])
    verify_receipt(carried["leaf"].encode(), carried["proof"], carried["vkey"])


def test_receipt_png_links_when_the_receipt_is_too_big(books: Api, business: dict) -> None:
    bid = business["id"]
    lines = [{"account": "1001", "debit": "1.00", "memo": "很长的备注" * 20} for _ in range(20)]
    lines.append({"account": "5001", "credit": "20.00"})
    r = books.post(f"/businesses/{bid}/entries", {"date": "2026-03-01", "lines": lines})
    assert r.status_code == 201, r.get_json()
    eid = r.get_json()["id"]
    r = books.get(f"/businesses/{bid}/entries/{eid}/receipt", query={"format": "png"})
    assert r.status_code == 200 and r.mimetype == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(r.data)))
    assert [d.text for d in decoded] == [
        f"http://localhost/api/v1/businesses/{bid}/entries/{eid}/receipt"
    ]


def test_receipt_errors(books: Api, business: dict) -> None:
    bid = business["id"]
    body = {
        "date": "2026-03-01",
        "status": "draft",
        "lines": [{"account": "1001", "debit": "1.00"}, {"account": "5001", "credit": "1.00"}],
    }
    draft = books.post(f"/businesses/{bid}/entries", body).get_json()
    r = books.get(f"/businesses/{bid}/entries/{draft['id']}/receipt")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "entry_not_posted"
    r = books.get(f"/businesses/{bid}/entries/999999/receipt")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "entry_not_found"
    r = books.get(f"/businesses/{bid}/entries/{draft['id']}/receipt", query={"format": "gif"})
    assert r.status_code in (400, 422)


def test_members_read_the_log_and_employees_do_not(books: Api, business: dict) -> None:
    bid = business["id"]
    entry = post_entry(books, bid)
    viewer = join(books, books.token or "", bid, "viewer", "vic")
    employee = join(books, books.token or "", bid, "employee", "eddie")
    assert (
        books.get(f"/businesses/{bid}/entries/{entry['id']}/receipt", token=viewer).status_code
        == 200
    )
    r = books.get(f"/businesses/{bid}/chain/leaves/0", token=employee)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden_role"
    r = books.post(f"/businesses/{bid}/chain/seal", {}, token=viewer)
    assert r.status_code == 403
