import { describe, expect, it } from 'vitest'
import { parseEventStream } from './sse'

describe('parseEventStream', () => {
  it('should read the hello frame and the retry hint of a first connection', () => {
    const r = parseEventStream('retry: 2000\n\nid: 7\nevent: hello\ndata: {"business_id":1}\n\n')
    expect(r.retry).toBe(2000)
    expect(r.lastId).toBe('7')
    expect(r.events).toEqual([{ event: 'hello', data: '{"business_id":1}', id: '7' }])
  })

  it('should read several entry frames and keep the last id', () => {
    const text = 'retry: 2000\n\nid: 8\nevent: entry\ndata: {"id":8}\n\nid: 9\nevent: entry\ndata: {"id":9}\n\n'
    const r = parseEventStream(text, '7')
    expect(r.events.map((e) => e.id)).toEqual(['8', '9'])
    expect(r.lastId).toBe('9')
  })

  it('should keep the previous id when a response has no frames, and ignore comments', () => {
    const r = parseEventStream(': keep-alive\r\nretry: 2000\r\n\r\n', '9')
    expect(r.events).toEqual([])
    expect(r.lastId).toBe('9')
  })

  it('should not dispatch an unfinished frame', () => {
    expect(parseEventStream('event: entry\ndata: {"id":1}').events).toEqual([])
  })
})
