// The entry detail's chain check: fetch the receipt, verify it here (chain/verify.ts) against the
// key the server publishes, and find the block whose tree the checkpoint signs.
import { ApiError } from '@/api/client'
import { fetchBlocks, fetchReceipt, fetchVkey } from '@/api/chain'
import type { Receipt } from '@/api/types'
import { VerifyError, verifyReceipt, type FailStage } from './verify'

export type ChainStatus =
  | { state: 'verifying' }
  | { state: 'ok'; block: number | null; index: number; size: number; receipt: Receipt }
  | { state: 'failed'; stage: FailStage | 'keyMismatch'; detail: string; receipt?: Receipt }
  | { state: 'unavailable'; error: ApiError }

let vkey: Promise<string> | null = null

/** The log key this server publishes (fetched once); receipts are checked against it. */
export function publishedKey(): Promise<string> {
  if (!vkey) vkey = fetchVkey().then((r) => r.vkey).catch((e) => ((vkey = null), Promise.reject(e)))
  return vkey
}

export async function checkEntry(businessId: number, entryId: number): Promise<ChainStatus> {
  let receipt: Receipt
  let key: string
  try {
    ;[receipt, key] = await Promise.all([fetchReceipt(businessId, entryId), publishedKey()])
  } catch (e) {
    return { state: 'unavailable', error: e instanceof ApiError ? e : new ApiError(0, 'network', String(e)) }
  }
  if (receipt.vkey !== key) return { state: 'failed', stage: 'keyMismatch', detail: receipt.vkey, receipt }
  try {
    const v = await verifyReceipt(receipt, key)
    let block: number | null = null
    try {
      const blocks = await fetchBlocks(businessId)
      block = blocks.items.find((b) => b.tree_size === v.size)?.height ?? null
    } catch {
      /* the check stands without the block number */
    }
    return { state: 'ok', block, index: v.index, size: v.size, receipt }
  } catch (e) {
    if (e instanceof VerifyError) return { state: 'failed', stage: e.stage, detail: e.message, receipt }
    throw e
  }
}

export function downloadReceipt(receipt: Receipt, name: string): void {
  const blob = new Blob([JSON.stringify(receipt, null, 1)], { type: 'application/json' })
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(a.href), 1000)
}
