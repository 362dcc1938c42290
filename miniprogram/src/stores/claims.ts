// The approver's badge: how many claims wait for this user in the current business.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { fetchClaims } from '@/api/claims'

export const useClaimsBadge = defineStore('claimsBadge', () => {
  const count = ref(0)
  async function refresh(businessId: number): Promise<void> {
    try {
      count.value = (await fetchClaims(businessId, { awaiting: 'true' }, { silent: true })).awaiting_me
    } catch {
      /* the badge is a hint; keep the last value */
    }
  }
  return { count, refresh }
})
