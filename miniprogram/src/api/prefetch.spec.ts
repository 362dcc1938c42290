import { beforeEach, describe, expect, it, vi } from 'vitest'

let token: string | null = 'tok-1'
vi.mock('./client', () => ({ accessToken: () => token }))

const { forgetPrefetch, takeDashboard, takeMe } = await import('./prefetch')

const answer = (status: number, body: unknown) => Promise.resolve(new Response(JSON.stringify(body), { status }))

function boot(extra: Record<string, unknown> = {}) {
  ;(globalThis as { window?: unknown }).window = {
    __spBoot: { token: 'tok-1', at: Date.now(), me: answer(200, { id: 7 }), business: 3, dashboard: answer(200, { money: 1 }), ...extra },
  }
}

describe('boot prefetch', () => {
  beforeEach(() => {
    token = 'tok-1'
    boot()
  })

  it('hands each answer out once', async () => {
    expect(await takeMe()).toEqual({ id: 7 })
    expect(await takeMe()).toBeNull()
    expect(await takeDashboard(3)).toEqual({ money: 1 })
    expect(await takeDashboard(3)).toBeNull()
  })

  it('only for the business it was asked for', async () => {
    expect(await takeDashboard(4)).toBeNull()
  })

  it('drops answers that are not 200 (expired token, no access) or failed', async () => {
    boot({ me: answer(401, { error: { code: 'token_expired' } }), dashboard: answer(403, {}) })
    expect(await takeMe()).toBeNull()
    expect(await takeDashboard(3)).toBeNull()
    boot({ me: Promise.resolve(null) })
    expect(await takeMe()).toBeNull()
  })

  it('drops everything once the token changed, is old, or after logout', async () => {
    token = 'tok-2'
    expect(await takeMe()).toBeNull()
    token = 'tok-1'
    expect(await takeDashboard(3)).toBeNull() // forgotten with the mismatch
    boot({ at: Date.now() - 60_000 })
    expect(await takeMe()).toBeNull()
    boot()
    forgetPrefetch()
    expect(await takeMe()).toBeNull()
  })
})
