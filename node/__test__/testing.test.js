'use strict'
// `sosopay/testing`: the in-process sandbox, its admin API, the test codes, the types.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const sosopay = require('sosopay') // the package's own "exports" (self-reference)
const { startSandbox, codes, SandboxError, TEST_BUSI_CODE, TEST_KEY } = require('sosopay/testing')

const PKG = path.resolve(__dirname, '..')

test('require("sosopay") does not load sosopay/testing', () => {
  const r = spawnSync(
    process.execPath,
    ['-e', "require('sosopay'); const k = Object.keys(require.cache); process.stdout.write(JSON.stringify(k))"],
    { cwd: PKG, encoding: 'utf8' },
  )
  assert.equal(r.status, 0, r.stderr)
  const loaded = JSON.parse(r.stdout).map((f) => path.basename(f))
  assert.ok(loaded.includes('sosopay.js'))
  assert.ok(!loaded.includes('testing.js'))
})

test('start, QR order, the customer pays, ledger, close', async () => {
  const sb = await startSandbox({ timeScale: 0.01 })
  try {
    assert.match(sb.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/openGateway\/openService\/$/)
    assert.equal(`${sb.rootUrl}openGateway/openService/`, sb.baseUrl)
    assert.equal(sb.busiCode, TEST_BUSI_CODE)
    assert.equal(sb.timeScale, 0.01)
    const client = sb.client()
    assert.ok(client instanceof sosopay.Client)
    const reply = await client.createQrOrder({ chargeCode: 'QR-1', amount: '12.50', channel: 'Wechat', paySubject: 'Tea' })
    assert.equal(reply.state, 'AwaitingPayment')
    const before = sb.order('QR-1')
    assert.equal(before.isPaid, false)
    assert.equal(before.kind, 'qr')
    const paid = sb.pay('QR-1')
    assert.equal(paid.state, 'Paid')
    assert.equal(paid.stateCode, '1')
    assert.equal(paid.isPaid, true)
    assert.equal(paid.amountFen, 1250)
    assert.equal((await client.query({ code: 'QR-1' })).order.state, 'Paid')
    const ledger = sb.ledger()
    assert.deepEqual(ledger.orders.map((o) => o.chargeCode), ['QR-1'])
    assert.equal(ledger.paidFen, 1250)
    assert.equal(ledger.requests.order, 1)
    assert.equal(ledger.order('QR-1').chargeDownCode, paid.chargeDownCode)
    assert.equal(sb.order('never-seen'), null)
  } finally {
    await sb.close()
  }
  assert.equal(sb.closed, true)
  assert.throws(() => sb.ledger(), (e) => e instanceof SandboxError && e.status === 410)
  await sb.close() // idempotent
})

test('ledger totals: refunds of paid orders are deducted, a reversal is in neither total', async (t) => {
  const sb = await startSandbox({ timeScale: 0.01 })
  t.after(() => sb.close())
  const c = sb.client()
  await c.micropay({ chargeCode: 'KEPT', amount: '5.00', dynamicId: codes.PAY_NOW, paySubject: 'x' })
  await c.refund({ chargeCode: 'KEPT', refundAmount: '2.00', outRefundNo: 'R-KEPT', refundSubject: 'r' })
  await c.micropay({ chargeCode: 'REVERSED', amount: '3.00', dynamicId: codes.PAY_NOW, paySubject: 'x' })
  await c.cancel({ chargeCode: 'REVERSED' })
  const ledger = sb.ledger()
  const reversed = ledger.order('REVERSED')
  assert.deepEqual([reversed.state, reversed.isPaid, reversed.refundedFen], ['Cancelled', false, 300])
  assert.deepEqual(ledger.refundsOf('REVERSED'), [])
  assert.deepEqual([ledger.paidFen, ledger.refundedFen], [500, 200])
})

test('admin refusals are SandboxErrors with the admin status', async (t) => {
  const sb = await startSandbox({ timeScale: 0.01 })
  t.after(() => sb.close())
  assert.throws(() => sb.pay('NOPE'), (e) => e instanceof SandboxError && e.status === 404)
  await sb.client().micropay({ chargeCode: 'M-1', amount: '1.00', dynamicId: codes.PAY_NOW, paySubject: 'x' })
  assert.throws(() => sb.pay('M-1'), (e) => e instanceof SandboxError && e.status === 409)
  await sb.client().createQrOrder({ chargeCode: 'QR-D', amount: '3.00', channel: 'Wechat', paySubject: 'x' })
  assert.equal(sb.fail('QR-D').state, 'Closed')
})

test('a bad setting or argument of the kit is the SDK\'s ValidationError, named as JS spells it', async (t) => {
  const sb = await startSandbox({ timeScale: 0.01 })
  t.after(() => sb.close())
  const invalid = (field, message) => (e) => {
    assert.ok(e instanceof sosopay.ValidationError, `${e && e.name}: ${e && e.message}`)
    assert.ok(!(e instanceof SandboxError))
    assert.equal(e.field, field)
    assert.equal(e.code, 'validation')
    if (message) assert.match(e.message, message)
    return true
  }
  await assert.rejects(startSandbox({ timeScale: 0 }), invalid('timeScale', /^invalid timeScale: /))
  await assert.rejects(startSandbox({ faults: ['nope'] }), invalid('faults[0]', /"nope"/))
  await assert.rejects(startSandbox({ maxRequestAgeMs: -1 }), invalid('maxRequestAgeMs'))
  await assert.rejects(startSandbox({ seed: -1 }), invalid('seed'))
  await assert.rejects(startSandbox({ timeScale: 'x' }), invalid('timeScale', /invalid timeScale: expected a number/))
  await assert.rejects(startSandbox({ merchants: 5 }), invalid('merchants'))
  await assert.rejects(startSandbox(5), invalid('options'))
  assert.throws(() => sb.pay(5), invalid('chargeCode', /invalid chargeCode: expected a string/))
  assert.throws(() => codes.code('x'), invalid('behaviour', /invalid behaviour: expected a number, got a string/))
  assert.throws(() => codes.code(1.5), invalid('behaviour', /1.5 is not a whole number/))
  assert.throws(() => codes.code(9), invalid('behaviour', /not a behaviour digit/))
  assert.throws(() => codes.paysAfter(1000), invalid('seconds', /not between 0 and 999/))
  assert.throws(() => sb.faults.add('preOrder:explode:1'), invalid('faults[0]', /explode/))
  assert.throws(() => sb.faults.set([], { seed: 1.5 }), invalid('seed'))
  assert.throws(() => sb.faults.set(5), invalid('rules', /expected an array of fault rules/))
  assert.throws(() => sb.faults.set('query:drop:1'), invalid('rules'))
  await assert.rejects(sb.waitForNotification({ count: -1, timeoutMs: 5 }), invalid('count'))
  assert.throws(() => sb.addMerchant('', 'k'.repeat(32)), invalid('busiCode', /^invalid busiCode: is required/))
  assert.throws(() => sb.addMerchant('0050000005', ''), invalid('key', /^invalid key: the merchant key is empty/))
  await assert.rejects(startSandbox({ merchants: { '0050000005': '' } }), invalid('merchants', /invalid key/))
})

test('the waits are the sandbox crate\'s: timeouts say what was seen, bad arguments are named', async () => {
  const sb = await startSandbox({ timeScale: 0.01 })
  await sb.client().createQrOrder({ chargeCode: 'W-1', amount: '1.00', channel: 'Wechat', paySubject: 'x' })
  await assert.rejects(sb.waitForState('W-1', ['Paid', 'Refunded'], { timeoutMs: 20 }), (e) =>
    e instanceof sosopay.TimeoutError && e instanceof sosopay.SosopayError && e.operation === 'waitForState' &&
      e.afterMs === 20 && /order W-1 not in Paid\/Refunded within 20ms: AwaitingPayment/.test(e.message),
  )
  await assert.rejects(sb.waitForNotification({ chargeCode: 'W-1', timeoutMs: 15 }), (e) =>
    e instanceof sosopay.TimeoutError && e.operation === 'waitForNotification' && e.afterMs === 15 &&
      /no 1 accepted notification\(s\) for W-1 within 15ms; attempts: \[\]/.test(e.message),
  )
  const invalid = (field) => (e) => e instanceof sosopay.ValidationError && e.field === field
  await assert.rejects(sb.waitForState('W-1', []), invalid('states'))
  await assert.rejects(sb.waitForState('W-1', 'Sleeping'), invalid('states[0]'))
  await assert.rejects(sb.waitForNotification({ timeoutMs: -5 }), invalid('timeoutMs'))
  const waiting = sb.waitForState('W-1', 'Paid', { timeoutMs: 5000 })
  setTimeout(() => sb.pay('W-1'), 20)
  assert.equal((await waiting).state, 'Paid')
  const never = assert.rejects(sb.waitForNotification({ chargeCode: 'W-1', timeoutMs: 30000 }), (e) => e instanceof SandboxError && e.status === 410)
  await sb.close()
  await never
})

test('test codes', () => {
  assert.equal(codes.PAY_NOW, '130730865806264036')
  assert.equal(codes.PAYS_AFTER_3S, '130000000000001003')
  assert.equal(codes.NEVER_CONFIRMS, '130000000000004000')
  assert.equal(codes.paysAfter(5), '130000000000001005')
  assert.equal(codes.userPaying(2, { channel: codes.ALIPAY }), '280000000000002002')
  assert.equal(codes.code(6), codes.CODE_EXPIRED)
  assert.throws(() => codes.code(1, 1000), (e) => e instanceof sosopay.ValidationError && e.field === 'seconds')
  assert.ok(Object.isFrozen(codes))
})

test('the codes drive the till flow', async (t) => {
  const sb = await startSandbox({ timeScale: 0.01 })
  t.after(() => sb.close())
  const client = sb.client()
  const cases = [
    [codes.PAY_NOW, 'Paid', 'Paid'],
    [codes.PAYS_AFTER_3S, 'Paid', 'Paid'],
    [codes.USER_PAYING, 'Paid', 'Paid'],
    [codes.REPLY_LOST, 'Paid', 'Paid'],
    [codes.INSUFFICIENT_FUNDS, 'Failed', 'Closed'],
    [codes.CODE_EXPIRED, 'Failed', 'Closed'],
    [codes.NEVER_CONFIRMS, 'Cancelled', 'Cancelled'],
  ]
  await Promise.all(
    cases.map(async ([dynamicId, status, state], i) => {
      const chargeCode = `TILL-${i}`
      // The client's own timing is not scaled: poll faster than the default.
      const out = await client.micropayAndWait(
        { chargeCode, amount: '9.99', dynamicId, paySubject: 'x' },
        { pollIntervalMs: 50 },
      )
      assert.equal(out.status, status, `${dynamicId}: ${out.reason}`)
      const order = await sb.waitForState(chargeCode, state)
      assert.equal(order.dynamicId, dynamicId)
    }),
  )
})

test('faults: add, clear, and what they did', async (t) => {
  const sb = await startSandbox({ timeScale: 0.01 })
  t.after(() => sb.close())
  assert.deepEqual(sb.faults.rules, [])
  sb.faults.add('preOrder:drop_reply:1')
  sb.faults.add('query:http503:0.5', 'notify:duplicate:1')
  assert.deepEqual([...sb.faults], ['preOrder:drop_reply:1', 'query:http503:0.5', 'notify:duplicate:1'])
  const client = sb.client()
  await assert.rejects(
    client.micropay({ chargeCode: 'F-1', amount: '1.00', dynamicId: codes.PAY_NOW, paySubject: 'x' }),
    (e) => e instanceof sosopay.SosopayError && e.outcomeUnknown,
  )
  assert.equal(sb.order('F-1').isPaid, true) // processed: only the reply was lost
  assert.deepEqual(sb.faults.injected(), { 'preOrder:drop_reply': 1 })
  assert.deepEqual(
    sb.ledger().faults.events.map((e) => [e.op, e.kind, e.chargeCode]),
    [['preOrder', 'drop_reply', 'F-1']],
  )
  sb.faults.set(['*:http502:1'], { seed: 7 })
  assert.equal(sb.faults.seed, 7)
  sb.faults.clear()
  assert.deepEqual(sb.faults.rules, [])
  await client.micropay({ chargeCode: 'F-2', amount: '1.00', dynamicId: codes.PAY_NOW, paySubject: 'x' })
  assert.throws(() => sb.faults.add('preOrder:explode:1'), (e) => e instanceof sosopay.ValidationError && e.field === 'faults[0]')
  sb.reset()
  assert.deepEqual(sb.ledger().orders, [])
})

test('notifications reach a node:http webhook in the same process; attempts are recorded', async (t) => {
  const sb = await startSandbox({ timeScale: 0.01 })
  t.after(() => sb.close())
  const statuses = [500, 500]
  const received = []
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      received.push({ url: req.url, body: Buffer.concat(chunks) })
      res.statusCode = statuses.length ? statuses.shift() : 200
      res.end(res.statusCode === 200 ? 'SUCCESS' : 'FAIL')
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => new Promise((r) => server.close(r)))
  const notifyUrl = `http://127.0.0.1:${server.address().port}/notify?_type=json`

  await sb.client().createQrOrder({ chargeCode: 'N-1', amount: '5.00', channel: 'Wechat', paySubject: 'x', notifyUrl })
  assert.deepEqual(sb.notifications('N-1'), [])
  sb.pay('N-1')
  const accepted = await sb.waitForNotification({ chargeCode: 'N-1' })
  assert.equal(accepted.length, 1)
  assert.deepEqual(
    sb.notifications('N-1').map((a) => [a.attempt, a.httpStatus, a.accepted]),
    [[1, 500, false], [2, 500, false], [3, 200, true]],
  )
  const last = received[received.length - 1]
  const note = sosopay.parseNotification({ key: sb.key, query: last.url.split('?')[1], body: last.body })
  assert.equal(note.order.chargeCode, 'N-1')
  assert.equal(note.order.state, 'Paid')
  await assert.rejects(sb.waitForNotification({ chargeCode: 'NONE', timeoutMs: 50 }), /no 1 accepted notification/)
})

test('other merchants', async (t) => {
  const sb = await startSandbox({ merchants: { '0020000002': '0123456789abcdef0123456789abcdef' } })
  t.after(() => sb.close())
  assert.equal(sb.busiCode, '0020000002')
  await sb.client().micropay({ chargeCode: 'X-1', amount: '1.00', dynamicId: codes.PAY_NOW, paySubject: 'x' })
  sb.addMerchant('0030000003', 'fedcba9876543210fedcba9876543210')
  await sb.client({ busiCode: '0030000003' }).micropay({ chargeCode: 'X-2', amount: '1.00', dynamicId: codes.PAY_NOW, paySubject: 'x' })
  assert.deepEqual(new Set(sb.ledger().orders.map((o) => o.busiId)), new Set(['0020000002', '0030000003']))
  assert.equal(sb.key, '0123456789abcdef0123456789abcdef')
  // The test merchant and its key are the sandbox crate's (not restated in JS).
  const dflt = await startSandbox()
  t.after(() => dflt.close())
  assert.deepEqual([dflt.busiCode, dflt.key], [TEST_BUSI_CODE, TEST_KEY])
  dflt.addMerchant(dflt.busiCode, 'fedcba9876543210fedcba9876543210')
  assert.equal(dflt.key, 'fedcba9876543210fedcba9876543210')
  // Signed with the new key: the gateway looks the order up (an invalid sign would say so).
  await assert.rejects(dflt.client().query('NONE-1'), /CHARGE_NONEXISTENT/)
})

test('testing-usage.ts compiles under tsc --strict against sosopay/testing', () => {
  const tsc = path.join(PKG, 'node_modules', 'typescript', 'bin', 'tsc')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sosopay-ts-'))
  const config = {
    compilerOptions: {
      strict: true, noEmit: true, target: 'es2022', module: 'commonjs', esModuleInterop: true,
      moduleResolution: 'node', types: ['node'], typeRoots: [path.join(PKG, 'node_modules', '@types')],
      baseUrl: PKG,
      paths: { sosopay: [path.join(PKG, 'sosopay.d.ts')], 'sosopay/testing': [path.join(PKG, 'testing.d.ts')] },
      skipLibCheck: false,
    },
    files: [path.join(__dirname, 'types', 'testing-usage.ts')],
  }
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config))
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], { encoding: 'utf8' })
  fs.rmSync(dir, { recursive: true, force: true })
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}\n${r.stderr}`)
})

test('kit arguments name the field as JS spells it; a client of a closed sandbox is refused at once', async () => {
  const { ValidationError } = sosopay
  await assert.rejects(startSandbox({ merchants: { '': 'k' } }),
    (e) => e instanceof ValidationError && e.field === 'merchants' && /busiCode/.test(e.message) && !/busi_code/.test(e.message))
  await assert.rejects(startSandbox({ merchants: { '0020000002': 5 } }),
    (e) => e instanceof ValidationError && e.field === 'merchants' && /the key of "0020000002" is not a string/.test(e.message))
  const sb = await startSandbox({ timeScale: 0.01 })
  for (const bad of [5, '']) {
    assert.throws(() => sb.addMerchant(bad, 'KEYKEYKEYKEYKEYKEYKEYKEY'), (e) => e instanceof ValidationError && e.field === 'busiCode', String(bad))
  }
  for (const bad of [5, null]) {
    assert.throws(() => sb.notifications(bad), (e) => e instanceof ValidationError && e.field === 'chargeCode', String(bad))
  }
  assert.deepEqual(sb.notifications(), [])
  await sb.close()
  for (const options of [{}, { key: 'KEYKEYKEYKEYKEYKEYKEYKEY' }]) {
    assert.throws(() => sb.client(options), (e) => e instanceof SandboxError && e.status === 410)
  }
})

test('a charge code two merchants used is not reported absent', async (t) => {
  const sb = await startSandbox({ timeScale: 0.01, merchants: { [TEST_BUSI_CODE]: TEST_KEY, '0020000002': '0123456789abcdef0123456789abcdef' } })
  t.after(() => sb.close())
  for (const busiCode of [TEST_BUSI_CODE, '0020000002']) {
    await sb.client({ busiCode }).createQrOrder({ chargeCode: 'SAME', amount: '1.00', channel: 'Wechat', paySubject: 'x' })
  }
  assert.throws(() => sb.order('SAME'), (e) => e instanceof SandboxError && e.status === 409 && /several merchants/.test(e.message))
  assert.throws(() => sb.pay('SAME'), (e) => e instanceof SandboxError && /several merchants/.test(e.message))
})
