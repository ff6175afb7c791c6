'use strict'
// The Redis and PostgreSQL idempotency stores (sosopay/stores) against real servers
// (REDIS_URL, DATABASE_URL: scripts/with-stores starts throwaway ones): the contract, races,
// handleNotification with them, an unreachable server; then a cluster of worker processes fed by
// the sandbox gateway (duplicates, a worker SIGKILLed mid-handler, the store restarted).

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync, execFileSync } = require('node:child_process')
const readline = require('node:readline')

const sosopay = require('..')
const stores = require('../stores')
const { REPO, BUSI, KEY, startSandbox } = require('./helpers.js')

const { RedisIdempotencyStore, PostgresIdempotencyStore, StoreUnavailableError, applySchema } = stores
const REDIS_URL = process.env.REDIS_URL
const DATABASE_URL = process.env.DATABASE_URL
const CTL = process.env.SOSOPAY_STORES_CTL
const REQUIRED = process.env.SOSOPAY_REQUIRE_STORES === '1'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const fresh = () => `${BUSI}:T-${crypto.randomBytes(12).toString('hex')}:1`

function skipUnless(url, t) {
  if (url) return false
  if (REQUIRED) assert.fail('REDIS_URL / DATABASE_URL are not set (scripts/with-stores sets them)')
  t.skip('run under scripts/with-stores')
  return true
}

const table = `t_${crypto.randomBytes(6).toString('hex')}`
let schemaReady = null
async function pgReady() {
  if (!schemaReady) schemaReady = applySchema(DATABASE_URL, { table }).then(() => applySchema(DATABASE_URL, { table }))
  return schemaReady
}

/** `make(options)` builds a store of `kind`; `closeAll()` closes what it made. */
function factory(kind) {
  const made = []
  const prefix = `test:${crypto.randomBytes(4).toString('hex')}:`
  return {
    url: kind === 'redis' ? REDIS_URL : DATABASE_URL,
    async make(options = {}) {
      let s
      if (kind === 'redis') s = new RedisIdempotencyStore({ url: REDIS_URL, prefix, ...options })
      else {
        await pgReady()
        s = new PostgresIdempotencyStore({ connectionString: DATABASE_URL, table, ...options })
      }
      made.push(s)
      return s
    },
    async closeAll() {
      for (const s of made) await s.close()
    },
  }
}

for (const kind of ['redis', 'postgres']) {
  test(`${kind}: claim, in progress, complete, done; abandon; lease; retention; races`, async (t) => {
    const f = factory(kind)
    if (skipUnless(f.url, t)) return
    try {
      const store = await f.make()
      // claim -> in progress -> done
      let id = fresh()
      assert.equal(await store.status(id), null)
      const c = await store.begin(id)
      assert.equal(c.state, 'New')
      assert.match(c.token, /^[0-9a-f]{32}$/)
      assert.deepEqual(await store.begin(id), { state: 'InProgress' })
      assert.equal(await store.status(id), 'InProgress')
      assert.equal(await store.complete(id, c.token), 'held')
      assert.deepEqual(await store.begin(id), { state: 'Done' })
      assert.equal(await store.abandon(id, 'nope'), false)
      assert.equal(await store.status(id), 'Done')

      // abandon releases only the caller's own claim
      id = fresh()
      const a = await store.begin(id)
      assert.equal(await store.abandon(id, 'someone-else'), false)
      assert.equal((await store.begin(id)).state, 'InProgress')
      assert.equal(await store.abandon(id, a.token), true)
      const a2 = await store.begin(id)
      assert.equal(a2.state, 'New')
      assert.notEqual(a2.token, a.token)
      assert.equal(await store.abandon(id), true) // this object's own claim, without the token
      assert.equal((await store.begin(id)).state, 'New')

      // lease expiry: another worker takes over; the first one's late complete is recorded
      const short = await f.make({ leaseMs: 400 })
      const other = await f.make({ leaseMs: 400 })
      id = fresh()
      const first = await short.begin(id)
      assert.equal((await other.begin(id)).state, 'InProgress')
      await sleep(600)
      assert.equal(await short.status(id), null)
      const second = await other.begin(id)
      assert.equal(second.state, 'New')
      assert.equal(await short.abandon(id, first.token), false)
      assert.equal((await short.begin(id)).state, 'InProgress')
      const lost = []
      short.onLeaseLost = (x) => lost.push(x)
      assert.equal(await short.complete(id, first.token), 'lost')
      assert.deepEqual(lost, [id])
      const otherLost = []
      other.onLeaseLost = (x) => otherLost.push(x)
      assert.equal(await other.complete(id, second.token), 'already')
      assert.equal(await other.status(id), 'Done')
      // The worker that took over finished first: the late worker's complete finds the record
      // done, and says so (both handlers ran).
      assert.deepEqual(otherLost, [id])
      const lateId = fresh()
      const late = await short.begin(lateId)
      await sleep(600)
      const taken = await other.begin(lateId)
      assert.equal(taken.state, 'New')
      await other.complete(lateId, taken.token)
      assert.equal(await short.complete(lateId, late.token), 'already')
      assert.deepEqual(lost, [id, lateId])

      // retention
      const brief = await f.make({ retentionMs: 300 })
      id = fresh()
      await brief.begin(id)
      await brief.complete(id)
      assert.equal(await brief.status(id), 'Done')
      await sleep(500)
      const purged = await brief.purge()
      if (kind === 'postgres') assert.ok(purged >= 1)
      else assert.equal(purged, 0) // Redis expires it itself
      assert.equal(await brief.status(id), null)
      assert.equal((await brief.begin(id)).state, 'New')

      // 16 concurrent claims over 4 connections: exactly one New
      const many = []
      for (let i = 0; i < 4; i++) many.push(await f.make())
      for (let round = 0; round < 5; round++) {
        const rid = fresh()
        const got = await Promise.all(Array.from({ length: 16 }, (_, i) => many[i % 4].begin(rid)))
        assert.deepEqual(got.map((g) => g.state).sort(), [...Array(15).fill('InProgress'), 'New'])
      }
    } finally {
      await f.closeAll()
    }
  })

  test(`${kind}: handleNotification with the store (processed, duplicate, failed, busy)`, async (t) => {
    const f = factory(kind)
    if (skipUnless(f.url, t)) return
    try {
      const store = await f.make()
      const delivery = (charge) => {
        const body = `{"PAY_NODIFY":{"BUSI_ID":"${BUSI}","CHARGE_CODE":"${charge}","STATE":1,"AMT":1}}`
        return { query: `sign=${sosopay.signBody(KEY, body)}`, body }
      }
      const d = delivery(`H-${crypto.randomBytes(8).toString('hex')}`)
      const seen = []
      const onNotification = async (n) => seen.push(n.idempotencyKey)
      const r1 = await sosopay.handleNotification({ key: KEY, store, ...d, onNotification })
      assert.equal(r1.status, 200)
      assert.equal(r1.delivery, 'Processed')
      const r2 = await sosopay.handleNotification({ key: KEY, store, ...d, onNotification })
      assert.equal(r2.delivery, 'Duplicate')
      assert.equal(seen.length, 1)

      const failing = delivery(`F-${crypto.randomBytes(8).toString('hex')}`)
      const r3 = await sosopay.handleNotification({ key: KEY, store, ...failing, onNotification: () => { throw new Error('db down') } })
      assert.equal(r3.status, 500)
      const key = r3.notification.idempotencyKey
      assert.equal(await store.status(key), null, 'released')
      const other = await f.make()
      const held = await other.begin(key)
      const r4 = await sosopay.handleNotification({ key: KEY, store, ...failing, onNotification })
      assert.equal(r4.status, 503)
      assert.equal(r4.delivery, 'InProgress')
      await other.complete(key, held.token)
      const r5 = await sosopay.handleNotification({ key: KEY, store, ...failing, onNotification })
      assert.equal(r5.delivery, 'Duplicate')
    } finally {
      await f.closeAll()
    }
  })
}

async function closedPort() {
  const srv = net.createServer()
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address()
  await new Promise((resolve) => srv.close(resolve))
  return port
}

test('the stores over the app\'s own node-redis client and pg Pool ({ client }, { pool })', async (t) => {
  if (skipUnless(REDIS_URL, t) || skipUnless(DATABASE_URL, t)) return
  const { createClient } = require('redis')
  const { Pool } = require('pg')
  const client = createClient({ url: REDIS_URL })
  client.on('error', () => {})
  await client.connect()
  await pgReady()
  const pool = new Pool({ connectionString: DATABASE_URL, max: 2 })
  try {
    const made = [
      new RedisIdempotencyStore({ client, prefix: `test:${crypto.randomBytes(4).toString('hex')}:` }),
      new PostgresIdempotencyStore({ pool, table }),
    ]
    for (const s of made) {
      const id = fresh()
      const c = await s.begin(id)
      assert.equal(c.state, 'New')
      assert.equal(await s.complete(id, c.token), 'held')
      assert.equal(await s.status(id), 'Done')
      await s.close() // a client or pool given is left to its owner
    }
    assert.equal(client.isOpen, true)
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1)
  } finally {
    await client.quit()
    await pool.end()
  }
})

/** The contract on `s`, `rounds` times: claim, in progress, complete, done; claim, abandon, gone. */
async function claimCompleteAbandon(s, rounds) {
  for (let i = 0; i < rounds; i++) {
    const id = fresh()
    const c = await s.begin(id)
    assert.equal(c.state, 'New')
    assert.equal((await s.begin(id)).state, 'InProgress')
    assert.equal(await s.complete(id, c.token), 'held')
    assert.equal(await s.status(id), 'Done')
    const other = fresh()
    assert.equal(await s.abandon(other, (await s.begin(other)).token), true)
    assert.equal(await s.status(other), null)
  }
}

test('ioredis: the store over an ioredis client and an ioredis Cluster (the README says it works)', async (t) => {
  if (skipUnless(REDIS_URL, t) || skipUnless(process.env.REDIS_CLUSTER_URL, t)) return
  const Redis = require('ioredis')
  const u = new URL(process.env.REDIS_CLUSTER_URL)
  const clients = [new Redis(REDIS_URL), new Redis.Cluster([{ host: u.hostname, port: Number(u.port) }])]
  try {
    for (const client of clients) {
      await claimCompleteAbandon(new RedisIdempotencyStore({ client, prefix: `test:${crypto.randomBytes(4).toString('hex')}:` }), 3)
    }
  } finally {
    for (const c of clients) c.disconnect()
  }
})

test('Redis Cluster: a node-redis cluster client routes each command by its one key', async (t) => {
  // A cluster client's sendCommand takes the key apart; given the plain client's arguments,
  // every command failed (and was taken for an outage: 503 to every delivery, forever).
  if (skipUnless(process.env.REDIS_CLUSTER_URL, t)) return
  const { createCluster } = require('redis')
  const cluster = createCluster({ rootNodes: [{ url: process.env.REDIS_CLUSTER_URL }] })
  cluster.on('error', () => {})
  await cluster.connect()
  try {
    await claimCompleteAbandon(new RedisIdempotencyStore({ client: cluster, prefix: `test:${crypto.randomBytes(4).toString('hex')}:` }), 5)
  } finally {
    await cluster.quit()
  }
})

test('PostgreSQL behind PgBouncer in transaction mode (each transaction on any server connection)', async (t) => {
  // node-postgres sends unnamed statements, which PgBouncer 1.18 (scripts/with-stores) passes
  // through; a named (prepared) one would be missing on the next server connection, as
  // psycopg's were in the Python store.
  if (skipUnless(process.env.PGBOUNCER_URL, t)) return
  await pgReady()
  const stores = [0, 1, 2].map(() => new PostgresIdempotencyStore({ connectionString: process.env.PGBOUNCER_URL, table }))
  const failures = []
  try {
    await Promise.all(stores.map(async (s) => {
      for (let i = 0; i < 40; i++) {
        const id = fresh()
        try {
          assert.equal((await s.begin(id)).state, 'New')
          await s.complete(id)
          assert.equal(await s.status(id), 'Done')
        } catch (e) {
          failures.push(String(e && e.message))
        }
      }
    }))
  } finally {
    await Promise.all(stores.map((s) => s.close()))
  }
  assert.deepEqual(failures, [])
})

test('an unreachable server: begin rejects with StoreUnavailableError, the webhook answers 503', async () => {
  const port = await closedPort()
  const list = [
    new RedisIdempotencyStore({ url: `redis://127.0.0.1:${port}/0` }),
    new PostgresIdempotencyStore({ connectionString: `postgresql://x@127.0.0.1:${port}/x` }),
  ]
  const body = `{"PAY_NODIFY":{"BUSI_ID":"${BUSI}","CHARGE_CODE":"U-1","STATE":1,"AMT":1}}`
  const query = `sign=${sosopay.signBody(KEY, body)}`
  for (const store of list) {
    await assert.rejects(store.begin('x'), StoreUnavailableError)
    let ran = 0
    const r = await sosopay.handleNotification({ key: KEY, store, query, body, onNotification: () => ran++ })
    assert.equal(r.status, 503)
    assert.equal(r.body, 'BUSY')
    assert.equal(r.delivery, 'StoreUnavailable')
    assert.ok(r.error instanceof StoreUnavailableError)
    assert.equal(ran, 0)
    await store.close()
  }
})

/** A TCP proxy to 127.0.0.1:`port` whose `freeze()` makes every connection open at that moment
 * a dead path: its bytes are dropped both ways and nothing of it is ever closed towards the
 * client (no reset: a failed-over address, a NAT or firewall that forgot the flow), while new
 * connections work at once. */
async function freezingProxy(port) {
  const open = new Set()
  let accepted = 0
  const server = net.createServer((client) => {
    accepted++
    const upstream = net.connect(port, '127.0.0.1')
    const c = { client, upstream, frozen: false }
    open.add(c)
    client.on('data', (d) => { if (!c.frozen) upstream.write(d) })
    upstream.on('data', (d) => { if (!c.frozen) client.write(d) })
    client.on('close', () => { open.delete(c); upstream.destroy() })
    upstream.on('close', () => { if (!c.frozen) client.destroy() })
    client.on('error', () => {})
    upstream.on('error', () => {})
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: server.address().port,
    get accepted() { return accepted },
    freeze() {
      for (const c of open) c.frozen = true
    },
    async close() {
      for (const c of open) { c.client.destroy(); c.upstream.destroy() }
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

test('a connection that dies without a reset: after a timeout the store reconnects, a later delivery is processed', async (t) => {
  // The Redis store kept sending on the connection a command had timed out on: every later
  // command waited behind the lost one, and every delivery answered 503 for as long as the
  // kernel kept the dead socket (about 15 minutes: all of the gateway's deliveries).
  if (skipUnless(REDIS_URL, t) || skipUnless(DATABASE_URL, t)) return
  await pgReady()
  const redisPort = Number(new URL(REDIS_URL).port)
  const pgUrl = new URL(DATABASE_URL)
  const { createClient } = require('redis')
  const Redis = require('ioredis')
  const prefix = () => `test:${crypto.randomBytes(4).toString('hex')}:`
  const commandTimeoutMs = 400
  const kinds = {
    // the documented default: a store made from a URL
    'redis url': async (p) => new RedisIdempotencyStore({ url: `redis://127.0.0.1:${p.port}/0`, prefix: prefix(), commandTimeoutMs }),
    // the app's own node-redis client (reconnecting by default), connected by the app
    'node-redis client': async (p) => {
      const client = createClient({ url: `redis://127.0.0.1:${p.port}/0` })
      client.on('error', () => {})
      await client.connect()
      const store = new RedisIdempotencyStore({ client, prefix: prefix(), commandTimeoutMs })
      store.close = () => client.disconnect().catch(() => {})
      return store
    },
    // the app's own ioredis client, as the README says to make it
    'ioredis client': async (p) => {
      const client = new Redis(p.port, '127.0.0.1', { autoResendUnfulfilledCommands: false })
      client.on('error', () => {})
      const store = new RedisIdempotencyStore({ client, prefix: prefix(), commandTimeoutMs })
      store.close = async () => client.disconnect()
      return store
    },
    postgres: async (p) => {
      pgUrl.port = String(p.port)
      return new PostgresIdempotencyStore({ connectionString: pgUrl.href, table, commandTimeoutMs })
    },
  }
  for (const [kind, make] of Object.entries(kinds)) {
    const proxy = await freezingProxy(kind === 'postgres' ? Number(new URL(DATABASE_URL).port) : redisPort)
    const store = await make(proxy)
    try {
      const delivery = (charge) => {
        const body = `{"PAY_NODIFY":{"BUSI_ID":"${BUSI}","CHARGE_CODE":"${charge}","STATE":1,"AMT":1}}`
        return { query: `sign=${sosopay.signBody(KEY, body)}`, body }
      }
      let ran = 0
      const onNotification = async () => { ran++ }
      // warm: the connection is open and in use
      for (let i = 0; i < 3; i++) {
        const r = await sosopay.handleNotification({ key: KEY, store, ...delivery(`W-${crypto.randomBytes(6).toString('hex')}`), onNotification })
        assert.equal(r.status, 200, `${kind}: ${r.error}`)
      }
      proxy.freeze()
      const before = proxy.accepted
      const d = delivery(`Z-${crypto.randomBytes(6).toString('hex')}`)
      ran = 0
      const answers = []
      for (let i = 0; i < 5 && answers.at(-1) !== 200; i++) {
        answers.push((await sosopay.handleNotification({ key: KEY, store, ...d, onNotification })).status)
        if (answers.at(-1) !== 200) await sleep(200)
      }
      t.diagnostic(`${kind}: after the freeze ${answers.join(' ')}`)
      assert.equal(answers[0], 503, `${kind}: the first delivery after the freeze times out`)
      assert.equal(answers.at(-1), 200, `${kind}: never processed after the freeze: ${answers.join(' ')}`)
      assert.ok(answers.length <= 3, `${kind}: ${answers.join(' ')}`)
      assert.equal(ran, 1, kind)
      assert.ok(proxy.accepted > before, `${kind}: a new connection was made`)

      // A freeze while the handler runs: `complete` times out, then is retried on a new
      // connection, and the delivery is processed (not left claimed for the lease).
      const e = delivery(`Y-${crypto.randomBytes(6).toString('hex')}`)
      ran = 0
      const r = await sosopay.handleNotification({ key: KEY, store, ...e, onNotification: async () => { ran++; proxy.freeze() } })
      assert.equal(r.status, 200, `${kind}: ${r.error}`)
      assert.equal(r.delivery, 'Processed', kind)
      assert.equal((await sosopay.handleNotification({ key: KEY, store, ...e, onNotification })).delivery, 'Duplicate', kind)
      assert.equal(ran, 1, kind)
    } finally {
      await store.close()
      await proxy.close()
    }
  }
})

test('a missing table is the store\'s failure, not an outage: 500 with the server\'s error, as in Python', async (t) => {
  if (skipUnless(DATABASE_URL, t)) return
  const store = new PostgresIdempotencyStore({ connectionString: DATABASE_URL, table: `missing_${crypto.randomBytes(4).toString('hex')}` })
  try {
    const body = `{"PAY_NODIFY":{"BUSI_ID":"${BUSI}","CHARGE_CODE":"M-1","STATE":1,"AMT":1}}`
    const query = `sign=${sosopay.signBody(KEY, body)}`
    let ran = 0
    const r = await sosopay.handleNotification({ key: KEY, store, query, body, onNotification: () => ran++ })
    assert.equal(r.status, 500)
    assert.equal(r.delivery, 'Failed')
    assert.equal(r.error.code, '42P01') // pg's error, as is: "relation ... does not exist"
    assert.ok(!(r.error instanceof StoreUnavailableError))
    assert.equal(ran, 0)
  } finally {
    await store.close()
  }
})

test('a timeout is not retried at once, a fast failure is (as in Python)', async () => {
  const { LeasedIdempotencyStore } = stores
  for (const [error, calls] of [[Object.assign(new Error('no answer'), { timedOut: true }), 1], [new Error('reset'), 2]]) {
    const store = new (class extends LeasedIdempotencyStore {
      _isUnavailable() { return true }
      async _begin() { this.calls = (this.calls || 0) + 1; throw error }
    })()
    await assert.rejects(store.begin('x'), StoreUnavailableError)
    assert.equal(store.calls, calls, error.message)
  }
})

test('which PostgreSQL errors count as unavailable is the core\'s rule (as in Python)', () => {
  const store = new PostgresIdempotencyStore({ connectionString: 'postgresql://x@127.0.0.1:9/x' })
  const { DatabaseError } = require('pg') // what pg rejects with for the server's errors
  const pgError = (code) => Object.assign(new DatabaseError(`pg ${code}`, 0, 'error'), { code, severity: 'ERROR' })
  for (const [code, unavailable] of [['08006', true], ['40001', true], ['53300', true], ['57P01', true], ['55P03', true], ['25006', true], ['42P01', false], ['23505', false]]) {
    assert.equal(store._isUnavailable(pgError(code)), unavailable, code)
  }
  // No SQLSTATE: a network or pool error (ECONNREFUSED is not a SQLSTATE).
  assert.equal(store._isUnavailable(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), true)
  // A socket's errno name of five capitals is not a SQLSTATE either (it read as class EP).
  assert.equal(store._isUnavailable(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' })), true)
})

test('which Redis errors count as unavailable is the core\'s rule (as in Python)', () => {
  const store = new RedisIdempotencyStore({ url: 'redis://127.0.0.1:9' })
  const reply = (message) => Object.assign(new Error(message), { name: 'ErrorReply' })
  for (const [message, unavailable] of [['LOADING Redis is loading the dataset in memory', true], ['READONLY You can\'t write against a read only replica.', true],
    ['BUSY Redis is busy running a script', true], ['ERR unknown command', false], ['NOSCRIPT No matching script', false]]) {
    assert.equal(store._isUnavailable(reply(message)), unavailable, message)
  }
  assert.equal(store._isUnavailable(new Error('connect ECONNREFUSED')), true) // not a reply: the network
  // node-redis's own ErrorReply keeps the name 'Error': known by its class.
  class ErrorReply extends Error {}
  assert.equal(store._isUnavailable(new ErrorReply('WRONGTYPE Operation against a key holding the wrong kind of value')), false)
  assert.equal(store._isUnavailable(new ErrorReply('LOADING Redis is loading the dataset in memory')), true)
})

test('closing a Redis store whose server does not answer QUIT returns after the command timeout', async () => {
  const store = new RedisIdempotencyStore({ url: 'redis://127.0.0.1:9', commandTimeoutMs: 200 })
  let disconnected = false
  store.client = { isOpen: true, quit: () => new Promise(() => {}), disconnect: async () => { disconnected = true } }
  const started = Date.now()
  await store.close()
  assert.ok(disconnected && Date.now() - started < 2000)
})

test('store options of the wrong type are refused naming them; printing a store shows no password', () => {
  for (const [make, field] of [
    [() => new RedisIdempotencyStore({ url: 123 }), 'url'],
    [() => new RedisIdempotencyStore({ url: 'redis://h', prefix: null }), 'prefix'],
    [() => new PostgresIdempotencyStore({ pool: {} }), 'pool'],
    [() => new PostgresIdempotencyStore({ pool: 'postgresql://x@h/x' }), 'pool'],
    [() => new PostgresIdempotencyStore({ connectionString: 5 }), 'connectionString'],
    [() => new PostgresIdempotencyStore({ connectionString: 'postgresql://x@h/x', table: 5 }), 'table'],
  ]) {
    assert.throws(make, (e) => e instanceof sosopay.ValidationError && e.field === field, field)
  }
  const util = require('node:util')
  const shown = util.inspect(new PostgresIdempotencyStore({ connectionString: 'postgresql://app:Pg5ecret@127.0.0.1:9/app' }), { depth: 5 })
  assert.ok(!shown.includes('Pg5ecret') && shown.startsWith('PostgresIdempotencyStore {'), shown)
  const redis = util.inspect(new RedisIdempotencyStore({ url: 'redis://:R3dis@127.0.0.1:9' }), { depth: 5 })
  assert.ok(!redis.includes('R3dis'), redis)
})

test('options are checked; the schema is the Python package\'s file; drivers load lazily', () => {
  assert.throws(() => new PostgresIdempotencyStore({ connectionString: 'postgresql://x@h/x', table: 'x; drop table y' }), sosopay.ValidationError)
  assert.throws(() => new RedisIdempotencyStore({ url: 'redis://h', leaseMs: 0 }), sosopay.ValidationError)
  // The core checks the durations, naming the option.
  assert.throws(() => new RedisIdempotencyStore({ url: 'redis://h', retentionMs: Infinity }), {
    name: 'ValidationError',
    field: 'retentionMs',
    message: 'invalid retentionMs: must be a finite duration above 0 and under 10^9 s',
  })
  // A command timeout a JS timer cannot hold (it would fire at once: every delivery a 503).
  assert.throws(() => new RedisIdempotencyStore({ url: 'redis://h', commandTimeoutMs: 3e9 }), { field: 'commandTimeoutMs', message: /at most 2147483647 ms/ })
  assert.throws(() => new RedisIdempotencyStore({ url: 'redis://h', leaseMs: '30' }), { field: 'leaseMs', message: /expected a number/ })
  assert.throws(() => new RedisIdempotencyStore({}), sosopay.ValidationError)
  // node-redis v3 (send_command), or anything but a Redis client: refused, not a 503 per delivery.
  assert.throws(() => new RedisIdempotencyStore({ client: { send_command() {} } }), { field: 'client', message: /expected a node-redis v4\+ client/ })
  assert.match(stores.schemaSql('app.notes'), /CREATE TABLE IF NOT EXISTS app\.notes/)
  const py = fs.readFileSync(path.join(REPO, 'python', 'sosopay', 'stores', 'schema.sql'), 'utf8')
  assert.equal(fs.readFileSync(stores.SCHEMA_PATH, 'utf8'), py)
  const r = spawnSync(process.execPath, ['-e', `
    require(${JSON.stringify(path.join(__dirname, '..'))}); require(${JSON.stringify(path.join(__dirname, '..', 'stores'))})
    const loaded = Object.keys(require.cache).filter((k) => /node_modules[\\\\/](redis|@redis|pg)[\\\\/]/.test(k))
    if (loaded.length) { console.error(loaded); process.exit(1) }`])
  assert.equal(r.status, 0, String(r.stderr))
})

// --- Worker processes fed by the sandbox ---------------------------------------------------------

function startWorkers({ n, kind, url, results, lease, handlerMs = 20, port }) {
  const child = spawn(process.execPath, [path.join(__dirname, 'store-worker.js'),
    '--port', String(port), '--workers', String(n), '--store', kind, '--url', url,
    '--results', results, '--lease', String(lease), '--handler-ms', String(handlerMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, STORE_TABLE: 'sosopay_notifications' },
  })
  const pids = []
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout })
    child.once('exit', (c) => reject(new Error(`workers exited (${c})`)))
    rl.on('line', (line) => {
      if (!line.startsWith('ready ')) return
      pids.push(Number(line.split(' ')[1]))
      if (pids.length === n) {
        resolve({
          pids,
          stop: () => new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done()
            child.once('exit', () => done())
            child.kill('SIGTERM')
          }),
        })
      }
    })
  })
}

/** An HTTP proxy that forwards each delivery to `port` twice at once (two workers race). */
async function fanOut(port) {
  const statuses = {}
  const forward = (req, body) =>
    new Promise((resolve) => {
      const r = http.request({ host: '127.0.0.1', port, method: 'POST', path: req.url, headers: { 'content-type': req.headers['content-type'] || 'text/plain' } }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode))
      })
      r.on('error', () => resolve(599))
      r.end(body)
    })
  const server = http.createServer(async (req, res) => {
    const chunks = []
    for await (const c of req) chunks.push(c)
    const body = Buffer.concat(chunks)
    const got = await Promise.all([forward(req, body), forward(req, body)])
    for (const s of got) statuses[s] = (statuses[s] || 0) + 1
    res.statusCode = got.includes(200) ? 200 : got.includes(503) ? 503 : 500
    res.end()
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: server.address().port, statuses, close: () => new Promise((r) => server.close(r)) }
}

function runs(results) {
  const started = {}
  const done = {}
  for (const f of fs.readdirSync(results).filter((x) => x.endsWith('.log'))) {
    for (const line of fs.readFileSync(path.join(results, f), 'utf8').split('\n')) {
      const [key, , what] = line.split(' ')
      if (!what) continue
      const m = what === 'start' ? started : done
      m[key] = (m[key] || 0) + 1
    }
  }
  return { started, done }
}

async function createAndPay(sb, codes, port) {
  const c = new sosopay.Client({ busiCode: BUSI, key: KEY, baseUrl: sb.baseUrl, defaultOperId: 'o', defaultDevId: 'd' })
  const queries = ['', '?_type=json', '?_type=json&encrypt=3DES']
  let next = 0
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < codes.length) {
      const i = next++
      await c.createQrOrder({ chargeCode: codes[i], amount: '0.01', channel: 'Wechat', paySubject: 'e2e', notifyUrl: `http://127.0.0.1:${port}/notify${queries[i % 3]}` })
      await sb.admin('POST', `orders/${codes[i]}/pay`)
    }
  }))
}

async function attemptsByCode(sb, codes) {
  const by = Object.fromEntries(codes.map((c) => [c, []]))
  for (const a of (await sb.admin('GET', 'ledger')).notifications) if (by[a.charge_code]) by[a.charge_code].push(a)
  return by
}

async function waitDelivered(sb, codes, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const by = await attemptsByCode(sb, codes)
    const pending = codes.filter((c) => !by[c].some((a) => a.http_status === 200))
    if (pending.length === 0 || Date.now() > deadline) {
      await sleep(300)
      return attemptsByCode(sb, codes)
    }
    await sleep(200)
  }
}

async function freePort() {
  return closedPort()
}

for (const kind of ['redis', 'postgres']) {
  const url = kind === 'redis' ? REDIS_URL : DATABASE_URL

  test(`${kind}: 4 cluster workers, 100 paid orders, duplicates raced: each handler runs once`, async (t) => {
    if (skipUnless(url, t)) return
    if (kind === 'postgres') await applySchema(url)
    const results = fs.mkdtempSync(path.join(os.tmpdir(), 'sosopay-node-mp-'))
    const sb = await startSandbox({ timeScale: 0.1, args: ['--fault', 'notify:duplicate:0.5', '--seed', '3'] })
    const port = await freePort()
    const workers = await startWorkers({ n: 4, kind, url, results, lease: 10, port })
    const proxy = await fanOut(port)
    try {
      const codes = Array.from({ length: 100 }, (_, i) => `NMP-${kind}-${process.pid}-${Date.now() % 1e8}-${i}`)
      await createAndPay(sb, codes, proxy.port)
      const by = await waitDelivered(sb, codes, 60_000)
      const { done } = runs(results)
      const counts = codes.map((c) => done[`${BUSI}:${c}:1:1`] || 0)
      assert.deepEqual([...new Set(counts)], [1], 'every order processed exactly once')
      const all = Object.values(by).flat()
      assert.ok(all.filter((a) => a.duplicate).length > 10, 'duplicates were sent')
      assert.equal(new Set(fs.readdirSync(results).filter((x) => x.endsWith('.log'))).size > 1, true, 'several workers ran handlers')
      t.diagnostic(`deliveries ${all.length}, duplicate copies ${all.filter((a) => a.duplicate).length}, worker answers ${JSON.stringify(proxy.statuses)}`)
    } finally {
      await proxy.close()
      await workers.stop()
      await sb.stop()
      fs.rmSync(results, { recursive: true, force: true })
    }
  })

  test(`${kind}: a worker SIGKILLed mid-handler: after the lease another delivery processes it once`, async (t) => {
    if (skipUnless(url, t)) return
    if (kind === 'postgres') await applySchema(url)
    const results = fs.mkdtempSync(path.join(os.tmpdir(), 'sosopay-node-kill-'))
    const sb = await startSandbox({ timeScale: 0.05 })
    const port = await freePort()
    const lease = 1.5
    const workers = await startWorkers({ n: 3, kind, url, results, lease, handlerMs: 5, port })
    try {
      const code = `SLOW-N-${kind}-${process.pid}-${Date.now() % 1e8}`
      await createAndPay(sb, [code], port)
      const marker = path.join(results, `slow-${code}`)
      const deadline = Date.now() + 10_000
      while (!fs.existsSync(marker) || !fs.readFileSync(marker, 'utf8')) {
        assert.ok(Date.now() < deadline, 'the slow handler never started')
        await sleep(20)
      }
      process.kill(Number(fs.readFileSync(marker, 'utf8')), 'SIGKILL')
      const by = await waitDelivered(sb, [code], 20_000)
      const statuses = by[code].map((a) => a.http_status)
      assert.ok(statuses.includes(200), JSON.stringify(statuses))
      assert.ok(statuses.includes(503), `503 while the dead worker's lease was live: ${statuses}`)
      const { started, done } = runs(results)
      const key = `${BUSI}:${code}:1:1`
      assert.equal(started[key], 2)
      assert.equal(done[key], 1)
    } finally {
      await workers.stop()
      await sb.stop()
      fs.rmSync(results, { recursive: true, force: true })
    }
  })

  test(`${kind}: the store restarted mid-run: deliveries get 503, then are processed once`, async (t) => {
    if (skipUnless(url, t)) return
    if (!CTL) {
      if (REQUIRED) assert.fail('SOSOPAY_STORES_CTL is not set')
      return t.skip('needs scripts/with-stores')
    }
    if (kind === 'postgres') await applySchema(url)
    const results = fs.mkdtempSync(path.join(os.tmpdir(), 'sosopay-node-restart-'))
    const sb = await startSandbox({ timeScale: 0.05 })
    const port = await freePort()
    const workers = await startWorkers({ n: 4, kind, url, results, lease: 10, handlerMs: 5, port })
    let down = false
    try {
      const stamp = `${kind}-${process.pid}-${Date.now() % 1e8}`
      const before = Array.from({ length: 10 }, (_, i) => `NB-${stamp}-${i}`)
      await createAndPay(sb, before, port)
      await waitDelivered(sb, before, 20_000)
      execFileSync(CTL, [kind, 'stop'])
      down = true
      const during = Array.from({ length: 20 }, (_, i) => `ND-${stamp}-${i}`)
      await createAndPay(sb, during, port)
      const deadline = Date.now() + 5000
      for (;;) {
        const by = await attemptsByCode(sb, during)
        if (during.every((c) => by[c].some((a) => a.http_status === 503))) {
          assert.ok(!during.some((c) => by[c].some((a) => a.http_status === 200)))
          break
        }
        assert.ok(Date.now() < deadline, 'deliveries during the outage were not all answered 503')
        await sleep(100)
      }
      execFileSync(CTL, [kind, 'start'])
      down = false
      const by = await waitDelivered(sb, [...before, ...during], 20_000)
      assert.ok(during.every((c) => by[c].some((a) => a.http_status === 200)), 'lost after the restart')
      const { done } = runs(results)
      const counts = [...before, ...during].map((c) => done[`${BUSI}:${c}:1:1`] || 0)
      assert.deepEqual([...new Set(counts)], [1])
    } finally {
      if (down) execFileSync(CTL, [kind, 'start'])
      await workers.stop()
      await sb.stop()
      fs.rmSync(results, { recursive: true, force: true })
    }
  })
}
