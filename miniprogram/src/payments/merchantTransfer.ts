// 商家转账's confirmation step (docs/contracts.md): WeChat Pay holds a transfer until the payee
// accepts it in the WeChat client, which the mini program opens with
// wx.requestMerchantTransfer({mchId, appId, package, openId}) (base library 3.3.0 and later).
// Outside WeChat there is no such call: the app says so and calls nothing. After WeChat reports
// success the server is asked where the payment stands (POST .../payments/{id}/refresh); the
// money may still be on its way, so "submitted" then means "processing", not failure.

import type { MerchantTransferParams, PaymentState } from '@/api/contracts'

export type RequestMerchantTransfer = NonNullable<WxBridge['requestMerchantTransfer']>

/** wx.requestMerchantTransfer when running inside WeChat, else null. */
export function merchantTransferApi(scope: { wx?: WxBridge } | undefined = globalThis as { wx?: WxBridge }): RequestMerchantTransfer | null {
  const wx = scope?.wx
  return wx && typeof wx.requestMerchantTransfer === 'function' ? wx.requestMerchantTransfer.bind(wx) : null
}

export type WeChatAnswer = { ok: true } | { ok: false; cancelled: boolean; errMsg: string }

/** One call to the WeChat client, as a promise (it answers through success / fail callbacks). */
export function askWeChat(api: RequestMerchantTransfer, params: MerchantTransferParams): Promise<WeChatAnswer> {
  return new Promise((resolve) => {
    try {
      api({
        mchId: params.mchId,
        appId: params.appId,
        package: params.package,
        openId: params.openId,
        success: () => resolve({ ok: true }),
        fail: (res) => {
          const errMsg = res?.errMsg ?? ''
          resolve({ ok: false, cancelled: /cancel/i.test(errMsg), errMsg })
        },
      })
    } catch (e) {
      resolve({ ok: false, cancelled: false, errMsg: e instanceof Error ? e.message : String(e) })
    }
  })
}

/**
 * What became of an accept (or a refresh):
 * - unavailable: not inside WeChat, nothing was called;
 * - cancelled / wechat_failed: the WeChat client did not accept it (the transfer still waits);
 * - succeeded: the money arrived; processing: accepted, WeChat Pay has not finished;
 * - waiting: still waiting for the payee (a refresh before accepting);
 * - closed: the transfer failed or was withdrawn by the business;
 * - unknown: WeChat accepted it but the server could not be asked (try 刷新 later).
 */
export type Outcome =
  | { kind: 'unavailable' }
  | { kind: 'cancelled' }
  | { kind: 'wechat_failed'; errMsg: string }
  | { kind: 'succeeded' | 'processing' | 'waiting' | 'closed'; payment: PaymentState }
  | { kind: 'unknown'; error: unknown }

/** Where a payment stands, from the server's answer. */
export function outcomeOf(payment: PaymentState): Outcome {
  if (payment.status === 'succeeded') return { kind: 'succeeded', payment }
  if (payment.status === 'failed' || payment.status === 'cancelled') return { kind: 'closed', payment }
  if (payment.waiting_for_payee) return { kind: 'waiting', payment }
  return { kind: 'processing', payment }
}

export interface AcceptDeps {
  /** wx.requestMerchantTransfer, or null outside WeChat. */
  api: RequestMerchantTransfer | null
  /** POST .../payments/{id}/refresh */
  refresh: (id: number) => Promise<PaymentState>
}

/** Accept one transfer: open WeChat's confirmation page, then ask the server for the result. */
export async function acceptTransfer(item: { id: number; confirm: MerchantTransferParams }, deps: AcceptDeps): Promise<Outcome> {
  if (!deps.api) return { kind: 'unavailable' }
  const answer = await askWeChat(deps.api, item.confirm)
  if (!answer.ok) return answer.cancelled ? { kind: 'cancelled' } : { kind: 'wechat_failed', errMsg: answer.errMsg }
  let payment: PaymentState
  try {
    payment = await deps.refresh(item.id)
  } catch (error) {
    return { kind: 'unknown', error }
  }
  const outcome = outcomeOf(payment)
  // WeChat said the payee accepted: if the server has not heard yet, it is on its way.
  return outcome.kind === 'waiting' ? { kind: 'processing', payment } : outcome
}
