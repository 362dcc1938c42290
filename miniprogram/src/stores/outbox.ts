import { defineStore } from 'pinia'
import { ref } from 'vue'
import { showToast } from 'vant'
import { ApiError, errorMessage } from '@/api/client'
import { quickRecord } from '@/api/ledger'
import type { Entry, QuickRecord } from '@/api/types'
import { t } from '@/locales'
import { Outbox, type OutboxItem, type SendResult } from '@/offline/outbox'
import { newKey } from '@/utils/ids'

/** Records waiting on this device (待同步), and the one way the app saves a quick record. */
export const useOutboxStore = defineStore('outbox', () => {
  const box = typeof indexedDB !== 'undefined' ? new Outbox(indexedDB) : null
  const items = ref<OutboxItem[]>([])
  const online = ref(typeof navigator === 'undefined' ? true : navigator.onLine)
  const syncedCount = ref(0) // grows on each successful sync: pages watch it to reload

  async function refresh(): Promise<void> {
    if (box) items.value = await box.list()
  }

  async function send(item: OutboxItem): Promise<SendResult> {
    try {
      await quickRecord(item.businessId, item.body, { idempotencyKey: item.key, silent: true })
      return { ok: true }
    } catch (e) {
      if (e instanceof ApiError && !e.isNetwork && e.status < 500 && e.status !== 401 && e.status !== 429) {
        return { ok: false, retry: false, error: errorMessage(e) }
      }
      return { ok: false, retry: true }
    }
  }

  async function flush(): Promise<void> {
    if (!box) return
    await refresh()
    if (!items.value.some((i) => i.status === 'pending')) return
    const sent = await box.flush(send)
    await refresh()
    if (sent) {
      syncedCount.value += sent
      showToast(t('offline.synced', { n: sent }))
    }
  }

  /**
   * Save a quick record: the key is made first, so the online attempt and every later retry from
   * the outbox are one request to the server. On a network failure the record stays on the
   * device (status 待同步) and is sent when the network is back.
   */
  async function record(businessId: number, body: QuickRecord): Promise<{ entry: Entry | null; queued: boolean }> {
    const key = newKey()
    if (box && !navigator.onLine) {
      await box.add({ key, businessId, body })
      await refresh()
      return { entry: null, queued: true }
    }
    try {
      return { entry: await quickRecord(businessId, body, { idempotencyKey: key, silent: true }), queued: false }
    } catch (e) {
      if (box && e instanceof ApiError && (e.isNetwork || e.status >= 500)) {
        await box.add({ key, businessId, body })
        await refresh()
        return { entry: null, queued: true }
      }
      throw e
    }
  }

  async function discard(key: string): Promise<void> {
    await box?.remove(key)
    await refresh()
  }

  function start(): void {
    window.addEventListener('online', () => {
      online.value = true
      void flush()
    })
    window.addEventListener('offline', () => {
      online.value = false
    })
    // Also retry now and then: 'online' is not fired for every kind of outage (server down).
    setInterval(() => {
      if (navigator.onLine && items.value.some((i) => i.status === 'pending')) void flush()
    }, 15000)
    void flush()
  }

  return { items, online, syncedCount, refresh, flush, record, discard, start }
})
