// Shapes of the /api/v1 answers the app reads (see /api/v1/openapi.json). Money: decimal strings.

export type Role = 'owner' | 'bookkeeper' | 'employee' | 'viewer'
export type PaidWith = 'cash' | 'bank' | 'wechat' | 'alipay'
export type Kind = 'income' | 'expense'

export interface Tokens {
  access_token: string
  refresh_token: string
  expires_in: number
  user_id?: number
  provider?: string
}

export interface Business {
  id: number
  name: string
  uscc: string
  taxpayer_type: 'small_scale' | 'general'
  industry: string
  region: string
  role: Role
}

export interface Me {
  id: number
  username: string
  phone: string | null
  display_name: string | null
  wechat_linked: boolean
  is_dev_account: boolean
  businesses: Business[]
}

export interface Category {
  key: string
  kind: Kind
  name: string
  name_en: string
  icon: string
  account: string
  is_active: boolean
}

export interface Line {
  line_no: number
  account: string
  account_name: string
  debit: string
  credit: string
  memo: string
}

export interface Entry {
  id: number
  number: number
  date: string
  memo: string
  status: 'posted' | 'draft'
  source: string
  category: string | null
  paid_with: PaidWith | null
  total: string
  lines: Line[]
  reverses: number | null
  reversed_by: number | null
  created_by: number
  created_at: string
  posted_by: number | null
  posted_at: string | null
  created_by_name?: string
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

export interface MonthFigures {
  month: string
  income: string
  expense: string
  profit: string
}

export interface Dashboard {
  as_of: string
  money: { cash: string; bank: string; wechat: string; alipay: string; total: string }
  this_month: MonthFigures
  last_month: MonthFigures
  trend: MonthFigures[]
  expense_by_category: { account: string; name: string; name_en: string; amount: string }[]
  recent_entries: Entry[]
}

export interface QuickRecord {
  kind: Kind
  amount: string
  category: string
  paid_with: PaidWith
  date?: string
  memo?: string
}

export interface Member {
  user_id: number
  display_name: string | null
  username: string
  role: Role
  joined_at: string
}

export interface Invite {
  id: number
  role: Role
  token: string
  link: string
  qr_png_url: string
  expires_at: string
}

export interface Receipt {
  leaf: string
  proof: string
  vkey: string
}

export interface Block {
  height: number
  hash: string
  prev_hash: string
  first_leaf: number
  end_leaf: number
  leaves: number
  entries: number | null
  tree_size: number
  root: string
  sealed_at: string
  checkpoint: string
}
