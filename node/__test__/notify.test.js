'use strict'
// Payment notifications: parseNotification / NotificationVerifier on hand-made deliveries
// (JSON, XML, 3DES, tampered, replayed), the once-only webhook logic, and end to end: the
// sandbox delivers real notifications (with duplicates) to an http server using
// createWebhookHandler.

const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const sosopay = require('..')
const { BUSI, KEY, startSandbox, code } = require('./helpers.js')

function notifyBody(cc, state = '1', amt = '150') {
  return JSON.stringify({
    PAY_NODIFY: {
      BUSI_ID: BUSI,
      CHARGE_CODE: cc,
      CHARGE_DOWN_CODE: '2026000001',
      CHANNEL_TYPE: '2',
      STATE: state,
      AMT: amt,
      realAMT: '1.50',
      PAY_SUBJECT: '奶茶 tea',
      FUND_BILL_LIST: { TRADEFUNDBILL: [{ FUND_CHANNEL: '11', AMOUNT: '1.50' }] },
    },
  })
}

function delivery(body, { encrypt = false, ts = Date.now(), key = KEY } = {}) {
  const sign = sosopay.signBody(key, body, String(ts))
  return {
    query: `_type=json${encrypt ? '&encrypt=3DES' : ''}&sign=${sign}`,
    body: encrypt ? sosopay.encrypt(key, body) : body,
  }
}

test('parseNotification: JSON, Buffer, 3DES and XML deliveries decode to typed fields', () => {
  const body = notifyBody('N1')
  for (const d of [delivery(body), delivery(body, { encrypt: true })]) {
    for (const b of [d.body, Buffer.from(d.body)]) {
      const n = sosopay.parseNotification({ key: KEY, query: d.query, body: b })
      assert.equal(n.order.chargeCode, 'N1')
      assert.equal(n.order.state, 'Paid')
      assert.equal(n.order.amountFen, 150)
      assert.equal(n.order.amountYuan, '1.50')
      assert.equal(n.order.realAmountFen, 150)
      assert.equal(n.order.channel, 'Wechat')
      assert.equal(n.order.paySubject, '奶茶 tea')
      assert.deepEqual(n.order.fundBills, [{ fundChannel: 'WechatPay', fundChannelCode: '11', amountFen: 150, amountYuan: '1.50' }])
      assert.equal(n.idempotencyKey, `${BUSI}:N1:1:150`)
      assert.deepEqual([n.chargeCode, n.state, n.stateCode, n.amountFen, n.amountYuan], ['N1', 'Paid', '1', 150, '1.50'])
      assert.equal(n.raw.PAY_NODIFY.CHARGE_CODE, 'N1')
    }
  }
  const xml = `<PAY_NODIFY><BUSI_ID>${BUSI}</BUSI_ID><CHARGE_CODE>X1</CHARGE_CODE><STATE>1</STATE><AMT>1</AMT></PAY_NODIFY>`
  const d = delivery(xml)
  const n = sosopay.parseNotification({ key: KEY, query: '?' + d.query.replace('_type=json&', ''), body: d.body })
  assert.equal(n.order.chargeCode, 'X1')
  assert.equal(n.order.amountYuan, '0.01')
})

test('forged, altered, replayed and garbled deliveries are refused with typed errors', () => {
  const body = notifyBody('N2')
  const good = delivery(body)
  const altered = good.body.replace('"150"', '"15000"')
  assert.throws(() => sosopay.parseNotification({ key: KEY, query: good.query, body: altered }), sosopay.SignatureError)
  const forged = delivery(body, { key: 'SOMEONEELSE' })
  assert.throws(() => sosopay.parseNotification({ key: KEY, query: forged.query, body: forged.body }), sosopay.SignatureError)
  assert.throws(() => sosopay.parseNotification({ key: KEY, query: '_type=json', body }), sosopay.SignatureError)
  // a genuine but old delivery: refused by the replay window, accepted with it disabled
  const old = delivery(body, { ts: '1473431447' })
  assert.throws(() => sosopay.parseNotification({ key: KEY, query: old.query, body: old.body }), (e) => e instanceof sosopay.SignatureError && /old/.test(e.message))
  assert.equal(sosopay.parseNotification({ key: KEY, query: old.query, body: old.body, maxAgeSeconds: 0 }).order.chargeCode, 'N2')
  // 3DES with the wrong key
  const enc = delivery(body, { encrypt: true, key: 'SOMEONEELSE' })
  assert.throws(() => sosopay.parseNotification({ key: KEY, query: enc.query, body: enc.body }), (e) => e instanceof sosopay.CryptoError || e instanceof sosopay.SignatureError)
  // signed, but not a notification
  const junk = delivery('{"HELLO":1}')
  assert.throws(() => sosopay.parseNotification({ key: KEY, query: junk.query, body: junk.body }), sosopay.DecodeError)
  assert.throws(() => sosopay.parseNotification({ key: KEY, query: good.query, body: good.body, maxAgeSeconds: -1 }), sosopay.ValidationError)
})

test('NotificationVerifier reuses one key schedule', () => {
  const v = new sosopay.NotificationVerifier({ key: KEY, maxAgeSeconds: 60 })
  for (let i = 0; i < 5; i++) {
    const d = delivery(notifyBody(`V${i}`), { encrypt: i % 2 === 0 })
    assert.equal(v.parse(d.query, d.body).order.chargeCode, `V${i}`)
  }
  assert.throws(() => new sosopay.NotificationVerifier({ key: '' }), sosopay.ValidationError)
  // A replay window out of range is a ValidationError naming it (1e30 used to abort the process).
  for (const bad of [1e30, Infinity, NaN, -0.5]) {
    assert.throws(() => new sosopay.NotificationVerifier({ key: KEY, maxAgeSeconds: bad }),
      (e) => e instanceof sosopay.ValidationError && e.field === 'maxAgeSeconds' && /seconds is negative|seconds is longer than any setting takes \(at most 10\^7 s\)|is not a number of seconds/.test(e.message))
  }
  assert.throws(() => new sosopay.Client({ busiCode: BUSI, key: KEY, baseUrl: 'http://127.0.0.1:9/', timeoutMs: 1e300 }),
    (e) => e instanceof sosopay.ValidationError && e.field === 'timeoutMs')
})

test('handleNotification: once per notification, retried after a failing handler', async () => {
  const store = new sosopay.MemoryIdempotencyStore()
  const seen = []
  let fail = true
  const onNotification = async (n) => {
    if (fail) {
      fail = false
      throw new Error('database down')
    }
    seen.push(n.order.chargeCode)
  }
  const d = delivery(notifyBody('H1'))
  const first = await sosopay.handleNotification({ key: KEY, store, ...d, onNotification })
  assert.equal(first.status, 500)
  assert.equal(first.delivery, 'Failed')
  const second = await sosopay.handleNotification({ key: KEY, store, ...d, onNotification })
  assert.equal(second.status, 200)
  assert.equal(second.delivery, 'Processed')
  assert.equal(second.body, 'SUCCESS')
  const third = await sosopay.handleNotification({ key: KEY, store, ...d, onNotification })
  assert.equal(third.delivery, 'Duplicate')
  assert.equal(third.status, 200)
  assert.deepEqual(seen, ['H1'])
  // a later state of the same order is a new event
  const refunded = await sosopay.handleNotification({ key: KEY, store, ...delivery(notifyBody('H1', '5')), onNotification })
  assert.equal(refunded.delivery, 'Processed')
  assert.deepEqual(seen, ['H1', 'H1'])
  assert.equal(store.size, 2)
  // a forged delivery never reaches the handler
  const bad = await sosopay.handleNotification({ key: KEY, store, query: d.query, body: d.body.replace('"150"', '"15000"'), onNotification: () => assert.fail('called') })
  assert.equal(bad.status, 400)
  assert.equal(bad.delivery, 'Rejected')
  assert.ok(bad.error instanceof sosopay.SignatureError)
  // raw bytes in any form are the raw body (a Web Request's arrayBuffer(), a Uint8Array)
  for (const bytes of [new TextEncoder().encode(d.body), new TextEncoder().encode(d.body).buffer]) {
    const r = await sosopay.handleNotification({ key: KEY, store: new sosopay.MemoryIdempotencyStore(), query: d.query, body: bytes, onNotification: () => {} })
    assert.equal(r.status, 200, String(r.error))
  }
  // a body a framework already parsed (Fastify's own JSON parser) is refused saying so
  const parsed = await sosopay.handleNotification({ key: KEY, store, query: d.query, body: JSON.parse(d.body), onNotification: () => assert.fail('called') })
  assert.equal(parsed.status, 400)
  assert.ok(parsed.error instanceof sosopay.ValidationError)
  assert.equal(parsed.error.field, 'body')
  assert.match(parsed.error.message, /expected the raw body .* got an object: a body parser already parsed it/)
  // an in-progress claim answers 503 so the gateway retries later
  assert.equal(store.begin('busy'), 'New')
  const busyStore = { begin: async () => 'InProgress', complete: async () => {}, abandon: async () => {} }
  const busy = await sosopay.handleNotification({ key: KEY, store: busyStore, ...delivery(notifyBody('H2')), onNotification: () => assert.fail('called') })
  assert.equal(busy.status, 503)
  // A store answering none of the three claims has a bug: a ValidationError naming the claim,
  // answered 500 (handler side), not a store outage; the handler is not run.
  for (const answerOf of [async () => 'Maybe', async () => null]) {
    const broken = { begin: answerOf, complete: async () => {}, abandon: async () => {} }
    const r = await sosopay.handleNotification({ key: KEY, store: broken, ...delivery(notifyBody('H3')), onNotification: () => assert.fail('called') })
    assert.equal(r.status, 500)
    assert.equal(r.delivery, 'Failed')
    assert.ok(r.error instanceof sosopay.ValidationError, String(r.error))
    assert.equal(r.error.field, 'claim')
    assert.doesNotMatch(r.error.message, /\[sosopay\]/)
  }
  // A store of one's own: its outage (StoreUnavailableError) is 503, any other error 500, at
  // begin as at complete (the same rule as Python's handle_notification).
  const { StoreUnavailableError } = require('../stores')
  const cases = [
    [new StoreUnavailableError('down'), 503, 'StoreUnavailable'],
    [new Error('bug'), 500, 'Failed'],
  ]
  for (const [error, status, outcome] of cases) {
    for (const step of ['begin', 'complete']) {
      let ran = 0
      const failing = {
        begin: async () => { if (step === 'begin') throw error; return 'New' },
        complete: async () => { throw error },
        abandon: async () => {},
      }
      const r = await sosopay.handleNotification({ key: KEY, store: failing, ...delivery(notifyBody(`H4${step}`)), onNotification: () => ran++ })
      assert.deepEqual([r.status, r.delivery, r.error, ran], [status, outcome, error, step === 'begin' ? 0 : 1], `${error.message} at ${step}`)
    }
  }
})

test('handleNotification: a generator handler is refused, never counted as processed', async () => {
  // Calling a function* or an async function* runs nothing of its body: a ValidationError,
  // the claim released and 500 (the gateway delivers again), not 200 for a notification
  // nobody handled.
  const store = new sosopay.MemoryIdempotencyStore()
  const d = delivery(notifyBody('G1'))
  const ran = []
  const handlers = [
    function* (n) { ran.push(n.order.chargeCode); yield },
    async function* (n) { ran.push(n.order.chargeCode); yield },
    async (n) => (function* () { ran.push(n.order.chargeCode); yield })(),
  ]
  for (const onNotification of handlers) {
    const r = await sosopay.handleNotification({ key: KEY, store, ...d, onNotification })
    assert.deepEqual([r.status, r.body, r.delivery], [500, 'FAIL', 'Failed'])
    assert.ok(r.error instanceof sosopay.ValidationError, String(r.error))
    assert.equal(r.error.field, 'onNotification')
    assert.match(r.error.message, /generator/)
  }
  assert.deepEqual(ran, [])
  assert.equal(store.size, 0) // each claim was released
  const ok = await sosopay.handleNotification({ key: KEY, store, ...d, onNotification: (n) => ran.push(n.order.chargeCode) })
  assert.deepEqual([ok.status, ok.delivery, ran], [200, 'Processed', ['G1']])
})

test('webhook options limit and store are checked when the handler is made', async () => {
  const onNotification = () => {}
  for (const limit of [NaN, Infinity, -1, 0, 1.5, '10']) {
    assert.throws(() => sosopay.createWebhookHandler({ key: KEY, onNotification, limit }),
      (e) => e instanceof sosopay.ValidationError && e.field === 'limit' && /expected a whole number of bytes from 1/.test(e.message))
    await assert.rejects(sosopay.readRawBody({ body: 'x' }, { limit }), (e) => e instanceof sosopay.ValidationError && e.field === 'limit')
  }
  for (const store of [{}, { begin() {} }, 5]) {
    assert.throws(() => sosopay.createWebhookHandler({ key: KEY, onNotification, store }),
      (e) => e instanceof sosopay.ValidationError && e.field === 'store' && /missing/.test(e.message))
    await assert.rejects(sosopay.handleNotification({ key: KEY, onNotification, store, query: '', body: '' }),
      (e) => e instanceof sosopay.ValidationError && e.field === 'store')
  }
  sosopay.createWebhookHandler({ key: KEY, onNotification, limit: 4096 })
})

test('end to end: the sandbox notifies an http server using createWebhookHandler', async () => {
  const sb = await startSandbox({ timeScale: 0.01 })
  const received = []
  const errors = []
  const server = http.createServer(
    sosopay.createWebhookHandler({
      key: KEY,
      onNotification: (n) => {
        received.push(n)
      },
      onError: (e) => errors.push(e),
    }),
  )
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const port = server.address().port
  try {
    await sb.admin('POST', 'faults', [{ op: 'notify', kind: 'duplicate', probability: 1 }])
    const c = new sosopay.Client({ busiCode: BUSI, key: KEY, baseUrl: sb.baseUrl, defaultOperId: 'o', defaultDevId: 'd' })
    const plain = code('E')
    const encrypted = code('E')
    const xml = code('E')
    await c.createQrOrder({ chargeCode: plain, amount: '2.00', channel: 'Wechat', paySubject: 'x', notifyUrl: `http://127.0.0.1:${port}/notify?_type=json` })
    await c.createQrOrder({ chargeCode: encrypted, amount: '3.00', channel: 'Alipay', paySubject: 'x', notifyUrl: `http://127.0.0.1:${port}/notify?_type=json&encrypt=3DES` })
    await c.createQrOrder({ chargeCode: xml, amount: '4.00', channel: 'Alipay', paySubject: 'x', notifyUrl: `http://127.0.0.1:${port}/notify` })
    for (const cc of [plain, encrypted, xml]) await sb.admin('POST', `orders/${cc}/pay`)
    // wait until every notification was delivered and its duplicate answered
    const deadline = Date.now() + 10000
    let attempts = []
    while (Date.now() < deadline) {
      attempts = (await sb.admin('GET', 'ledger')).notifications
      if (attempts.filter((a) => a.http_status === 200).length >= 6) break
      await new Promise((r) => setTimeout(r, 50))
    }
    assert.deepEqual(errors, [])
    assert.deepEqual(received.map((n) => n.order.chargeCode).sort(), [plain, encrypted, xml].sort())
    assert.ok(received.every((n) => n.order.state === 'Paid'))
    assert.deepEqual(received.map((n) => n.order.amountFen).sort(), [200, 300, 400])
    assert.ok(attempts.filter((a) => a.duplicate).length >= 3, 'the sandbox sent duplicates')
    assert.ok(attempts.every((a) => a.http_status === 200), JSON.stringify(attempts))
  } finally {
    server.close()
    await sb.stop()
  }
})

test('createWebhookHandler refuses a body a JSON parser already consumed', async () => {
  const errors = []
  const seen = []
  const handler = sosopay.createWebhookHandler({ key: KEY, onNotification: (n) => seen.push(n), onError: (e) => errors.push(e) })
  const res = { statusCode: 0, headers: {}, setHeader(k, v) { this.headers[k] = v }, end(b) { this.body = b } }
  await handler({ url: '/notify?sign=x', body: { PAY_NODIFY: {} } }, res)
  assert.equal(res.statusCode, 400)
  assert.ok(errors[0] instanceof sosopay.ValidationError)
  assert.equal(errors[0].field, 'body')
  // Express with express.raw(): req.body is the raw Buffer, req.originalUrl the full URL
  const d = delivery(notifyBody('R1'), { encrypt: true })
  const res2 = { ...res, statusCode: 0 }
  await handler({ url: '/', originalUrl: `/hooks/notify?${d.query}`, body: Buffer.from(d.body) }, res2)
  assert.equal(res2.statusCode, 200)
  assert.equal(res2.body, 'SUCCESS')
  assert.deepEqual(seen.map((n) => n.order.chargeCode), ['R1'])
  assert.equal(sosopay.rawQuery({ raw: { url: '/a?b=c' }, url: '/ignored' }), 'b=c')
})

test('a cluster worker is warned once that the default store is per process', async () => {
  const { execFileSync } = require('node:child_process')
  const script = `
    const cluster = require('node:cluster')
    if (cluster.isPrimary) {
      const w = cluster.fork()
      w.on('message', (m) => { console.log(JSON.stringify(m)); w.kill() })
    } else {
      const { createWebhookHandler, MemoryIdempotencyStore } = require(${JSON.stringify(require.resolve('..'))})
      const warnings = []
      process.on('warning', (w) => warnings.push(w.name + ': ' + w.message))
      const onNotification = () => {}
      createWebhookHandler({ key: 'k', onNotification, store: new MemoryIdempotencyStore() })
      createWebhookHandler({ key: 'k', onNotification })
      createWebhookHandler({ key: 'k', onNotification })
      setImmediate(() => process.send(warnings))
    }`
  const fs = require('node:fs')
  const os = require('node:os')
  const path = require('node:path')
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sosopay-cluster-')), 'worker.js')
  fs.writeFileSync(file, script) // a cluster worker runs a file, not -e
  const out = execFileSync(process.execPath, [file], { encoding: 'utf8', timeout: 20000 })
  fs.rmSync(path.dirname(file), { recursive: true })
  const warnings = JSON.parse(out.trim().split('\n').pop())
  assert.equal(warnings.length, 1, out)
  assert.match(warnings[0], /^SosopayWarning: .*in-memory store, which is per process/)
})

test('without onError, a delivery refused or failed is a SosopayWarning, not silence', async () => {
  const warnings = []
  const listen = (w) => { if (w.name === 'SosopayWarning') warnings.push(w.message) }
  process.on('warning', listen)
  try {
    const res = () => ({ statusCode: 0, setHeader() {}, end(b) { this.body = b } })
    // a JSON parser mounted before the route: every notification would be refused
    const parsed = sosopay.createWebhookHandler({ key: KEY, onNotification: () => {} })
    const r1 = res()
    await parsed({ url: '/notify?sign=x', body: { PAY_NODIFY: {} } }, r1)
    // the shop's own handler throws: the gateway retries, 30 times at most
    const throwing = sosopay.createWebhookHandler({ key: KEY, onNotification: () => { throw new Error('db down') } })
    const d = delivery(notifyBody('W1'))
    const r2 = res()
    await throwing({ url: `/notify?${d.query}`, body: Buffer.from(d.body) }, r2)
    // a processed one warns nothing
    const ok = sosopay.createWebhookHandler({ key: KEY, onNotification: () => {} })
    const r3 = res()
    await ok({ url: `/notify?${d.query}`, body: Buffer.from(d.body) }, r3)
    await new Promise((r) => setImmediate(r)) // warnings are emitted on the next tick
    assert.deepEqual([r1.statusCode, r2.statusCode, r3.statusCode], [400, 500, 200])
    assert.equal(warnings.length, 2, JSON.stringify(warnings))
    assert.match(warnings[0], /^sosopay webhook answered 400 \(Rejected\): invalid body: the request body was already parsed/)
    assert.match(warnings[1], /^sosopay webhook answered 500 \(Failed\): db down$/)
  } finally {
    process.off('warning', listen)
  }
})

test('a handler (or a store) that throws or rejects with anything but an Error is reported as an Error', async () => {
  // `throw null`, `Promise.reject()`: the result had no `error`, so neither onError nor a
  // SosopayWarning saw the 500 (README: "never silence"). `throw 'x'`, `throw 42`, a Symbol or a
  // plain object reached `r.error` and onError as the raw value: every one is an Error now, the
  // value its `cause`.
  const sym = Symbol('s')
  const plain = { message: 'obj' }
  const cases = [
    ['throw null', () => { throw null }, /^onNotification threw null \(not an Error\)$/, null],
    ['throw undefined', () => { throw undefined }, /^onNotification threw undefined \(not an Error\)$/, undefined],
    ['Promise.reject()', () => Promise.reject(), /^onNotification rejected with undefined \(not an Error\)$/, undefined],
    ['async throw 0', async () => { throw 0 }, /^onNotification rejected with 0 \(not an Error\)$/, 0],
    ["throw ''", () => { throw '' }, /^onNotification threw '' \(not an Error\)$/, ''],
    ['throw false', () => { throw false }, /^onNotification threw false \(not an Error\)$/, false],
    ["throw 'x'", () => { throw 'x' }, /^onNotification threw 'x' \(not an Error\)$/, 'x'],
    ['throw 42', () => { throw 42 }, /^onNotification threw 42 \(not an Error\)$/, 42],
    ['throw 1n', () => { throw 1n }, /^onNotification threw 1n \(not an Error\)$/, 1n],
    ["throw Symbol('s')", () => { throw sym }, /^onNotification threw Symbol\(s\) \(not an Error\)$/, sym],
    ["async throw { message: 'obj' }", async () => { throw plain }, /^onNotification rejected with \{ message: 'obj' \} \(not an Error\)$/, plain],
  ]
  const warnings = []
  const listen = (w) => { if (w.name === 'SosopayWarning') warnings.push(w.message) }
  process.on('warning', listen)
  try {
    for (const [i, [name, onNotification, message, value]] of cases.entries()) {
      const d = delivery(notifyBody(`FZ${i}`))
      // handleNotification: the result's error says what was thrown (the value is its cause)
      const store = new sosopay.MemoryIdempotencyStore()
      const r = await sosopay.handleNotification({ key: KEY, store, ...d, onNotification })
      assert.equal(r.status, 500, name)
      assert.equal(r.delivery, 'Failed', name)
      assert.ok(r.error instanceof Error, name)
      assert.match(r.error.message, message, name)
      assert.ok('cause' in r.error && Object.is(r.error.cause, value), name)
      // the claim was released: the next delivery runs the handler again
      let ran = 0
      assert.equal((await sosopay.handleNotification({ key: KEY, store, ...d, onNotification: () => { ran++ } })).status, 200, name)
      assert.equal(ran, 1, name)
      // createWebhookHandler: onError sees it; without onError, a SosopayWarning
      const res = () => ({ statusCode: 0, setHeader() {}, end(b) { this.body = b } })
      const seen = []
      const hooked = sosopay.createWebhookHandler({ key: KEY, onNotification, onError: (e, result) => seen.push([e, result.status]) })
      const r1 = res()
      await hooked({ url: `/notify?${d.query}`, body: Buffer.from(d.body) }, r1)
      assert.equal(r1.statusCode, 500, name)
      assert.equal(seen.length, 1, name)
      assert.match(seen[0][0].message, message, name)
      assert.equal(seen[0][1], 500, name)
      const before = warnings.length
      const r2 = res()
      await sosopay.createWebhookHandler({ key: KEY, onNotification })({ url: `/notify?${d.query}`, body: Buffer.from(d.body) }, r2)
      await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next tick
      assert.equal(r2.statusCode, 500, name)
      assert.equal(warnings.length, before + 1, name)
      assert.match(warnings.at(-1), /^sosopay webhook answered 500 \(Failed\): onNotification (threw|rejected with) /, name)
    }
    // An Error is kept as it is, one of another realm (a vm context's) too.
    const boom = new TypeError('boom')
    const kept = await sosopay.handleNotification({ key: KEY, store: new sosopay.MemoryIdempotencyStore(), ...delivery(notifyBody('FZE')), onNotification: () => { throw boom } })
    assert.equal(kept.error, boom)
    const foreign = require('node:vm').runInNewContext('new RangeError("from a vm")')
    assert.ok(!(foreign instanceof Error))
    const vmKept = await sosopay.handleNotification({ key: KEY, store: new sosopay.MemoryIdempotencyStore(), ...delivery(notifyBody('FZV')), onNotification: () => Promise.reject(foreign) })
    assert.equal(vmKept.error, foreign)
    // A value whose inspection throws is still reported (named by its type).
    const hostile = { [require('node:util').inspect.custom]() { throw new Error('no') } }
    const h = await sosopay.handleNotification({ key: KEY, store: new sosopay.MemoryIdempotencyStore(), ...delivery(notifyBody('FZH')), onNotification: () => { throw hostile } })
    assert.ok(h.error instanceof Error)
    assert.equal(h.error.message, 'onNotification threw a value that could not be shown (object) (not an Error)')
    assert.equal(h.error.cause, hostile)
    // A store of the app's own whose begin or complete rejects with nothing: reported too.
    const d = delivery(notifyBody('FZstore'))
    const badBegin = { begin: () => Promise.reject(), complete: async () => {}, abandon: async () => {} }
    const b = await sosopay.handleNotification({ key: KEY, store: badBegin, ...d, onNotification: () => {} })
    assert.equal(b.status, 500)
    assert.match(b.error.message, /^the store's begin failed with undefined \(not an Error\)$/)
    const badComplete = { begin: async () => 'New', complete: () => Promise.reject(null), abandon: async () => {} }
    const c = await sosopay.handleNotification({ key: KEY, store: badComplete, ...d, onNotification: () => {} })
    assert.equal(c.status, 500)
    assert.match(c.error.message, /^the store's complete failed with null \(not an Error\)$/)
    // ... or with a string (`reject('redis down')`): an Error too.
    const strBegin = { begin: () => Promise.reject('redis down'), complete: async () => {}, abandon: async () => {} }
    const sb = await sosopay.handleNotification({ key: KEY, store: strBegin, ...d, onNotification: () => {} })
    assert.equal(sb.status, 500)
    assert.ok(sb.error instanceof Error)
    assert.equal(sb.error.message, "the store's begin failed with 'redis down' (not an Error)")
    assert.equal(sb.error.cause, 'redis down')
  } finally {
    process.off('warning', listen)
  }
})

test('a body parser that skipped the request (its type did not match) leaves the stream to read', async () => {
  // express.raw() takes only application/octet-stream, express.urlencoded() only forms: for the
  // gateway's JSON or XML they set req.body = {} and leave the stream unread. That was refused
  // as "already parsed" (every notification 400); the stream is read now. A body really parsed
  // (the stream consumed) is still refused, naming the way to keep a raw copy.
  const seen = []
  const errors = []
  const handler = sosopay.createWebhookHandler({ key: KEY, onNotification: (n) => seen.push(n.order.chargeCode), onError: (e) => errors.push(e) })
  const server = http.createServer(async (req, res) => {
    if (req.url.includes('consumed')) {
      for await (const chunk of req) void chunk // a JSON parser read it
      req.body = { PAY_NODIFY: {} }
    } else {
      req.body = {} // what body-parser leaves when it skips a request
    }
    await handler(req, res)
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  try {
    const post = async (path, d, type = 'application/json;charset=UTF-8') => {
      const r = await fetch(`http://127.0.0.1:${server.address().port}${path}?${d.query}`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: d.body,
      })
      return r.status
    }
    assert.equal(await post('/skipped', delivery(notifyBody('SK1'))), 200)
    assert.deepEqual(seen, ['SK1'])
    assert.equal(await post('/consumed', delivery(notifyBody('SK2'))), 400)
    assert.equal(errors.length, 1)
    assert.match(errors[0].message, /already parsed .*express\.json\(\{ verify: /)
    // The advice names the parser that reads the request's type (a form: express.urlencoded).
    assert.equal(await post('/consumed', delivery(notifyBody('SK3')), 'application/x-www-form-urlencoded'), 400)
    assert.match(errors[1].message, /keep a copy where it is parsed \(express\.urlencoded\(\{ verify: /)
    assert.doesNotMatch(errors[1].message, /express\.json/)
    assert.equal(await post('/consumed', delivery(notifyBody('SK4')), 'text/plain'), 400)
    assert.match(errors[2].message, /\(express\.text\(\{ verify: /)
    assert.equal(await post('/consumed', delivery(notifyBody('SK5')), 'application/octet-stream'), 400)
    assert.match(errors[3].message, /the parser's verify option, e\.g\. express\.json\(.* express\.urlencoded\(/)
    assert.deepEqual(seen, ['SK1'])
  } finally {
    server.close()
  }
})

test('a key being rotated out is accepted when given (previousKeys)', async () => {
  const NEW = 'NEWKEYNEWKEYNEWKEYNEWKEYNEWKEY12'
  const body = notifyBody('ROT-1')
  for (const encrypt of [false, true]) {
    const d = delivery(body, { encrypt }) // signed (and encrypted) with the old key
    assert.throws(() => new sosopay.NotificationVerifier({ key: NEW }).parse(d.query, d.body),
      (e) => e instanceof sosopay.SignatureError || e instanceof sosopay.CryptoError)
    const v = new sosopay.NotificationVerifier({ key: NEW, previousKeys: [KEY] })
    assert.equal(v.parse(d.query, d.body).order.chargeCode, 'ROT-1')
    const fresh = delivery(body, { encrypt, key: NEW })
    assert.equal(v.parse(fresh.query, fresh.body).order.chargeCode, 'ROT-1')
    const stranger = delivery(body, { encrypt, key: 'STRANGERSTRANGERSTRANGER' })
    assert.throws(() => v.parse(stranger.query, stranger.body), sosopay.SosopayError)
    // The webhook helper takes them with `key`.
    let seen = 0
    const r = await sosopay.handleNotification({ key: NEW, previousKeys: [KEY], store: new sosopay.MemoryIdempotencyStore(), onNotification: () => { seen++ }, ...d })
    assert.equal(r.status, 200)
    assert.equal(seen, 1)
  }
  assert.throws(() => new sosopay.NotificationVerifier({ key: NEW, previousKeys: [''] }),
    (e) => e instanceof sosopay.ValidationError && e.field === 'previousKeys')
  assert.throws(() => new sosopay.NotificationVerifier({ key: NEW, previousKeys: ['A1', 'A2', 'A3', 'A4', 'A5'].map((k) => k.repeat(12)) }),
    (e) => e instanceof sosopay.ValidationError && e.field === 'previousKeys' && /at most 4/.test(e.message))
  assert.throws(() => new sosopay.NotificationVerifier({ key: NEW, previousKeys: KEY }),
    (e) => e instanceof sosopay.ValidationError && e.field === 'previousKeys')
})

test('a webhook given a verifier refuses the key settings it would ignore', () => {
  const verifier = new sosopay.NotificationVerifier({ key: KEY })
  for (const field of ['key', 'maxAgeSeconds', 'previousKeys', 'busiCode']) {
    const value = field === 'maxAgeSeconds' ? 60 : field === 'key' || field === 'busiCode' ? KEY : [KEY]
    assert.throws(() => sosopay.createWebhookHandler({ verifier, [field]: value, onNotification() {} }),
      (e) => e instanceof sosopay.ValidationError && e.field === field && /given with verifier|instead of verifier/.test(e.message))
  }
  assert.equal(typeof sosopay.createWebhookHandler({ verifier, onNotification() {} }), 'function')
})

test('busiCode: a verifier for one merchant refuses another merchant\'s (or an unnamed) notification', async () => {
  const d = delivery(notifyBody('BUSI-1'))
  const ours = new sosopay.NotificationVerifier({ key: KEY, busiCode: BUSI })
  assert.equal(ours.parse(d.query, d.body).order.busiId, BUSI)
  const theirs = new sosopay.NotificationVerifier({ key: KEY, busiCode: '0010000002' })
  assert.throws(() => theirs.parse(d.query, d.body),
    (e) => e instanceof sosopay.DecodeError && /BUSI_ID "0010000001", not "0010000002"/.test(e.message))
  const unnamed = JSON.parse(notifyBody('BUSI-2'))
  delete unnamed.PAY_NODIFY.BUSI_ID
  const u = delivery(JSON.stringify(unnamed))
  assert.equal(new sosopay.NotificationVerifier({ key: KEY }).parse(u.query, u.body).order.busiId, undefined)
  assert.throws(() => ours.parse(u.query, u.body), (e) => e instanceof sosopay.DecodeError && /names no BUSI_ID/.test(e.message))
  // The webhook helper takes it with `key`, and answers 400 without running the handler.
  let seen = 0
  const r = await sosopay.handleNotification({ key: KEY, busiCode: '0010000002', store: new sosopay.MemoryIdempotencyStore(), onNotification: () => { seen++ }, onError() {}, ...d })
  assert.deepEqual([r.status, r.body, seen], [400, 'FAIL', 0])
  assert.ok(r.error instanceof sosopay.DecodeError)
  const ok = await sosopay.handleNotification({ key: KEY, busiCode: BUSI, store: new sosopay.MemoryIdempotencyStore(), onNotification: () => { seen++ }, ...d })
  assert.deepEqual([ok.status, seen], [200, 1])
  for (const bad of ['', 'a/b', 12]) {
    assert.throws(() => new sosopay.NotificationVerifier({ key: KEY, busiCode: bad }),
      (e) => e instanceof sosopay.ValidationError && e.field === 'busiCode', String(bad))
  }
})
