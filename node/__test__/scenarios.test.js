'use strict'
// The shared behaviour scenarios (tests/scenarios/*.json, format in its README): the Rust,
// Python and Kotlin suites run the same files and must agree.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const sosopay = require('..')
const { REPO, startSandbox } = require('./helpers.js')

const DIR = path.join(REPO, 'tests', 'scenarios')
const DEFAULTS = JSON.parse(fs.readFileSync(path.join(DIR, '_defaults.json'), 'utf8'))
const FILES = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && !f.startsWith('_'))
  .sort()

let sb
test.before(async () => {
  sb = await startSandbox({ timeScale: DEFAULTS.time_scale })
})
test.after(async () => {
  if (sb) await sb.stop()
})

function client(overrides) {
  const s = { ...DEFAULTS.client, ...(overrides || {}) }
  return new sosopay.Client({
    busiCode: DEFAULTS.busi_code,
    key: DEFAULTS.key,
    baseUrl: sb.baseUrl,
    timeoutMs: s.timeout_ms,
    micropayTimeoutMs: s.micropay_timeout_ms,
    retry: { maxAttempts: s.retry_max_attempts, baseDelayMs: s.retry_base_delay_ms, maxDelayMs: s.retry_max_delay_ms },
    defaultOperId: s.oper_id,
    defaultDevId: s.dev_id,
  })
}

function options(o = {}) {
  const names = {
    deadline_ms: 'deadlineMs',
    poll_interval_ms: 'pollIntervalMs',
    max_poll_interval_ms: 'maxPollIntervalMs',
    cancel_attempts: 'cancelAttempts',
    max_duration_ms: 'maxDurationMs',
    gateway_hold_ms: 'gatewayHoldMs',
  }
  const out = {}
  for (const [k, v] of Object.entries(o)) out[names[k]] = v
  return out
}

function check(name, out, expect = {}) {
  const wrong = []
  const status = out.status.toLowerCase()
  if (expect.status !== undefined && status !== expect.status) {
    wrong.push(`${name}: status ${status} (${out.reason}), expected ${expect.status}`)
  }
  if (expect.code !== undefined && out.resultCode !== expect.code) {
    wrong.push(`${name}: code ${out.resultCode}, expected ${expect.code}`)
  }
  if (expect.order_amount_fen !== undefined) {
    const got = out.order ? out.order.amountFen : undefined
    if (got !== expect.order_amount_fen) wrong.push(`${name}: order amount ${got}, expected ${expect.order_amount_fen}`)
  }
  return wrong
}

async function run(sc) {
  const name = sc.name
  await sb.admin('POST', 'reset')
  await sb.admin('DELETE', 'faults')
  const c = client(sc.client)
  const wrong = []
  for (const step of sc.steps) {
    const expect = step.expect || {}
    if (step.set_faults) {
      await sb.admin('POST', 'faults', { faults: step.set_faults })
    } else if (step.micropay) {
      const r = step.micropay
      let code
      try {
        const reply = await c.micropay({ chargeCode: r.charge_code, amount: r.amount, dynamicId: r.dynamic_id, paySubject: r.subject })
        code = reply.resultCode
      } catch (e) {
        if (!(e instanceof sosopay.GatewayError)) throw e
        code = e.resultCode
      }
      if (expect.result_code !== undefined && code !== expect.result_code) {
        wrong.push(`${name}: micropay answered ${code}, expected ${expect.result_code}`)
      }
    } else if (step.micropay_and_wait) {
      const r = step.micropay_and_wait
      const out = await c.micropayAndWait(
        { chargeCode: r.charge_code, amount: r.amount, dynamicId: r.dynamic_id, paySubject: r.subject },
        options(step.options),
      )
      wrong.push(...check(name, out, expect))
    } else if (step.create_qr_order) {
      const r = step.create_qr_order
      await c.createQrOrder({ chargeCode: r.charge_code, amount: r.amount, channel: r.channel, paySubject: r.subject })
    } else if (step.refund) {
      const r = step.refund
      let code
      let error
      try {
        const reply = await c.refund({ chargeCode: r.charge_code, outRefundNo: r.out_refund_no, refundAmount: r.amount, refundSubject: r.subject })
        code = reply.resultCode
      } catch (e) {
        if (e instanceof sosopay.GatewayError) code = e.resultCode
        else if (e instanceof sosopay.SosopayError) error = e
        else throw e
      }
      if (expect.error !== undefined) {
        if (!error || error.code !== expect.error) {
          wrong.push(`${name}: refund gave ${error || code}, expected a ${expect.error} error`)
        } else if (expect.outcome_unknown !== undefined && error.outcomeUnknown !== expect.outcome_unknown) {
          wrong.push(`${name}: refund error ${error}: outcomeUnknown is not ${expect.outcome_unknown}`)
        }
      } else if (error) {
        wrong.push(`${name}: refund failed: ${error}`)
      } else if (code !== (expect.result_code ?? 'SUCCESS')) {
        wrong.push(`${name}: refund answered ${code}, expected ${expect.result_code ?? 'SUCCESS'}`)
      }
    } else if (step.admin) {
      await sb.admin('POST', `orders/${step.charge_code}/${step.admin}`)
    } else if (step.wait_for_payment) {
      const w = step.wait_for_payment
      const order = w.amount === undefined ? w.charge_code : { chargeCode: w.charge_code, amount: w.amount }
      const out = await c.waitForPayment(order, options(step.options))
      wrong.push(...check(name, out, expect))
    } else if (step.sleep_ms !== undefined) {
      await new Promise((r) => setTimeout(r, step.sleep_ms))
    } else {
      throw new Error(`${name}: unknown step ${JSON.stringify(step)}`)
    }
  }
  const { orders } = await sb.admin('GET', 'ledger')
  for (const [cc, want] of Object.entries(sc.ledger)) {
    const mine = orders.filter((o) => o.charge_code === cc)
    if (want.orders !== undefined && mine.length !== want.orders) {
      wrong.push(`${name}: ${mine.length} orders ${cc} in the ledger, expected ${want.orders}`)
    }
    for (const key of ['state', 'amount_fen']) {
      if (want[key] !== undefined) {
        const got = mine.length ? mine[0][key] : undefined
        if (got !== want[key]) wrong.push(`${name}: ledger ${cc} ${key} ${got}, expected ${want[key]}`)
      }
    }
  }
  return wrong
}

test('there are scenarios', () => {
  assert.ok(FILES.length >= 20, `${FILES.length}`)
})

for (const f of FILES) {
  test(`scenario ${f}`, async () => {
    const wrong = await run(JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')))
    assert.deepEqual(wrong, [])
  })
}
