'use strict'
// Every operation and flow against the sandbox gateway (spawned on port 0), in plain JSON, 3DES
// and XML; the event loop keeps ticking during a held micropay; errors arrive as typed classes.

const test = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const sosopay = require('..')
const { BUSI, KEY, startSandbox, code, payCode } = require('./helpers.js')

const WECHAT_CODE = '134567890123456789'

let sb
test.before(async () => {
  sb = await startSandbox({ timeScale: 0.01 })
})
test.after(async () => {
  await sb.stop()
})

function client(extra = {}) {
  return new sosopay.Client({
    busiCode: BUSI,
    key: KEY,
    baseUrl: sb.baseUrl,
    defaultOperId: 'op1',
    defaultDevId: 'till1',
    ...extra,
  })
}

async function setFaults(rules) {
  await sb.admin('POST', 'faults', rules)
}

for (const [mode, extra] of [
  ['plain JSON', {}],
  ['3DES', { encrypt: true }],
  ['XML replies', { format: 'xml' }],
]) {
  test(`every operation (${mode})`, async () => {
    const c = client(extra)

    // micropay: paid at once
    const cc = code('M')
    const m = await c.micropay({ chargeCode: cc, amount: '0.01', dynamicId: WECHAT_CODE, paySubject: '咖啡 coffee' })
    assert.equal(m.resultCode, 'SUCCESS')
    assert.equal(m.chargeCode, cc)
    assert.equal(m.state, 'Paid')
    assert.equal(m.channel, 'Wechat')
    assert.equal(m.amountFen, 1)
    assert.equal(m.amountYuan, '0.01')
    assert.equal(m.operId, 'op1')
    assert.ok(m.raw && typeof m.raw === 'object')

    // query by charge code, and by object
    const q = await c.query(cc)
    assert.equal(q.order.chargeCode, cc)
    assert.equal(q.order.state, 'Paid')
    assert.equal(q.order.stateCode, '1')
    assert.equal(q.order.moneyTaken, true)
    assert.equal(q.order.amountFen, 1)
    const q2 = await c.query({ code: q.order.chargeDownCode, serType: 'ChargeDownCode' })
    assert.equal(q2.order.chargeCode, cc)

    // QR order, paid through the sandbox, partly refunded
    const qr = code('Q')
    const o = await c.createQrOrder({ chargeCode: qr, amountFen: 250, channel: 'Alipay', paySubject: 'tea', timeExpire: 300 })
    assert.match(o.barCode, /^https?:\/\//)
    assert.equal(o.state, 'AwaitingPayment')
    // A reply is a plain object: its keys in the declared order (index.d.ts), an absent
    // optional field left out (not null), money as fen and yuan.
    assert.equal(Object.getPrototypeOf(o), Object.prototype)
    assert.deepEqual(Object.keys(o).slice(0, 3), ['resultCode', 'resultInfo', 'chargeCode'])
    assert.ok(!('chargeThirdCode' in o) && !('jsapi' in o), Object.keys(o).join())
    assert.deepEqual([o.amountFen, o.amountYuan], [250, '2.50'])
    assert.deepEqual(o.fundBills, [])
    await sb.admin('POST', `orders/${qr}/pay`)
    const r = await c.refund({ chargeCode: qr, outRefundNo: code('R'), refundAmount: '1.00', refundSubject: 'refund' })
    assert.equal(r.resultCode, 'SUCCESS')
    assert.equal(r.fundBills.reduce((s, b) => s + b.amountFen, 0), 100)
    assert.equal((await c.query(qr)).order.state, 'PartiallyRefunded')

    // JSAPI order: pay parameters
    const j = await c.createJsapiOrder({ chargeCode: code('J'), amount: '1.5', paySubject: 'x', subOpenid: 'oUser1', subAppid: 'wxapp' })
    assert.ok(j.jsapi.appId)
    assert.match(j.jsapi.package, /^prepay_id=/)
    assert.equal(j.amountFen, 150)

    // cancel an open order
    const open = code('C')
    await c.createQrOrder({ chargeCode: open, amount: '3', channel: '2', paySubject: 'x' })
    const cancel = await c.cancel(open)
    assert.ok(['SUCCESS', 'AREADY_REVOKED'].includes(cancel.resultCode))
    assert.equal((await c.query(open)).order.state, 'Cancelled')
    // Again: the order is cancelled, so a reply (AREADY_REVOKED), never an error.
    const again = await c.cancel({ chargeCode: open })
    assert.equal(again.resultCode, 'AREADY_REVOKED')

    // data top-up
    const f = await c.flowRecharge({ phoneNo: '13800138000', flowVal: 100 })
    assert.equal(f.resultCode, 'SUCCESS')
    assert.equal(f.flow.phoneNo, '13800138000')
    assert.equal(f.flow.flowVal, 100)
  })
}

test('micropayAndWait: paid, confirm-then-pay, declined, never confirmed', async () => {
  const c = client()
  const paid = await c.micropayAndWait({ chargeCode: code('F'), amountFen: 1234, dynamicId: WECHAT_CODE, paySubject: 's' })
  assert.equal(paid.status, 'Paid')
  assert.equal(paid.isPaid, true)
  assert.equal(paid.order.amountFen, 1234)
  assert.equal(paid.order.amountYuan, '12.34')
  // A plain object in the declared key order; no resultCode when nothing failed.
  assert.deepEqual(Object.keys(paid).slice(0, 3), ['status', 'isPaid', 'chargeCode'])
  assert.ok(!('resultCode' in paid), Object.keys(paid).join())

  // the customer confirms on the phone for 3 s (scaled: 30 ms), then pays
  const held = await c.micropayAndWait({ chargeCode: code('F'), amount: '0.02', dynamicId: payCode(1, 3), paySubject: 's' })
  assert.equal(held.status, 'Paid')

  // "user paying" reply at once (STATE 0), pays after 2 s (scaled): settled by polling
  const paying = await c.micropayAndWait(
    { chargeCode: code('F'), amount: '0.02', dynamicId: payCode(2, 2), paySubject: 's' },
    { pollIntervalMs: 20, maxPollIntervalMs: 50, deadlineMs: 5000 },
  )
  assert.equal(paying.status, 'Paid')
  assert.ok(paying.queries >= 1)

  // insufficient funds
  const declined = await c.micropayAndWait({ chargeCode: code('F'), amount: '0.02', dynamicId: payCode(3, 1), paySubject: 's' })
  assert.equal(declined.status, 'Failed')
  assert.equal(declined.isPaid, false)

  // never confirms: the deadline passes and the order is cancelled
  const never = await c.micropayAndWait(
    { chargeCode: code('F'), amount: '0.02', dynamicId: payCode(5), paySubject: 's' },
    { pollIntervalMs: 20, maxPollIntervalMs: 50, deadlineMs: 300 },
  )
  assert.equal(never.status, 'Cancelled')
})

test('micropayAndWait settles a lost reply by querying (no double charge)', async () => {
  const c = client()
  await setFaults([{ op: 'preOrder', kind: 'drop_reply', probability: 1 }])
  try {
    const cc = code('D')
    // The plain call cannot know whether money moved.
    const err = await c.micropay({ chargeCode: cc, amount: '0.05', dynamicId: WECHAT_CODE, paySubject: 's' }).catch((e) => e)
    assert.ok(err instanceof sosopay.SosopayError, String(err))
    assert.equal(err.outcomeUnknown, true)
    // The flow resolves it.
    const cc2 = code('D')
    const out = await c.micropayAndWait(
      { chargeCode: cc2, amount: '0.05', dynamicId: WECHAT_CODE, paySubject: 's' },
      { pollIntervalMs: 20, maxPollIntervalMs: 50 },
    )
    assert.equal(out.status, 'Paid')
    assert.equal(out.chargeCode, cc2)
  } finally {
    await setFaults([])
  }
  const ledger = await sb.admin('GET', 'ledger')
  const paidTwice = ledger.orders.filter((o) => o.charge_code.startsWith('D') && o.state_name === 'Paid')
  assert.equal(new Set(paidTwice.map((o) => o.charge_code)).size, paidTwice.length)
})

test('waitForPayment: paid through the sandbox, or Pending at the deadline', async () => {
  const c = client()
  const cc = code('W')
  await c.createQrOrder({ chargeCode: cc, amount: '9.99', channel: 'Wechat', paySubject: 'x' })
  const waiting = c.waitForPayment(cc, { pollIntervalMs: 20, maxPollIntervalMs: 40, deadlineMs: 5000 })
  setTimeout(() => sb.admin('POST', `orders/${cc}/pay`), 100)
  const out = await waiting
  assert.equal(out.status, 'Paid')
  assert.equal(out.order.amountFen, 999)

  const cc2 = code('W')
  await c.createQrOrder({ chargeCode: cc2, amount: '1', channel: 'Alipay', paySubject: 'x' })
  const pending = await c.waitForPayment(cc2, { pollIntervalMs: 20, maxPollIntervalMs: 40, deadlineMs: 150 })
  assert.equal(pending.status, 'Pending')
})

test('waitForPayment with the amount: another payment\'s order under the code is Conflict', async () => {
  const c = client()
  const cc = code('WA')
  await c.createQrOrder({ chargeCode: cc, amount: '1.58', channel: 'Wechat', paySubject: 'x' })
  await sb.admin('POST', `orders/${cc}/pay`)
  const fast = { pollIntervalMs: 20, maxPollIntervalMs: 40, deadlineMs: 2000 }
  const other = await c.waitForPayment({ chargeCode: cc, amount: '15.80' }, fast)
  assert.equal(other.status, 'Conflict')
  assert.equal(other.order.amountFen, 158)
  for (const order of [cc, { chargeCode: cc }, { chargeCode: cc, amount: '1.58' }, { chargeCode: cc, amountFen: 158 }, { chargeCode: cc, amountFen: 158n }]) {
    assert.equal((await c.waitForPayment(order, fast)).status, 'Paid', JSON.stringify(order, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)))
  }
  for (const [order, field] of [
    [{ chargeCode: cc, amount: '1.58', amountFen: 158 }, 'amount'],
    [{ chargeCode: cc, amount: 1.58 }, 'amount'],
    [{ chargeCode: cc, amout: '1.58' }, 'amout'],
    [{ amount: '1.58' }, 'chargeCode'],
    [42, 'order'],
  ]) {
    const e = await c.waitForPayment(order, fast).catch((x) => x)
    assert.ok(e instanceof sosopay.ValidationError, `${JSON.stringify(order)}: ${e}`)
    assert.equal(e.field, field)
  }
})

test('the event loop keeps ticking during a held micropay', async () => {
  const c = client()
  let ticks = 0
  const timer = setInterval(() => {
    ticks += 1
  }, 10)
  const started = Date.now()
  try {
    // "confirming on the phone" for 70 s scaled by 0.01: the request is held 0.7 s
    const reply = await c.micropay({ chargeCode: code('E'), amount: '0.01', dynamicId: payCode(1, 70), paySubject: 's' })
    assert.equal(reply.state, 'Paid')
  } finally {
    clearInterval(timer)
  }
  const elapsed = Date.now() - started
  assert.ok(elapsed >= 600, `the call was held ${elapsed} ms`)
  // A blocked loop would tick ~0 times; a free one ~elapsed/10.
  assert.ok(ticks >= elapsed / 10 / 3, `${ticks} ticks in ${elapsed} ms`)
})

test('many concurrent calls all settle', async () => {
  const c = client()
  const codes = Array.from({ length: 24 }, () => code('P'))
  const replies = await Promise.all(
    codes.map((cc) => c.micropay({ chargeCode: cc, amountFen: 7, dynamicId: WECHAT_CODE, paySubject: 's' })),
  )
  assert.deepEqual(replies.map((r) => r.chargeCode), codes)
})

test('gateway errors reject with GatewayError (resultCode, info)', async () => {
  const c = client()
  const err = await c.query(code('missing')).catch((e) => e)
  assert.ok(err instanceof sosopay.GatewayError)
  assert.ok(err instanceof sosopay.SosopayError)
  assert.equal(err.code, 'gateway')
  assert.equal(err.resultCode, 'CHARGE_NONEXISTENT')
  assert.equal(typeof err.info, 'string')
  assert.equal(err.outcomeUnknown, false)

  const cc = code('G')
  await c.micropay({ chargeCode: cc, amount: '0.01', dynamicId: WECHAT_CODE, paySubject: 's' })
  const dup = await c.micropay({ chargeCode: cc, amount: '0.01', dynamicId: WECHAT_CODE, paySubject: 's' }).catch((e) => e)
  assert.ok(dup instanceof sosopay.GatewayError)
  assert.equal(dup.resultCode, 'SERIAL_REPEAT')
  assert.equal(dup.outcomeUnknown, true)

  const over = await c.refund({ chargeCode: cc, outRefundNo: code('R'), refundAmount: '5.00', refundSubject: 'x' }).catch((e) => e)
  assert.ok(over instanceof sosopay.GatewayError, String(over))

  const wrongKey = new sosopay.Client({ busiCode: BUSI, key: 'WRONGKEY', baseUrl: sb.baseUrl })
  const bad = await wrongKey.query(cc).catch((e) => e)
  assert.ok(bad instanceof sosopay.GatewayError)
  assert.equal(bad.resultCode, 'INVALID_SIGN')
})

test('HTTP errors, timeouts and refused connections are typed', async () => {
  const c = client({ retry: { maxAttempts: 1 } })
  await setFaults([{ op: 'refund', kind: 'http502', probability: 1 }])
  try {
    const e = await c.refund({ chargeCode: code('H'), outRefundNo: code('R'), refundAmountFen: 1, refundSubject: 'x' }).catch((x) => x)
    assert.ok(e instanceof sosopay.HttpStatusError, String(e))
    assert.equal(e.status, 502)
    assert.equal(e.operation, 'refund')
    assert.equal(e.outcomeUnknown, true)
  } finally {
    await setFaults([])
  }

  // a failed query moves no money
  await setFaults([{ op: 'query', kind: 'http502', probability: 1 }])
  try {
    const e = await c.query(code('H')).catch((x) => x)
    assert.ok(e instanceof sosopay.HttpStatusError, String(e))
    assert.equal(e.status, 502)
    assert.equal(e.operation, 'query')
    assert.equal(e.outcomeUnknown, false)
    assert.equal(e.retryable, true)
  } finally {
    await setFaults([])
  }

  await setFaults([{ op: 'query', kind: 'delay', probability: 1, param: 2000 }])
  try {
    const quick = client({ timeoutMs: 200, retry: { maxAttempts: 1 } })
    const e = await quick.query(code('T')).catch((x) => x)
    assert.ok(e instanceof sosopay.TimeoutError || e instanceof sosopay.TransportError, String(e))
    assert.equal(e.operation, 'query')
    assert.equal(e.retryable, true)
  } finally {
    await setFaults([])
  }

  // a port nobody listens on: the request surely never left
  const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port
      s.close(() => resolve(p))
    })
  })
  const dead = new sosopay.Client({ busiCode: BUSI, key: KEY, baseUrl: `http://127.0.0.1:${port}/openGateway/openService/`, retry: { maxAttempts: 1 } })
  const e = await dead.micropay({ chargeCode: code('X'), amount: '0.01', dynamicId: WECHAT_CODE, paySubject: 's', operId: 'o', devId: 'd' }).catch((x) => x)
  assert.ok(e instanceof sosopay.TransportError, String(e))
  assert.equal(e.maybeSent, false)
  assert.equal(e.outcomeUnknown, false)
  const flow = await dead.micropayAndWait({ chargeCode: code('X'), amount: '0.01', dynamicId: WECHAT_CODE, paySubject: 's', operId: 'o', devId: 'd' })
  assert.equal(flow.status, 'Failed')
})

test('invalid requests reject with ValidationError naming the field; nothing is sent', async () => {
  const c = client()
  const before = (await sb.admin('GET', 'ledger')).requests
  const cases = [
    [{ chargeCode: 'A1', amount: 0.01, dynamicId: WECHAT_CODE, paySubject: 's' }, 'amount'],
    [{ chargeCode: 'A1', amountFen: 1.5, dynamicId: WECHAT_CODE, paySubject: 's' }, 'amountFen'],
    [{ chargeCode: 'A1', amountFen: -1, dynamicId: WECHAT_CODE, paySubject: 's' }, 'amountFen'],
    [{ chargeCode: 'A1', amount: '1.234', dynamicId: WECHAT_CODE, paySubject: 's' }, 'amount'],
    [{ chargeCode: 'A1', amount: '1', amountFen: 100, dynamicId: WECHAT_CODE, paySubject: 's' }, 'amount'],
    [{ chargeCode: 'A1', dynamicId: WECHAT_CODE, paySubject: 's' }, 'amount'],
    [{ chargeCode: 'A/1', amount: '1', dynamicId: WECHAT_CODE, paySubject: 's' }, 'chargeCode'],
    [{ chargeCode: 'A1', amount: '1', dynamicId: 'no spaces', paySubject: 's' }, 'dynamicId'],
    [{ chargeCode: 'A1', amount: '1', dynamicId: WECHAT_CODE, paySubject: 's', channel: 'Paypal' }, 'channel'],
    [{ chargeCode: 'A1', amount: '1', dynamicId: WECHAT_CODE, paySubject: 's', timeExpire: 60 }, 'timeExpire'],
    [{ amount: '1', dynamicId: WECHAT_CODE, paySubject: 's' }, 'chargeCode'],
    [{ chargeCode: 'A1', amount: '1', dynamicId: WECHAT_CODE, paySubject: 's', goods: [{ id: 'g', name: 'n', class: 'c', price: '1', subject: 's', quantity: 0 }] }, 'goods[0].quantity'],
    [{ chargeCode: 'A1', amount: '1', dynamicId: WECHAT_CODE, paySubject: 's', goods: [{ id: 'g', name: 'n', class: 'c', price: 2.5, subject: 's', quantity: 1 }] }, 'goods[0].price'],
    [{ chargeCode: 'A1', amount: '1', dynamicId: WECHAT_CODE, paySubject: 's', goods: [{ id: 'g', name: 'n', class: 'c', price: '1', subject: 's' }, { id: 'g', name: 'n', class: 'c', priceFen: -1, subject: 's' }] }, 'goods[1].priceFen'],
    [{ chargeCode: 'A1', amount: '1', dynamicId: WECHAT_CODE, paySubject: 's', goods: [{ id: 'g', name: 'n', class: 'c', subject: 's' }] }, 'goods[0].price'],
  ]
  for (const [req, field] of cases) {
    const e = await c.micropay(req).catch((x) => x)
    assert.ok(e instanceof sosopay.ValidationError, `${JSON.stringify(req)}: ${e}`)
    assert.equal(e.code, 'validation')
    assert.equal(e.field, field, `${JSON.stringify(req)}: ${e.message}`)
    assert.equal(e.outcomeUnknown, false)
  }
  // Promise-returning methods never throw synchronously, even for a missing argument.
  const p = c.micropay()
  assert.ok(p instanceof Promise)
  assert.ok((await p.catch((x) => x)) instanceof sosopay.ValidationError)
  assert.ok((await c.createQrOrder({ chargeCode: 'A2', amount: '1', paySubject: 's' }).catch((x) => x)) instanceof sosopay.ValidationError)
  assert.ok((await c.refund({ refundAmount: '1', refundSubject: 's' }).catch((x) => x)) instanceof sosopay.ValidationError)
  assert.ok((await c.waitForPayment('bad code').catch((x) => x)) instanceof sosopay.ValidationError)
  assert.ok((await c.micropayAndWait({ chargeCode: 'A3', amount: '1', dynamicId: WECHAT_CODE, paySubject: 's' }, { deadlineMs: -1 }).catch((x) => x)) instanceof sosopay.ValidationError)
  const after = (await sb.admin('GET', 'ledger')).requests
  assert.deepEqual(after, before, 'no request reached the gateway')
})

test("a goods item without quantity is sent with the core's default (1)", async () => {
  const c = client()
  const code = `GQ${process.pid}`
  await c.createQrOrder({ chargeCode: code, amount: '1.00', channel: 'Wechat', paySubject: 'tea',
    goods: [{ id: 'g', name: 'Tea', class: 'drinks', price: '1.00', subject: 'tea' }] })
  const q = await c.query(code)
  assert.equal(q.raw.QUERY_RESP.GOODS_DETAIL[0].GOOD_QUANTITY, '1')
  assert.equal(q.order.goods[0].quantity, 1)
})

test('integers crossing the binding are whole and in range (ValidationError naming the field)', async () => {
  const c = client()
  const before = (await sb.admin('GET', 'ledger')).requests
  const pay = { chargeCode: 'I1', amount: '1', dynamicId: WECHAT_CODE, paySubject: 's' }
  const goods = (quantity) => [{ id: 'g', name: 'n', class: 'c', price: '1', subject: 's', quantity }]
  const cases = [
    [() => c.flowRecharge({ phoneNo: '13800138000', flowVal: -1 }), 'flowVal'],
    [() => c.flowRecharge({ phoneNo: '13800138000', flowVal: 2.5 }), 'flowVal'],
    [() => c.micropay({ ...pay, goods: goods(2 ** 32 + 3) }), 'goods[0].quantity'],
    [() => c.micropay({ ...pay, goods: goods(-1) }), 'goods[0].quantity'],
    [() => c.micropay({ ...pay, timeExpire: -1 }), 'timeExpire'],
    [() => c.micropay({ ...pay, timeExpire: 1.5 }), 'timeExpire'],
    [() => c.micropay({ ...pay, timeExpire: NaN }), 'timeExpire'],
    [() => c.micropay({ ...pay, timeExpire: 2 ** 32 }), 'timeExpire'],
    [() => c.createQrOrder({ chargeCode: 'I2', amount: '1', channel: 'Wechat', paySubject: 's', timeExpire: -1 }), 'timeExpire'],
    [() => c.createJsapiOrder({ chargeCode: 'I3', amount: '1', paySubject: 's', subOpenid: 'o', timeExpire: 1.5 }), 'timeExpire'],
    [() => c.micropayAndWait(pay, { cancelAttempts: 1.5 }), 'cancelAttempts'],
    [() => c.micropayAndWait(pay, { cancelAttempts: -1 }), 'cancelAttempts'],
    [() => c.waitForPayment('I4', { cancelAttempts: 1.5 }), 'cancelAttempts'],
  ]
  for (const [call, field] of cases) {
    const e = await call().catch((x) => x)
    assert.ok(e instanceof sosopay.ValidationError, `${call}: ${e}`)
    assert.equal(e.field, field, `${call}: ${e.message}`)
    assert.equal(e.outcomeUnknown, false)
  }
  for (const maxAttempts of [-1, 1.5, 2 ** 32, NaN]) {
    assert.throws(
      () => client({ retry: { maxAttempts } }),
      (e) => e instanceof sosopay.ValidationError && e.field === 'retry.maxAttempts',
      String(maxAttempts),
    )
  }
  const after = (await sb.admin('GET', 'ledger')).requests
  assert.deepEqual(after, before, 'no request reached the gateway')
})

test('the core checks the client configuration; errors name the JS option', () => {
  const cases = [
    [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
    [{ retry: { maxAttempts: 11 } }, 'retry.maxAttempts'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ timeoutMs: 600_001 }, 'timeoutMs'],
    [{ connectTimeoutMs: 0 }, 'connectTimeoutMs'],
    [{ micropayTimeoutMs: 10_000_000 }, 'micropayTimeoutMs'],
    [{ retry: { maxDelayMs: 61_000 } }, 'retry.maxDelayMs'],
    [{ retry: { baseDelayMs: 5000, maxDelayMs: 1000 } }, 'retry.baseDelayMs'],
    [{ defaultOperId: 'x'.repeat(65) }, 'defaultOperId'],
  ]
  for (const [extra, field] of cases) {
    assert.throws(
      () => client(extra),
      (e) => e instanceof sosopay.ValidationError && e.field === field && !/retry\.max_delay/.test(e.message),
      JSON.stringify(extra),
    )
  }
  // The limits themselves are valid.
  client({ timeoutMs: 1, connectTimeoutMs: 600_000, retry: { maxAttempts: 10, baseDelayMs: 60_000, maxDelayMs: 60_000 } })
  client({ retry: { maxAttempts: 1, baseDelayMs: 0 } })
})

test('wait options are checked before anything is sent; errors name the JS option', async () => {
  const c = client()
  const before = (await sb.admin('GET', 'ledger')).requests
  const pay = { chargeCode: code('O'), amount: '1', dynamicId: WECHAT_CODE, paySubject: 's' }
  const cases = [
    [{ deadlineMs: 20_000, maxDurationMs: 10_000 }, 'maxDurationMs'],
    [{ maxDurationMs: 30_000 }, 'maxDurationMs'], // below the default deadline (60 s)
    [{ deadlineMs: 0 }, 'deadlineMs'],
    [{ deadlineMs: 3_600_001 }, 'deadlineMs'],
    [{ pollIntervalMs: 1 }, 'pollIntervalMs'],
    [{ pollIntervalMs: 1000, maxPollIntervalMs: 500 }, 'maxPollIntervalMs'],
    [{ cancelAttempts: 0 }, 'cancelAttempts'],
    [{ cancelAttempts: 101 }, 'cancelAttempts'],
    [{ gatewayHoldMs: -1 }, 'gatewayHoldMs'],
    [{ maxDurationMs: NaN }, 'maxDurationMs'],
  ]
  for (const [opts, field] of cases) {
    for (const call of [() => c.micropayAndWait(pay, opts), () => c.waitForPayment(pay.chargeCode, opts)]) {
      const e = await call().catch((x) => x)
      assert.ok(e instanceof sosopay.ValidationError, `${JSON.stringify(opts)}: ${e}`)
      assert.equal(e.field, field, `${JSON.stringify(opts)}: ${e.message}`)
    }
  }
  assert.deepEqual((await sb.admin('GET', 'ledger')).requests, before, 'no request reached the gateway')

  // At the limits: maxDurationMs equal to deadlineMs, no gateway hold.
  const cc = code('O')
  await c.createQrOrder({ chargeCode: cc, amount: '1', channel: 'Wechat', paySubject: 'x' })
  const pending = await c.waitForPayment(cc, { deadlineMs: 200, maxDurationMs: 200, gatewayHoldMs: 0, pollIntervalMs: 50, cancelAttempts: 1 })
  assert.equal(pending.status, 'Pending')
  // A deadline past the default budget alone is valid: the budget follows it (deadline + 30 s).
  await sb.admin('POST', `orders/${cc}/pay`)
  assert.equal((await c.waitForPayment(cc, { deadlineMs: 120_000 })).status, 'Paid')
})

test('micropayAndWait under another payment\'s charge code is a Conflict; that order is untouched', async () => {
  assert.equal(sosopay.OutcomeStatus.Conflict, 'Conflict')
  const c = client()
  const cc = code('K')
  await c.createQrOrder({ chargeCode: cc, amount: '1.00', channel: 'Wechat', paySubject: 'x' })
  const out = await c.micropayAndWait(
    { chargeCode: cc, amount: '0.02', dynamicId: WECHAT_CODE, paySubject: 's' },
    { pollIntervalMs: 20, maxPollIntervalMs: 50, deadlineMs: 2000 },
  )
  assert.equal(out.status, 'Conflict')
  assert.equal(out.isPaid, false)
  assert.equal(out.order.amountFen, 100)
  assert.equal((await c.query(cc)).order.state, 'AwaitingPayment')
})

test('bigint fen and big amounts stay exact', async () => {
  const c = client()
  const big = 123456789012n // 1 234 567 890.12 yuan
  const r = await c.micropay({ chargeCode: code('B'), amountFen: big, dynamicId: WECHAT_CODE, paySubject: 's' })
  assert.equal(r.amountFen, 123456789012)
  assert.equal(r.amountYuan, '1234567890.12')
})

test('client options are validated', () => {
  assert.throws(() => new sosopay.Client({ busiCode: BUSI, key: KEY }), (e) => e instanceof sosopay.ValidationError && e.field === 'baseUrl')
  assert.throws(() => new sosopay.Client({ busiCode: BUSI, key: '', baseUrl: sb.baseUrl }), (e) => e instanceof sosopay.ValidationError && e.field === 'key')
  assert.throws(() => new sosopay.Client({ busiCode: BUSI, key: KEY, baseUrl: 'ftp://x' }), (e) => e instanceof sosopay.ValidationError && e.field === 'baseUrl')
  assert.throws(() => new sosopay.Client({ busiCode: BUSI, key: KEY, baseUrl: 'http://shop:s3cret@gw.example/' }),
    (e) => e instanceof sosopay.ValidationError && e.field === 'baseUrl' && /credentials/.test(e.message) && !/s3cret/.test(e.message))
  assert.throws(() => new sosopay.Client({ busiCode: BUSI, key: KEY, environment: 'mars' }), (e) => e instanceof sosopay.ValidationError && e.field === 'environment')
  assert.throws(() => new sosopay.Client({ busiCode: BUSI, key: KEY, baseUrl: sb.baseUrl, timeoutMs: -5 }), (e) => e instanceof sosopay.ValidationError && e.field === 'timeoutMs')
  assert.throws(() => new sosopay.Client({ busiCode: 5, key: KEY, baseUrl: sb.baseUrl }), sosopay.ValidationError)
  assert.throws(() => new sosopay.Client({ busiCode: BUSI, key: KEY, baseUrl: sb.baseUrl, maxIdleConnections: 0 }), (e) => e instanceof sosopay.ValidationError && e.field === 'maxIdleConnections')
  assert.ok(new sosopay.Client({ busiCode: BUSI, key: KEY, baseUrl: sb.baseUrl, maxIdleConnections: 4 }))
  const uat = new sosopay.Client({ busiCode: BUSI, key: KEY, environment: 'uat' })
  assert.equal(uat.baseUrl, 'http://uat.sssyin.cn:9000/openGateway/openService/')
  assert.equal(uat.busiCode, BUSI)
  assert.ok(uat instanceof sosopay.Client)
  // The key never shows up when a client is inspected.
  assert.ok(!require('node:util').inspect(uat, { showHidden: true, depth: 5 }).includes(KEY))
})

test('onRequest sees every attempt (never the key); a throwing hook only warns', async () => {
  const logs = []
  const c = client({ onRequest: (log) => logs.push(log), retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } })
  const cc = code('L')
  await c.micropay({ chargeCode: cc, amount: '0.01', dynamicId: WECHAT_CODE, paySubject: 's' })
  await c.query(code('missing')).catch(() => {})
  await new Promise((r) => setTimeout(r, 50)) // the hook runs on the JS thread after the call
  const pre = logs.find((l) => l.operation === 'preOrder')
  assert.equal(pre.chargeCode, cc)
  assert.equal(pre.attempt, 1)
  assert.equal(pre.httpStatus, 200)
  assert.equal(pre.resultCode, 'SUCCESS')
  assert.equal(typeof pre.durationMs, 'number')
  assert.ok(logs.some((l) => l.operation === 'query' && l.resultCode === 'CHARGE_NONEXISTENT'))
  assert.ok(!JSON.stringify(logs).includes(KEY))

  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    const bad = client({
      onRequest: () => {
        throw new Error('logger broke')
      },
    })
    const r = await bad.micropay({ chargeCode: code('L'), amount: '0.01', dynamicId: WECHAT_CODE, paySubject: 's' })
    assert.equal(r.state, 'Paid')
    await new Promise((r2) => setTimeout(r2, 50))
  } finally {
    process.off('warning', onWarning)
  }
  assert.ok(warnings.some((w) => /logger broke/.test(w.message)))
})
