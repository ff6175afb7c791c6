'use strict'
// A tiny shop on node:http, taking payments with sosopay.
//
//   POST /checkout  {orderId, amount}                a QR order (WeChat) notified at /webhook
//   POST /till      {orderId, amount, paymentCode}   a till payment, waits for the customer
//   POST /webhook                                    the gateway's notifications: verified and
//                                                    processed once (the goods ship once)
//   POST /refund    {orderId, amount, refundId?}     refund (part of) a paid order
//   GET  /orders/:id[?refresh=1]                     the shop's view (refresh: ask the gateway)
//
// Run it on the in-process sandbox: `node shop.js --sandbox`; against the gateway, set
// SOSOPAY_BUSI_CODE, SOSOPAY_KEY, SHOP_PUBLIC_URL (and SOSOPAY_ENVIRONMENT).
// Its tests (test/shop.test.js) use nothing but `sosopay/testing`.

const http = require('node:http')
const sosopay = require('sosopay')

class HttpError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

function toFen(amount) {
  // At most 13 digits of yuan: the fen stay exact in a JS number (below 2^53).
  const m = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(String(amount))
  if (!m) throw new HttpError(400, `amount ${JSON.stringify(amount)} must be positive yuan with at most 2 decimals`)
  const fen = Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'))
  if (fen <= 0) throw new HttpError(400, 'amount must be positive')
  return fen
}

async function readJson(req) {
  const chunks = []
  for await (const c of req) chunks.push(c)
  const text = Buffer.concat(chunks).toString('utf8')
  try {
    return text ? JSON.parse(text) : {}
  } catch {
    throw new HttpError(400, 'the body is not JSON')
  }
}

/**
 * The shop. `client`: a sosopay.Client; `key`: the merchant key (to verify notifications);
 * `publicUrl`: where the gateway reaches /webhook (set by `listen` when empty).
 */
function createShop({ client, key, publicUrl = '', pollIntervalMs }) {
  const orders = new Map() // orderId -> { orderId, amountFen, kind, status, shipments, refunds, gatewayRefund }
  const shop = { client, orders, publicUrl }

  function newOrder(orderId, amountFen, kind) {
    if (orders.has(orderId)) throw new HttpError(409, `order ${orderId} exists`)
    const order = { orderId, amountFen, kind, status: 'pending', shipments: 0, refundedFen: 0, refunds: {}, gatewayRefund: null, qr: null }
    orders.set(orderId, order)
    return order
  }
  function getOrder(orderId) {
    const o = orders.get(orderId)
    if (!o) throw new HttpError(404, `no order ${orderId}`)
    return o
  }
  function paid(order) {
    // Not again, nor for an order whose refund the gateway reported first (a late delivery of
    // its paid state): that one is under review.
    if (order.status !== 'paid' && order.status !== 'review') {
      order.status = 'paid'
      order.shipments += 1 // ship the goods
    }
  }
  /** The gateway says the order's money was (partly) given back, or is being: a record, never
   * "paid" and never a shipment. An order the shop never saw paid (its paid state's
   * notifications all failed) is for a person to look at: the money may be gone already. */
  function refundReported(order, state) {
    order.gatewayRefund = state
    if (order.status === 'pending' || order.status === 'unknown') order.status = 'review'
  }

  /** The shop's order id: a non-empty string (a missing one must not become the charge code
   * "undefined" of a real gateway order). */
  function idOf(orderId) {
    if (typeof orderId !== 'string' || orderId.trim() === '') throw new HttpError(400, 'orderId: expected a non-empty string')
    return orderId
  }

  async function checkout({ orderId, amount }) {
    const order = newOrder(idOf(orderId), toFen(amount), 'qr')
    try {
      const reply = await client.createQrOrder({
        chargeCode: order.orderId,
        amountFen: order.amountFen,
        channel: 'Wechat',
        paySubject: `Order ${order.orderId}`,
        notifyUrl: `${shop.publicUrl}/webhook?_type=json`,
      })
      order.qr = reply.barCode
    } catch (e) {
      order.status = e.outcomeUnknown ? 'unknown' : 'failed'
      throw new HttpError(502, `the payment gateway failed: ${e.message}`)
    }
    return { orderId: order.orderId, qr: order.qr, status: order.status }
  }

  async function till({ orderId, amount, paymentCode }) {
    const order = newOrder(idOf(orderId), toFen(amount), 'till')
    const outcome = await client.micropayAndWait(
      { chargeCode: order.orderId, amountFen: order.amountFen, dynamicId: String(paymentCode), paySubject: `Order ${order.orderId}` },
      pollIntervalMs ? { pollIntervalMs } : undefined,
    )
    if (outcome.status === 'Paid') paid(order)
    else if (outcome.status === 'Failed') order.status = 'failed'
    else if (outcome.status === 'Cancelled') order.status = 'cancelled'
    else order.status = 'unknown' // Unresolved: check the order later
    return { orderId: order.orderId, status: order.status, reason: outcome.reason }
  }

  // Verification and process-once are the SDK's; the shop only says what a payment does.
  const webhook = sosopay.createWebhookHandler({
    key,
    busiCode: client.busiCode, // only this merchant's notifications (BUSI_ID)
    store: new sosopay.MemoryIdempotencyStore(), // use your database in production
    onNotification(note) {
      const order = getOrder(note.chargeCode)
      if (note.amountFen !== order.amountFen) {
        throw new Error(`order ${order.orderId}: notified ${note.amountFen} fen, expected ${order.amountFen}`)
      }
      // Ship on the paid state only. A later state of the order (partly refunded, refunded,
      // refund under way or failed) is a notification of its own, and `moneyTaken` is true for
      // it too (the money was taken, maybe given back since): it is recorded, never shipped.
      if (note.state === 'Paid') paid(order)
      else if (note.order.moneyTaken) refundReported(order, note.state)
    },
  })

  async function refund({ orderId, amount, refundId }) {
    const order = getOrder(String(orderId))
    if (order.status !== 'paid') throw new HttpError(409, `order ${order.orderId} is ${order.status}`)
    const fen = toFen(amount)
    const outRefundNo = refundId || `${order.orderId}-R${Object.keys(order.refunds).length + 1}`
    let reply
    try {
      reply = await client.refund({ chargeCode: order.orderId, outRefundNo, refundAmountFen: fen, refundSubject: `Refund ${outRefundNo}` })
    } catch (e) {
      if (e instanceof sosopay.GatewayError) throw new HttpError(409, `refund refused: ${e.message}`)
      throw new HttpError(502, `refund ${outRefundNo} unknown, retry it: ${e.message}`)
    }
    if (!(outRefundNo in order.refunds)) order.refunds[outRefundNo] = fen // a retried refundId counts once
    order.refundedFen = Object.values(order.refunds).reduce((a, b) => a + b, 0)
    return { orderId: order.orderId, refundId: outRefundNo, refundedFen: order.refundedFen, state: reply.state }
  }

  async function refresh(orderId) {
    const order = getOrder(orderId)
    if (order.status === 'pending' || order.status === 'unknown') {
      const { order: o } = await client.query({ code: orderId })
      if (o.amountFen !== order.amountFen) {
        // Not this order (its id used before, for another payment): never "paid".
        throw new HttpError(409, `order ${orderId}: the gateway's order is for ${o.amountFen} fen, not ${order.amountFen}`)
      }
      if (o.state === 'Paid') paid(order)
      else if (o.moneyTaken) refundReported(order, o.state) // refunded since: never shipped now
      else if (o.state === 'Closed') order.status = 'failed'
      else if (o.state === 'Cancelled') order.status = 'cancelled'
    }
    return order
  }

  shop.handle = async function handle(req, res) {
    const url = new URL(req.url, 'http://shop')
    if (req.method === 'POST' && url.pathname === '/webhook') return webhook(req, res)
    let status = 200
    let result
    try {
      if (req.method === 'POST' && url.pathname === '/checkout') result = await checkout(await readJson(req))
      else if (req.method === 'POST' && url.pathname === '/till') result = await till(await readJson(req))
      else if (req.method === 'POST' && url.pathname === '/refund') result = await refund(await readJson(req))
      else if (req.method === 'GET' && url.pathname.startsWith('/orders/')) {
        const id = decodeURIComponent(url.pathname.slice('/orders/'.length))
        result = url.searchParams.get('refresh') === '1' ? await refresh(id) : getOrder(id)
      } else throw new HttpError(404, `no route ${req.method} ${url.pathname}`)
    } catch (e) {
      status = e instanceof HttpError ? e.status : 500
      result = { error: e.message }
    }
    res.statusCode = status
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(result))
  }
  return shop
}

/** Serves the shop; resolves with `{ url, close }` (and sets `shop.publicUrl` when empty). */
function listen(shop, { host = '127.0.0.1', port = 0 } = {}) {
  const server = http.createServer((req, res) => {
    shop.handle(req, res).catch((e) => {
      res.statusCode = 500
      res.end(String(e && e.message))
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      const url = `http://${host}:${server.address().port}`
      if (!shop.publicUrl) shop.publicUrl = url
      resolve({ url, server, close: () => new Promise((r) => server.close(() => r())) })
    })
  })
}

async function main(argv) {
  const port = Number(process.env.SHOP_PORT || 8000)
  if (argv.includes('--sandbox')) {
    const { startSandbox } = require('sosopay/testing')
    const sb = await startSandbox({ timeScale: 0.1 })
    const { url } = await listen(createShop({ client: sb.client(), key: sb.key }), { port })
    console.log(`shop at ${url} on the sandbox gateway ${sb.baseUrl}`)
    console.log(`  curl -s -X POST ${url}/checkout -d '{"orderId": "A-1", "amount": "12.50"}'`)
    console.log(`  curl -s -X POST ${sb.rootUrl}_sandbox/orders/A-1/pay     # the customer pays`)
    console.log(`  curl -s ${url}/orders/A-1`)
    return
  }
  const client = new sosopay.Client({
    busiCode: process.env.SOSOPAY_BUSI_CODE,
    key: process.env.SOSOPAY_KEY,
    environment: process.env.SOSOPAY_ENVIRONMENT || 'production',
  })
  const shop = createShop({ client, key: process.env.SOSOPAY_KEY, publicUrl: process.env.SHOP_PUBLIC_URL })
  const { url } = await listen(shop, { host: '0.0.0.0', port })
  console.log(`shop at ${url}`)
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e)
    process.exit(1)
  })
}

module.exports = { createShop, listen }
