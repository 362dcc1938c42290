import { describe, expect, it } from 'vitest'
import { fenToAmount, formatMoney, keypadInput, keypadToAmount, toFen } from './money'

describe('formatMoney', () => {
  it('should group thousands and keep two decimals', () => {
    expect(formatMoney('1234.5')).toBe('¥1,234.50')
    expect(formatMoney('1234567.89')).toBe('¥1,234,567.89')
    expect(formatMoney('0')).toBe('¥0.00')
    expect(formatMoney('35.50')).toBe('¥35.50')
  })

  it('should put the minus sign before the yuan sign', () => {
    expect(formatMoney('-35.5')).toBe('-¥35.50')
    expect(formatMoney('-0.00')).toBe('¥0.00')
  })

  it('should show a plus sign only when asked', () => {
    expect(formatMoney('12', { sign: true })).toBe('+¥12.00')
    expect(formatMoney('0', { sign: true })).toBe('¥0.00')
  })

  it('should round half up from the string, without floats', () => {
    expect(formatMoney('0.005')).toBe('¥0.01')
    expect(formatMoney('999.995')).toBe('¥1,000.00')
    expect(formatMoney('12345678901234567.894')).toBe('¥12,345,678,901,234,567.89')
  })

  it('should show a placeholder for what is not money', () => {
    expect(formatMoney('abc')).toBe('¥--')
    expect(formatMoney(null)).toBe('¥--')
  })
})

describe('keypad', () => {
  const type = (keys: string) => [...keys].reduce((t, k) => keypadInput(t, k === '<' ? 'delete' : k), '')

  it('should allow at most two decimals and one point', () => {
    expect(type('35.505')).toBe('35.50')
    expect(type('1..2')).toBe('1.2')
    expect(type('.5')).toBe('0.5')
  })

  it('should replace a leading zero and cap the whole part', () => {
    expect(type('007')).toBe('7')
    expect(type('123456789')).toBe('12345678')
    expect(type('12<3')).toBe('13')
  })

  it('should turn the typed text into the API amount, or null when it is not positive', () => {
    expect(keypadToAmount('35.5')).toBe('35.50')
    expect(keypadToAmount('12.')).toBe('12.00')
    expect(keypadToAmount('0.00')).toBeNull()
    expect(keypadToAmount('')).toBeNull()
  })
})

describe('toFen / fenToAmount', () => {
  it('should convert decimal strings to integer fen and back without floats', () => {
    expect(toFen('64.9')).toBe(6490)
    expect(toFen('0.01')).toBe(1)
    expect(toFen('100000')).toBe(10000000)
    expect(fenToAmount(toFen('0.1') + toFen('0.2'))).toBe('0.30')
    expect(fenToAmount(5)).toBe('0.05')
  })
})
