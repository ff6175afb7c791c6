'use strict'
// Test helpers: the sandbox gateway (spawned on port 0), the test merchant, unique codes.

const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')

const REPO = path.resolve(__dirname, '..', '..')
const BUSI = '0010000001'
const KEY = '98SDKFUO432HNODS098EEE07U9DUOIUE'

function sandboxBin() {
  if (process.env.SOSOPAY_SANDBOX_BIN) return process.env.SOSOPAY_SANDBOX_BIN
  const bin = path.join(process.env.CARGO_TARGET_DIR || path.join(REPO, 'target'), 'debug', 'sosopay-sandbox')
  if (!fs.existsSync(bin)) {
    const r = spawnSync('cargo', ['build', '-p', 'sosopay-sandbox'], { cwd: REPO, stdio: 'inherit' })
    if (r.status !== 0) throw new Error('could not build the sandbox (cargo build -p sosopay-sandbox)')
  }
  return bin
}

/**
 * Starts a sandbox gateway on a free port. `timeScale` shrinks its clock (0.01: the 80 s hold
 * lasts 0.8 s). Resolves with `{ baseUrl, root, admin, stop }`.
 */
function startSandbox({ timeScale = 0.01, args = [] } = {}) {
  const child = spawn(sandboxBin(), ['--addr', '127.0.0.1:0', '--time-scale', String(timeScale), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout })
    const onExit = (code) => reject(new Error(`the sandbox exited (${code}) before printing its URL`))
    child.once('error', reject)
    child.once('exit', onExit)
    rl.once('line', (line) => {
      child.off('exit', onExit)
      rl.on('line', () => {}) // keep draining
      const baseUrl = line.trim()
      const root = new URL(baseUrl).origin
      async function admin(method, p, body) {
        const res = await fetch(`${root}/_sandbox/${p}`, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        })
        const text = await res.text()
        if (!res.ok) throw new Error(`sandbox admin ${method} ${p}: ${res.status} ${text}`)
        return text ? JSON.parse(text) : null
      }
      function stop() {
        return new Promise((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done()
          child.once('exit', () => done())
          child.kill('SIGTERM')
        })
      }
      resolve({ baseUrl, root, admin, stop, child })
    })
  })
}

let seq = 0
/** A charge code unique to this test run. */
function code(prefix = 'N') {
  seq += 1
  return `${prefix}${process.pid}T${Date.now().toString(36)}S${seq}`.slice(0, 60)
}

/**
 * A sandbox payment code: channel prefix `13` (WeChat), behaviour digit `b`, `secs` of
 * customer delay (scaled by the sandbox's time scale). See docs/SANDBOX.md.
 */
function payCode(behaviour, secs = 0) {
  return `13000000000000${behaviour}${String(secs).padStart(3, '0')}`
}

module.exports = { REPO, BUSI, KEY, startSandbox, code, payCode }
