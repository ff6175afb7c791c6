'use strict'
// The README's examples marked `<!-- runnable: node -->` run against the sandbox (its hold
// lasts 4 s, so that their "Cancel" lands while the customer has not confirmed). They get
// KEY, BASE_URL, orderNo and scannedCode, and `require('sosopay')` is this package.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const sosopay = require('..')
const { KEY, startSandbox, code, payCode } = require('./helpers.js')

const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')
const BLOCKS = [...README.matchAll(/<!-- runnable: node -->\n```js\n([^]*?)```/g)].map((m) => m[1])
const AsyncFunction = (async () => {}).constructor

let sb
test.before(async () => {
  sb = await startSandbox({ timeScale: 0.05 })
})
test.after(async () => {
  await sb.stop()
})

test('the README has runnable examples', () => {
  assert.ok(BLOCKS.length >= 1)
})

BLOCKS.forEach((source, i) => {
  test(`README example ${i} runs`, async () => {
    const orderNo = code('RD')
    const lines = []
    const fakeConsole = { log: (...a) => lines.push(a.join(' ')), warn: (...a) => lines.push(a.join(' ')) }
    const req = (name) => (name === 'sosopay' ? sosopay : require(name))
    const run = new AsyncFunction('require', 'console', 'KEY', 'BASE_URL', 'orderNo', 'scannedCode', source)
    await run(req, fakeConsole, KEY, sb.baseUrl, orderNo, payCode(4))
    const printed = lines.join('\n')
    assert.match(printed, /final: Cancelled/, printed)
    const orders = (await sb.admin('GET', 'ledger')).orders.filter((o) => o.charge_code === orderNo)
    assert.equal(orders.length && Number(orders[0].state), 2, `the order is reversed\n${printed}`)
  })
})
