import { get, post, refreshToken, setTokens } from './client'
import type { Me, Tokens } from './types'

export async function login(account: string, password: string): Promise<Tokens> {
  const who = /^\+?\d{6,20}$/.test(account) ? { phone: account } : { username: account }
  const tokens = await post<Tokens>('/auth/login', { ...who, password }, { auth: false, silent: true })
  setTokens(tokens)
  return tokens
}

export async function wechatLogin(code: string): Promise<Tokens> {
  const tokens = await post<Tokens>('/auth/wechat', { code }, { auth: false })
  setTokens(tokens)
  return tokens
}

export async function logout(): Promise<void> {
  try {
    await post('/auth/logout', { refresh_token: refreshToken() }, { silent: true })
  } finally {
    setTokens(null)
  }
}

export const fetchMe = () => get<Me>('/me')
