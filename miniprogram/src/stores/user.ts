import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import * as auth from '@/api/auth'
import { hasSession } from '@/api/client'
import { forgetPrefetch, takeMe } from '@/api/prefetch'
import type { Business, Me, Role } from '@/api/types'

const BUSINESS_KEY = 'sp.business' // remembered per device

function rememberedBusiness(): number | null {
  try {
    const v = Number(localStorage.getItem(BUSINESS_KEY))
    return Number.isInteger(v) && v > 0 ? v : null
  } catch {
    return null
  }
}

export const useUserStore = defineStore('user', () => {
  const me = ref<Me | null>(null)
  const businessId = ref<number | null>(rememberedBusiness())
  const loggedIn = ref(hasSession())

  const businesses = computed<Business[]>(() => me.value?.businesses ?? [])
  const business = computed(() => businesses.value.find((b) => b.id === businessId.value) ?? null)
  const role = computed<Role | null>(() => business.value?.role ?? null)
  const can = (...roles: Role[]) => computed(() => role.value !== null && roles.includes(role.value))
  const canReadBooks = can('owner', 'bookkeeper', 'viewer')
  const canRecord = can('owner', 'bookkeeper')
  const isOwner = can('owner')

  async function load(): Promise<Me> {
    // At boot, the answer index.html already asked for (see api/prefetch.ts).
    me.value = (await takeMe<Me>()) ?? (await auth.fetchMe())
    // Keep the remembered business if still a member; pick the only one automatically.
    if (!business.value) selectBusiness(businesses.value.length === 1 ? businesses.value[0].id : null)
    return me.value
  }

  function selectBusiness(id: number | null): void {
    businessId.value = id
    try {
      if (id) localStorage.setItem(BUSINESS_KEY, String(id))
      else localStorage.removeItem(BUSINESS_KEY)
    } catch {
      /* not remembered */
    }
  }

  async function passwordLogin(account: string, password: string): Promise<void> {
    await auth.login(account, password)
    loggedIn.value = true
    await load()
  }

  async function wechatLogin(code: string): Promise<void> {
    await auth.wechatLogin(code)
    loggedIn.value = true
    await load()
  }

  async function logout(): Promise<void> {
    await auth.logout().catch(() => undefined)
    forget()
  }

  /** Drop the session on this device (after logout, or when it cannot be renewed). */
  function forget(): void {
    forgetPrefetch()
    me.value = null
    loggedIn.value = false
  }

  return { me, businessId, business, businesses, role, canReadBooks, canRecord, isOwner, loggedIn, load, selectBusiness, passwordLogin, wechatLogin, logout, forget }
})
