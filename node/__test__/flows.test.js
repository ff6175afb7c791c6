'use strict'
// Cancellable, observable flows (issue #14): `signal` aborts a held payment and the order is
// reversed in the sandbox ledger; `onProgress` events arrive in order; held payments run on the
// tokio blocking pool, never libuv's.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const sosopay = require('..')
const { BUSI, KEY, startSandbox, code, payCode } = require('./helpers.js')

const NEVER_CONFIRMS = payCode(4) // held by the gateway for 80 s × time scale, then cancelled
const PAYS_AFTER_A_MOMENT = payCode(1, 2)
const HOLD_MS = 80_000

let fast // time scale 0.01: the hold lasts 0.8 s
let slow // time scale 0.05: the hold lasts 4 s, long enough to abort mid-hold
test.before(async () => {
  ;[fast, slow] = await Promise.all([startSandbox({ timeScale: 0.01 }), startSandbox({ timeScale: 0.05 })])
})
test.after(async () => {
  await Promise.all([fast.stop(), slow.stop()])
})

function client(sb) {
  return new sosopay.Client({ busiCode: BUSI, key: KEY, baseUrl: sb.baseUrl, defaultOperId: 'op', defaultDevId: 'till' })
}

async function ledgerState(sb, chargeCode) {
  const orders = (await sb.admin('GET', 'ledger')).orders.filter((o) => o.charge_code === chargeCode)
  return orders.length ? Number(orders[0].state) : null
}

const held = (chargeCode) => ({ chargeCode, amountFen: 100, dynamicId: NEVER_CONFIRMS, paySubject: 'held' })

test('aborting mid-hold reverses the order and resolves with the outcome', async () => {
  const c = client(slow)
  const cc = code('AB')
  const events = []
  const ac = new AbortController()
  const p = c.micropayAndWait(held(cc), { signal: ac.signal, pollIntervalMs: 50, onProgress: (e) => events.push(e) })
  await new Promise((r) => setTimeout(r, 400))
  assert.equal(await ledgerState(slow, cc), 0, 'held: awaiting the customer')
  const t0 = Date.now()
  ac.abort()
  const out = await p
  const took = Date.now() - t0
  console.log(`aborting mid-hold took ${took} ms (hold ${HOLD_MS * 0.05} ms)`)
  assert.equal(out.status, 'Cancelled', out.reason)
  assert.ok(took < 2000, `the abort took ${took} ms`)
  assert.equal(await ledgerState(slow, cc), 2, 'the order is reversed in the ledger')
  const kinds = events.map((e) => e.kind)
  assert.equal(kinds[0], 'sending')
  assert.equal(kinds.at(-1), 'done', 'done arrives before the Promise settles')
  assert.equal(events.at(-1).status, 'Cancelled')
  assert.ok(events.some((e) => e.kind === 'cancelling' && e.requested === true), kinds.join())
})

test('a signal aborted before the start rejects with AbortError and sends nothing', async () => {
  const c = client(fast)
  const cc = code('AB')
  const ac = new AbortController()
  const reason = new Error('the cashier closed the screen')
  ac.abort(reason)
  await assert.rejects(c.micropayAndWait(held(cc), { signal: ac.signal }), (e) => {
    assert.ok(e instanceof sosopay.AbortError && e instanceof sosopay.SosopayError)
    assert.equal(e.name, 'AbortError')
    assert.equal(e.code, 'aborted')
    assert.equal(e.outcomeUnknown, false)
    assert.equal(e.cause, reason)
    return true
  })
  await assert.rejects(c.waitForPayment(cc, { signal: ac.signal }), sosopay.AbortError)
  assert.equal(await ledgerState(fast, cc), null, 'never sent')
})

test('a CancelToken cancelled before the start rejects too (nothing sent)', async () => {
  const c = client(fast)
  const cc = code('AB')
  const token = new sosopay.CancelToken()
  token.cancel()
  assert.equal(token.isCancelled(), true)
  await assert.rejects(c.micropayAndWait(held(cc), {}, token), sosopay.AbortError)
  assert.equal(await ledgerState(fast, cc), null)
})

// The edges of an abort, each made deterministic (never a matter of timing): the flow starts on
// a later turn of the event loop, once the code that called it has run to its end, and the
// till flow's one check of its token is the core's, just before it sends.
const PAYS_AT_ONCE = payCode(1) // paid as soon as it arrives: the quickest flow there is

/** A client of `sb` whose every request sent is counted (`sent.n`). */
function counting(sb) {
  const sent = { n: 0 }
  const c = new sosopay.Client({ busiCode: BUSI, key: KEY, baseUrl: sb.baseUrl, defaultOperId: 'op', defaultDevId: 'till', onRequest: () => { sent.n++ } })
  return { c, sent }
}

test('aborted by the code that called it, before it returns to the event loop: AbortError, nothing sent', async () => {
  // `const p = client.micropayAndWait(...); ac.abort()` (the cashier's Cancel in the same tick)
  // raced the worker thread: the payment was sometimes sent, and reversed or even reported
  // `Paid` (the quick flow over before the abort); sometimes the core's own check caught it and
  // the flow resolved `Failed` ("cancelled before the payment was sent"). Now every way of
  // aborting before the code returns to the event loop is one rejection, with nothing sent.
  const { c, sent } = counting(fast)
  const ways = {
    'same tick': (abort) => abort(),
    microtask: (abort) => queueMicrotask(abort),
    'process.nextTick': (abort) => process.nextTick(abort),
    'a later microtask': (abort) => Promise.resolve().then(() => null).then(abort),
  }
  const codes = []
  for (const [way, when] of Object.entries(ways)) {
    for (let i = 0; i < 10; i++) {
      const cc = code('ST')
      codes.push(cc)
      const ac = new AbortController()
      const reason = new Error(`cancel (${way})`)
      const events = []
      const p = c.micropayAndWait({ chargeCode: cc, amountFen: 100, dynamicId: PAYS_AT_ONCE, paySubject: 's' },
        { pollIntervalMs: 50, signal: ac.signal, onProgress: (e) => events.push(e.kind) })
      when(() => ac.abort(reason))
      await assert.rejects(p, (e) => {
        assert.ok(e instanceof sosopay.AbortError, `${way}: ${e}`)
        assert.equal(e.code, 'aborted')
        assert.equal(e.cause, reason)
        return true
      }, way)
      assert.deepEqual(events, [], `${way}: no event, not even 'done' (the Promise rejects)`)
    }
    // A CancelToken the same.
    const token = new sosopay.CancelToken()
    const cc = code('ST')
    codes.push(cc)
    const p = c.micropayAndWait({ chargeCode: cc, amountFen: 100, dynamicId: PAYS_AT_ONCE, paySubject: 's' }, { pollIntervalMs: 50 }, token)
    when(() => token.cancel())
    await assert.rejects(p, sosopay.AbortError, `${way}: CancelToken`)
    // waitForPayment: not even its first query.
    const ac = new AbortController()
    const w = c.waitForPayment(code('SW'), { pollIntervalMs: 50, signal: ac.signal })
    when(() => ac.abort())
    await assert.rejects(w, sosopay.AbortError, `${way}: waitForPayment`)
  }
  await new Promise((r) => setTimeout(r, 50)) // an onRequest log still on its way would land
  assert.equal(sent.n, 0, 'no request was sent')
  for (const cc of codes) assert.equal(await ledgerState(fast, cc), null, `${cc} never reached the gateway`)
})

test('an abort once the micropay request is going out resolves with the outcome (reversed), never rejects', async () => {
  // The other edge: `'sending'` is emitted after the flow's last check of its token, so an
  // abort from then on is a payment to reverse, not an AbortError.
  const c = client(slow)
  const cc = code('AS')
  const ac = new AbortController()
  const events = []
  const out = await c.micropayAndWait(held(cc), {
    pollIntervalMs: 50,
    signal: ac.signal,
    onProgress: (e) => {
      events.push(e)
      if (e.kind === 'sending') ac.abort()
    },
  })
  const kinds = events.map((e) => e.kind)
  assert.equal(out.status, 'Cancelled', out.reason)
  assert.equal(kinds[0], 'sending', kinds.join())
  assert.ok(events.some((e) => e.kind === 'cancelling' && e.requested === true), kinds.join())
  assert.equal(kinds.at(-1), 'done', kinds.join())
  assert.equal(await ledgerState(slow, cc), 2, 'the order is reversed in the ledger')
})

test('an abort after the flow ended (its done event, before the Promise settles) changes nothing', async () => {
  // The flow had decided its outcome (here: paid) before the abort: the outcome stands; it is
  // not lost, nor turned into a rejection.
  const c = client(fast)
  const cc = code('AD')
  const ac = new AbortController()
  const kinds = []
  const out = await c.micropayAndWait({ chargeCode: cc, amountFen: 100, dynamicId: PAYS_AT_ONCE, paySubject: 'd' }, {
    pollIntervalMs: 50,
    signal: ac.signal,
    onProgress: (e) => {
      kinds.push(e.kind)
      if (e.kind === 'done') ac.abort()
    },
  })
  assert.equal(ac.signal.aborted, true)
  assert.equal(out.status, 'Paid', out.reason)
  assert.ok(!kinds.includes('cancelling'), kinds.join())
  assert.equal(await ledgerState(fast, cc), 1, 'paid, as the outcome says')
})

test('progress events arrive in order, done last, before the Promise settles', async () => {
  const c = client(fast)
  const events = []
  const out = await c.micropayAndWait(
    { chargeCode: code('PG'), amountFen: 5, dynamicId: PAYS_AFTER_A_MOMENT, paySubject: 'p' },
    { pollIntervalMs: 50, onProgress: (e) => events.push(e) },
  )
  assert.equal(out.status, 'Paid')
  const kinds = events.map((e) => e.kind)
  assert.equal(kinds[0], 'sending', kinds.join())
  assert.equal(kinds.at(-1), 'done', kinds.join())
  assert.equal(kinds.filter((k) => k === 'done').length, 1)
  assert.ok(kinds.includes('waiting') && kinds.includes('queried'), kinds.join())
  assert.equal(events.at(-1).status, 'Paid')
  const lastQuery = events.filter((e) => e.kind === 'queried').at(-1)
  assert.equal(lastQuery.state, 'Paid')
  assert.equal(lastQuery.stateCode, '1')
  const elapsed = events.map((e) => e.elapsedMs)
  assert.deepEqual(elapsed, [...elapsed].sort((a, b) => a - b))
})

test('a throwing onProgress is a warning, not a failed payment', async () => {
  const c = client(fast)
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    const out = await c.micropayAndWait(
      { chargeCode: code('PG'), amountFen: 5, dynamicId: PAYS_AFTER_A_MOMENT, paySubject: 'p' },
      { pollIntervalMs: 50, onProgress: () => { throw new Error('a broken display') } },
    )
    assert.equal(out.status, 'Paid')
    await new Promise((r) => setImmediate(r))
  } finally {
    process.off('warning', onWarning)
  }
  assert.ok(warnings.some((w) => /onProgress callback threw: a broken display/.test(w.message)))
})

test('an async onProgress that rejects is a warning too, never an unhandled rejection', async () => {
  const c = client(fast)
  const warnings = []
  const unhandled = []
  const onWarning = (w) => warnings.push(w)
  const onUnhandled = (e) => unhandled.push(e)
  process.on('warning', onWarning)
  process.on('unhandledRejection', onUnhandled)
  try {
    const out = await c.micropayAndWait(
      { chargeCode: code('PA'), amountFen: 5, dynamicId: PAYS_AFTER_A_MOMENT, paySubject: 'p' },
      { pollIntervalMs: 50, onProgress: async () => { throw new Error('an async broken display') } },
    )
    assert.equal(out.status, 'Paid')
    await new Promise((r) => setTimeout(r, 20))
  } finally {
    process.off('warning', onWarning)
    process.off('unhandledRejection', onUnhandled)
  }
  assert.deepEqual(unhandled, [])
  assert.ok(warnings.some((w) => /onProgress callback threw: an async broken display/.test(w.message)))
})

test('aborting waitForPayment stops waiting; the order is left as it is', async () => {
  const c = client(fast)
  const cc = code('QR')
  await c.createQrOrder({ chargeCode: cc, amountFen: 100, channel: 'Wechat', paySubject: 'q' })
  const ac = new AbortController()
  const kinds = []
  setTimeout(() => ac.abort(), 300)
  const t0 = Date.now()
  const out = await c.waitForPayment(cc, { deadlineMs: 30_000, pollIntervalMs: 50, signal: ac.signal, onProgress: (e) => kinds.push(e.kind) })
  assert.ok(Date.now() - t0 < 2000)
  assert.equal(out.status, 'Pending', out.reason)
  assert.equal(kinds.at(-1), 'done')
  assert.equal(await ledgerState(fast, cc), 0)
})

test('bad signal and onProgress options are ValidationErrors', async () => {
  const c = client(fast)
  await assert.rejects(c.micropayAndWait(held(code('V')), { signal: {} }), (e) => e instanceof sosopay.ValidationError && e.field === 'signal')
  await assert.rejects(c.waitForPayment('X', { onProgress: 42 }), (e) => e instanceof sosopay.ValidationError && e.field === 'onProgress')
})

test('50 held payments complete in about one hold, and libuv\'s pool stays free', async () => {
  const c = client(fast)
  const hold = HOLD_MS * 0.01
  const n = 50
  const t0 = Date.now()
  const all = Promise.all(Array.from({ length: n }, (_, i) => c.micropayAndWait(held(code(`H${i}-`)), { pollIntervalMs: 50 })))
  // While they are held: work on libuv's pool (4 threads by default) is not queued behind them.
  await new Promise((r) => setTimeout(r, 100))
  const u0 = Date.now()
  await Promise.all(Array.from({ length: 4 }, () => new Promise((resolve, reject) => crypto.pbkdf2('x', 'y', 1, 32, 'sha256', (e) => (e ? reject(e) : resolve())))))
  const libuvMs = Date.now() - u0
  const outs = await all
  const took = Date.now() - t0
  console.log(`${n} held payments took ${took} ms with a hold of ${hold} ms; libuv work meanwhile took ${libuvMs} ms`)
  assert.ok(outs.every((o) => o.status === 'Cancelled'), outs.map((o) => o.status).join())
  assert.ok(libuvMs < hold / 2, `libuv work waited ${libuvMs} ms`)
  // libuv's 4 threads would need n / 4 holds.
  assert.ok(took < 5 * hold, `${n} held payments took ${took} ms (hold ${hold} ms)`)
})

test('waitForPayment with merchantPara: another payment\'s order under the code is a Conflict', async () => {
  const c = client(fast)
  const cc = code('MP')
  await c.createQrOrder({ chargeCode: cc, amountFen: 100, channel: 'Wechat', paySubject: 'q', merchantPara: 'c2hvcC0x' })
  await fast.admin('POST', `orders/${cc}/pay`)
  const other = await c.waitForPayment({ chargeCode: cc, amountFen: 100, merchantPara: 'c2hvcC0y' }, { deadlineMs: 2000, pollIntervalMs: 50 })
  assert.equal(other.status, 'Conflict', other.reason)
  const ours = await c.waitForPayment({ chargeCode: cc, amountFen: 100, merchantPara: 'c2hvcC0x' }, { deadlineMs: 2000, pollIntervalMs: 50 })
  assert.equal(ours.status, 'Paid', ours.reason)
})

test('a flow refusing a short gateway hold against the vendor names gatewayHoldMs', async () => {
  const c = new sosopay.Client({ busiCode: '0010000001', key: '98SDKFUO432HNODS098EEE07U9DUOIUE', environment: 'production' })
  const req = { chargeCode: 'HOLD-1', amountFen: 1, dynamicId: '130730865806264036', paySubject: 'x', operId: 'o', devId: 'd' }
  await assert.rejects(c.micropayAndWait(req, { gatewayHoldMs: 1000 }), (e) => {
    assert.ok(e instanceof sosopay.ValidationError, String(e))
    assert.equal(e.field, 'gatewayHoldMs')
    assert.match(e.message, /gatewayHoldMs/)
    return true
  })
})
