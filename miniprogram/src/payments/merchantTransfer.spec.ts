import { describe, expect, it, vi } from 'vitest'
import type { PaymentState } from '@/api/contracts'
import { acceptTransfer, merchantTransferApi, outcomeOf, type RequestMerchantTransfer } from './merchantTransfer'

const confirm = { mchId: '1900000109', appId: 'wx-test-app', package: 'affffddafdfafddffda==', openId: 'o-emma' }
const item = { id: 7, confirm }
const state = (status: string, waiting = false): PaymentState => ({ id: 7, amount: '66.00', memo: '货款', status, waiting_for_payee: waiting })

/** A stand-in for the WeChat client: records the call and answers as told. */
function wechat(answer: 'ok' | 'cancel' | 'fail' | 'throw') {
  const calls: Array<Record<string, unknown>> = []
  const api: RequestMerchantTransfer = (opts) => {
    const { success, fail, complete, ...args } = opts
    calls.push(args)
    if (answer === 'throw') throw new Error('requestMerchantTransfer is not a function')
    const res = { errMsg: answer === 'ok' ? 'requestMerchantTransfer:ok' : answer === 'cancel' ? 'requestMerchantTransfer:fail cancel' : 'requestMerchantTransfer:fail system error' }
    setTimeout(() => {
      ;(answer === 'ok' ? success : fail)?.(res)
      complete?.(res)
    })
  }
  return { api, calls }
}

describe('merchantTransferApi', () => {
  it('finds wx.requestMerchantTransfer inside WeChat', () => {
    const wx = { requestMerchantTransfer: vi.fn() }
    const api = merchantTransferApi({ wx })
    expect(api).toBeTypeOf('function')
    api!({ mchId: 'm', appId: 'a', package: 'p' })
    expect(wx.requestMerchantTransfer).toHaveBeenCalledOnce()
  })

  it('is null in an ordinary browser or an old WeChat without the call', () => {
    expect(merchantTransferApi({})).toBeNull()
    expect(merchantTransferApi({ wx: {} })).toBeNull()
    expect(merchantTransferApi(undefined)).toBeNull()
    expect(merchantTransferApi()).toBeNull() // Node: no wx global
  })
})

describe('acceptTransfer', () => {
  it('outside WeChat calls nothing, not even the server', async () => {
    const refresh = vi.fn()
    expect(await acceptTransfer(item, { api: null, refresh })).toEqual({ kind: 'unavailable' })
    expect(refresh).not.toHaveBeenCalled()
  })

  it('passes the transfer parameters to WeChat, then asks the server', async () => {
    const { api, calls } = wechat('ok')
    const refresh = vi.fn().mockResolvedValue(state('succeeded'))
    const outcome = await acceptTransfer(item, { api, refresh })
    expect(calls).toEqual([confirm])
    expect(refresh).toHaveBeenCalledWith(7)
    expect(outcome.kind).toBe('succeeded')
  })

  it('accepted but not finished at WeChat Pay is processing, not waiting', async () => {
    const { api } = wechat('ok')
    for (const answer of [state('submitted', true), state('submitted', false)]) {
      expect((await acceptTransfer(item, { api, refresh: async () => answer })).kind).toBe('processing')
    }
  })

  it('a transfer that failed or was withdrawn is closed', async () => {
    const { api } = wechat('ok')
    expect((await acceptTransfer(item, { api, refresh: async () => state('cancelled') })).kind).toBe('closed')
    expect((await acceptTransfer(item, { api, refresh: async () => state('failed') })).kind).toBe('closed')
  })

  it('the payee closing WeChat’s page is a cancel, and the server is not asked', async () => {
    const { api } = wechat('cancel')
    const refresh = vi.fn()
    expect(await acceptTransfer(item, { api, refresh })).toEqual({ kind: 'cancelled' })
    expect(refresh).not.toHaveBeenCalled()
  })

  it('a failure in WeChat keeps its message', async () => {
    expect(await acceptTransfer(item, { api: wechat('fail').api, refresh: vi.fn() })).toEqual({
      kind: 'wechat_failed',
      errMsg: 'requestMerchantTransfer:fail system error',
    })
    expect((await acceptTransfer(item, { api: wechat('throw').api, refresh: vi.fn() })).kind).toBe('wechat_failed')
  })

  it('accepted in WeChat but the server cannot be reached: unknown, to refresh later', async () => {
    const error = new Error('offline')
    const outcome = await acceptTransfer(item, { api: wechat('ok').api, refresh: () => Promise.reject(error) })
    expect(outcome).toEqual({ kind: 'unknown', error })
  })
})

describe('outcomeOf (刷新)', () => {
  it('tells waiting, processing, succeeded and closed apart', () => {
    expect(outcomeOf(state('submitted', true)).kind).toBe('waiting')
    expect(outcomeOf(state('submitted', false)).kind).toBe('processing')
    expect(outcomeOf(state('succeeded')).kind).toBe('succeeded')
    expect(outcomeOf(state('cancelled')).kind).toBe('closed')
  })
})
