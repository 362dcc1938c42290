import { get } from './client'
import type { Block, Receipt } from './types'

export const fetchVkey = () => get<{ vkey: string }>('/chain/key', { auth: false, silent: true })

export const fetchReceipt = (bid: number, entryId: number) =>
  get<Receipt>(`/businesses/${bid}/entries/${entryId}/receipt`, { silent: true })

export const fetchBlocks = (bid: number, before?: number | null) =>
  get<{ items: Block[]; next_before: number | null }>(`/businesses/${bid}/chain/blocks`, {
    query: { before: before ?? undefined },
  })
