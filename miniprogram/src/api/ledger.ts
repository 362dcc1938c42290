import { get, post, type RequestOptions } from './client'
import type { Category, Dashboard, Entry, Page, QuickRecord } from './types'

const biz = (id: number) => `/businesses/${id}`

export interface EntryFilters {
  from?: string
  to?: string
  category?: string
  account?: string
  q?: string
  min_amount?: string
  max_amount?: string
}

export const fetchCategories = (bid: number) => get<{ items: Category[] }>(`${biz(bid)}/categories`)

export const fetchEntries = (bid: number, filters: EntryFilters, cursor?: string | null) =>
  get<Page<Entry>>(`${biz(bid)}/entries`, { query: { ...filters, cursor, limit: 20 } })

export const fetchEntry = (bid: number, id: number) => get<Entry>(`${biz(bid)}/entries/${id}`)

export const quickRecord = (bid: number, body: QuickRecord, opts?: RequestOptions) =>
  post<Entry>(`${biz(bid)}/entries/quick`, body, opts)

export const reverseEntry = (bid: number, id: number) => post<Entry>(`${biz(bid)}/entries/${id}/reverse`, {})

export const fetchDashboard = (bid: number, opts?: RequestOptions) =>
  get<Dashboard>(`${biz(bid)}/reports/dashboard`, opts)
