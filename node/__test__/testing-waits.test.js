'use strict'
// `sosopay/testing`: the kit client's gateway hold, the ledger's request counts, and why a
// notification wait found nothing.

const test = require('node:test')
const assert = require('node:assert/strict')

const sosopay = require('sosopay')
const { startSandbox, codes } = require('sosopay/testing')

const GATEWAY_OPS = ['cancelTrade', 'flowRecharge', 'order', 'preOrder', 'query', 'refund']
const zeros = () => Object.fromEntries(GATEWAY_OPS.map((op) => [op, 0]))
const pay = (chargeCode) => ({ chargeCode, amount: '1.00', dynamicId: codes.PAY_NOW, paySubject: 'x' })

// --- the kit client waits for the sandbox's hold, not the real 80 s ----------------------------

test('a lost micropay settles Failed within the scaled hold', async () => {
  // The tester's repro: at timeScale 0.01 the flow waited the real 80 s before settling.
  const sb = await startSandbox({ timeScale: 0.01, faults: ['preOrder:drop:1'] })
  try {
    assert.equal(sb.gatewayHoldMs, 800)
    const client = sb.client()
    assert.ok(client instanceof sosopay.Client)
    const t = Date.now()
    const o = await client.micropayAndWait(pay('D'), { pollIntervalMs: 50 })
    const elapsed = Date.now() - t
    assert.equal(o.status, 'Failed')
    assert.equal(o.resultCode, 'CHARGE_NONEXISTENT')
    assert.ok(elapsed >= 800 && elapsed < 10000, `${elapsed} ms`)
    assert.equal(sb.order('D'), null)
    assert.equal(sb.ledger().requests.preOrder, 1)
  } finally {
    await sb.close()
  }
})

test('a gatewayHoldMs given is kept', async () => {
  const sb = await startSandbox({ timeScale: 0.01, faults: ['preOrder:drop:1'] })
  try {
    const t = Date.now()
    const o = await sb.client().micropayAndWait(pay('D'), { pollIntervalMs: 50, gatewayHoldMs: 2500 })
    assert.equal(o.status, 'Failed')
    assert.ok(Date.now() - t >= 2500)
  } finally {
    await sb.close()
  }
})

test('both flows get the default unless given one; the options are not changed', async (t) => {
  const sb = await startSandbox({ timeScale: 0.01 })
  const seen = []
  const spy = () => function (request, options) {
    seen.push(options)
    return Promise.resolve('outcome')
  }
  t.mock.method(sosopay.Client.prototype, 'micropayAndWait', spy())
  t.mock.method(sosopay.Client.prototype, 'waitForPayment', spy())
  try {
    const c = sb.client()
    await c.micropayAndWait(pay('X'))
    await c.waitForPayment({ chargeCode: 'X' }, null)
    const mine = { pollIntervalMs: 50 }
    await c.waitForPayment({ chargeCode: 'X' }, mine)
    assert.deepEqual(mine, { pollIntervalMs: 50 }, 'the caller\'s object is left as it was')
    await c.micropayAndWait(pay('X'), { gatewayHoldMs: 7 })
    await c.waitForPayment({ chargeCode: 'X' }, { gatewayHoldMs: 0 })
    await c.waitForPayment({ chargeCode: 'X' }, { gatewayHoldMs: undefined })
    assert.deepEqual(seen, [
      { gatewayHoldMs: 800 },
      { gatewayHoldMs: 800 },
      { pollIntervalMs: 50, gatewayHoldMs: 800 },
      { gatewayHoldMs: 7 },
      { gatewayHoldMs: 0 },
      { gatewayHoldMs: 800 },
    ])
    // Anything but an options object goes to the flow as it is, for it to reject.
    seen.length = 0
    await c.waitForPayment({ chargeCode: 'X' }, 'fast')
    await c.waitForPayment({ chargeCode: 'X' }, [1])
    assert.deepEqual(seen, ['fast', [1]])
  } finally {
    await sb.close()
  }
})

test('the flow still rejects bad options from a kit client', async () => {
  const sb = await startSandbox({ timeScale: 0.01 })
  try {
    const c = sb.client()
    await assert.rejects(c.waitForPayment({ chargeCode: 'X' }, 'fast'), (e) => e instanceof sosopay.ValidationError && e.field === 'options')
    await assert.rejects(c.waitForPayment({ chargeCode: 'X' }, { gatewayHoldMs: -1 }), (e) => e instanceof sosopay.ValidationError && e.field === 'gatewayHoldMs')
    const bad = { get pollIntervalMs() { throw new Error('boom') } }
    await assert.rejects(c.waitForPayment({ chargeCode: 'X' }, bad), (e) => e instanceof sosopay.ValidationError)
  } finally {
    await sb.close()
  }
})

test('the hold covers a late fault', async () => {
  // A `late` request is carried out after its wall-time wait: a hold that does not cover it
  // reports Failed for a payment that then goes through.
  const sb = await startSandbox({ timeScale: 0.01 })
  try {
    sb.faults.set(['preOrder:late:1:1500', 'query:late:0.1:200'])
    assert.equal(sb.gatewayHoldMs, 2300)
    const c = sb.client()
    const paid = await c.micropayAndWait(pay('L-1'), { pollIntervalMs: 50, deadlineMs: 300 })
    assert.equal(paid.status, 'Paid')
    const short = await c.micropayAndWait(pay('L-2'), { pollIntervalMs: 50, deadlineMs: 300, gatewayHoldMs: 800 })
    assert.equal(short.status, 'Failed', 'the scaled hold alone would not do')
    await sb.waitForState('L-2', 'Paid', { timeoutMs: 5000 })
    sb.faults.clear()
    assert.equal(sb.gatewayHoldMs, 800)
  } finally {
    await sb.close()
  }
  assert.equal(sb.gatewayHoldMs, 800) // closed: the scaled hold
})

test('the hold follows the time scale', async () => {
  for (const [timeScale, hold] of [[0.5, 40000], [1, 80000]]) {
    const sb = await startSandbox({ timeScale })
    assert.equal(sb.gatewayHoldMs, hold)
    await sb.close()
  }
})

// --- ledger.requests: every gateway operation, 0 when never requested --------------------------

test('ledger.requests has every gateway operation', async () => {
  const sb = await startSandbox({ timeScale: 0.01 })
  try {
    assert.deepEqual(sb.ledger().requests, zeros())
    await sb.client().createQrOrder({ chargeCode: 'A-1', amount: '1.00', channel: 'Wechat', paySubject: 't' })
    const r = sb.ledger().requests
    assert.equal(r.preOrder, 0)
    assert.equal(r.order, 1)
    assert.deepEqual(Object.keys(r).sort(), GATEWAY_OPS)
    sb.reset()
    assert.deepEqual(sb.ledger().requests, zeros())
  } finally {
    await sb.close()
  }
})

// --- waitForNotification says why nothing arrived ----------------------------------------------

test('a notification wait says why nothing arrived', async () => {
  const sb = await startSandbox({ timeScale: 0.01 })
  const timedOut = (re) => (e) => e instanceof sosopay.TimeoutError && e.operation === 'waitForNotification' && re.test(e.message)
  try {
    await assert.rejects(sb.waitForNotification({ chargeCode: 'NOPE', timeoutMs: 50 }), timedOut(/for NOPE within .*; no order NOPE exists/))
    await assert.rejects(sb.waitForNotification({ timeoutMs: 50 }), timedOut(/; the sandbox has no orders/))
    const c = sb.client()
    await c.createQrOrder({ chargeCode: 'Q-1', amount: '1.00', channel: 'Wechat', paySubject: 't' })
    sb.pay('Q-1')
    await assert.rejects(sb.waitForNotification({ chargeCode: 'Q-1', timeoutMs: 50 }), timedOut(/attempts: \[\]; order Q-1 has no notify URL/))
    await assert.rejects(sb.waitForNotification({ accepted: false, timeoutMs: 50 }), timedOut(/; no order has a notify URL/))
    await c.createQrOrder({ chargeCode: 'Q-2', amount: '1.00', channel: 'Wechat', paySubject: 't', notifyUrl: 'http://127.0.0.1:9/notify' })
    await assert.rejects(sb.waitForNotification({ chargeCode: 'Q-2', timeoutMs: 50 }), timedOut(/order Q-2 was not paid \(it is AwaitingPayment\)/))
    sb.pay('Q-2') // nothing listens there: the attempts say what happened, nothing is added
    await sb.waitForNotification({ chargeCode: 'Q-2', accepted: false, timeoutMs: 5000 })
    await assert.rejects(sb.waitForNotification({ chargeCode: 'Q-2', timeoutMs: 50 }),
      (e) => /attempts: \[#1/.test(e.message) && !/notify URL|not paid/.test(e.message))
  } finally {
    await sb.close()
  }
})
