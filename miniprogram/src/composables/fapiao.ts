// Fapiao QR text -> the fields shown while scanning (the server parses again and is the
// authority: app/fapiao.py). Layout: china-facts §7.1, 7 to 9 comma-separated fields.

export interface ScannedFapiao {
  kind: string
  code: string
  number: string
  amount: string
  date: string // YYYY-MM-DD
}

export function parseFapiao(text: string): ScannedFapiao | null {
  const fields = text.trim().split(',').map((f) => f.trim())
  while (fields.length > 7 && fields[fields.length - 1] === '') fields.pop()
  if (fields.length < 7 || fields.length > 9) return null
  const [version, kind, code, number, amount, date] = fields
  if (!/^\d{2}$/.test(version) || !/^\d{2}$/.test(kind)) return null
  const digital = /^\d{20}$/.test(number)
  if (!digital && !(/^\d{8}$/.test(number) && /^(\d{10}|\d{12})$/.test(code))) return null
  if (digital && code !== '' && !/^(\d{10}|\d{12})$/.test(code)) return null
  if (!/^(0|[1-9]\d{0,11})(\.\d{1,2})?$/.test(amount) || !/^\d{8}$/.test(date)) return null
  const iso = `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`
  const d = new Date(`${iso}T00:00:00Z`)
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso) return null
  const [whole, frac = ''] = amount.split('.')
  return { kind, code, number, amount: `${whole}.${(frac + '00').slice(0, 2)}`, date: iso }
}
