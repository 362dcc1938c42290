import { rawRequest, ApiError } from './client'
import { parseEventStream, type SseEvent } from './sse'

/**
 * Follow a business's live feed (GET .../events) until the returned stop() is called. Each
 * response is short; after it ends the next request waits the server's `retry` delay and sends
 * Last-Event-ID, so an open dashboard never holds a server worker. Paused while the page is hidden.
 */
export function followBusiness(businessId: number, onEvent: (e: SseEvent) => void): () => void {
  let stopped = false
  let lastId: string | null = null
  let retry = 2000
  let controller: AbortController | null = null
  let timer: ReturnType<typeof setTimeout> | null = null

  const schedule = (ms: number) => {
    if (!stopped) timer = setTimeout(tick, ms)
  }

  async function tick(): Promise<void> {
    timer = null
    if (stopped || document.visibilityState === 'hidden') return // resumes on visibilitychange
    controller = new AbortController()
    let next = retry
    try {
      const res = await rawRequest('GET', `/businesses/${businessId}/events`, {
        headers: { Accept: 'text/event-stream', ...(lastId ? { 'Last-Event-ID': lastId } : {}) },
        signal: controller.signal,
      })
      const parsed = parseEventStream(await res.text(), lastId)
      lastId = parsed.lastId
      if (parsed.retry) retry = next = parsed.retry
      for (const e of parsed.events) if (!stopped) onEvent(e)
    } catch (e) {
      if (stopped || (e as Error).name === 'AbortError') return
      // Offline or server trouble: back off more than the server asks.
      next = e instanceof ApiError && e.status === 401 ? retry * 5 : retry * 2
    } finally {
      controller = null
    }
    schedule(next)
  }

  const onVisible = () => {
    if (document.visibilityState === 'visible' && !timer && !controller) schedule(0)
  }
  document.addEventListener('visibilitychange', onVisible)
  void tick()

  return () => {
    stopped = true
    if (timer) clearTimeout(timer)
    controller?.abort()
    document.removeEventListener('visibilitychange', onVisible)
  }
}
