'use strict'
// The shop's tests: against the sandbox gateway, with nothing but `sosopay/testing` (and
// `signBody`, to sign the refund notifications the sandbox does not send).
//
// One in-process sandbox for the file, reset before each test; `codes` are the customer's test
// payment codes; `sb.pay` / `sb.fail` play the customer of a QR order; `sb.faults` makes the
// gateway misbehave; `sb.ledger()` and `sb.notifications()` are the gateway's side.

const { after, before, beforeEach, afterEach, test } = require('node:test')
const assert = require('node:assert/strict')
const { startSandbox, codes } = require('sosopay/testing')
const { signBody } = require('sosopay')
const { createShop, listen } = require('../shop.js')

let sb
let shop
let server

before(async () => {
  // 0.01: the gateway's 80 s micropay hold lasts 0.8 s; notification retries come 50 ms apart.
  sb = await startSandbox({ timeScale: 0.01 })
})
after(() => sb.close())

beforeEach(async () => {
  sb.faults.clear()
  sb.reset()
  // The client's own polling is not scaled by the sandbox: poll fast in tests.
  shop = createShop({ client: sb.client(), key: sb.key, pollIntervalMs: 50 })
  server = await listen(shop)
})
afterEach(() => server.close())

async function call(method, path, body) {
  const res = await fetch(server.url + path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  })
  return { ...(await res.json()), httpStatus: res.status }
}
const order = (id, refresh) => call('GET', `/orders/${id}${refresh ? '?refresh=1' : ''}`)

test('checkout, then the customer pays', async () => {
  const r = await call('POST', '/checkout', { orderId: 'A-1', amount: '12.50' })
  assert.match(r.qr, /^weixin:\/\//)
  const gateway = sb.order('A-1') // the gateway's side: awaiting payment
  assert.equal(gateway.amountFen, 1250)
  assert.equal(gateway.isPaid, false)

  sb.pay('A-1') // the customer scans the QR code and pays
  await sb.waitForNotification({ chargeCode: 'A-1' }) // the shop was told, and answered 200

  const o = await order('A-1')
  assert.equal(o.status, 'paid')
  assert.equal(o.shipments, 1)
  assert.deepEqual(sb.notifications('A-1').map((n) => n.httpStatus), [200])
})

test('the customer declines', async () => {
  await call('POST', '/checkout', { orderId: 'A-2', amount: '3.00' })
  sb.fail('A-2') // declined: the gateway closes the order, no notification
  assert.equal((await order('A-2')).status, 'pending')
  assert.equal((await order('A-2', true)).status, 'failed')
  assert.deepEqual(sb.notifications('A-2'), [])
})

test('an order id used before is never taken for paid', async () => {
  // Someone else's order of 1.00 under the same id, already paid.
  await sb.client().createQrOrder({ chargeCode: 'A-9', amount: '1.00', channel: 'Wechat', paySubject: 'other' })
  sb.pay('A-9')
  const r = await call('POST', '/checkout', { orderId: 'A-9', amount: '10.00' })
  assert.equal(r.httpStatus, 502) // SERIAL_REPEAT: the outcome is unknown
  const refreshed = await order('A-9', true)
  assert.equal(refreshed.httpStatus, 409)
  assert.match(refreshed.error, /100 fen, not 1000/)
  const o = await order('A-9')
  assert.equal(o.status, 'unknown')
  assert.equal(o.shipments, 0)
})

test('duplicate notifications ship once', async () => {
  sb.faults.add('notify:duplicate:1') // every accepted notification is sent once more
  await call('POST', '/checkout', { orderId: 'A-3', amount: '8.00' })
  sb.pay('A-3')
  await sb.waitForNotification({ chargeCode: 'A-3', count: 2 })
  assert.deepEqual(sb.notifications('A-3').map((n) => n.duplicate), [false, true])
  assert.equal((await order('A-3')).shipments, 1)
})

test('forged notifications are refused; the genuine retry is processed', async () => {
  sb.faults.add('notify:bad_sign:1') // every delivery carries a wrong signature
  await call('POST', '/checkout', { orderId: 'A-4', amount: '8.00' })
  sb.pay('A-4')
  const [first] = await sb.waitForNotification({ chargeCode: 'A-4', accepted: false })
  assert.equal(first.httpStatus, 400)
  assert.equal(first.fault, 'bad_sign')
  assert.equal((await order('A-4')).shipments, 0) // never act on an unverified notification

  sb.faults.clear() // the gateway's next attempts are genuine
  await sb.waitForNotification({ chargeCode: 'A-4' })
  const o = await order('A-4')
  assert.equal(o.status, 'paid')
  assert.equal(o.shipments, 1)
})

test('the gateway is down at checkout', async () => {
  sb.faults.add('order:http503:1') // not processed: no order at the gateway
  const r = await call('POST', '/checkout', { orderId: 'A-6', amount: '1.00' })
  assert.equal(r.httpStatus, 502)
  assert.equal(sb.order('A-6'), null)
  assert.deepEqual(sb.ledger().faults.injected, { 'order:http503': 1 })
})

for (const [name, paymentCode, status] of [
  ['pays at once', codes.PAY_NOW, 'paid'],
  ['confirms slowly on the phone (3 s, scaled)', codes.PAYS_AFTER_3S, 'paid'],
  ['"user paying": the client polls', codes.USER_PAYING, 'paid'],
  ['the reply is lost: the client queries', codes.REPLY_LOST, 'paid'],
  ['insufficient funds', codes.INSUFFICIENT_FUNDS, 'failed'],
  ['never confirms: cancelled at the end of the hold', codes.NEVER_CONFIRMS, 'cancelled'],
]) {
  test(`till: ${name}`, async () => {
    const r = await call('POST', '/till', { orderId: 'T-1', amount: '4.20', paymentCode })
    assert.equal(r.status, status, r.reason)
    assert.equal((await order('T-1')).status, status)
    assert.equal(sb.order('T-1').isPaid, status === 'paid')
    assert.equal((await order('T-1')).shipments, status === 'paid' ? 1 : 0)
  })
}

test('till: the reply is lost in transit, the customer is charged once', async () => {
  sb.faults.add('preOrder:drop_reply:1')
  await call('POST', '/till', { orderId: 'T-2', amount: '4.20', paymentCode: codes.PAY_NOW })
  assert.equal((await order('T-2')).status, 'paid')
  assert.equal(sb.ledger().requests.preOrder, 1) // never re-sent
})

/** Posts a genuine (signed) notification of `orderId` in `state` to the shop's webhook, as the
 * gateway does for a refund (the sandbox sends only the paid state's); resolves the status. */
async function notify(orderId, state, amountFen) {
  const body = JSON.stringify({ PAY_NODIFY: { BUSI_ID: sb.busiCode, CHARGE_CODE: orderId, STATE: state, AMT: amountFen } })
  const res = await fetch(`${server.url}/webhook?_type=json&sign=${signBody(sb.key, body)}`, { method: 'POST', body })
  return res.status
}

test('refund notifications never ship again', async () => {
  await call('POST', '/checkout', { orderId: 'A-7', amount: '10.00' })
  sb.pay('A-7')
  await sb.waitForNotification({ chargeCode: 'A-7' })
  assert.equal((await order('A-7')).shipments, 1)
  await call('POST', '/refund', { orderId: 'A-7', amount: '3.00' })
  assert.equal(await notify('A-7', '4', 1000), 200) // partly refunded: a notification of its own
  await call('POST', '/refund', { orderId: 'A-7', amount: '7.00' })
  assert.equal(await notify('A-7', '5', 1000), 200) // refunded
  const o = await order('A-7')
  assert.deepEqual([o.status, o.shipments, o.gatewayRefund], ['paid', 1, 'Refunded'])
})

test('an order first heard of as refunded is never shipped', async () => {
  // The paid state's deliveries all failed: the first notification the shop sees is a refund.
  await call('POST', '/checkout', { orderId: 'A-8', amount: '10.00' })
  assert.equal(await notify('A-8', '5', 1000), 200)
  const o = await order('A-8')
  assert.deepEqual([o.status, o.shipments, o.gatewayRefund], ['review', 0, 'Refunded'])
  assert.equal(await notify('A-8', '1', 1000), 200) // its paid state, delivered late
  assert.equal((await order('A-8')).shipments, 0)
})

test('refresh of an order refunded meanwhile ships nothing', async () => {
  await call('POST', '/checkout', { orderId: 'A-10', amount: '10.00' })
  sb.faults.add('notify:garble:1') // the shop never hears of the payment
  sb.pay('A-10')
  await sb.client().refund({ chargeCode: 'A-10', outRefundNo: 'A-10-R', refundAmount: '10.00', refundSubject: 'back' })
  const o = await order('A-10', true)
  assert.deepEqual([o.status, o.shipments, o.gatewayRefund], ['review', 0, 'Refunded'])
})

test('refunds', async () => {
  await call('POST', '/till', { orderId: 'R-1', amount: '10.00', paymentCode: codes.PAY_NOW })
  const r1 = await call('POST', '/refund', { orderId: 'R-1', amount: '3.00', refundId: 'RF-1' })
  assert.equal(r1.state, 'PartiallyRefunded')
  assert.equal(r1.refundedFen, 300)
  const again = await call('POST', '/refund', { orderId: 'R-1', amount: '3.00', refundId: 'RF-1' })
  assert.equal(again.refundedFen, 300) // the same refund, retried: counted once
  assert.equal((await call('POST', '/refund', { orderId: 'R-1', amount: '8.00' })).httpStatus, 409)
  assert.equal((await call('POST', '/refund', { orderId: 'R-1', amount: '7.00' })).state, 'Refunded')

  const ledger = sb.ledger()
  assert.equal(ledger.order('R-1').refundedFen, 1000)
  assert.deepEqual(
    ledger.refundsOf('R-1').map((r) => [r.outRefundNo, r.amountFen, r.replays]),
    [['RF-1', 300, 1], ['R-1-R2', 700, 0]],
  )
})

test('reconciliation: the shop’s books against the gateway’s ledger', async () => {
  const payments = [codes.PAY_NOW, codes.INSUFFICIENT_FUNDS, codes.PAYS_AFTER_3S]
  await Promise.all(payments.map((paymentCode, i) => call('POST', '/till', { orderId: `D-${i}`, amount: '2.00', paymentCode })))
  await call('POST', '/checkout', { orderId: 'D-Q', amount: '5.00' })
  sb.pay('D-Q')
  await sb.waitForNotification({ chargeCode: 'D-Q' })

  const ledger = sb.ledger()
  const gatewayPaid = ledger.orders.filter((o) => o.isPaid).map((o) => o.chargeCode).sort()
  const shopPaid = [...shop.orders.values()].filter((o) => o.status === 'paid').map((o) => o.orderId).sort()
  assert.deepEqual(gatewayPaid, ['D-0', 'D-2', 'D-Q'])
  assert.deepEqual(shopPaid, gatewayPaid)
  assert.equal(ledger.paidFen, [...shop.orders.values()].filter((o) => o.status === 'paid').reduce((s, o) => s + o.amountFen, 0))
})

test('a checkout without an order id is refused, and nothing reaches the gateway', async () => {
  for (const body of [{ amount: '1.00' }, { order_id: 'A-1', amount: '1.00' }, { orderId: '', amount: '1.00' }, { orderId: 7, amount: '1.00' }]) {
    const r = await call('POST', '/checkout', body)
    assert.equal(r.httpStatus, 400, JSON.stringify(body))
  }
  assert.deepEqual(sb.ledger().orders, [])
})
