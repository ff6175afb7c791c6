'use strict'
// A small webhook app for the multi-process tests (the Node twin of
// python/tests/store_worker.py): a cluster of N worker processes on one port sharing a Redis or
// PostgreSQL idempotency store.
//
//   node store-worker.js --port P --workers 4 --store redis --url redis://... --results DIR
//
// Each handler run appends `<idempotency key> <pid> start` then `... done` to
// DIR/node-<pid>.log. A charge code starting with SLOW makes the first run hang (after writing
// DIR/slow-<code> with its pid) so a test can SIGKILL the worker mid-handler. Each worker
// prints `ready <pid>`.

const cluster = require('node:cluster')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { parseArgs } = require('node:util')

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    workers: { type: 'string', default: '4' },
    store: { type: 'string' },
    url: { type: 'string' },
    results: { type: 'string' },
    lease: { type: 'string', default: '30' },
    'handler-ms': { type: 'string', default: '20' },
  },
})

const KEY = '98SDKFUO432HNODS098EEE07U9DUOIUE'

if (cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_RR
  for (let i = 0; i < Number(args.workers); i++) cluster.fork()
  // A worker that dies (SIGKILL in a test) is not replaced; the others keep serving.
  cluster.on('exit', () => {
    if (Object.keys(cluster.workers).length === 0) process.exit(0)
  })
  const stop = () => {
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM')
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
} else {
  const sosopay = require('..')
  const { RedisIdempotencyStore, PostgresIdempotencyStore } = require('../stores')
  const leaseMs = Number(args.lease) * 1000
  const store =
    args.store === 'redis'
      ? new RedisIdempotencyStore({ url: args.url, leaseMs, prefix: process.env.STORE_PREFIX })
      : new PostgresIdempotencyStore({ connectionString: args.url, leaseMs, table: process.env.STORE_TABLE })
  const pid = process.pid
  const out = fs.openSync(path.join(args.results, `node-${pid}.log`), 'a')
  const record = (key, what) => fs.writeSync(out, `${key} ${pid} ${what}\n`)
  const handlerMs = Number(args['handler-ms'])

  async function onNotification(n) {
    const key = n.idempotencyKey
    record(key, 'start')
    const code = n.order.chargeCode || ''
    const marker = path.join(args.results, `slow-${code}`)
    if (code.startsWith('SLOW') && !fs.existsSync(marker)) {
      fs.writeFileSync(marker, String(pid))
      await new Promise((resolve) => setTimeout(resolve, 60_000))
    }
    if (handlerMs) await new Promise((resolve) => setTimeout(resolve, Math.random() * handlerMs))
    record(key, 'done')
  }

  const server = http.createServer(sosopay.createWebhookHandler({ key: KEY, store, onNotification }))
  server.keepAliveTimeout = 5000
  server.listen(Number(args.port), '127.0.0.1', () => {
    fs.writeSync(1, `ready ${pid}\n`)
  })
  process.on('SIGTERM', () => process.exit(0))
}
