'use strict'
// Envelope helpers, money conversions and the error mapping, without a gateway.

const test = require('node:test')
const assert = require('node:assert/strict')
const sosopay = require('..')
const { fromNative } = require('../errors.js') // internal: not exported by the package
const { KEY } = require('./helpers.js')

const BODY = '{\n  "AMT": "0.01",\n  "PAY_SUBJECT": "嗖嗖 产品 1 😀"\n}'

test('the package does not export its internals', () => {
  assert.equal('fromNative' in sosopay, false)
  assert.equal(Object.keys(sosopay).some((k) => k.startsWith('__napi')), false)
})

test('Envelope seal/open round-trips and checks the signature', () => {
  const env = new sosopay.Envelope(KEY)
  const sealed = env.seal(BODY, '1795706991879')
  assert.match(sealed.sign, /^[0-9a-f]{32}:1795706991879$/)
  assert.equal(sealed.sign, sosopay.signBody(KEY, BODY, 1795706991879))
  assert.equal(env.open(sealed.sign, sealed.ciphertext), BODY)
  assert.equal(env.decrypt(sealed.ciphertext).toString('utf8'), BODY)
  // line breaks in the Base64 are tolerated
  assert.equal(env.open(sealed.sign, sealed.ciphertext.replace(/(.{16})/g, '$1\n')), BODY)
  // another body under the same ciphertext's signature: SignatureError
  const other = env.encrypt('{"AMT":"100.00"}')
  assert.throws(() => env.open(sealed.sign, other), sosopay.SignatureError)
  // garbage and wrong keys: CryptoError
  assert.throws(() => env.open(sealed.sign, '!!!'), sosopay.CryptoError)
  assert.throws(() => env.decrypt('AAAA'), (e) => e instanceof sosopay.CryptoError && e.code === 'crypto')
  assert.throws(() => new sosopay.Envelope('ANOTHERKEY123456789012345').open(sealed.sign, sealed.ciphertext), (e) => e instanceof sosopay.CryptoError || e instanceof sosopay.SignatureError)
  // default timestamp: now, in milliseconds
  const ts = Number(env.signBody(BODY).split(':')[1])
  assert.ok(Math.abs(ts - Date.now()) < 60000)
  const v = env.verifyBody(env.signBody(BODY, '1473431447'), BODY)
  assert.deepEqual(v, { timestamp: '1473431447', timestampMs: 1473431447000 })
})

test('signature helpers reject bad input with typed errors', () => {
  assert.throws(() => sosopay.signBody('', BODY), (e) => e instanceof sosopay.ValidationError && e.field === 'key')
  assert.throws(() => sosopay.signBody('has space', BODY), sosopay.ValidationError)
  assert.throws(() => sosopay.signBody(KEY, BODY, 'yesterday'), (e) => e instanceof sosopay.ValidationError && e.field === 'timestamp')
  assert.throws(() => sosopay.signBody(KEY, BODY, 1.5), (e) => e instanceof sosopay.ValidationError && e.field === 'timestamp')
  assert.throws(() => sosopay.verifyBody(KEY, 'nonsense', BODY), sosopay.SignatureError)
  assert.throws(() => sosopay.verifyBody(KEY, sosopay.signBody(KEY, BODY), BODY + 'x'), sosopay.SignatureError)
  assert.throws(() => sosopay.signBody(KEY, 42), sosopay.ValidationError)
  assert.throws(() => sosopay.signBody(KEY, Buffer.from([0xff, 0xfe])), (e) => e instanceof sosopay.ValidationError && e.field === 'body')
  assert.throws(() => new sosopay.Envelope(), sosopay.ValidationError)
})

test('the merchant key never appears in an error', () => {
  const env = new sosopay.Envelope(KEY)
  for (const f of [() => env.open('x', 'y'), () => env.decrypt('AAAAAAAAAAA='), () => sosopay.verifyBody(KEY, 'a:1', BODY)]) {
    try {
      f()
      assert.fail('should throw')
    } catch (e) {
      assert.ok(!e.message.includes(KEY))
      assert.ok(!JSON.stringify(e).includes(KEY))
    }
  }
})

test('money: yuan text and integer fen, never floats', () => {
  assert.equal(sosopay.yuanToFen('158.00'), 15800)
  assert.equal(sosopay.yuanToFen('0.1'), 10)
  assert.equal(sosopay.yuanToFen('90071992547409.91'), 9007199254740991)
  assert.equal(sosopay.fenToYuan(1), '0.01')
  assert.equal(sosopay.fenToYuan(15800n), '158.00')
  assert.equal(sosopay.fenToYuan(9007199254740991), '90071992547409.91')
  for (const bad of ['1.234', '-1', '1e3', '', 'NaN', '0x10', '90071992547409.92']) {
    assert.throws(() => sosopay.yuanToFen(bad), sosopay.ValidationError, bad)
  }
  assert.throws(() => sosopay.yuanToFen(0.1), (e) => e instanceof sosopay.ValidationError && /not exact/.test(e.message))
  for (const bad of [0.5, -1, NaN, Infinity, 2 ** 53, -1n, 2n ** 64n]) {
    assert.throws(() => sosopay.fenToYuan(bad), sosopay.ValidationError, String(bad))
  }
})

test('every core error variant maps to its class with its fields', () => {
  const cases = [
    [{ code: 'validation', field: 'amountFen', reason: 'r' }, sosopay.ValidationError, { field: 'amountFen' }],
    [{ code: 'signature', reason: 'r' }, sosopay.SignatureError, { reason: 'r' }],
    [{ code: 'crypto', reason: 'r' }, sosopay.CryptoError, { reason: 'r' }],
    [{ code: 'decode', reason: 'r' }, sosopay.DecodeError, { reason: 'r' }],
    [{ code: 'gateway', resultCode: 'FAIL', info: 'i' }, sosopay.GatewayError, { resultCode: 'FAIL', info: 'i' }],
    [{ code: 'http_status', status: 503, outcomeUnknown: true }, sosopay.HttpStatusError, { status: 503, outcomeUnknown: true }],
    [{ code: 'transport', operation: 'query', reason: 'r', maybeSent: true }, sosopay.TransportError, { maybeSent: true }],
    [{ code: 'timeout', operation: 'preOrder', afterMs: 95000 }, sosopay.TimeoutError, { afterMs: 95000 }],
    [{ code: 'outcome_unknown', operation: 'preOrder', chargeCode: 'C1', reason: 'r', outcomeUnknown: true }, sosopay.OutcomeUnknownError, { chargeCode: 'C1', outcomeUnknown: true }],
  ]
  for (const [payload, Cls, fields] of cases) {
    const native = new Error('[sosopay]' + JSON.stringify({ message: `m ${payload.code}`, ...payload }))
    const e = fromNative(native)
    assert.ok(e instanceof Cls, payload.code)
    assert.ok(e instanceof sosopay.SosopayError)
    assert.ok(e instanceof Error)
    assert.equal(e.code, payload.code)
    assert.equal(e.name, Cls.name)
    assert.equal(e.message, `m ${payload.code}`)
    for (const [k, v] of Object.entries(fields)) assert.equal(e[k], v, `${payload.code}.${k}`)
    assert.equal(sosopay.ERROR_CLASSES[payload.code], Cls)
  }
  const odd = fromNative(new Error('boom'))
  assert.equal(odd.constructor, sosopay.SosopayError)
  assert.equal(odd.code, 'internal')
  assert.equal(odd.outcomeUnknown, true)
  const arg = fromNative(Object.assign(new Error('Missing field `chargeCode`'), { code: 'InvalidArg' }))
  assert.ok(arg instanceof sosopay.ValidationError)
  assert.equal(arg.field, 'chargeCode')
})

test('a JS string reaches the core as its UTF-8 text, whatever its characters and length', () => {
  const samples = [
    '', 'a', 'ascii-only', 'é-Latin-1-ÿ', '咖啡-两杯', '𝄞-emoji-😀', 'lone-\ud800-surrogate', '\udfff',
    'x'.repeat(64 * 1024), 'é'.repeat(64 * 1024), 'é'.repeat(64 * 1024 + 1), '咖'.repeat(70000),
    '😀'.repeat(40000),
  ]
  const env = new sosopay.Envelope(KEY)
  for (const s of samples) {
    // Buffer.from(s) is Node's own UTF-8 (a lone surrogate becomes U+FFFD, as here).
    const utf8 = Buffer.from(s, 'utf8')
    assert.deepEqual(sosopay.decrypt(KEY, sosopay.encrypt(KEY, s)), utf8, `length ${s.length}`)
    assert.equal(env.encrypt(s), env.encrypt(utf8), `length ${s.length}`)
    assert.equal(sosopay.stripJavaWhitespace(s), utf8.toString('utf8'), `length ${s.length}`)
  }
})
