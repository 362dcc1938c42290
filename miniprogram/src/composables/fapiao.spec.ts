import { describe, expect, it } from 'vitest'
import { parseFapiao } from './fapiao'

describe('parseFapiao', () => {
  it('should read a legacy electronic ordinary invoice', () => {
    expect(parseFapiao('01,10,011001605111,80100798,64.9,20161018,85342965681116380258')).toEqual({
      kind: '10', code: '011001605111', number: '80100798', amount: '64.90', date: '2016-10-18',
    })
  })
  it('should read a 数电票 without 发票代码 and with a trailing comma', () => {
    expect(parseFapiao('01,32,,24312000000136634917,0.01,20240514,,1DD6,')?.number).toBe('24312000000136634917')
  })
  it('should refuse what is not a fapiao', () => {
    expect(parseFapiao('https://example.com')).toBeNull()
    expect(parseFapiao('01,10,,80100798,64.9,20161018,1')).toBeNull()
    expect(parseFapiao('01,10,011001605111,80100798,64.9,20160230,1')).toBeNull()
    expect(parseFapiao('01,10,011001605111,80100798,64.999,20161018,1')).toBeNull()
  })
})
