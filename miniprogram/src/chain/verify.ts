// Verify a Suanpan ledger receipt in the browser, with no help from the server: the same checks,
// in the same order, as scripts/verify_receipt.py.
//   receipt = {"leaf": canonical JSON text, "proof": c2sp.org/tlog-proof@v1 text, "vkey": note key}
// RFC 9162 §2.1 hashing and §2.1.3.2 inclusion proofs (https://www.rfc-editor.org/rfc/rfc9162),
// C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 via WebCrypto, checkpoints
// (https://c2sp.org/tlog-checkpoint) and proofs (https://c2sp.org/tlog-proof).

export const PROOF_HEADER = 'c2sp.org/tlog-proof@v1'

/** Which check failed: the UI names it. */
export type FailStage = 'malformed' | 'signature' | 'proof' | 'leaf'

export class VerifyError extends Error {
  constructor(
    public stage: FailStage,
    message: string,
  ) {
    super(`${stage}: ${message}`)
    this.name = 'VerifyError'
  }
}

export interface Receipt {
  leaf: string
  proof: string
  vkey: string
}

export interface Verified {
  index: number
  size: number
  origin: string
  root: Uint8Array
}

const enc = new TextEncoder()

function fail(stage: FailStage, message: string): never {
  throw new VerifyError(stage, message)
}

export function b64decode(s: string, what: string, size?: number): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) fail('malformed', `${what} is not base64`)
  const bin = atob(s)
  const out = Uint8Array.from(bin, (c) => c.charCodeAt(0))
  if (size !== undefined && (out.length !== size || b64encode(out) !== s)) {
    fail('malformed', `${what} is not a canonical ${size}-byte value`)
  }
  return out
}

export function b64encode(b: Uint8Array): string {
  let s = ''
  for (const x of b) s += String.fromCharCode(x)
  return btoa(s)
}

function decimal(s: string, what: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(s) || s.length > 15) fail('malformed', `${what} "${s}" is not a canonical decimal`)
  return Number(s)
}

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  const len = parts.reduce((n, p) => n + p.length, 0)
  const buf = new Uint8Array(len)
  let off = 0
  for (const p of parts) {
    buf.set(p, off)
    off += p.length
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf))
}

const LEAF_PREFIX = new Uint8Array([0])
const NODE_PREFIX = new Uint8Array([1])

export const leafHash = (leaf: Uint8Array) => sha256(LEAF_PREFIX, leaf)
export const nodeHash = (left: Uint8Array, right: Uint8Array) => sha256(NODE_PREFIX, left, right)

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** Parse a note verifier key name+hex8+base64 -> name, 4-byte key id, 32-byte Ed25519 key. */
export async function parseVkey(vkey: string): Promise<{ name: string; kid: Uint8Array; pub: Uint8Array }> {
  const first = vkey.indexOf('+')
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1)
  if (first <= 0 || second < 0) fail('malformed', 'vkey is not name+hex8+base64')
  const name = vkey.slice(0, first)
  const hex = vkey.slice(first + 1, second)
  if (!/^[0-9a-fA-F]{8}$/.test(hex)) fail('malformed', 'vkey key id is not hex8')
  const kid = Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16))
  const key = b64decode(vkey.slice(second + 1), 'vkey key')
  if (key.length !== 33 || key[0] !== 0x01) fail('malformed', 'vkey is not an Ed25519 key')
  const id = (await sha256(enc.encode(name + '\n'), key)).slice(0, 4)
  if (!equal(id, kid)) fail('malformed', 'vkey key id does not match its key')
  return { name, kid, pub: key.slice(1) }
}

async function ed25519Verify(pub: Uint8Array, sig: Uint8Array, msg: Uint8Array): Promise<boolean> {
  if (sig.length !== 64) return false
  const key = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify'])
  return crypto.subtle.verify({ name: 'Ed25519' }, key, sig, msg)
}

/** Check the signed checkpoint's signature by vkey; return (origin, size, root). */
export async function openCheckpoint(note: string, vkey: string): Promise<{ origin: string; size: number; root: Uint8Array }> {
  const { name, kid, pub } = await parseVkey(vkey)
  for (const c of note) if (c < ' ' && c !== '\n') fail('malformed', 'checkpoint has control characters')
  const split = note.lastIndexOf('\n\n')
  if (split < 0 || !note.endsWith('\n')) fail('malformed', 'checkpoint is not a signed note')
  const text = note.slice(0, split + 1)
  const sigLines = note.slice(split + 2, -1).split('\n')
  let signed = false
  for (const line of sigLines) {
    if (!line.startsWith('\u2014 ') || !line.slice(2).includes(' ')) fail('malformed', 'bad signature line in checkpoint')
    const rest = line.slice(2)
    const sp = rest.indexOf(' ')
    const sigName = rest.slice(0, sp)
    const sig = b64decode(rest.slice(sp + 1), 'signature')
    if (sig.length < 5) fail('malformed', 'signature too short')
    if (sigName !== name || !equal(sig.slice(0, 4), kid)) continue // a witness's signature: ignore
    if (!(await ed25519Verify(pub, sig.slice(4), enc.encode(text)))) {
      fail('signature', `checkpoint signature by ${name} is INVALID`)
    }
    signed = true
  }
  if (!signed) fail('signature', `checkpoint carries no signature by ${name}`)
  const lines = text.slice(0, -1).split('\n')
  if (lines.length < 3 || !lines[0]) fail('malformed', 'checkpoint body')
  return { origin: lines[0], size: decimal(lines[1], 'tree size'), root: b64decode(lines[2], 'root', 32) }
}

/** RFC 9162 §2.1.3.2: the root an inclusion proof leads to. */
export async function rootFromProof(index: number, size: number, leaf: Uint8Array, path: Uint8Array[]): Promise<Uint8Array> {
  if (index >= size) fail('proof', `index ${index} is not below tree size ${size}`)
  let fn = index
  let sn = size - 1
  let r = leaf
  for (const p of path) {
    if (sn === 0) fail('proof', 'inclusion proof has too many hashes')
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r)
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2)
        sn = Math.floor(sn / 2)
      }
    } else {
      r = await nodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  if (sn !== 0) fail('proof', 'inclusion proof has too few hashes')
  return r
}

/** Verify leaf text + tlog-proof text against vkey; resolves with where the leaf is, or throws VerifyError. */
export async function verifyReceipt(receipt: Receipt, vkey: string = receipt.vkey): Promise<Verified> {
  if (typeof receipt?.leaf !== 'string' || typeof receipt?.proof !== 'string') {
    fail('malformed', 'a receipt has "leaf" and "proof" texts')
  }
  if (typeof vkey !== 'string') fail('malformed', 'no log key')
  const sep = receipt.proof.indexOf('\n\n')
  const lines = (sep < 0 ? receipt.proof : receipt.proof.slice(0, sep)).split('\n')
  if (sep < 0 || lines[0] !== PROOF_HEADER) fail('malformed', `proof is not ${PROOF_HEADER} text`)
  const note = receipt.proof.slice(sep + 2)
  let extra: Uint8Array | null = null
  if (lines.length > 1 && lines[1].startsWith('extra ')) extra = b64decode(lines.splice(1, 1)[0].slice(6), 'extra')
  if (lines.length < 2 || !lines[1].startsWith('index ')) fail('malformed', 'proof has no index line')
  const index = decimal(lines[1].slice(6), 'index')
  const path = lines.slice(2).map((h) => b64decode(h, 'proof hash', 32))
  const { origin, size, root } = await openCheckpoint(note, vkey)
  const lh = await leafHash(enc.encode(receipt.leaf))
  if (!equal(await rootFromProof(index, size, lh, path), root)) {
    if (extra && extra.length === 32 && !equal(extra, lh)) fail('leaf', 'this leaf is not the one the receipt was issued for')
    fail('proof', 'inclusion proof does not lead to the signed root')
  }
  return { index, size, origin, root }
}

/** Read a receipt from text (a file's contents or a QR code's payload). */
export function parseReceipt(text: string): Receipt {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    fail('malformed', 'the receipt is not JSON')
  }
  const r = data as Partial<Receipt>
  if (!r || typeof r.leaf !== 'string' || typeof r.proof !== 'string' || typeof r.vkey !== 'string') {
    fail('malformed', 'a receipt has "leaf", "proof" and "vkey"')
  }
  return r as Receipt
}
