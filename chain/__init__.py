"""chain: the tamper-evident ledger log of Suanpan, with no I/O and no app imports.

Ledger events become leaves of an RFC 9162 Merkle log (``tlog``, ``proof``), whose tree
heads are published as C2SP checkpoints signed with Ed25519 signed notes (``note``,
``checkpoint``). Members get receipts in the C2SP tlog-proof format (``receipt``) that
verify offline. Storage is whatever implements ``HashReader``.

The modules follow Go's golang.org/x/mod/sumdb/tlog and sumdb/note, so their public test
vectors apply. Import submodules for the full API; the common names are re-exported here.
"""

from chain.blocks import GENESIS_PREV_HASH, BlockHeader, utc_timestamp, verify_chain
from chain.canonical import canonical_json
from chain.checkpoint import (
    Checkpoint,
    format_checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from chain.errors import (
    BrokenChainError,
    ChainError,
    InvalidSignatureError,
    LeafMismatchError,
    MalformedError,
    PassphraseError,
    ProofError,
    SignatureError,
    StorageError,
    UnverifiedNoteError,
)
from chain.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from chain.keys import (
    envelope_vkey,
    generate_signing_key,
    load_signer,
    open_signing_key,
    seal_signing_key,
)
from chain.note import Note, Signer, Verifier, new_signer, new_verifier
from chain.note import open as open_note
from chain.note import sign as sign_note
from chain.proof import (
    check_record,
    check_tree,
    prove_record,
    prove_tree,
    root_from_inclusion_proof,
)
from chain.receipt import (
    TlogProof,
    VerifiedReceipt,
    format_proof,
    issue_proof,
    parse_proof,
    verify_receipt,
)
from chain.tlog import (
    HashReader,
    MemoryHashStore,
    split_stored_hash_index,
    stored_hash_count,
    stored_hash_index,
    stored_hashes,
    stored_hashes_for_leaf_hash,
    tree_hash,
)

__all__ = [
    "EMPTY_ROOT",
    "GENESIS_PREV_HASH",
    "HASH_SIZE",
    "BlockHeader",
    "BrokenChainError",
    "ChainError",
    "Checkpoint",
    "HashReader",
    "InvalidSignatureError",
    "LeafMismatchError",
    "MalformedError",
    "MemoryHashStore",
    "Note",
    "PassphraseError",
    "ProofError",
    "SignatureError",
    "Signer",
    "StorageError",
    "TlogProof",
    "UnverifiedNoteError",
    "VerifiedReceipt",
    "Verifier",
    "canonical_json",
    "check_record",
    "check_tree",
    "envelope_vkey",
    "format_checkpoint",
    "format_proof",
    "generate_signing_key",
    "issue_proof",
    "leaf_hash",
    "load_signer",
    "new_signer",
    "new_verifier",
    "node_hash",
    "open_checkpoint",
    "open_note",
    "open_signing_key",
    "parse_checkpoint",
    "parse_proof",
    "prove_record",
    "prove_tree",
    "root_from_inclusion_proof",
    "seal_signing_key",
    "sign_checkpoint",
    "sign_note",
    "split_stored_hash_index",
    "stored_hash_count",
    "stored_hash_index",
    "stored_hashes",
    "stored_hashes_for_leaf_hash",
    "tree_hash",
    "utc_timestamp",
    "verify_chain",
    "verify_receipt",
]
