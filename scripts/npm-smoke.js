'use strict'
// Smoke test of the npm packages as a user gets them (scripts/build-node-packages): run from
// an app directory whose node_modules holds `sosopay` and one platform package installed from
// the packed tarballs. Checks that require('sosopay') loads the addon of the platform package
// (not a stray local build), then runs every vector of tests/vectors/envelope.json through it.
//   node scripts/npm-smoke.js <vectors.json> <expected platform package>
// Runs on Node >= 18 (N-API 8) so that Debian's arm64 nodejs can run it under qemu-user.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const Module = require('node:module')

const [vectorsPath, platformPackage] = process.argv.slice(2)
if (!vectorsPath || !platformPackage) {
  console.error('usage: node npm-smoke.js <vectors.json> <platform package>')
  process.exit(2)
}
// Resolve from the app directory (the current one), as the app's own require would.
const appRequire = Module.createRequire(path.join(process.cwd(), 'app.js'))
const sosopay = appRequire('sosopay')
const mainDir = path.dirname(appRequire.resolve('sosopay/package.json'))
const addon = appRequire.resolve(platformPackage)
const strays = fs.readdirSync(mainDir).filter((f) => f.endsWith('.node'))
assert.deepEqual(strays, [], `the sosopay package itself must carry no .node file: ${strays}`)
const loaded = Object.keys(require.cache).filter((f) => f.endsWith('.node'))
assert.deepEqual(loaded, [addon], `loaded ${loaded}, expected ${addon}`)
console.log(`node ${process.version} ${process.platform}-${process.arch}: require('sosopay') loaded ${path.relative(process.cwd(), addon)}`)

const v = JSON.parse(fs.readFileSync(vectorsPath, 'utf8'))
let passed = 0
let failed = 0
function check(name, fn) {
  try {
    fn()
    passed++
  } catch (e) {
    failed++
    console.log(`FAIL ${name}: ${e.message}`)
  }
}
for (const x of v.sign) {
  check(`sign ${x.timestamp}`, () => {
    assert.equal(sosopay.signBody(x.key, x.body, x.timestamp), x.sign)
    assert.equal(sosopay.verifyBody(x.key, x.sign, x.body).timestamp, x.timestamp)
  })
}
for (const x of v.query_sign) {
  check(`query ${x.charge_code}`, () => assert.equal(sosopay.signQuery(x.key, x.charge_code, x.timestamp), x.sign))
}
for (const x of v.cancel_sign) {
  check(`cancel ${x.charge_code}`, () =>
    assert.equal(sosopay.signCancel(x.key, x.charge_code, x.busi_code, x.timestamp), x.sign))
}
for (const x of v.des3) {
  check(`des3 ${x.key.slice(0, 6)}`, () => {
    assert.equal(sosopay.encrypt(x.key, x.plaintext), x.ciphertext_base64)
    assert.equal(sosopay.decrypt(x.key, x.ciphertext_base64).toString('utf8'), x.plaintext)
  })
}
check('a client can be built', () => {
  const c = new sosopay.Client({ busiCode: '0010000001', key: '98SDKFUO432HNODS098EEE07U9DUOIUE', environment: 'uat' })
  assert.ok(c)
})
console.log(`npm-smoke: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
