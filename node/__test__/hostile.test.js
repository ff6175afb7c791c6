'use strict'
// Hostile input: every public function and constructor, given values of every JS kind in every
// argument position, either works or throws/rejects a SosopayError subclass. Nothing crashes the
// process, and no TypeError or napi message escapes (bindings/node/src/input.rs).
const test = require('node:test')
const assert = require('node:assert/strict')
const sosopay = require('../sosopay.js')

const { SosopayError, Client, Envelope, NotificationVerifier, MemoryIdempotencyStore } = sosopay
const KEY = '98SDKFUO432HNODS098EEE07U9DUOIUE'
const RAW = /Failed to convert|none of these types|Cannot convert|rust type|napi/

const VALUES = [
  undefined, null, true, 0, -1, 1.5, NaN, Infinity, 2 ** 64, 10n, -5n, '', 'x', '12.50', ' ',
  '\u0000', '\ud800', 'é'.repeat(3), 1e300, -Infinity, {}, [], [1, 'a'], () => 1, Symbol('s'), new Date(0), Buffer.from('hi'),
  new Uint8Array([1, 2]), { chargeCode: 5 }, { amount: {} }, { goods: [null] }, Object.create(null),
]

async function check(what, call) {
  let r
  try {
    r = call()
    if (r && typeof r.then === 'function') r = await r
  } catch (e) {
    assert.ok(e instanceof SosopayError, `${what}: ${e && e.name}: ${e && e.message}`)
    assert.doesNotMatch(String(e.message), RAW, what)
  }
}

const base = { busiCode: '0010000001', key: KEY, baseUrl: 'http://127.0.0.1:9/', defaultOperId: 'o', defaultDevId: 'd', timeoutMs: 200, connectTimeoutMs: 200 }

test('every argument of every kind: a SosopayError or a result', async () => {
  const c = new Client({ ...base, retry: { maxAttempts: 1 } })
  const env = new Envelope(KEY)
  const ver = new NotificationVerifier({ key: KEY })
  const store = new MemoryIdempotencyStore()
  const sale = { chargeCode: 'H-1', amount: '1.00', dynamicId: '130730865806264036', paySubject: 'x' }
  const calls = {
    'new Client': (v) => new Client(v),
    'new Client.busiCode': (v) => new Client({ ...base, busiCode: v }),
    'new Client.retry': (v) => new Client({ ...base, retry: v }),
    'new Client.onRequest': (v) => new Client({ ...base, onRequest: v }),
    'new Client.encrypt': (v) => new Client({ ...base, encrypt: v }),
    'new Client.timeoutMs': (v) => new Client({ ...base, timeoutMs: v }),
    micropay: (v) => c.micropay(v),
    'micropay.amount': (v) => c.micropay({ ...sale, amount: v }),
    'micropay.amountFen': (v) => c.micropay({ ...sale, amount: undefined, amountFen: v }),
    'micropay.goods': (v) => c.micropay({ ...sale, goods: v }),
    'micropay.goods[0]': (v) => c.micropay({ ...sale, goods: [v] }),
    'micropay.timeExpire': (v) => c.micropay({ ...sale, timeExpire: v }),
    query: (v) => c.query(v),
    cancel: (v) => c.cancel(v),
    refund: (v) => c.refund(v),
    createQrOrder: (v) => c.createQrOrder(v),
    flowRecharge: (v) => c.flowRecharge(v),
    'micropayAndWait.options': (v) => c.micropayAndWait({ ...sale, chargeCode: 5 }, v),
    'waitForPayment': (v) => c.waitForPayment(v, { deadlineMs: 1 }),
    signBody: (v) => sosopay.signBody(KEY, v, v),
    'signBody.key': (v) => sosopay.signBody(v, 'b'),
    verifyBody: (v) => sosopay.verifyBody(KEY, v, v),
    encrypt: (v) => sosopay.encrypt(KEY, v),
    decrypt: (v) => sosopay.decrypt(KEY, v),
    'new Envelope': (v) => new Envelope(v),
    'Envelope.seal': (v) => env.seal(v, v),
    'Envelope.open': (v) => env.open(v, v),
    'Envelope.decrypt': (v) => env.decrypt(v),
    parseNotification: (v) => sosopay.parseNotification(v),
    'parseNotification.body': (v) => sosopay.parseNotification({ key: KEY, query: 'sign=x', body: v }),
    'NotificationVerifier.parse': (v) => ver.parse(v, v),
    'new NotificationVerifier': (v) => new NotificationVerifier(v),
    'new NotificationVerifier.maxAgeSeconds': (v) => new NotificationVerifier({ key: KEY, maxAgeSeconds: v }),
    'parseNotification.maxAgeSeconds': (v) => sosopay.parseNotification({ key: KEY, query: 'sign=x', body: '{}', maxAgeSeconds: v }),
    'MemoryIdempotencyStore.begin': (v) => store.begin(v),
    yuanToFen: (v) => sosopay.yuanToFen(v),
    fenToYuan: (v) => sosopay.fenToYuan(v),
    orderState: (v) => sosopay.orderState(v),
    signQuery: (v) => sosopay.signQuery(KEY, v, v),
    signCancel: (v) => sosopay.signCancel(KEY, 'a', v, v),
    verifyQuery: (v) => sosopay.verifyQuery(KEY, v, v),
    verifyCancel: (v) => sosopay.verifyCancel(KEY, v, 'a', v),
    stripJavaWhitespace: (v) => sosopay.stripJavaWhitespace(v),
    knownValues: (v) => sosopay.knownValues(v),
    sign: (v) => sosopay.sign(KEY, v, v),
    verify: (v) => sosopay.verify(KEY, v, v),
  }
  // Every exported function is in the table: a new export cannot be forgotten here.
  const covered = new Set(Object.keys(calls).map((k) => k.split('.')[0]))
  const takesHttp = new Set(['rawQuery', 'readRawBody', 'handleNotification', 'createWebhookHandler'])
  for (const [name, f] of Object.entries(sosopay)) {
    if (typeof f !== 'function' || /^[A-Z]/.test(name) || takesHttp.has(name)) continue
    assert.ok(covered.has(name), `hostile.test.js does not call the export ${name}`)
  }
  for (const [what, call] of Object.entries(calls)) {
    for (const [i, v] of VALUES.entries()) await check(`${what}(VALUES[${i}])`, () => call(v))
  }
})

test('a getter or Proxy trap of the caller that throws while a request is read: a ValidationError naming the field, nothing sent', async () => {
  const c = new Client({ ...base, retry: { maxAttempts: 1 } })
  class Mine extends Error {}
  const sale = { chargeCode: 'H-2', amount: '1.00', dynamicId: '130730865806264036', paySubject: 'x' }
  const cases = [
    ['code', () => c.query({ get code() { throw new Mine('getter') } }), /reading it threw Error: getter/],
    ['chargeCode', () => c.micropay(new Proxy({}, { get() { throw new Mine('trap') } })), /reading it threw Error: trap/],
    ['request', () => c.micropay(new Proxy(sale, { ownKeys() { throw new Mine('keys') } })), /reading it threw Error: keys/],
    ['amount', () => c.micropay({ chargeCode: 'H-2', get amount() { throw 42 } }), /reading it threw 42/],
    ['goods[0].id', () => c.micropay({ ...sale, goods: [{ get id() { throw new Mine('id') } }] }), /Error: id/],
    // A long one is cut to 200 characters.
    ['code', () => c.query({ get code() { throw new Mine('x'.repeat(100000)) } }), /threw Error: x{193}\.\.\.$/],
    // An exception whose own toString throws: not quoted, and nothing is left pending.
    ['code', () => c.query({ get code() { throw { toString() { throw new Mine('again') } } } }), /threw an exception$/],
    // The flows' options (read in JS before the addon): rejected, never thrown at the caller.
    ['signal', () => c.waitForPayment('H-3', { get signal() { throw new Mine('signal') } }), /threw Error: signal/],
    ['onProgress', () => c.micropayAndWait(sale, { get onProgress() { throw new Mine('cb') } }), /threw Error: cb/],
    ['options', () => c.micropayAndWait(sale, new Proxy({}, { ownKeys() { throw new Mine('keys') } })), /threw Error: keys/],
    // The webhook's options and its store's methods.
    ['onNotification', () => sosopay.handleNotification({ key: KEY, get onNotification() { throw new Mine('on') } }), /threw Error: on/],
    ['store', () => sosopay.handleNotification({ key: KEY, onNotification() {}, store: { get begin() { throw new Mine('st') }, complete() {}, abandon() {} } }), /threw Error: st/],
  ]
  for (const [field, call, says] of cases) {
    const p = call()
    assert.ok(p instanceof Promise, `${field}: not a Promise`)
    await assert.rejects(p, (e) => {
      assert.ok(e instanceof sosopay.ValidationError, `${field}: ${e && e.name}: ${e && e.message}`)
      assert.equal(e.field, field)
      assert.match(e.message, says)
      assert.equal(e.outcomeUnknown, false)
      return true
    })
  }
  assert.throws(() => sosopay.createWebhookHandler({ key: KEY, get onNotification() { throw new Mine('h') } }),
    (e) => e instanceof sosopay.ValidationError && e.field === 'onNotification')
  // The environment is clean afterwards: the next call is read and refused normally.
  await assert.rejects(c.query({ code: 'X1', serType: 'nope' }), (e) => e instanceof sosopay.ValidationError && e.field === 'serType')
})

test('orderState reads a code given as text or as a number', () => {
  assert.equal(sosopay.orderState(1).name, 'Paid')
  assert.equal(sosopay.orderState('1').name, 'Paid')
  assert.equal(sosopay.orderState(1.5).name, 'Unknown')
  assert.throws(() => sosopay.orderState({}), (e) => e instanceof sosopay.ValidationError && e.field === 'code')
})

test('the testing kit: a bad argument is a ValidationError naming it, never a raw napi message', async () => {
  const { startSandbox, SandboxError } = require('../testing.js')
  const sb = await startSandbox({ timeScale: 0.01 })
  try {
    const calls = {
      'faults.set.seed': (v) => sb.faults.set([], { seed: v }),
      'waitForNotification.chargeCode': (v) => sb.waitForNotification({ chargeCode: v, timeoutMs: 5 }),
      'waitForNotification.count': (v) => sb.waitForNotification({ chargeCode: 'X', count: v, timeoutMs: 5 }),
      'waitForNotification.accepted': (v) => sb.waitForNotification({ chargeCode: 'X', accepted: v, timeoutMs: 5 }),
      'waitForNotification.timeoutMs': (v) => sb.waitForNotification({ chargeCode: 'X', timeoutMs: v ?? 5 }),
      'waitForState.timeoutMs': (v) => sb.waitForState('X', 'Paid', { timeoutMs: v ?? 5 }),
      pay: (v) => sb.pay(v),
      addMerchant: (v) => sb.addMerchant(v, v),
    }
    for (const [what, call] of Object.entries(calls)) {
      for (const [i, v] of VALUES.entries()) {
        try {
          await call(v)
        } catch (e) {
          // A bad argument is a ValidationError; a well-formed one the sandbox refuses (no such
          // order) a SandboxError with the admin status.
          const refused = e instanceof SandboxError && [404, 409].includes(e.status)
          const typed = e instanceof sosopay.ValidationError || refused || e.name === 'TimeoutError' || e instanceof TypeError
          assert.ok(typed, `${what}(VALUES[${i}]): ${e && e.name}: ${e && e.message}`)
          assert.doesNotMatch(String(e.message), RAW, `${what}(VALUES[${i}])`)
          assert.doesNotMatch(String(e.message), /invalid ([\w.[\]]+): invalid \1/, `${what}(VALUES[${i}])`)
        }
      }
    }
  } finally {
    await sb.close()
  }
})

test('the webhook helpers: missing or non-object options and requests are a ValidationError naming them', async () => {
  const { ValidationError } = sosopay
  const named = (field) => (e) => e instanceof ValidationError && e.field === field && !RAW.test(e.message)
  for (const v of [undefined, null, 5, 'key', () => 1]) {
    assert.throws(() => sosopay.createWebhookHandler(v), named('options'))
    await assert.rejects(sosopay.handleNotification(v), named('options'))
    await assert.rejects(sosopay.readRawBody(v), named('req'))
  }
  // A webhook without onNotification would answer 200 and the gateway would stop delivering a
  // notification nobody processed: refused when the handler is made.
  assert.throws(() => sosopay.createWebhookHandler({ key: KEY }), named('onNotification'))
  assert.throws(() => sosopay.createWebhookHandler({ key: KEY, onNotification: 'f' }), named('onNotification'))
  await assert.rejects(sosopay.handleNotification({ key: KEY, query: '', body: '' }), named('onNotification'))
  // A misspelt option is refused: a misspelt `store` would fall back to the per-process memory
  // store, and every worker would process each notification.
  const onNotification = () => {}
  const says = (field, re) => (e) => named(field)(e) && re.test(e.message)
  assert.throws(() => sosopay.createWebhookHandler({ key: KEY, onNotification, stor: {} }), says('stor', /did you mean store\?/))
  assert.throws(() => sosopay.createWebhookHandler({ key: KEY, onNotification, maxAge: 60 }), says('maxAge', /did you mean maxAgeSeconds\?/))
  await assert.rejects(sosopay.handleNotification({ key: KEY, onNotification, query: '', body: '', Store: {} }), says('Store', /did you mean store\?/))
  assert.doesNotThrow(() => sosopay.createWebhookHandler({ key: KEY, onNotification, store: undefined, limit: 10, onError: undefined }))
})

test('the kit, readRawBody and applySchema refuse an option they do not have', async () => {
  const { startSandbox, codes } = require('../testing.js')
  const stores = require('../stores')
  const { ValidationError } = sosopay
  const says = (field, re) => (e) => e instanceof ValidationError && e.field === field && re.test(e.message)
  // A misspelt chargeCode would wait for any order's notification; a misspelt channel gives a
  // WeChat code.
  assert.throws(() => codes.paysAfter(1, { chanel: 'Alipay' }), says('chanel', /did you mean channel\?/))
  assert.equal(codes.paysAfter(1, { channel: undefined }), codes.paysAfter(1))
  await assert.rejects(sosopay.readRawBody({ body: 'x' }, { limt: 5 }), says('limt', /did you mean limit\?/))
  await assert.rejects(stores.applySchema('postgres://127.0.0.1:9/x', { tabel: 't' }), says('tabel', /did you mean table\?/))
  const sb = await startSandbox({ timeScale: 0.01 })
  try {
    assert.throws(() => sb.faults.set([], { sed: 1 }), says('sed', /its fields: seed/))
    await assert.rejects(sb.waitForNotification({ chargecode: 'X', timeoutMs: 10 }), says('chargecode', /did you mean chargeCode\?/))
    await assert.rejects(sb.waitForState('X', 'Paid', { timeout: 10 }), says('timeout', /did you mean timeoutMs\?/))
  } finally {
    await sb.close()
  }
})

test('the stores refuse an option they do not have', () => {
  const stores = require('../stores')
  const { ValidationError } = sosopay
  const says = (field, re) => (e) => e instanceof ValidationError && e.field === field && re.test(e.message)
  assert.throws(() => new stores.RedisIdempotencyStore({ url: 'redis://127.0.0.1:9', lease: 5000 }), says('lease', /did you mean leaseMs\?/))
  assert.throws(() => new stores.PostgresIdempotencyStore({ connectionstring: 'postgres://x' }), says('connectionstring', /did you mean connectionString\?/))
  assert.throws(() => new stores.RedisIdempotencyStore(null), says('options', /expected a RedisStoreOptions object, got null/))
})

test('text holding a lone surrogate is refused naming the field, never sent as U+FFFD (as in Python)', async () => {
  const c = new Client({ ...base, retry: { maxAttempts: 1 } })
  await assert.rejects(c.createQrOrder({ chargeCode: 'S-1', amountFen: 1, channel: 'Wechat', paySubject: 'x\udc00y' }),
    (e) => e instanceof sosopay.ValidationError && e.field === 'paySubject' && /lone surrogate/.test(e.message))
  assert.throws(() => new Client({ ...base, key: `${KEY.slice(0, -1)}\ud800` }),
    (e) => e instanceof sosopay.ValidationError && e.field === 'key' && /lone surrogate/.test(e.message))
  // A U+FFFD the caller wrote is text like any other: read, and sent (here: nowhere to go).
  await assert.rejects(c.createQrOrder({ chargeCode: 'S-2', amountFen: 1, channel: 'Wechat', paySubject: 'ok \ufffd' }),
    (e) => e instanceof sosopay.TransportError)
})
