'use strict'
// Every wrong argument is a ValidationError naming the field as JS spells it and saying what was
// given: napi's own conversion messages ("Failed to convert JavaScript value ...", "Value is none
// of these types ...") never reach a user (bindings/node/src/input.rs).
const test = require('node:test')
const assert = require('node:assert/strict')
const sosopay = require('../sosopay.js')

const { Client, Envelope, NotificationVerifier, MemoryIdempotencyStore, ValidationError } = sosopay
const KEY = '98SDKFUO432HNODS098EEE07U9DUOIUE'
const RAW = /Failed to convert|none of these types|Cannot convert|Missing field|rust type/
const base = { busiCode: '0010000001', key: KEY, baseUrl: 'http://127.0.0.1:9/', defaultOperId: 'o', defaultDevId: 'd' }
const sale = { chargeCode: 'A-1', amount: '1.00', dynamicId: '130730865806264036', paySubject: 'Tea' }

async function refused(call, field, reason) {
  let err
  try {
    await call()
  } catch (e) {
    err = e
  }
  assert.ok(err, `expected ${field} to be refused`)
  assert.ok(err instanceof ValidationError, `${field}: ${err && err.name}: ${err && err.message}`)
  assert.equal(err.field, field, err.message)
  assert.doesNotMatch(err.message, RAW)
  assert.match(err.message, reason)
}

test('client options', async () => {
  await refused(() => new Client({ ...base, busiCode: 5 }), 'busiCode', /expected a string, got the number 5/)
  await refused(() => new Client({ key: KEY, baseUrl: base.baseUrl }), 'busiCode', /is required/)
  await refused(() => new Client({ ...base, timeoutMs: '5' }), 'timeoutMs', /expected a number, got a string/)
  await refused(() => new Client({ ...base, retry: 3 }), 'retry', /expected a RetryOptions object, got the number 3/)
  await refused(() => new Client({ ...base, retry: { maxAttempts: '3' } }), 'retry.maxAttempts', /expected a number/)
  await refused(() => new Client({ ...base, encrypt: 'yes' }), 'encrypt', /expected true or false, got a string/)
  await refused(() => new Client({ ...base, onRequest: 1 }), 'onRequest', /expected a function/)
  await refused(() => new Client(null), 'options', /expected a ClientOptions object, got null/)
  await refused(() => new Client({ ...base, defaultOperId: '' }), 'defaultOperId', /is blank/)
  await refused(() => new Client({ ...base, defaultDevId: '  ' }), 'defaultDevId', /is blank/)
})

test('requests, goods and flow options', async () => {
  const c = new Client(base)
  await refused(() => c.micropay(null), 'request', /expected a MicropayRequest object, got null/)
  await refused(() => c.micropay({ ...sale, chargeCode: undefined }), 'chargeCode', /is required/)
  await refused(() => c.micropay({ ...sale, amount: {} }), 'amount', /expected yuan as a string/)
  await refused(() => c.micropay({ ...sale, amount: undefined, amountFen: '100' }), 'amountFen', /expected integer fen/)
  await refused(() => c.micropay({ ...sale, goods: 'tea' }), 'goods', /expected an array, got a string/)
  await refused(() => c.micropay({ ...sale, goods: [null] }), 'goods[0]', /expected a Goods object, got null/)
  const tea = { id: 'T', name: 'Tea', class: 'drinks', price: '1.00', subject: 'Tea', quantity: 1 }
  await refused(() => c.micropay({ ...sale, goods: [tea, { ...tea, quantity: '2' }] }), 'goods[1].quantity', /expected a number/)
  await refused(() => c.refund({ chargeCode: 'A-1', refundAmount: '1.00', outRefundNo: 7 }), 'outRefundNo', /got the number 7/)
  await refused(() => c.query(42), 'request', /expected a charge code \(a string\) or a QueryRequest object, got the number 42/)
  await refused(() => c.cancel([]), 'request', /or a CancelRequest object, got an array/)
  await refused(() => c.flowRecharge({ phoneNo: '1', flowVal: 'a' }), 'flowVal', /expected a number, got a string/)
  await refused(() => c.micropayAndWait(sale, { pollIntervalMs: 'x' }), 'pollIntervalMs', /expected a number/)
  await refused(() => c.micropayAndWait(sale, 5), 'options', /expected a WaitOptions object/)
  await refused(() => c.micropayAndWait(sale, {}, 'junk'), 'cancel', /expected a CancelToken/)
  await refused(() => c.waitForPayment('X', {}, {}), 'cancel', /expected a CancelToken/)
  // A reason naming other fields names them as JS does too.
  await refused(() => c.refund({ outRefundNo: 'R-1', refundAmount: '0.10', refundSubject: 'r' }), 'chargeCode',
    /^invalid chargeCode: a refund needs chargeCode or chargeDownCode$/)
})

test('a misspelt field is refused, never ignored', async () => {
  const c = new Client(base)
  // `deadline` for `deadlineMs` would wait the default 60 s; `amount` on a refund would be lost.
  await refused(() => c.waitForPayment('A-1', { deadline: 5000 }), 'deadline', /not a field of a WaitOptions object: did you mean deadlineMs\?/)
  await refused(() => c.micropayAndWait(sale, { poll_interval_ms: 100 }), 'poll_interval_ms', /did you mean pollIntervalMs\?/)
  await refused(() => c.refund({ chargeCode: 'A-1', amount: '1.00', outRefundNo: 'R-1' }), 'amount', /not a field of a RefundRequest object: did you mean refundAmount\?/)
  await refused(() => c.micropay({ ...sale, merchantParam: 'x' }), 'merchantParam', /did you mean merchantPara\?/)
  await refused(() => c.micropay({ ...sale, amount_fen: 100 }), 'amount_fen', /did you mean amountFen\?/)
  const tea = { id: 'T', name: 'Tea', class: 'drinks', price: '1.00', subject: 'Tea', quantity: 1 }
  await refused(() => c.micropay({ ...sale, goods: [{ ...tea, qty: 2 }] }), 'goods[0].qty', /not a field of a Goods object/)
  await refused(() => c.query({ chargeCode: 'A-1' }), 'chargeCode', /not a field of a QueryRequest object: did you mean code\?/)
  await refused(() => c.micropay({ ...sale, colour: 'red' }), 'colour', /not a field of a MicropayRequest object \(its fields: chargeCode,/)
  await refused(() => new Client({ ...base, retry: { attempts: 2 } }), 'retry.attempts', /did you mean maxAttempts\?/)
  await refused(() => new Client({ ...base, timeout: 5000 }), 'timeout', /did you mean timeoutMs\?/)
  // A property set to undefined is absent (object spreads), and inherited ones are not read as fields.
  await refused(() => c.micropay({ ...sale, extra: undefined, chargeCode: undefined }), 'chargeCode', /is required/)
  const proto = Object.assign(Object.create({ unrelated: 1 }), { chargeCode: 'A-1', outRefundNo: 'R-1', refundSubject: 'r', refundAmount: 5 })
  await refused(() => c.refund(proto), 'refundAmount', /give yuan as a string/)
})

test('positional arguments', async () => {
  await refused(() => sosopay.signBody(5, 'body'), 'key', /expected a string, got the number 5/)
  await refused(() => sosopay.signBody(KEY, 1), 'body', /expected a string or a Buffer/)
  await refused(() => sosopay.signBody(KEY, 'b', {}), 'timestamp', /expected a string or a number, got an object/)
  await refused(() => sosopay.verifyCancel(KEY, 's', 'C', 5), 'busiCode', /got the number 5/)
  await refused(() => sosopay.encrypt(KEY, 5), 'plaintext', /expected a string or a Buffer/)
  await refused(() => new Envelope(KEY).open('s', null), 'ciphertext', /got null/)
  await refused(() => sosopay.yuanToFen({}), 'yuan', /expected yuan as a string/)
  await refused(() => sosopay.fenToYuan('1'), 'fen', /expected integer fen/)
  await refused(() => new NotificationVerifier({ key: KEY }).parse(1, ''), 'query', /got the number 1/)
  await refused(() => new NotificationVerifier({}), 'key', /is required/)
  await refused(() => sosopay.parseNotification({ key: KEY, query: 'q', body: 5 }), 'body', /expected a string or a Buffer/)
  await refused(() => new MemoryIdempotencyStore().begin(3), 'id', /got the number 3/)
})

test('a zero amount names the property as given (amount or amountFen)', async () => {
  const c = new Client(base)
  const { amount, ...noAmount } = sale
  assert.equal(amount, '1.00')
  const refund = { chargeCode: 'A-1', outRefundNo: 'R-1', refundSubject: 'r' }
  const order = { chargeCode: 'A-1', paySubject: 'Tea', channel: '2' }
  await refused(() => c.micropay({ ...noAmount, amountFen: 0 }), 'amountFen', /more than zero/)
  await refused(() => c.micropay({ ...noAmount, amount: '0.00' }), 'amount', /more than zero/)
  await refused(() => c.createQrOrder({ ...order, amountFen: 0n }), 'amountFen', /more than zero/)
  await refused(() => c.refund({ ...refund, refundAmountFen: 0 }), 'refundAmountFen', /more than zero/)
  await refused(() => c.refund({ ...refund, refundAmount: '0' }), 'refundAmount', /more than zero/)
  // A refund's unique number is required: without it a lost reply could not be retried safely.
  const { outRefundNo, ...noRefundNo } = refund
  assert.equal(outRefundNo, 'R-1')
  await refused(() => c.refund({ ...noRefundNo, refundAmount: '1' }), 'outRefundNo', /is required/)
  await refused(() => c.refund({ ...noRefundNo, outRefundNo: '', refundAmount: '1' }), 'outRefundNo', /is required: the refund's unique number/)
  await refused(() => c.micropayAndWait({ ...noAmount, amountFen: 0 }), 'amountFen', /more than zero/)
  await refused(() => c.waitForPayment({ chargeCode: 'A-1', amountFen: 0 }), 'amountFen', /more than zero/)
  await refused(() => c.waitForPayment({ chargeCode: 'A-1', amount: '0' }), 'amount', /more than zero/)
})

test('CancelToken is a class: called without new it throws instead of returning the module', () => {
  assert.throws(() => sosopay.CancelToken(), TypeError)
  const t = new sosopay.CancelToken()
  assert.ok(t instanceof sosopay.CancelToken)
  assert.equal(t.isCancelled(), false)
  t.cancel()
  assert.equal(t.isCancelled(), true)
})
