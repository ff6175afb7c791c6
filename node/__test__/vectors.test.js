'use strict'
// The shared golden vectors (tests/vectors/envelope.json, produced by the vendor's own client):
// every body, query and cancel signature and every 3DES encryption must match through the binding.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const sosopay = require('..')
const { REPO } = require('./helpers.js')

const vectors = JSON.parse(fs.readFileSync(path.join(REPO, 'tests', 'vectors', 'envelope.json'), 'utf8'))

test('vector file has every section', () => {
  assert.equal(vectors.sign.length, 100)
  assert.equal(vectors.query_sign.length, 5)
  assert.equal(vectors.cancel_sign.length, 5)
  assert.equal(vectors.des3.length, 40)
})

test('body signatures: all 100 match and verify', () => {
  for (const v of vectors.sign) {
    assert.equal(sosopay.signBody(v.key, v.body, v.timestamp), v.sign, `body ${JSON.stringify(v.body)}`)
    assert.equal(sosopay.sign(v.key, Buffer.from(v.body, 'utf8'), v.timestamp), v.sign)
    const env = new sosopay.Envelope(v.key)
    assert.equal(env.signBody(v.body, v.timestamp), v.sign)
    assert.equal(sosopay.verifyBody(v.key, v.sign, v.body).timestamp, v.timestamp)
    assert.equal(env.verifyBody(v.sign, v.body).timestamp, v.timestamp)
    // The signature is over the stripped body: the stripped input verifies too.
    const stripped = v.sign_input.slice(v.timestamp.length + v.key.length)
    assert.equal(sosopay.verify(v.key, v.sign, stripped).timestamp, v.timestamp)
    assert.equal(sosopay.stripJavaWhitespace(v.body), stripped)
  }
})

test('query signatures: all 5 match and verify', () => {
  for (const v of vectors.query_sign) {
    assert.equal(sosopay.signQuery(v.key, v.charge_code, v.timestamp), v.sign)
    assert.equal(sosopay.verifyQuery(v.key, v.sign, v.charge_code).timestamp, v.timestamp)
    assert.throws(() => sosopay.verifyQuery(v.key, v.sign, v.charge_code + 'X'), sosopay.SignatureError)
  }
})

test('cancel signatures: all 5 match and verify', () => {
  for (const v of vectors.cancel_sign) {
    assert.equal(sosopay.signCancel(v.key, v.charge_code, v.busi_code, v.timestamp), v.sign)
    assert.equal(sosopay.verifyCancel(v.key, v.sign, v.charge_code, v.busi_code).timestamp, v.timestamp)
    assert.throws(() => sosopay.verifyCancel(v.key, v.sign, v.charge_code, 'other'), sosopay.SignatureError)
  }
})

test('3DES: all 40 encrypt to the vendor ciphertext and decrypt back', () => {
  for (const v of vectors.des3) {
    assert.equal(sosopay.encrypt(v.key, v.plaintext), v.ciphertext_base64, `key of ${v.key.length} chars`)
    assert.equal(sosopay.encrypt(v.key, Buffer.from(v.plaintext, 'utf8')), v.ciphertext_base64)
    assert.equal(sosopay.decrypt(v.key, v.ciphertext_base64).toString('utf8'), v.plaintext)
    const env = new sosopay.Envelope(v.key)
    assert.equal(env.encrypt(v.plaintext), v.ciphertext_base64)
    assert.deepEqual(env.decrypt(v.ciphertext_base64), Buffer.from(v.plaintext, 'utf8'))
  }
})
