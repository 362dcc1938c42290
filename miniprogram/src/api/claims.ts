// Receipts and expense claims (app/api/receipts.py, app/api/claims.py; docs/receipts.md).
import { get, post, postForm, type RequestOptions } from './client'

const biz = (id: number) => `/businesses/${id}`

export interface Fapiao {
  kind: string
  kind_name: string
  kind_name_en: string
  code: string | null
  number: string
  invoice_key: string
  digital: boolean
  special: boolean
  amount: string
  amount_basis: 'excl_tax' | 'incl_tax_unconfirmed' | 'unknown'
  date: string
  check_code: string | null
}

export interface Receipt {
  id: number
  claim_id: number | null
  sha256: string
  width: number
  height: number
  qr_found: boolean
  qr_raw: string | null
  fapiao: Fapiao | null
  amount: string | null
  amount_basis: string
  invoice_date: string | null
  seller: string
  image_url: string
  thumb_url: string
  duplicate_photo_of?: number[]
}

export interface Flag {
  code: string
  severity: 'warn' | 'block'
  message: string
  message_en: string
}

export type ClaimStatus = 'draft' | 'submitted' | 'returned' | 'approved' | 'rejected' | 'paid'

export interface Claim {
  id: number
  status: ClaimStatus
  employee: { user_id: number; name: string }
  category: string
  amount: string
  tax_amount: string | null
  memo: string
  project: string
  date: string
  flags: Flag[]
  no_qr: boolean
  needs_owner: boolean
  first_approved_by: number | null
  reason: string
  entry_id: number | null
  payment_entry_id: number | null
  submitted_at: string | null
  receipts: Receipt[]
  history?: { action: string; name: string; reason: string; at: string }[]
}

export interface NewClaim {
  category: string
  amount: string
  receipts: number[]
  memo?: string
  project?: string
  date?: string
  seller?: string
  submit?: boolean
}

export function uploadReceipt(bid: number, photo: Blob, name = 'receipt.jpg', opts?: RequestOptions) {
  const form = new FormData()
  form.append('file', photo, name)
  return postForm<Receipt>(`${biz(bid)}/receipts`, form, opts)
}

export const createClaim = (bid: number, body: NewClaim, opts?: RequestOptions) =>
  post<Claim>(`${biz(bid)}/claims`, body, opts)

export const fetchClaims = (bid: number, query: { status?: ClaimStatus; mine?: 'true'; awaiting?: 'true' } = {}, opts?: RequestOptions) =>
  get<{ items: Claim[]; awaiting_me: number }>(`${biz(bid)}/claims`, { ...opts, query })

export const fetchClaim = (bid: number, id: number) => get<Claim>(`${biz(bid)}/claims/${id}`)

export const approveClaim = (bid: number, id: number, body: { tax_amount?: string } = {}) =>
  post<Claim>(`${biz(bid)}/claims/${id}/approve`, body)

export const rejectClaim = (bid: number, id: number, reason: string) =>
  post<Claim>(`${biz(bid)}/claims/${id}/reject`, { reason })

export const returnClaim = (bid: number, id: number, reason: string) =>
  post<Claim>(`${biz(bid)}/claims/${id}/return`, { reason })

export const submitClaim = (bid: number, id: number) => post<Claim>(`${biz(bid)}/claims/${id}/submit`, {})

export const reimburseClaim = (bid: number, id: number, paidWith: string) =>
  post<Claim>(`${biz(bid)}/claims/${id}/reimburse`, { paid_with: paidWith })
