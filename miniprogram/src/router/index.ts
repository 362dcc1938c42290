import { createRouter, createWebHistory, type RouteLocationNormalized } from 'vue-router'
import type { Role } from '@/api/types'
import { hasSession } from '@/api/client'
import { t } from '@/locales'
import { useUserStore } from '@/stores/user'

declare module 'vue-router' {
  interface RouteMeta {
    title: string // i18n key
    public?: boolean // no login needed
    business?: boolean // needs a chosen business
    roles?: Role[]
    tab?: boolean // a tab bar page (no back arrow)
  }
}

const BOOKS: Role[] = ['owner', 'bookkeeper', 'viewer']
const WRITE: Role[] = ['owner', 'bookkeeper']
const FILE: Role[] = ['owner', 'bookkeeper', 'employee']

// Route-level code splitting: each page is its own chunk, loaded when visited.
const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', name: 'root', redirect: () => ({ name: 'home' }), meta: { title: 'titles.home' } },
    { path: '/login', name: 'login', component: () => import('@/pages/login/index.vue'), meta: { title: 'titles.login', public: true } },
    { path: '/verify', name: 'verify', component: () => import('@/pages/verify/index.vue'), meta: { title: 'titles.verify', public: true } },
    { path: '/invite/:token', name: 'invite', component: () => import('@/pages/invite/index.vue'), meta: { title: 'titles.invite', public: true } },
    { path: '/picker', name: 'picker', component: () => import('@/pages/picker/index.vue'), meta: { title: 'titles.picker' } },
    { path: '/home', name: 'home', component: () => import('@/pages/home/index.vue'), meta: { title: 'titles.home', business: true, roles: BOOKS, tab: true } },
    { path: '/record', name: 'record', component: () => import('@/pages/record/index.vue'), meta: { title: 'titles.record', business: true, roles: WRITE, tab: true } },
    { path: '/approvals', name: 'approvals', component: () => import('@/pages/approvals/index.vue'), meta: { title: 'titles.approvals', business: true, roles: WRITE, tab: true } },
    { path: '/claims', name: 'claims', component: () => import('@/pages/claims/index.vue'), meta: { title: 'titles.claims', business: true, roles: FILE, tab: true } },
    { path: '/claims/new', name: 'claim', component: () => import('@/pages/claim/index.vue'), meta: { title: 'titles.claim', business: true, roles: FILE } },
    { path: '/me', name: 'me', component: () => import('@/pages/me/index.vue'), meta: { title: 'titles.me', tab: true } },
    { path: '/entries', name: 'entries', component: () => import('@/pages/entries/index.vue'), meta: { title: 'titles.entries', business: true, roles: BOOKS } },
    { path: '/entries/:id(\\d+)', name: 'entry', component: () => import('@/pages/entry/index.vue'), meta: { title: 'titles.entry', business: true, roles: BOOKS } },
    { path: '/members', name: 'members', component: () => import('@/pages/members/index.vue'), meta: { title: 'titles.members', business: true, roles: ['owner'] } },
    { path: '/contracts', name: 'contracts', component: () => import('@/pages/contracts/index.vue'), meta: { title: 'titles.contracts', business: true, roles: BOOKS } },
    { path: '/chain', name: 'chain', component: () => import('@/pages/chain/index.vue'), meta: { title: 'titles.chain', business: true, roles: BOOKS } },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

/** Where a user lands: the dashboard if they may read the books, 报销 for employees, else 我的. */
function landing(roles: Role | null): string {
  if (roles === 'employee') return 'claims'
  return roles && BOOKS.includes(roles) ? 'home' : 'me'
}

router.beforeEach(async (to: RouteLocationNormalized) => {
  if (to.meta.public) return true
  if (!hasSession()) return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  const user = useUserStore()
  if (!user.me) {
    try {
      await user.load()
    } catch {
      return hasSession() ? true : { name: 'login' }
    }
  }
  if (to.meta.business && !user.business) return { name: 'picker', query: { redirect: to.fullPath } }
  if (to.meta.roles && (!user.role || !to.meta.roles.includes(user.role))) {
    const target = landing(user.role)
    return to.name === target ? true : { name: target }
  }
  return true
})

router.afterEach((to) => {
  document.title = `${t(to.meta.title)} · ${t('app.name')}`
})

export default router
