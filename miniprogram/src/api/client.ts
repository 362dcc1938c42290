// The one module that calls fetch for /api/v1: base URL, bearer token, refresh-token rotation,
// Idempotency-Key on every POST, and API errors turned into one ApiError shown as a toast in the
// user's language. Pages and stores call the per-resource modules (auth.ts, ledger.ts, ...).

import { showToast } from 'vant'
import { t, te } from '@/locales'
import { newKey } from '@/utils/ids'
import type { Tokens } from './types'

export const BASE = '/api/v1'
const TOKENS_KEY = 'sp.tokens'

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details?: unknown,
  ) {
    super(message)
    this.name = 'ApiError'
  }

  /** No answer at all (offline, DNS, connection refused): safe to retry with the same key. */
  get isNetwork(): boolean {
    return this.status === 0
  }
}

interface StoredTokens {
  access: string
  refresh: string
}

let tokens: StoredTokens | null = readTokens()
let refreshing: Promise<boolean> | null = null
let onAuthLost: () => void = () => {}

function readTokens(): StoredTokens | null {
  try {
    const raw = localStorage.getItem(TOKENS_KEY)
    return raw ? (JSON.parse(raw) as StoredTokens) : null
  } catch {
    return null
  }
}

export function setTokens(answer: Tokens | null): void {
  tokens = answer ? { access: answer.access_token, refresh: answer.refresh_token } : null
  try {
    if (tokens) localStorage.setItem(TOKENS_KEY, JSON.stringify(tokens))
    else localStorage.removeItem(TOKENS_KEY)
  } catch {
    /* storage unavailable: tokens live in memory */
  }
}

export function hasSession(): boolean {
  return tokens !== null
}

/** The current access token (the boot prefetch is used only if it was sent with this one). */
export function accessToken(): string | null {
  return tokens?.access ?? null
}

export function refreshToken(): string | null {
  return tokens?.refresh ?? null
}

/** Called when the session cannot be renewed (the router sends the user to the login page). */
export function setAuthLostHandler(fn: () => void): void {
  onAuthLost = fn
}

/** The translated message for an error, for toasts and inline messages. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.isNetwork) return t('errors.network')
    if (te(`errors.${err.code}`)) return t(`errors.${err.code}`)
    if (err.status >= 500) return t('errors.server_error')
    if (err.status === 429) return t('errors.rate_limited')
    return t('errors.generic', { code: err.code })
  }
  return t('errors.generic', { code: err instanceof Error ? err.name : 'error' })
}

export function toastError(err: unknown): void {
  showToast({ message: errorMessage(err), position: 'middle' })
}

/**
 * Swap the refresh token for new tokens. Refresh tokens rotate and a spent one presented again
 * revokes the whole session, so: one refresh at a time in this tab (a shared promise) and across
 * tabs (Web Locks), and a tab that finds the stored token already rotated by another tab adopts it.
 */
export function refreshTokens(): Promise<boolean> {
  if (!refreshing) {
    const used = tokens?.refresh
    const run = async (): Promise<boolean> => {
      const stored = readTokens()
      if (stored && stored.refresh !== used) {
        tokens = stored
        return true
      }
      if (!used) return false
      let res: Response
      try {
        res = await fetch(`${BASE}/auth/refresh`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': newKey() },
          body: JSON.stringify({ refresh_token: used }),
        })
      } catch {
        return false // offline: keep the tokens, try again later
      }
      if (!res.ok) {
        setTokens(null)
        onAuthLost()
        return false
      }
      setTokens((await res.json()) as Tokens)
      return true
    }
    const locks = (globalThis.navigator as Navigator | undefined)?.locks
    const p = locks ? (locks.request('suanpan-refresh', run) as Promise<boolean>) : run()
    refreshing = p.finally(() => {
      refreshing = null
    })
  }
  return refreshing
}

export interface RequestOptions {
  body?: unknown
  query?: Record<string, string | number | null | undefined>
  /** For POSTs: reuse a key to make a retry replay the first answer (offline queue). */
  idempotencyKey?: string
  auth?: boolean
  /** Do not show a toast on failure (the caller shows the error itself). */
  silent?: boolean
  headers?: Record<string, string>
  signal?: AbortSignal
  /** A multipart body (file uploads); the browser sets its Content-Type with the boundary. */
  form?: FormData
}

function url(path: string, query?: RequestOptions['query']): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== null && v !== undefined && v !== '') q.set(k, String(v))
  }
  const qs = q.toString()
  return `${path.startsWith('/api/') ? '' : BASE}${path}${qs ? `?${qs}` : ''}`
}

/** fetch with the token (refreshing once on 401); returns the raw Response, or throws ApiError. */
export async function rawRequest(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  const key = method === 'POST' ? (opts.idempotencyKey ?? newKey()) : undefined
  const send = () => {
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers }
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
    if (key) headers['Idempotency-Key'] = key
    if (opts.auth !== false && tokens) headers.Authorization = `Bearer ${tokens.access}`
    return fetch(url(path, opts.query), {
      method,
      headers,
      body: opts.form ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
      signal: opts.signal,
    })
  }
  let res: Response
  try {
    res = await send()
    if (res.status === 401 && opts.auth !== false && tokens) {
      const code = await errorCode(res.clone())
      if (code !== 'token_revoked' && (await refreshTokens())) res = await send()
      else if (code === 'token_revoked') {
        setTokens(null)
        onAuthLost()
      }
    }
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e
    throw new ApiError(0, 'network', (e as Error).message)
  }
  if (!res.ok) throw await toApiError(res)
  return res
}

async function errorCode(res: Response): Promise<string> {
  try {
    return ((await res.json()) as { error?: { code?: string } }).error?.code ?? ''
  } catch {
    return ''
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`
  let message = res.statusText
  let details: unknown
  try {
    const body = (await res.json()) as { error?: { code: string; message: string; details?: unknown } }
    if (body.error) ({ code, message, details } = body.error)
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, code, message, details)
}

/** A JSON request; failures are shown as a toast (unless silent) and rethrown. */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  try {
    const res = await rawRequest(method, path, opts)
    if (res.status === 204) return undefined as T
    return (await res.json()) as T
  } catch (e) {
    if (!opts.silent && (e as Error).name !== 'AbortError') toastError(e)
    throw e
  }
}

export const get = <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts)
export const post = <T>(path: string, body: unknown = {}, opts?: RequestOptions) =>
  request<T>('POST', path, { ...opts, body })
export const postForm = <T>(path: string, form: FormData, opts?: RequestOptions) =>
  request<T>('POST', path, { ...opts, form })

/** An authenticated binary GET (receipt photos) as an object URL for <img>. */
export async function blobUrl(path: string): Promise<string> {
  const res = await rawRequest('GET', path, { headers: { Accept: 'image/*' } })
  return URL.createObjectURL(await res.blob())
}
