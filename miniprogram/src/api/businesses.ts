import { get, post } from './client'
import type { Business, Invite, Member, Role } from './types'

export const createBusiness = (body: { name: string; uscc: string; taxpayer_type: string }) =>
  post<Business>('/businesses', body)

export const fetchMembers = (bid: number) => get<{ items: Member[] }>(`/businesses/${bid}/members`)

export const createInvite = (bid: number, role: Role) => post<Invite>(`/businesses/${bid}/invites`, { role })

export interface InviteInfo {
  business: { id: number; name: string }
  role: Role
  expires_at: string
  accepted: boolean
}

export const fetchInvite = (token: string) => get<InviteInfo>(`/invites/${token}`, { auth: false, silent: true })

export const acceptInvite = (token: string) => post<Business>(`/invites/${token}/accept`, {})
