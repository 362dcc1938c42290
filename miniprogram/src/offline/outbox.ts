// The outbox: records made while offline, kept on the device in IndexedDB until the API has them.
// Each record gets its Idempotency-Key when it is made, and every attempt sends that same key, so
// a send whose answer was lost (the request reached the server, the network dropped) replays the
// first answer instead of posting twice. Nothing is removed before the server has answered.

import type { QuickRecord } from '@/api/types'

export interface OutboxItem {
  key: string // the Idempotency-Key, also the IndexedDB key
  businessId: number
  body: QuickRecord
  createdAt: string
  status: 'pending' | 'failed'
  error?: string
}

/** What a send attempt found: sent (answer received), retry later (network / server), or refused. */
export type SendResult = { ok: true } | { ok: false; retry: true } | { ok: false; retry: false; error: string }

const STORE = 'outbox'

function promisify<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

export class Outbox {
  private db: Promise<IDBDatabase>
  private flushing: Promise<number> | null = null

  constructor(idb: IDBFactory, name = 'suanpan') {
    this.db = new Promise((resolve, reject) => {
      const req = idb.open(name, 1)
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'key' })
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
  }

  private async store(mode: IDBTransactionMode): Promise<IDBObjectStore> {
    return (await this.db).transaction(STORE, mode).objectStore(STORE)
  }

  async add(item: Omit<OutboxItem, 'status' | 'createdAt'> & { createdAt?: string }): Promise<OutboxItem> {
    const full: OutboxItem = { createdAt: new Date().toISOString(), ...item, status: 'pending' }
    await promisify((await this.store('readwrite')).put(full))
    return full
  }

  async list(businessId?: number): Promise<OutboxItem[]> {
    const all = (await promisify((await this.store('readonly')).getAll())) as OutboxItem[]
    return all
      .filter((i) => businessId === undefined || i.businessId === businessId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  }

  async remove(key: string): Promise<void> {
    await promisify((await this.store('readwrite')).delete(key))
  }

  private async put(item: OutboxItem): Promise<void> {
    await promisify((await this.store('readwrite')).put(item))
  }

  /**
   * Send pending items oldest first, each with its own key. Stops at the first network or server
   * failure (the rest wait for the next flush); a refusal (4xx) marks that item failed and keeps
   * it for the user to see. Concurrent calls share one run. Returns how many were sent.
   */
  flush(send: (item: OutboxItem) => Promise<SendResult>): Promise<number> {
    if (!this.flushing) {
      this.flushing = this.run(send).finally(() => {
        this.flushing = null
      })
    }
    return this.flushing
  }

  private async run(send: (item: OutboxItem) => Promise<SendResult>): Promise<number> {
    let sent = 0
    for (const item of await this.list()) {
      if (item.status !== 'pending') continue
      const result = await send(item)
      if (result.ok) {
        await this.remove(item.key)
        sent++
      } else if (result.retry) {
        break
      } else {
        await this.put({ ...item, status: 'failed', error: result.error })
      }
    }
    return sent
  }
}
