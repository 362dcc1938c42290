// Server-Sent Events over fetch. Native EventSource cannot send the Authorization header, so the
// app reads the API's short SSE responses (each ends after `retry` and a few frames) with fetch,
// and reconnects after the server's retry delay with Last-Event-ID, as EventSource would.
// Parsing follows https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

export interface SseEvent {
  event: string
  data: string
  id: string | null
}

export interface ParseResult {
  events: SseEvent[]
  lastId: string | null
  retry: number | null
}

/** Parse a complete event-stream text. */
export function parseEventStream(text: string, lastId: string | null = null): ParseResult {
  const events: SseEvent[] = []
  let retry: number | null = null
  let event = ''
  let data: string[] = []
  let id = lastId
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (raw === '') {
      if (data.length) events.push({ event: event || 'message', data: data.join('\n'), id })
      event = ''
      data = []
      continue
    }
    if (raw.startsWith(':')) continue
    const colon = raw.indexOf(':')
    const field = colon < 0 ? raw : raw.slice(0, colon)
    let value = colon < 0 ? '' : raw.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
    else if (field === 'id' && !value.includes('\0')) id = value
    else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value)
  }
  return { events, lastId: id, retry }
}
