/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}

// The WeChat client's JS bridge, only what the app uses: present inside WeChat, absent in an
// ordinary browser (src/payments/merchantTransfer.ts checks before calling).
interface WxCallbackResult {
  errMsg: string
}
interface WxMerchantTransferOptions {
  mchId: string
  appId: string
  package: string
  openId?: string
  success?: (res: WxCallbackResult) => void
  fail?: (res: WxCallbackResult) => void
  complete?: (res: WxCallbackResult) => void
}
interface WxBridge {
  /** 商家转账: opens WeChat's page where the payee accepts a transfer (base library >= 3.3.0). */
  requestMerchantTransfer?: (options: WxMerchantTransferOptions) => void
}
interface Window {
  wx?: WxBridge
}
