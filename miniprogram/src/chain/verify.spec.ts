import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import fixture from './receipts.fixture.json'
import { leafHash, parseReceipt, rootFromProof, VerifyError, verifyReceipt, type Receipt } from './verify'

// Receipts issued by the real API (entries 1, 3, 5 of a 6-leaf log); each verifies with
// scripts/verify_receipt.py --vkey fixture.vkey.
const receipts = fixture.receipts as Receipt[]

async function failure(p: Promise<unknown>): Promise<VerifyError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(VerifyError)
    return e as VerifyError
  }
  throw new Error('expected verification to fail')
}

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16))
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

describe('verifyReceipt', () => {
  it('should accept every receipt the API issued, with the pinned key', async () => {
    for (const r of receipts) {
      const v = await verifyReceipt(r, fixture.vkey)
      expect(v.size).toBe(6)
      expect(v.origin).toBe('suanpan.local/chain/1')
    }
    expect((await verifyReceipt(receipts[1])).index).toBe(3)
  })

  it('should say the leaf was altered when one character of the record changes', async () => {
    const r = { ...receipts[0], leaf: receipts[0].leaf.replace('35.50', '36.50') }
    expect((await failure(verifyReceipt(r, fixture.vkey))).stage).toBe('leaf')
  })

  it('should reject a proof hash that was changed', async () => {
    const lines = receipts[1].proof.split('\n')
    const i = lines.findIndex((l) => l.startsWith('index ')) + 1
    lines[i] = (lines[i][0] === 'A' ? 'B' : 'A') + lines[i].slice(1)
    const e = await failure(verifyReceipt({ ...receipts[1], proof: lines.join('\n') }, fixture.vkey))
    expect(['proof', 'malformed']).toContain(e.stage)
  })

  it('should reject a checkpoint whose tree size was edited (signature no longer holds)', async () => {
    const proof = receipts[2].proof.replace('\nsuanpan.local/chain/1\n6\n', '\nsuanpan.local/chain/1\n7\n')
    expect(proof).not.toBe(receipts[2].proof)
    expect((await failure(verifyReceipt({ ...receipts[2], proof }, fixture.vkey))).stage).toBe('signature')
  })

  it('should reject a receipt checked against another key', async () => {
    const other = 'suanpan.local/chain+00000000+AVeRU+/F4doEp403T/lbs5NViUaH9V1EKfjJeSWWns92'
    expect((await failure(verifyReceipt(receipts[0], other))).stage).toBe('malformed')
  })

  it('should reject text that is not a tlog proof', async () => {
    expect((await failure(verifyReceipt({ ...receipts[0], proof: 'hello\n\nworld\n' }))).stage).toBe('malformed')
    expect(() => parseReceipt('{"leaf": 1}')).toThrow(VerifyError)
    expect(parseReceipt(JSON.stringify(receipts[0])).leaf).toBe(receipts[0].leaf)
  })
})

// RFC 6962 reference tree (transparency-dev/merkle), from the shared conformance folder.
const vectors = fileURLToPath(new URL('../../../../shared/conformance/rfc6962-merkle/reference-tree-8-leaves.json', import.meta.url))
describe.skipIf(!existsSync(vectors))('rootFromProof on the RFC 6962 reference tree', () => {
  it('should reproduce every reference root from its inclusion proof', async () => {
    const ref = JSON.parse(readFileSync(vectors, 'utf8'))
    for (const p of ref.inclusion_proofs) {
      const leaf = await leafHash(hex(ref.leaves[p.leaf_index]))
      expect(toHex(leaf)).toBe(p.leaf_hash)
      const root = await rootFromProof(p.leaf_index, p.tree_size, leaf, p.proof.map(hex))
      expect(toHex(root)).toBe(p.root)
    }
  })
})
