'use strict'
// End-to-end contenders in Node.js against a sandbox (3DES on), measured like the Rust client of
// cli/examples/e2e_bench.rs (scripts/bench-e2e runs them all):
//   binding   require('sosopay').Client
//   standin   what a shop writes by hand: node:http with a keep-alive Agent, node:crypto MD5
//             signatures and des-ede3 (3DES-ECB), JSON
// "8 threads" is 8 concurrent request loops on the event loop (how a Node server runs).
// Prints one JSON object with the same fields as the Rust and Python contenders.
const fs = require('node:fs')
const http = require('node:http')
const crypto = require('node:crypto')
const path = require('node:path')

const [mode, base, nArg] = process.argv.slice(2)
const N = Number(nArg || 2000)
const BUSI = '0010000001'
const KEY = '98SDKFUO432HNODS098EEE07U9DUOIUE'
let seq = 0

const cpuNs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) * 1000
}
const activeOpens = () => {
  const lines = fs.readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Tcp:')).map((l) => l.trim().split(/\s+/))
  return Number(lines[1][lines[0].indexOf('ActiveOpens')])
}

let query, order, micropay
if (mode === 'binding') {
  const { Client } = require(process.env.SOSOPAY_BENCH_NODE || path.join(__dirname, '../../node'))
  const c = new Client({ busiCode: BUSI, key: KEY, baseUrl: base, encrypt: true, defaultOperId: 'op1', defaultDevId: 'dev1' })
  query = (code) => c.query({ code })
  order = () => c.createQrOrder({ chargeCode: `NQ${process.pid}-${seq++}`, amountFen: 100, channel: 'Wechat', paySubject: 'bench' })
  micropay = (code) => c.micropay({ chargeCode: code, amountFen: 100, dynamicId: '130730865806264036', paySubject: 'bench' })
} else {
  const u = new URL(base)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
  const k24 = Buffer.from(KEY, 'latin1').subarray(0, 24)
  const md5 = (s) => crypto.createHash('md5').update(s, 'utf8').digest('hex')
  const encrypt = (text) => {
    const c = crypto.createCipheriv('des-ede3', k24, null)
    return Buffer.concat([c.update(text, 'utf8'), c.final()]).toString('base64')
  }
  const decrypt = (b64) => {
    const d = crypto.createDecipheriv('des-ede3', k24, null)
    return JSON.parse(Buffer.concat([d.update(b64.toString('latin1'), 'base64'), d.final()]).toString('utf8'))
  }
  const call = (method, p, body) => new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: p, method, agent,
      headers: body ? { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': Buffer.byteLength(body) } : {} }, (res) => {
      const chunks = []
      res.on('data', (d) => chunks.push(d))
      res.on('end', () => {
        try {
          const reply = decrypt(Buffer.concat(chunks))
          const keys = Object.keys(reply)
          const root = keys.length === 1 ? reply[keys[0]] : reply
          const code = root.RESULT && root.RESULT.CODE
          if (code !== 'SUCCESS' && code !== 'SUCESS') reject(new Error(`${p}: ${JSON.stringify(root.RESULT)}`))
          else resolve(root)
        } catch (e) { reject(e) }
      })
    })
    req.on('error', reject)
    req.end(body)
  })
  const post = (op, fields) => {
    const body = JSON.stringify(fields)
    const ts = String(Date.now())
    const sign = `${md5(ts + KEY + body.replace(/[ \t\n\v\f\r]/g, ''))}:${ts}`
    return call('POST', `${u.pathname}${op}?sign=${sign}&_type=json&encrypt=3DES&busiCode=${BUSI}`, encrypt(body))
  }
  query = (code) => {
    const ts = String(Date.now())
    const sign = `${md5(ts + KEY + code)}%3A${ts}`
    return call('GET', `${u.pathname}query/${code}/${BUSI}?sign=${sign}&_type=json&BUSI_ID=${BUSI}&serType=0&encrypt=3DES&busiCode=${BUSI}`)
  }
  const fields = { BUSI_ID: BUSI, OPER_ID: 'op1', DEV_ID: 'dev1', AMT: '0.01', PAY_SUBJECT: 'bench' }
  order = () => post('order', { ...fields, CHANNEL_TYPE: '2', CHARGE_CODE: `SN${process.pid}-${seq++}` })
  micropay = (code) => post('preOrder', { ...fields, CHANNEL_TYPE: '0', DYNAMIC_ID_TYPE: '1', DYNAMIC_ID: '130730865806264036', CHARGE_CODE: code })
}

async function throughput(loops, perLoop, op, code) {
  const opens = activeOpens()
  const t0 = process.hrtime.bigint()
  await Promise.all(Array.from({ length: loops }, async () => {
    for (let i = 0; i < perLoop; i++) await (op === 'query' ? query(code) : order())
  }))
  const took = Number(process.hrtime.bigint() - t0) / 1e9
  return [(loops * perLoop) / took, activeOpens() - opens]
}

async function main() {
  const code = `NB${mode[0].toUpperCase()}${process.pid}`
  await micropay(code)
  await throughput(1, 200, 'query', code)
  const cpu = async (count) => {
    const before = cpuNs()
    await throughput(1, count, 'query', code)
    return cpuNs() - before
  }
  const small = await cpu(N)
  const large = await cpu(5 * N)
  const [q1, q1o] = await throughput(1, N, 'query', code)
  const [q8, q8o] = await throughput(8, N / 2, 'query', code)
  const [o1] = await throughput(1, N / 2, 'order', code)
  const [o8, o8o] = await throughput(8, N / 4, 'order', code)
  console.log(JSON.stringify({
    runtime: `node-${mode}`,
    cpu_us_per_query: Math.round((large - small) / (4 * N) / 100) / 10,
    query_rps_1: Math.round(q1), query_rps_8: Math.round(q8),
    order_rps_1: Math.round(o1), order_rps_8: Math.round(o8),
    connections_query_1: q1o, connections_query_8: q8o, connections_order_8: o8o,
  }))
  process.exit(0)
}
main().catch((e) => { console.error(e); process.exit(1) })
