'use strict'
// Idempotency stores shared by many worker processes, for `handleNotification` /
// `createWebhookHandler`: Redis (node-redis v4+ or ioredis) and PostgreSQL (pg). The drivers are
// optional peer dependencies, required only when a store creates its own client.
//
// The contract (the same as the Python package's sosopay.stores, and the same records, so Python
// and Node workers can share one store):
//
//   (none) --begin--> claimed(token, lease) --complete--> done --(retention)--> purged
//                        |  \--abandon(token)--> (none)
//                        \--(lease expires)--> claimable again by the next begin
//
// `begin` is one atomic step on the server: `{ state: 'New', token }` (run the handler, then
// `complete(id, token)`; `abandon(id, token)` on failure), `{ state: 'InProgress' }` (another
// worker holds a live claim: answer 503, the gateway retries) or `{ state: 'Done' }` (answer 200).
// `complete` records the outcome durably, even when the lease ran out meanwhile (the handler did
// run; recording it stops a third run), and keeps retrying an unreachable server while the lease
// lasts. `abandon` releases the claim only if it is still the caller's token's. Lease expiry uses
// the server's clock. The handler must finish within the lease.

const crypto = require('node:crypto')
const path = require('node:path')
const util = require('node:util')
const native = require('../index.js')
const { SosopayError, ValidationError, fromNative } = require('../errors.js')
const { checkFields: check } = require('../fields.js')

// The stores' wire (statements, scripts, record formats, defaults) is the core's `stores`, the
// same in the Python package: Python and Node workers can share one store.
const WIRE = native.storeWire('sosopay_notifications')
/** A claim's lease (ms): after it, another delivery may process the notification. The core's
 * `notify::DEFAULT_CLAIM_LEASE`. */
const DEFAULT_LEASE_MS = WIRE.defaultLeaseMs
/** How long a `done` record is kept (ms): 7 days. The core's `notify::DEFAULT_RETENTION`. */
const DEFAULT_RETENTION_MS = WIRE.defaultRetentionMs
const DEFAULT_PREFIX = WIRE.defaultPrefix
const DEFAULT_TABLE = WIRE.defaultTable
const { claimPrefix: CLAIM, donePrefix: DONE } = WIRE
/** `schema.sql` in this package (the core's schema, for `psql -f`). */
const SCHEMA_PATH = path.join(__dirname, 'schema.sql')

const LEASE_FIELDS = ['leaseMs', 'retentionMs', 'commandTimeoutMs']

/** Refuses an option the store does not have (a misspelt `leaseMs` would be ignored). */
function checkFields(options, what, fields) {
  check(options, what, [...fields, ...LEASE_FIELDS])
}

/** The store's server could not be reached (or timed out): answer the gateway 503. */
class StoreUnavailableError extends SosopayError {
  constructor(message, details = {}) {
    super(message, { ...details, code: 'store_unavailable', retryable: true })
    if (details.cause) this.cause = details.cause
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** A duration option in ms, checked by the core (a `ValidationError` naming it). */
function duration(name, ms) {
  try {
    return native.storeDurationMs(name, ms)
  } catch (e) {
    throw fromNative(e)
  }
}

/** `options[field]`, a string when given (a number or `null` would become part of every key,
 * or fail at every delivery as an outage); `fallback` when absent. */
function textOption(options, field, fallback) {
  const v = options[field]
  if (v === undefined) return fallback
  if (typeof v !== 'string') {
    throw new ValidationError(`invalid ${field}: expected a string, got ${v === null ? 'null' : typeof v}`, {
      field,
      reason: 'is not a string',
    })
  }
  return v
}

/** The shared machinery: tokens, timeouts, retries. Subclasses give `_begin`, `_complete`,
 * `_abandon`, `_status`, `_purge` and `_isUnavailable`. */
class LeasedIdempotencyStore {
  constructor({ leaseMs = DEFAULT_LEASE_MS, retentionMs = DEFAULT_RETENTION_MS, commandTimeoutMs = 5000 } = {}) {
    this.leaseMs = duration('leaseMs', leaseMs)
    this.retentionMs = duration('retentionMs', retentionMs)
    this.commandTimeoutMs = duration('commandTimeoutMs', commandTimeoutMs)
    if (this.commandTimeoutMs > 2147483647) {
      // Past a JS timer's limit setTimeout fires at once: every command would time out.
      throw new ValidationError('invalid commandTimeoutMs: must be at most 2147483647 ms (a JS timer\'s limit)', {
        field: 'commandTimeoutMs',
        reason: 'is too long',
      })
    }
    this._held = new Map() // id -> { token, at }: claims taken through this object
    this._connection = 0 // bumped each time a timed-out connection is dropped
  }

  /** What `console.log` shows: the settings, never the client or pool (whose options hold the
   * connection string, password included). */
  [util.inspect.custom](depth, options, inspect) {
    const shown = { leaseMs: this.leaseMs, retentionMs: this.retentionMs, commandTimeoutMs: this.commandTimeoutMs }
    if (this.prefix !== undefined) shown.prefix = this.prefix
    if (this.table !== undefined) shown.table = this.table
    return `${this.constructor.name} ${inspect(shown, options)}`
  }

  /** Atomically claims `id`: `{ state: 'New', token }`, `{ state: 'InProgress' }` or
   * `{ state: 'Done' }`. Rejects with StoreUnavailableError when the server is unreachable. */
  async begin(id) {
    const token = crypto.randomBytes(16).toString('hex')
    const state = await this._call(() => this._begin(String(id), token))
    if (state === 'New') {
      this._held.set(String(id), { token, at: Date.now() })
      return { state, token }
    }
    return { state }
  }

  /** Records `id` as processed, durably; retries an unreachable server while the lease lasts. */
  async complete(id, token) {
    id = String(id)
    const held = this._held.get(id)
    if (held && (token === undefined || held.token === token)) this._held.delete(id)
    if (token === undefined && held) token = held.token
    const retry = native.StoreRetry.forComplete(this.leaseMs, held ? Date.now() - held.at : 0)
    const r = await this._call(() => this._complete(id, token || null), retry)
    const lost = retry.leaseLost(r, Boolean(token))
    if (lost && typeof this.onLeaseLost === 'function') this.onLeaseLost(id)
    else if (lost) process.emitWarning(native.leaseLostWarning(id, this.leaseMs), 'SosopayLeaseWarning')
    return r
  }

  /** Releases the caller's claim on `id`; a claim that is no longer `token`'s is left alone. */
  async abandon(id, token) {
    id = String(id)
    const held = this._held.get(id)
    if (held && (token === undefined || held.token === token)) this._held.delete(id)
    if (token === undefined && held) token = held.token
    if (!token) return false
    return this._call(() => this._abandon(id, token))
  }

  /** `null` (no record, or an expired claim), `'InProgress'` or `'Done'`. */
  async status(id) {
    return this._call(() => this._status(String(id)))
  }

  /** Deletes the records older than the retention period; resolves to how many. */
  async purge() {
    return this._call(() => this._purge())
  }

  // After a connection error, tries again when the core's `StoreRetry` says (once at once,
  // unless `retry` is given: `complete`'s, which keeps trying while the lease lasts).
  // After a timeout the connection the command went out on is dropped (`_dropConnection`):
  // a path that died without a reset (a failed-over address, a NAT or firewall that forgot the
  // flow) never answers, and every later command would wait behind the lost ones for as long
  // as the kernel keeps the socket (minutes); the next command gets a fresh connection.
  async _call(op, retry = native.StoreRetry.once()) {
    for (;;) {
      const connection = this._connection
      try {
        return await this._timed(op())
      } catch (e) {
        if (!this._isUnavailable(e)) throw e
        if (e && e.timedOut && connection === this._connection) {
          this._connection++
          try {
            this._dropConnection()
          } catch {
            // a client already closed: the next command connects
          }
        }
        // At once after a fast failure (a stale connection), never at once after a timeout.
        const wait = e && e.timedOut ? retry.afterTimeout() : retry.afterFailure()
        if (wait === null) {
          throw e instanceof StoreUnavailableError
            ? e
            : new StoreUnavailableError(`${this.constructor.name}: ${e && e.message}`, { cause: e })
        }
        if (wait > 0) await sleep(wait)
      }
    }
  }

  /** Drops the connection a timed-out command went out on: the Redis store's. (The pool the
   * PostgreSQL store makes drops it itself, by its `query_timeout`.) */
  _dropConnection() {}

  _timed(promise) {
    let timer
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(
          new StoreUnavailableError(`${this.constructor.name}: no answer in ${this.commandTimeoutMs} ms`),
          { timedOut: true },
        )),
        this.commandTimeoutMs,
      )
    })
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
  }
}

// --- Redis -------------------------------------------------------------------------------------

const { completeLua: COMPLETE_LUA, abandonLua: ABANDON_LUA } = WIRE
const sha1 = (s) => crypto.createHash('sha1').update(s).digest('hex')

/**
 * Over Redis. Records: `{prefix}{id}` = `claim:<token>` (PX lease) or `done:<unix ms>`
 * (PX retention). Run Redis with `appendonly yes` for `complete` to survive a restart.
 *
 * Options: `client` (a node-redis v4+ client or cluster, connected, or an ioredis client or
 * cluster: every record is one key, so Redis Cluster is fine) or `url` (the
 * store makes a node-redis client with the offline queue off, so commands fail fast while the
 * server is down; call `close()` at the end); `prefix`, `leaseMs`, `retentionMs`,
 * `commandTimeoutMs`. After a command timeout the connection is dropped (`_dropConnection`).
 */
class RedisIdempotencyStore extends LeasedIdempotencyStore {
  constructor(options = {}) {
    checkFields(options, 'a RedisStoreOptions object', ['client', 'url', 'prefix'])
    super(options)
    this.prefix = textOption(options, 'prefix', DEFAULT_PREFIX)
    textOption(options, 'url')
    if (options.client) {
      this.client = options.client
      this._owned = false
    } else if (options.url) {
      const { createClient } = require('redis')
      // No reconnection loop and no offline queue: while the server is down every command fails
      // at once (a 503 for the gateway); the next command after it is back connects again.
      this.client = createClient({
        url: options.url,
        disableOfflineQueue: true,
        socket: { connectTimeout: 5000, reconnectStrategy: false },
      })
      this.client.on('error', (e) => {
        this.lastError = e
      })
      this._owned = true
      this._connecting = null
    } else {
      throw new ValidationError('invalid options: give client or url', { field: 'client', reason: 'is required' })
    }
    const c = this.client
    if (typeof c.call !== 'function' && typeof c.sendCommand !== 'function') {
      // node-redis v3 (`send_command`), or not a Redis client: every command would fail, and
      // be taken for an outage (503 to every delivery).
      throw new ValidationError('invalid client: expected a node-redis v4+ client or cluster, or an ioredis client', {
        field: 'client',
        reason: 'is not a supported Redis client',
      })
    }
    if (typeof c.call === 'function') {
      this._send = (args) => c.call(...args) // ioredis (a Redis or a Cluster: it routes by key)
    } else if (typeof c.getSlotMaster === 'function') {
      // A node-redis cluster (`createCluster`) routes by the first key given apart: each command
      // here has one key, after EVAL/EVALSHA's script and key count, else the first argument.
      this._send = (args) => c.sendCommand(/^EVAL/i.test(args[0]) ? args[3] : args[1], false, args)
    } else {
      this._send = (args) => c.sendCommand(args) // node-redis v4+
    }
  }

  key(id) {
    return this.prefix + id
  }

  async _cmd(...args) {
    // The client the store made, or a node-redis client it disconnected after a timeout
    // (`_dropConnection`), is connected here, by the first command that needs it.
    if ((this._owned || this._dropped) && !this.client.isReady) {
      if (!this._connecting) {
        if (this.client.isOpen) throw new StoreUnavailableError('RedisIdempotencyStore: the connection is not ready')
        this._connecting = this.client
          .connect()
          .then(() => {
            this._dropped = false
          })
          .finally(() => {
            this._connecting = null
          })
      }
      await this._connecting
    }
    return this._send(args.map(String))
  }

  /** A command timed out: the connection it went out on is not used again (Redis answers in
   * order, so every later command would wait behind the lost one). node-redis (the client the
   * store made, or one given): its socket is destroyed at once (what waits on it is rejected),
   * and the next command connects again. ioredis: its socket is destroyed (what its own
   * `socketTimeout` option does), and the client reconnects by its `retryStrategy`. */
  _dropConnection() {
    const c = this.client
    if (typeof c.call === 'function') {
      // ioredis (a Redis: its `stream`; a Cluster: every node's connection).
      if (c.stream && typeof c.stream.destroy === 'function') c.stream.destroy()
      else if (typeof c.disconnect === 'function') c.disconnect(true)
      return
    }
    // A connection still being made holds no command yet (they wait for it): nothing is stuck
    // behind a lost one, and its own connectTimeout ends it.
    if (this._connecting || !c.isOpen) return
    const closing = typeof c.disconnect === 'function' ? c.disconnect() : c.destroy()
    Promise.resolve(closing).catch(() => {})
    if (!this._owned) this._dropped = true
  }

  async _script(lua, keys, args) {
    const sha = sha1(lua)
    try {
      return await this._cmd('EVALSHA', sha, keys.length, ...keys, ...args)
    } catch (e) {
      if (!/NOSCRIPT/.test(String(e && e.message))) throw e
      return this._cmd('EVAL', lua, keys.length, ...keys, ...args)
    }
  }

  async _begin(id, token) {
    const key = this.key(id)
    for (let i = 0; i < WIRE.beginTries; i++) {
      const ok = await this._cmd('SET', key, `${CLAIM}${token}`, 'NX', 'PX', Math.max(1, Math.round(this.leaseMs)))
      if (ok === 'OK') return 'New'
      const v = await this._cmd('GET', key)
      if (v === null || v === undefined) continue // expired or released in between: claim again
      return String(v).startsWith(DONE) ? 'Done' : 'InProgress'
    }
    return 'InProgress'
  }

  async _complete(id, token) {
    const r = Number(
      await this._script(COMPLETE_LUA, [this.key(id)], [token ? `${CLAIM}${token}` : '', `${DONE}${Date.now()}`, Math.round(this.retentionMs)]),
    )
    return r === 1 ? 'held' : r === 0 ? 'lost' : 'already'
  }

  async _abandon(id, token) {
    return Number(await this._script(ABANDON_LUA, [this.key(id)], [`${CLAIM}${token}`])) === 1
  }

  async _status(id) {
    const v = await this._cmd('GET', this.key(id))
    if (v === null || v === undefined) return null
    return String(v).startsWith(DONE) ? 'Done' : 'InProgress'
  }

  async _purge() {
    return 0 // Redis expires claims after the lease and done records after the retention
  }

  _isUnavailable(e) {
    if (e instanceof StoreUnavailableError) return true
    // node-redis's `ErrorReply` keeps the name 'Error': its class says what it is.
    const names = e ? [e.name, e.constructor && e.constructor.name] : []
    // The core's rule: a reply error is the server's answer (a bug, not an outage) unless its
    // code says the server cannot serve now; any other error is the network's.
    const reply = names.some((n) => n === 'ReplyError' || n === 'ErrorReply')
    return native.redisUnavailable(reply ? String(e.message) : null)
  }

  /** Closes the client the store made (a client given is left to its owner): politely
   * (`QUIT`), or at once when the server does not answer within `commandTimeoutMs`. */
  async close() {
    if (!(this._owned && this.client.isOpen)) return
    let timer
    const gaveUp = new Promise((resolve) => {
      timer = setTimeout(resolve, this.commandTimeoutMs, 'timeout')
    })
    const how = await Promise.race([this.client.quit().then(() => 'quit', () => 'failed'), gaveUp])
    clearTimeout(timer)
    if (how !== 'quit') await Promise.resolve(this.client.disconnect()).catch(() => {})
  }
}

// --- PostgreSQL --------------------------------------------------------------------------------

/** The core's statements and schema for `table` (an invalid name: `ValidationError`). */
function wireFor(table) {
  try {
    return native.storeWire(table)
  } catch (e) {
    throw fromNative(e)
  }
}

/** The schema (`stores/schema.sql`, the same as the Python package's) for `table`. */
function schemaSql(table = DEFAULT_TABLE) {
  return wireFor(table).schema
}

function makePool(connectionString, commandTimeoutMs) {
  const { Pool } = require('pg')
  // query_timeout: a query unanswered a little after the store gave up on it (commandTimeoutMs)
  // ends its connection (the pool destroys a client released with an error): a connection that
  // died without a reset would otherwise stay checked out until the kernel drops the socket,
  // one pool slot lost per timeout, and `close()` (pool.end) would wait for it.
  const queryTimeout = Math.min(commandTimeoutMs + 100, 2147483647)
  const pool = new Pool({ connectionString, max: 10, connectionTimeoutMillis: 5000, query_timeout: queryTimeout })
  pool.on('error', () => {}) // an idle client lost (server restart): the next query reconnects
  return pool
}

/**
 * Over PostgreSQL (`pg`): one row per notification (`stores/schema.sql`; create it with
 * `applySchema`). The claim is one `INSERT … ON CONFLICT DO UPDATE … WHERE the lease expired
 * RETURNING`, so exactly one of concurrent deliveries gets a row back.
 *
 * Options: `pool` (a `pg.Pool`, or anything with `query(text, values)`; attach a `pool.on('error')`
 * listener) or `connectionString` (the store makes a pool; call `close()` at the end); `table`,
 * `leaseMs`, `retentionMs`, `commandTimeoutMs`. Call `purge()` periodically.
 */
class PostgresIdempotencyStore extends LeasedIdempotencyStore {
  constructor(options = {}) {
    checkFields(options, 'a PostgresStoreOptions object', ['pool', 'connectionString', 'table'])
    super(options)
    this.table = textOption(options, 'table', DEFAULT_TABLE)
    this._sql = wireFor(this.table).statements
    textOption(options, 'connectionString')
    if (options.pool && typeof options.pool.query !== 'function') {
      // A connection string or an options object given as the pool: every delivery would fail.
      throw new ValidationError('invalid pool: expected a pg.Pool (an object with query(text, values)); give a URL as connectionString', {
        field: 'pool',
        reason: 'has no query method',
      })
    }
    if (options.pool) {
      this.pool = options.pool
      this._owned = false
    } else if (options.connectionString) {
      this.pool = makePool(options.connectionString, this.commandTimeoutMs)
      this._owned = true
    } else {
      throw new ValidationError('invalid options: give pool or connectionString', { field: 'pool', reason: 'is required' })
    }
  }

  async _begin(id, token) {
    for (let i = 0; i < WIRE.beginTries; i++) {
      const r = await this.pool.query(this._sql.begin, [id, token, this.leaseMs / 1000])
      if (r.rowCount === 1) return 'New'
      const s = await this.pool.query(this._sql.state, [id])
      if (s.rowCount === 0) continue // released in between: claim again
      return s.rows[0].state === 'done' ? 'Done' : 'InProgress'
    }
    return 'InProgress'
  }

  async _complete(id, token) {
    if (token) {
      const r = await this.pool.query(this._sql.held, [id, token])
      if (r.rowCount === 1) return 'held'
    }
    const r = await this.pool.query(this._sql.any, [id])
    return r.rowCount === 1 ? 'lost' : 'already'
  }

  async _abandon(id, token) {
    return (await this.pool.query(this._sql.abandon, [id, token])).rowCount === 1
  }

  async _status(id) {
    const s = await this.pool.query(this._sql.state, [id])
    if (s.rowCount === 0) return null
    if (s.rows[0].state === 'done') return 'Done'
    return s.rows[0].live ? 'InProgress' : null
  }

  async _purge() {
    return (await this.pool.query(this._sql.purge, [this.retentionMs / 1000])).rowCount
  }

  _isUnavailable(e) {
    if (e instanceof StoreUnavailableError) return true
    // The core's rule: by the SQLSTATE; none at all is a network or pool error. Only the
    // server's errors (pg's DatabaseError: it has `severity`) carry one: a socket's `code` is
    // Node's errno name, and some are five capitals too (`EPIPE`), which would read as SQLSTATE
    // class EP (a statement's fault: not retried).
    const code = e && ('severity' in e || e.name === 'error') ? e.code : undefined
    return native.postgresUnavailable(typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null)
  }

  /** Ends the pool the store made (a pool given is left to its owner). */
  async close() {
    if (this._owned) await this.pool.end()
  }
}

/**
 * Creates the store's table and index if missing. `target`: a `pg.Pool`/`pg.Client` (anything
 * with `query`) or a connection string. Run it once at deployment, not from every worker.
 */
async function applySchema(target, options = {}) {
  check(options, 'an applySchema options object', ['table'])
  const { table = DEFAULT_TABLE } = options
  const sql = schemaSql(table)
  if (typeof target === 'string') {
    const { Client } = require('pg')
    const client = new Client({ connectionString: target })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
    return
  }
  await target.query(sql)
}

module.exports = {
  DEFAULT_LEASE_MS,
  DEFAULT_RETENTION_MS,
  DEFAULT_PREFIX,
  DEFAULT_TABLE,
  SCHEMA_PATH,
  StoreUnavailableError,
  LeasedIdempotencyStore,
  RedisIdempotencyStore,
  PostgresIdempotencyStore,
  applySchema,
  schemaSql,
}
