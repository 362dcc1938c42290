import { createI18n } from 'vue-i18n'
import { Locale } from 'vant'
import vantEn from 'vant/es/locale/lang/en-US'
import vantZh from 'vant/es/locale/lang/zh-CN'
import zh from './zh-CN'
import en from './en'

export type AppLocale = 'zh-CN' | 'en'
const KEY = 'sp.locale'

function initial(): AppLocale {
  try {
    return localStorage.getItem(KEY) === 'en' ? 'en' : 'zh-CN'
  } catch {
    return 'zh-CN'
  }
}

export const i18n = createI18n({
  legacy: false,
  locale: initial(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zh, en },
})

export function setLocale(locale: AppLocale): void {
  i18n.global.locale.value = locale
  Locale.use(locale === 'en' ? 'en-US' : 'zh-CN', locale === 'en' ? vantEn : vantZh)
  document.documentElement.lang = locale
  try {
    localStorage.setItem(KEY, locale)
  } catch {
    /* private mode: the choice lasts for this visit */
  }
}

export function currentLocale(): AppLocale {
  return i18n.global.locale.value as AppLocale
}

export const t = (key: string, values?: Record<string, unknown>): string =>
  values ? i18n.global.t(key, values) : i18n.global.t(key)
export const te = (key: string): boolean => i18n.global.te(key)
