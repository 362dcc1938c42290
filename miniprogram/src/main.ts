import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import router from './router'
import { i18n, setLocale, currentLocale } from './locales'
import { setAuthLostHandler } from './api/client'
import { useUserStore } from './stores/user'
import { useOutboxStore } from './stores/outbox'
// Components with a function API need their styles imported (vant-demo main.ts).
import 'vant/es/toast/style'
import 'vant/es/dialog/style'
import 'vant/es/notify/style'
import './styles.css'

const app = createApp(App)
app.use(createPinia())
app.use(router)
app.use(i18n)
setLocale(currentLocale())

setAuthLostHandler(() => {
  useUserStore().forget()
  const here = router.currentRoute.value
  if (!here.meta.public) void router.replace({ name: 'login', query: { redirect: here.fullPath } })
})

useOutboxStore().start()
app.mount('#app')
