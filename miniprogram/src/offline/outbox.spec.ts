import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import { Outbox, type OutboxItem, type SendResult } from './outbox'

const body = { kind: 'expense' as const, amount: '35.50', category: 'meals', paid_with: 'cash' as const }
let n = 0
const fresh = () => new Outbox(indexedDB, `test-${n++}`)

describe('Outbox', () => {
  it('should keep items on the device until they are sent', async () => {
    const box = fresh()
    await box.add({ key: 'k1', businessId: 1, body })
    await box.add({ key: 'k2', businessId: 2, body })
    expect((await box.list()).map((i) => i.key)).toEqual(['k1', 'k2'])
    expect((await box.list(2)).map((i) => i.key)).toEqual(['k2'])
    expect((await box.list())[0].status).toBe('pending')
  })

  it('should send each item with its own idempotency key and remove it once answered', async () => {
    const box = fresh()
    await box.add({ key: 'k1', businessId: 1, body })
    await box.add({ key: 'k2', businessId: 1, body, createdAt: '2999-01-01T00:00:00Z' })
    const seen: string[] = []
    const sent = await box.flush(async (i) => {
      seen.push(i.key)
      return { ok: true }
    })
    expect(sent).toBe(2)
    expect(seen).toEqual(['k1', 'k2'])
    expect(await box.list()).toEqual([])
  })

  it('should keep everything and stop at a network failure, then resend with the same key', async () => {
    const box = fresh()
    await box.add({ key: 'k1', businessId: 1, body })
    await box.add({ key: 'k2', businessId: 1, body, createdAt: '2999-01-01T00:00:00Z' })
    const keys: string[] = []
    const offline = async (i: OutboxItem): Promise<SendResult> => {
      keys.push(i.key)
      return { ok: false, retry: true }
    }
    expect(await box.flush(offline)).toBe(0)
    expect(keys).toEqual(['k1'])
    expect(await box.list()).toHaveLength(2)
    expect(await box.flush(async (i) => (keys.push(i.key), { ok: true }))).toBe(2)
    expect(keys).toEqual(['k1', 'k1', 'k2'])
  })

  it('should mark a refused item failed, keep it, and go on with the rest', async () => {
    const box = fresh()
    await box.add({ key: 'bad', businessId: 1, body })
    await box.add({ key: 'good', businessId: 1, body, createdAt: '2999-01-01T00:00:00Z' })
    const sent = await box.flush(async (i) => (i.key === 'bad' ? { ok: false, retry: false, error: 'period_closed' } : { ok: true }))
    expect(sent).toBe(1)
    const [left] = await box.list()
    expect(left).toMatchObject({ key: 'bad', status: 'failed', error: 'period_closed' })
    expect(await box.flush(async () => ({ ok: true }))).toBe(0)
  })

  it('should share one run between concurrent flushes (no double send)', async () => {
    const box = fresh()
    await box.add({ key: 'k1', businessId: 1, body })
    let calls = 0
    const send = async (): Promise<SendResult> => {
      calls++
      await new Promise((r) => setTimeout(r, 10))
      return { ok: true }
    }
    await Promise.all([box.flush(send), box.flush(send), box.flush(send)])
    expect(calls).toBe(1)
  })
})
