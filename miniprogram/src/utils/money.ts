// Money arrives from the API as a decimal string in yuan ("1234.5", "-35.50"). It is formatted
// from the string itself, never through a float, so ¥0.10 + ¥0.20 never shows as ¥0.30000000004.

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/

/** "1234.5" -> "¥1,234.50"; "-35.5" -> "-¥35.50"; anything unparsable -> "¥--". */
export function formatMoney(value: string | number | null | undefined, opts: { sign?: boolean } = {}): string {
  if (value === null || value === undefined || value === '') return '¥--'
  const text = typeof value === 'number' ? value.toFixed(2) : value.trim()
  const m = DECIMAL.exec(text)
  if (!m) return '¥--'
  const [, minus, whole, frac = ''] = m
  const cents = roundCents(whole, frac)
  const yuan = cents.slice(0, -2) || '0'
  const grouped = yuan.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const zero = /^0+$/.test(cents)
  const neg = minus && !zero ? '-' : ''
  const plus = opts.sign && !neg && !zero ? '+' : ''
  return `${neg}${plus}¥${grouped}.${cents.slice(-2)}`
}

/** Whole and fraction digits -> an integer number of cents as a digit string (half up). */
function roundCents(whole: string, frac: string): string {
  const padded = (frac + '00').slice(0, 2)
  let digits = (whole + padded).replace(/^0+(?=\d)/, '')
  if (frac.length > 2 && frac[2] >= '5') digits = addOne(digits)
  return digits.padStart(3, '0')
}

function addOne(digits: string): string {
  const out = digits.split('')
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] === '9') out[i] = '0'
    else {
      out[i] = String(Number(out[i]) + 1)
      return out.join('')
    }
  }
  return '1' + out.join('')
}

/** The keypad's text ("12.", "0.5", "") -> the API's amount ("12.00") or null if not > 0. */
export function keypadToAmount(text: string): string | null {
  if (!/^\d+(\.\d{0,2})?$/.test(text)) return null
  const [whole, frac = ''] = text.split('.')
  const amount = `${whole.replace(/^0+(?=\d)/, '')}.${(frac + '00').slice(0, 2)}`
  return /^0+\.00$/.test(amount) ? null : amount
}

/** Apply one keypad key to the current text, WeChat Pay style: 2 decimals, 8 whole digits. */
export function keypadInput(text: string, key: string): string {
  if (key === 'delete') return text.slice(0, -1)
  if (key === '.') {
    if (text.includes('.')) return text
    return (text || '0') + '.'
  }
  if (!/^\d$/.test(key)) return text
  const [whole, frac] = text.split('.')
  if (frac !== undefined) return frac.length >= 2 ? text : text + key
  if (whole === '0') return key
  if (whole.length >= 8) return text
  return text + key
}

/** "12.3" -> 1230 fen (integers only: no float arithmetic on money). */
export function toFen(amount: string): number {
  const [whole, frac = ''] = amount.split('.')
  return Number(whole) * 100 + Number((frac + '00').slice(0, 2))
}

/** 1230 -> "12.30". */
export function fenToAmount(fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`
}
