// Tax warnings belong to another issue. The dashboard shows its warnings area only when this
// server's OpenAPI document has a business "warnings" list route; nothing is ever made up.
import { get } from './client'

let found: Promise<string | null> | null = null

/** The path template of the warnings list ("/api/v1/businesses/{business_id}/.../warnings"), or null. */
export function warningsRoute(): Promise<string | null> {
  if (!found) {
    found = get<{ paths: Record<string, Record<string, unknown>> }>('/openapi.json', { auth: false, silent: true })
      .then((doc) => Object.keys(doc.paths).find((p) => /^\/api\/v1\/businesses\/\{business_id\}\/(?:[a-z_-]+\/)*warnings$/.test(p) && 'get' in doc.paths[p]) ?? null)
      .catch(() => {
        found = null
        return null
      })
  }
  return found
}

type Text = string | { zh?: string; en?: string }

/** A tax warning (app/api/tax.py): texts come in zh and en. */
export interface Warning {
  id: number
  rule_id: string
  severity: string
  state: string
  title: Text
  message: Text
  period?: string
}

export function localized(text: Text | undefined, locale: string): string {
  if (!text) return ''
  if (typeof text === 'string') return text
  return (locale === 'en' ? text.en : text.zh) ?? text.zh ?? text.en ?? ''
}

export async function fetchWarnings(businessId: number): Promise<Warning[] | null> {
  const route = await warningsRoute()
  if (!route) return null
  try {
    const answer = await get<{ items: Warning[] }>(route.replace('{business_id}', String(businessId)), { silent: true })
    return answer.items
  } catch {
    return null // e.g. a role that may not read tax warnings: no area
  }
}
