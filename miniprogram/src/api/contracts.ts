// Rule contracts and payments (app/api/contracts.py, app/api/payments.py; docs/contracts.md).
import { get, post, type RequestOptions } from './client'

const biz = (id: number) => `/businesses/${id}`

export interface Contract {
  id: number
  name: string
  priority: number
  enabled: boolean
  template: string | null
  trigger: string
  latest_version: number
  deployed_version: number | null
  deployed_hash: string | null
}

export interface TemplateField {
  name: string
  kind: 'money' | 'percent' | 'account' | 'text' | 'day' | 'method'
  label: string
  default: string | number | null
}

export interface Template {
  key: string
  title: string
  description: string
  fields: TemplateField[]
}

export interface Run {
  id: number
  contract: number
  version: number
  trigger: { leaf: number; hash: string; type: string }
  decision: 'fired' | 'skipped' | 'refused' | 'error'
  reason: string
  actions: Array<Record<string, unknown>>
  leaf: number | null
  created_at: string
}

export interface DryRun {
  evaluated: number
  fired: number
  results: Array<{ leaf: number | null; date: string; decision: string; reason: string; actions: Array<Record<string, unknown>> }>
}

export interface Payment {
  id: number
  payee: string
  payee_name: string
  amount: string
  memo: string
  status: string
  provider: string
  approval_roles: string[]
  run: number | null
  /** Submitted to WeChat Pay as a 商家转账 that the payee has not accepted yet. */
  waiting_for_payee: boolean
  last_error: string | null
  created_at: string
}

/** What wx.requestMerchantTransfer takes (商家转账's confirmation step). */
export interface MerchantTransferParams {
  mchId: string
  appId: string
  package: string
  openId: string
}

/** One of the caller's own WeChat transfers waiting for them to accept. */
export interface TransferToConfirm {
  id: number
  amount: string
  memo: string
  created_at: string
  confirm: MerchantTransferParams
}

/** POST .../refresh as the payee sees it (owners and bookkeepers get the whole Payment). */
export interface PaymentState {
  id: number
  amount: string
  memo: string
  status: string
  waiting_for_payee: boolean
}

export const fetchContracts = (b: number) => get<{ items: Contract[] }>(`${biz(b)}/contracts`)
export const fetchTemplates = (b: number) => get<{ items: Template[] }>(`${biz(b)}/contracts/templates`)
export const fetchRuns = (b: number) => get<{ items: Run[] }>(`${biz(b)}/contracts/runs`)
export const createFromTemplate = (b: number, key: string, params: Record<string, unknown>) =>
  post<Contract>(`${biz(b)}/contracts/templates/${key}`, { params })
export const deployContract = (b: number, id: number) => post<Contract>(`${biz(b)}/contracts/${id}/deploy`, {})
export const setEnabled = (b: number, id: number, on: boolean) =>
  post<Contract>(`${biz(b)}/contracts/${id}/${on ? 'enable' : 'disable'}`, {})
export const dryRun = (b: number, id: number, months = 3) => post<DryRun>(`${biz(b)}/contracts/${id}/dry-run`, { months })
export const fetchAwaitingPayments = (b: number) =>
  get<{ items: Payment[] }>(`${biz(b)}/payments`, { query: { status: 'awaiting_approval' } })
export const approvePayment = (b: number, id: number) => post<Payment>(`${biz(b)}/payments/${id}/approve`, {})
export const cancelPayment = (b: number, id: number, opts?: RequestOptions) =>
  post<Payment>(`${biz(b)}/payments/${id}/cancel`, {}, opts)
export const fetchSubmittedPayments = (b: number) =>
  get<{ items: Payment[] }>(`${biz(b)}/payments`, { query: { status: 'submitted' } })
export const fetchTransfersToConfirm = (b: number, opts?: RequestOptions) =>
  get<{ items: TransferToConfirm[] }>(`${biz(b)}/payments/to-confirm`, opts)
export const refreshPayment = (b: number, id: number, opts?: RequestOptions) =>
  post<PaymentState>(`${biz(b)}/payments/${id}/refresh`, {}, opts)
