'use strict'
// The README's Express and Fastify webhook examples, run as written (their code is taken from
// README.md) in real apps: the sandbox pays a QR order whose notifyUrl is the app's route, and
// the notification (JSON, 3DES; XML) is answered 200 and processed once; another route keeps
// its JSON parsing.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { startSandbox } = require('../testing.js')
const sosopay = require('..')
const { code } = require('./helpers.js')

const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')

/** The code of the README's js block under the heading `### name`. */
function readmeBlock(name) {
  const at = README.indexOf(`### ${name}`)
  assert.ok(at >= 0, `no "### ${name}" in README.md`)
  const m = /```js\n([^]*?)```/.exec(README.slice(at))
  assert.ok(m, `no js block under "### ${name}"`)
  return m[1]
}

/** Runs a README block with `scope` as its free names; returns what `expose` names. */
function run(block, scope, expose) {
  // The block's requires resolve from this package (sosopay is '..').
  const requireHere = (id) => require(id === 'sosopay' ? '..' : id)
  const names = Object.keys(scope)
  const fn = new Function('require', ...names, `${block}\nreturn { ${expose.join(', ')} }`)
  return fn(requireHere, ...names.map((n) => scope[n]))
}

/** The shop's side of the examples: amounts by charge code, and what happened. */
function shop() {
  const amounts = new Map()
  const paid = []
  const flagged = []
  return {
    amounts,
    paid,
    flagged,
    amountFenOf: async (chargeCode) => amounts.get(chargeCode),
    markPaid: async (chargeCode, amountFen) => { paid.push([chargeCode, amountFen]) },
    flagForReview: async (n) => { flagged.push([n.order.chargeCode, n.order.state]) },
  }
}

/** Posts a genuine (signed) notification of `chargeCode` in `state` to `url`, as the gateway
 * does for each refund state (the sandbox sends only the paid state's); resolves the status. */
async function notify(url, key, chargeCode, state, amt = 1234) {
  const body = JSON.stringify({ PAY_NODIFY: { BUSI_ID: '0010000001', CHARGE_CODE: chargeCode, STATE: state, AMT: amt } })
  const res = await fetch(`${url}?_type=json&sign=${sosopay.signBody(key, body)}`, {
    method: 'POST', headers: { 'content-type': 'application/json;charset=UTF-8' }, body,
  })
  return res.status
}

/** Refund states of a paid order, and of one whose paid state's deliveries all failed: flagged
 * (with their state), never "paid" again (each state is a notification of its own). */
async function refundStatesNeverMarkPaid(url, key, s, paidCode) {
  const before = s.paid.length
  assert.equal(await notify(url, key, paidCode, '4'), 200)
  assert.equal(await notify(url, key, paidCode, '5'), 200)
  const unseen = code('FW-R')
  s.amounts.set(unseen, 1234)
  assert.equal(await notify(url, key, unseen, '5'), 200)
  assert.equal(s.paid.length, before, 'a refund state never marks an order paid')
  assert.deepEqual(s.flagged.slice(-3), [[paidCode, 'PartiallyRefunded'], [paidCode, 'Refunded'], [unseen, 'Refunded']])
  const other = code('FW-X')
  s.amounts.set(other, 1234)
  assert.equal(await notify(url, key, other, '1', 1), 200) // another amount under the order's code
  assert.deepEqual(s.flagged.slice(-1), [[other, 'Paid']])
  assert.equal(s.paid.length, before)
}

/** Creates an order notifying `notifyUrl`, pays it in the sandbox, and waits for 200. */
async function payAndWait(sb, client, s, notifyUrl) {
  const chargeCode = code('FW')
  s.amounts.set(chargeCode, 1234)
  await client.createQrOrder({ chargeCode, amountFen: 1234, channel: 'Wechat', paySubject: 'framework', notifyUrl })
  sb.pay(chargeCode)
  const attempts = await sb.waitForNotification({ chargeCode, timeoutMs: 15000 })
  assert.equal(attempts.at(-1).httpStatus, 200)
  return { chargeCode, attempts }
}

test("the README's Express example answers the sandbox's notifications", async (t) => {
  const sb = await startSandbox({ timeScale: 0.01 })
  const s = shop()
  const { app } = run(readmeBlock('Express'), { process: { env: { SOSOPAY_KEY: sb.key } }, ...s, console }, ['app'])
  // The shop's other routes keep their JSON parsing.
  const express = require('express')
  app.post('/api/echo', express.json(), (req, res) => res.json(req.body))
  const server = await new Promise((resolve) => { const h = app.listen(0, '127.0.0.1', () => resolve(h)) })
  t.after(() => { server.close(); sb.close() })
  const base = `http://127.0.0.1:${server.address().port}`
  const client = sb.client({ encrypt: true })
  for (const notifyUrl of [`${base}/sosopay/notify?_type=json`, `${base}/sosopay/notify?_type=json&encrypt=3DES`, `${base}/sosopay/notify`]) {
    const { chargeCode } = await payAndWait(sb, client, s, notifyUrl)
    assert.deepEqual(s.paid.at(-1), [chargeCode, 1234])
  }
  assert.equal(s.paid.length, 3, 'each processed once')
  assert.deepEqual(s.flagged, [])
  await refundStatesNeverMarkPaid(`${base}/sosopay/notify`, sb.key, s, s.paid[0][0])
  const echo = await fetch(`${base}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
  assert.deepEqual(await echo.json(), { a: 1 })
})

test("the README's Fastify example answers the sandbox's notifications", async (t) => {
  const sb = await startSandbox({ timeScale: 0.01 })
  const s = shop()
  const fastify = require('fastify')()
  const onNotification = async (n) => { // as the README's Express example's
    const { chargeCode, amountFen, state } = n.order
    if (state === sosopay.OrderState.Paid && chargeCode !== undefined && amountFen !== undefined &&
        amountFen === (await s.amountFenOf(chargeCode))) {
      await s.markPaid(chargeCode, amountFen)
    } else {
      await s.flagForReview(n)
    }
  }
  run(readmeBlock('Fastify (or anything else)'), { fastify, key: sb.key, onNotification }, [])
  fastify.post('/api/echo', async (request) => request.body)
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => { fastify.close(); sb.close() })
  const base = `http://127.0.0.1:${fastify.server.address().port}`
  const client = sb.client({ encrypt: true })
  for (const notifyUrl of [`${base}/sosopay/notify?_type=json`, `${base}/sosopay/notify?_type=json&encrypt=3DES`, `${base}/sosopay/notify`]) {
    const { chargeCode } = await payAndWait(sb, client, s, notifyUrl)
    assert.deepEqual(s.paid.at(-1), [chargeCode, 1234])
  }
  assert.equal(s.paid.length, 3, 'each processed once')
  await refundStatesNeverMarkPaid(`${base}/sosopay/notify`, sb.key, s, s.paid[0][0])
  const echo = await fetch(`${base}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
  assert.deepEqual(await echo.json(), { a: 1 })
})
