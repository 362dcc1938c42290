// Requests started by index.html's inline boot script, before any app code has loaded: GET /me
// and, when the device remembers a business and the address is the dashboard, its
// /reports/dashboard. The router guard (via the user store) and the home page take them here
// instead of asking again, so these round trips overlap the download and parse of the code.
//
// Each is taken at most once, only with the access token it was sent with, and only within
// MAX_AGE_MS of the page load; anything but a 200 (expired token, business no longer accessible,
// network failure) is dropped and the caller makes its ordinary request, which refreshes the
// token, reports errors and so on as usual.

import { accessToken } from './client'

interface Boot {
  token: string
  at: number
  me?: Promise<Response | null>
  business?: number
  dashboard?: Promise<Response | null>
}

declare global {
  interface Window {
    __spBoot?: Boot
  }
}

const MAX_AGE_MS = 30_000

function boot(): Boot | null {
  const b = typeof window !== 'undefined' ? window.__spBoot : undefined
  if (!b) return null
  if (b.token !== accessToken() || Date.now() - b.at > MAX_AGE_MS) {
    forgetPrefetch()
    return null
  }
  return b
}

async function json<T>(p: Promise<Response | null> | undefined): Promise<T | null> {
  const res = await p
  if (!res || res.status !== 200) return null
  try {
    return (await res.json()) as T
  } catch {
    return null
  }
}

/** The prefetched GET /me answer, or null (then ask the API). */
export function takeMe<T>(): Promise<T | null> {
  const b = boot()
  if (!b?.me) return Promise.resolve(null)
  const p = b.me
  b.me = undefined
  return json<T>(p)
}

/** The prefetched dashboard of `business`, or null (then ask the API). */
export function takeDashboard<T>(business: number): Promise<T | null> {
  const b = boot()
  if (!b?.dashboard || b.business !== business) return Promise.resolve(null)
  const p = b.dashboard
  b.dashboard = undefined
  return json<T>(p)
}

/** Drop whatever was not taken (logout, another business chosen). */
export function forgetPrefetch(): void {
  if (typeof window !== 'undefined') delete window.__spBoot
}
