'use strict'
// Envelope benchmark: seal (sign + 3DES encrypt) then open (decrypt + verify) of the 827-byte
// order body, through the binding versus the same done by hand with node:crypto.
//
//   node bench/envelope.js [iterations] [body.json]
//
// The by-hand peer follows ../../../shared/bench/envelope_node.js, with the signature check on
// open added so both sides do the same work (its original, decrypt-only open is reported too).

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { Envelope } = require('..')

const KEY = '98SDKFUO432HNODS098EEE07U9DUOIUE'
const TS = '1795706991879'
const N = Number(process.argv[2] || 20000)
const body = fs.readFileSync(process.argv[3] || path.join(__dirname, 'order-body.json'), 'utf8')

// --- by hand, node:crypto ---
const k24 = Buffer.alloc(24)
for (let i = 0; i < Math.min(24, KEY.length); i++) k24[i] = KEY.charCodeAt(i) & 0xff
const strip = (s) => s.replace(/[ \t\n\v\f\r]/g, '')
function signHand(text, ts) {
  return crypto.createHash('md5').update(ts + KEY + strip(text), 'utf8').digest('hex') + ':' + ts
}
function sealHand(text, ts) {
  const c = crypto.createCipheriv('des-ede3', k24, null)
  return [signHand(text, ts), Buffer.concat([c.update(text, 'utf8'), c.final()]).toString('base64')]
}
function decryptHand(ct) {
  const d = crypto.createDecipheriv('des-ede3', k24, null)
  return Buffer.concat([d.update(Buffer.from(ct, 'base64')), d.final()]).toString('utf8')
}
function openHand(sign, ct) {
  const text = decryptHand(ct)
  const [hex, ts] = sign.split(':')
  const want = crypto.createHash('md5').update(ts + KEY + strip(text), 'utf8').digest()
  if (!crypto.timingSafeEqual(want, Buffer.from(hex, 'hex'))) throw new Error('bad sign')
  return text
}

// --- the binding ---
const env = new Envelope(KEY)

const cases = {
  binding: () => {
    const s = env.seal(body, TS)
    return env.open(s.sign, s.ciphertext)
  },
  'node:crypto (seal + open with verify)': () => {
    const [sign, ct] = sealHand(body, TS)
    return openHand(sign, ct)
  },
  'node:crypto (shared peer: seal + decrypt only)': () => decryptHand(sealHand(body, TS)[1]),
}

// Both sides must agree before anything is timed.
const s = env.seal(body, TS)
const [hs, hc] = sealHand(body, TS)
if (s.sign !== hs || s.ciphertext !== hc) throw new Error('the binding and node:crypto disagree')
for (const f of Object.values(cases)) if (f() !== body) throw new Error('round trip failed')

function run(f) {
  for (let i = 0; i < Math.min(2000, N); i++) f()
  let best = 0
  for (let round = 0; round < 3; round++) {
    const t = process.hrtime.bigint()
    for (let i = 0; i < N; i++) f()
    const dt = Number(process.hrtime.bigint() - t) / 1e9
    best = Math.max(best, N / dt)
  }
  return best
}

console.log(`envelope seal+open, ${Buffer.byteLength(body)}-byte body, ${N} iterations, best of 3`)
const results = {}
for (const [name, f] of Object.entries(cases)) {
  results[name] = run(f)
  console.log(`  ${name.padEnd(48)} ${results[name].toFixed(0).padStart(8)} ops/s  (${(1e6 / results[name]).toFixed(1)} us/op)`)
}
const ratio = results.binding / results['node:crypto (seal + open with verify)']
const ratioPeer = results.binding / results['node:crypto (shared peer: seal + decrypt only)']
console.log(`ratio binding / node:crypto: ${ratio.toFixed(2)}x (same work), ${ratioPeer.toFixed(2)}x (vs the shared peer); target >= 1.5x`)
