'use strict'
// Webhook helpers for the gateway's payment notifications, for plain `http`, Express and
// Fastify. Verification and decoding are the core's (NotificationVerifier); what lives here is
// only the HTTP plumbing (raw query, raw body) and running an async JS handler once per
// notification across the gateway's repeated deliveries (it repeats until it gets HTTP 200).

const { inspect, types } = require('node:util')
const { SosopayError, ValidationError } = require('./errors.js')
const { checkFields, readProp, snapshot } = require('./fields.js')

/** The largest notification body read (bytes). */
const DEFAULT_LIMIT = 1024 * 1024

/** The raw query string of a Node/Express/Fastify request (without the `?`). */
function rawQuery(req) {
  const r = req && req.raw && typeof req.raw.url === 'string' ? req.raw : req
  const url = (r && (r.originalUrl || r.url)) || ''
  const i = url.indexOf('?')
  return i < 0 ? '' : url.slice(i + 1)
}

/** The Express (body-parser) parser that reads a request of this content type: the one whose
 * `verify` option can keep the raw body. */
function parserOf(req) {
  const headers = (req.headers && typeof req.headers === 'object' ? req.headers : req.raw && req.raw.headers) || {}
  const type = String(headers['content-type'] || '').split(';')[0].trim().toLowerCase()
  if (type === 'application/x-www-form-urlencoded') return 'express.urlencoded'
  if (type.startsWith('text/')) return 'express.text'
  if (type === 'application/json' || type.endsWith('+json')) return 'express.json'
  return undefined
}

/**
 * The raw body of a request: `req.body` when a raw-body parser already read it (a Buffer or a
 * string, e.g. `express.raw({ type: '*' + '/*' })`), `req.rawBody`, or else read from the stream.
 */
async function readRawBody(req, options = {}) {
  checkFields(options, 'a readRawBody options object', ['limit'])
  const limit = checkLimit(options.limit)
  if (req === null || typeof req !== 'object') {
    throw new ValidationError('invalid req: expected the HTTP request object', { field: 'req', reason: 'is not a request' })
  }
  for (const b of [req.rawBody, req.body]) {
    if (typeof b === 'string' || Buffer.isBuffer(b)) return b
  }
  const source = req.raw && typeof req.raw.on === 'function' ? req.raw : req
  // A body parser that skipped the request (its type did not match: `express.raw()` takes only
  // application/octet-stream, `express.urlencoded()` only forms) leaves `req.body` as `{}` and
  // the stream unread: read it then.
  const unread = source.readableEnded === false
  if (req.body !== undefined && req.body !== null && !unread) {
    const verify = '({ verify: (req, res, buf) => { req.rawBody = buf } })'
    const parser = parserOf(req)
    const keep = parser ? parser + verify : `the parser's verify option, e.g. express.json${verify} for JSON, express.urlencoded${verify} for a form`
    throw new ValidationError(
      `invalid body: the request body was already parsed (into an object); the signature covers the raw body, so read it raw on this route (express.raw({ type: "*/*" })), or keep a copy where it is parsed (${keep})`,
      { field: 'body', reason: 'already parsed' },
    )
  }
  if (typeof source[Symbol.asyncIterator] !== 'function') {
    throw new ValidationError('invalid body: the request has no readable body', {
      field: 'body',
      reason: 'no body',
    })
  }
  const chunks = []
  let size = 0
  for await (const chunk of source) {
    const c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    size += c.length
    if (size > limit) {
      throw new ValidationError(`invalid body: larger than ${limit} bytes`, {
        field: 'body',
        reason: 'too large',
      })
    }
    chunks.push(c)
  }
  return Buffer.concat(chunks)
}

/** `limit` checked: unset, the default; else a whole number of bytes from 1 (a NaN, an
 * Infinity or a string would lift the limit or refuse every delivery, silently). */
function checkLimit(limit) {
  if (limit === undefined || limit === null) return DEFAULT_LIMIT
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    const got = typeof limit === 'number' ? String(limit) : `a ${typeof limit}`
    throw new ValidationError(`invalid limit: expected a whole number of bytes from 1, got ${got}`, {
      field: 'limit',
      reason: 'is not a whole number of bytes from 1',
    })
  }
  return limit
}

/** `store` checked: unset, or an object with `begin`, `complete` and `abandon` (an
 * IdempotencyStore); anything else would answer 503 to every delivery. */
function checkStore(store) {
  if (store === undefined || store === null) return
  // A method getter that throws is named by the option, not the method.
  const missing = ['begin', 'complete', 'abandon'].filter((m) => typeof readProp(store, m, 'store') !== 'function')
  if (missing.length) {
    throw new ValidationError(
      `invalid store: expected an IdempotencyStore (begin, complete, abandon), missing ${missing.join(', ')}`,
      { field: 'store', reason: 'is not an IdempotencyStore' },
    )
  }
}

/** The options that make the webhook's own verifier (refused with `verifier`). */
const VERIFIER_FIELDS = ['key', 'maxAgeSeconds', 'previousKeys', 'busiCode']
/** The options of `createWebhookHandler`; `handleNotification` also takes the delivery's. */
const HANDLER_FIELDS = [...VERIFIER_FIELDS, 'verifier', 'store', 'onNotification', 'limit', 'onError']
const DELIVERY_FIELDS = [...HANDLER_FIELDS, 'query', 'body']

/** What `onNotification` returned (or its promise resolved to), refused when calling it ran
 * nothing of its body: a generator object (a `function*` or an `async function*`, whose body runs
 * only when iterated). Answering 200 then would stop the gateway's deliveries of a notification
 * nobody handled: it is a ValidationError instead (the claim is released, 500, the gateway
 * delivers again). */
function refuseUnrun(result) {
  const tag = result !== null && (typeof result === 'object' || typeof result === 'function') ? Object.prototype.toString.call(result) : ''
  if (tag === '[object Generator]' || tag === '[object AsyncGenerator]') {
    throw new ValidationError(
      'invalid onNotification: it returned a generator (a function* or an async function*), whose body was not run: make it a plain or async function',
      { field: 'onNotification', reason: 'returned a generator' },
    )
  }
  return result
}

/** What a handler or a store threw or rejected with, as an Error to report: a value that is
 * not one (`throw null`, `Promise.reject()`, `throw 'x'`, `throw { message }`, a Symbol) would
 * reach `onError` as it is, or leave the result without an `error` and the 500 or 503 unreported
 * (no `onError`, no warning). It becomes an Error saying what was thrown (the value itself is
 * its `cause`); an Error (of this realm or another: a `vm` context's) is kept as it is. */
function reportable(error, what) {
  if (error instanceof Error || types.isNativeError(error)) return error
  return new Error(`${what} ${shown(error)} (not an Error)`, { cause: error })
}

/** A thrown value as the message quotes it (`''`, `0n`, `Symbol(s)`, `{ message: 'obj' }`):
 * short, and never throwing (a value whose inspection throws is named by its type). */
function shown(value) {
  let text
  try {
    text = inspect(value, { depth: 1, breakLength: Infinity, maxArrayLength: 10, maxStringLength: 200 })
  } catch {
    text = `a value that could not be shown (${typeof value})`
  }
  return text.length > 200 ? `${text.slice(0, 200)}...` : text
}

function makeWebhook({ NotificationVerifier, MemoryIdempotencyStore, webhookAnswer, webhookAfterClaim }) {
  /** The webhook's options, checked: an object with `onNotification` (a webhook that answered
   * 200 without running it would tell the gateway to stop delivering a notification nobody saw),
   * and no property it does not have (a misspelt `store` would fall back to the per-process
   * memory store: every worker would process each notification). Returns them as a plain
   * object, each read once (a getter or Proxy trap that throws: a ValidationError naming it). */
  function checkOptions(given, fields) {
    if (given === null || typeof given !== 'object') {
      throw new ValidationError('invalid options: expected an object ({ key, onNotification, ... })', {
        field: 'options',
        reason: 'is not an object',
      })
    }
    checkFields(given, 'a WebhookOptions object', fields)
    const options = snapshot(given, fields)
    if (typeof options.onNotification !== 'function') {
      throw new ValidationError('invalid onNotification: is required (the function run once per notification)', {
        field: 'onNotification',
        reason: 'is required',
      })
    }
    checkLimit(options.limit)
    checkStore(options.store)
    return options
  }

  /** The options checked (`checkOptions`) and the verifier they give. */
  function withVerifier(given, fields) {
    const options = checkOptions(given, fields)
    return { options, verifier: verifierOf(options) }
  }

  function verifierOf(options) {
    if (options.verifier) {
      // The key's settings would be silently unused: a rotation's old key never accepted.
      for (const field of VERIFIER_FIELDS) {
        if (options[field] !== undefined && options[field] !== null) {
          throw new ValidationError(`invalid ${field}: give it to the NotificationVerifier, or give key instead of verifier`, {
            field,
            reason: 'given with verifier',
          })
        }
      }
      return options.verifier
    }
    if (!options.key) {
      throw new ValidationError('invalid key: give key or verifier', { field: 'key', reason: 'is required' })
    }
    return new NotificationVerifier(Object.fromEntries(VERIFIER_FIELDS.map((f) => [f, options[f]])))
  }

  let warnedClusterStore = false
  /** `store`, the per-process memory store a webhook given no store uses. In a cluster worker
   * (`node:cluster`, PM2's cluster mode) it lets each worker process a notification the gateway
   * delivered to it: said once per process, as a warning. */
  function inMemory(store) {
    if (!warnedClusterStore && require('node:cluster').isWorker) {
      warnedClusterStore = true
      process.emitWarning(
        'sosopay: this cluster worker processes notifications with the in-memory store, which is per process: ' +
          'a notification delivered twice to two workers runs onNotification twice; give a shared store (sosopay/stores)',
        'SosopayWarning',
      )
    }
    return store
  }

  /** The result for `delivery`: status and body from the core's table, plus what happened. */
  function answer(delivery, notification, error) {
    const { status, body } = webhookAnswer(delivery)
    const result = { status, body, delivery }
    if (notification !== undefined) result.notification = notification
    if (error !== undefined) result.error = error
    return result
  }

  /**
   * Verifies one delivery and runs `onNotification` once per notification. Resolves with what to
   * answer the gateway: 200 (processed, or a duplicate), 400 (not a genuine notification), 503
   * (another delivery is being processed, or the store could not be reached: the gateway
   * retries), 500 (the handler failed: the gateway will retry). `store` is a
   * MemoryIdempotencyStore (the default, per process) or one of `sosopay/stores` (Redis,
   * PostgreSQL: shared by every worker process). Every decision (the step after the claim, the
   * status and body of each outcome) is the core's; this function only awaits.
   */
  async function handleNotification(given) {
    const { options, verifier } = withVerifier(given, DELIVERY_FIELDS)
    return deliver(options.onNotification, verifier, options.store || inMemory(defaultStore), options.query, options.body)
  }

  /** The outcome of a store's error, as in Python: its server could not be reached
   * (`StoreUnavailableError`, code `store_unavailable`: 503, the gateway retries soon), or any
   * other failure (a missing table, a claim that is none of the three: the store's bug or
   * configuration, 500, which the gateway retries too). */
  const storeFailure = (error) => (error && error.code === 'store_unavailable' ? 'StoreUnavailable' : 'Failed')

  /** One delivery, with options already checked (by `handleNotification` or once by
   * `createWebhookHandler`). */
  async function deliver(onNotification, verifier, store, query, body) {
    // Raw bytes in any form (`new Uint8Array(await req.arrayBuffer())`, an ArrayBuffer).
    if (body instanceof ArrayBuffer) body = Buffer.from(body)
    else if (ArrayBuffer.isView(body) && !Buffer.isBuffer(body)) body = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) {
      // A framework's body parser ran first (Fastify parses JSON itself, Express with express.json()).
      return answer('Rejected', undefined, new ValidationError(
        'invalid body: expected the raw body (a string or a Buffer), got an object: a body parser already parsed it, and the signature covers the raw body (README: "Fastify", "Express")',
        { field: 'body', reason: 'already parsed' },
      ))
    }
    let notification
    try {
      notification = verifier.parse(query || '', body === undefined ? '' : body)
    } catch (error) {
      return answer('Rejected', undefined, error)
    }
    const id = notification.idempotencyKey
    // A store answers 'New' | 'InProgress' | 'Done' (MemoryIdempotencyStore), or { state, token }
    // (the leased stores of sosopay/stores: the token goes back to complete/abandon).
    let token, next
    try {
      const claim = await store.begin(id)
      const state = claim && typeof claim === 'object' ? claim.state : claim
      token = claim && typeof claim === 'object' ? claim.token : undefined
      next = webhookAfterClaim(String(state))
    } catch (error) {
      return answer(storeFailure(error), notification, reportable(error, 'the store\'s begin failed with'))
    }
    if (next !== null) return answer(next, notification)
    let returned = false
    try {
      const result = onNotification(notification)
      returned = true
      refuseUnrun(await refuseUnrun(result))
    } catch (error) {
      try {
        await (token === undefined ? store.abandon(id) : store.abandon(id, token))
      } catch {
        // the claim's lease releases it anyway
      }
      return answer('Failed', notification, reportable(error, returned ? 'onNotification rejected with' : 'onNotification threw'))
    }
    try {
      await (token === undefined ? store.complete(id) : store.complete(id, token))
    } catch (error) {
      // Processed, but not recorded: the claim stays until its lease runs out.
      return answer(storeFailure(error), notification, reportable(error, 'the store\'s complete failed with'))
    }
    return answer('Processed', notification)
  }

  /**
   * A request handler for `http.createServer` or an Express route: `(req, res) => Promise`.
   * Reads the raw query and body, verifies, runs `onNotification` once, and answers.
   */
  function createWebhookHandler(given) {
    const { options, verifier } = withVerifier(given, HANDLER_FIELDS)
    const store = options.store || inMemory(new MemoryIdempotencyStore())
    return async function sosopayWebhook(req, res) {
      let result
      try {
        const body = await readRawBody(req, { limit: options.limit })
        result = await deliver(options.onNotification, verifier, store, rawQuery(req), body)
      } catch (e) {
        const error = e instanceof SosopayError ? e : new SosopayError(String(e && e.message), { code: 'internal' })
        result = answer(error instanceof ValidationError ? 'Rejected' : 'Failed', undefined, error)
      }
      if (result.error && options.onError) {
        try {
          options.onError(result.error, result)
        } catch {
          // a logging hook must not break the answer
        }
      } else if (result.error) {
        // No hook: a delivery answered non-200 because of an error (a forged or malformed one,
        // a route whose body a JSON parser already read, onNotification throwing, a store down)
        // is not silent. The gateway retries it, up to 30 times, then gives up.
        const message = result.error instanceof Error ? result.error.message : String(result.error)
        process.emitWarning(`sosopay webhook answered ${result.status} (${result.delivery}): ${message}`, 'SosopayWarning')
      }
      res.statusCode = result.status
      if (typeof res.setHeader === 'function') res.setHeader('content-type', 'text/plain; charset=utf-8')
      res.end(result.body)
    }
  }

  const defaultStore = new MemoryIdempotencyStore()

  return { rawQuery, readRawBody, handleNotification, createWebhookHandler }
}

module.exports = { makeWebhook, rawQuery, readRawBody }
