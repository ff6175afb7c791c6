'use strict'
// A gateway whose certificate a private CA signs (a TLS-inspecting proxy's, a test gateway's):
// refused with the built-in roots, reached once `caFile` or `caPem` names the CA; a CA option
// that cannot be used is a ValidationError naming it as JS spells it.

const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const tls = require('node:tls')
const sosopay = require('..')
const { BUSI, KEY, startSandbox } = require('./helpers.js')

/** ca.pem (a private CA), server.pem/server.key (127.0.0.1, signed by it), other.pem. */
function privateCa() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sosopay-ca-'))
  const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })
  for (const name of ['ca', 'other']) {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=sosopay test ${name}`,
      '-keyout', `${name}.key`, '-out', `${name}.pem`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  }
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr')
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n')
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem')
  return dir
}

/** An HTTPS front for `port` (the sandbox's) with the private CA's server certificate. */
function httpsFront(dir, port) {
  const server = tls.createServer(
    { cert: fs.readFileSync(path.join(dir, 'server.pem')), key: fs.readFileSync(path.join(dir, 'server.key')) },
    (socket) => {
      const up = net.connect(port, '127.0.0.1')
      socket.pipe(up).pipe(socket)
      const close = () => { socket.destroy(); up.destroy() }
      socket.on('error', close)
      up.on('error', close)
    },
  )
  server.on('tlsClientError', () => {}) // a handshake the client refused
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

const client = (baseUrl, extra = {}) => new sosopay.Client({ busiCode: BUSI, key: KEY, baseUrl, encrypt: true, ...extra })

test('a private CA: refused by default, trusted once given as caFile or caPem', async (t) => {
  const dir = privateCa()
  const sb = await startSandbox()
  const front = await httpsFront(dir, new URL(sb.baseUrl).port)
  t.after(() => { front.close(); sb.stop(); fs.rmSync(dir, { recursive: true, force: true }) })
  const url = `https://127.0.0.1:${front.address().port}/openGateway/openService/`

  const refused = await client(url).query({ code: 'TLS-NONE' }).then(() => null, (e) => e)
  assert.ok(refused instanceof sosopay.TransportError, String(refused))
  assert.equal(refused.maybeSent, false)
  assert.match(refused.message.toLowerCase(), /certificate/)
  const other = await client(url, { caFile: path.join(dir, 'other.pem') }).query({ code: 'TLS-NONE' }).then(() => null, (e) => e)
  assert.ok(other instanceof sosopay.TransportError, String(other))

  const pem = fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8')
  for (const extra of [{ caFile: path.join(dir, 'ca.pem') }, { caPem: pem }]) {
    // An unknown order is the gateway's own answer: the request went there and back, 3DES on.
    await assert.rejects(client(url, extra).query({ code: 'TLS-NONE' }), sosopay.GatewayError)
  }
})

test('a CA option that cannot be used is a ValidationError naming it', () => {
  const dir = privateCa()
  const url = 'https://127.0.0.1:9/openGateway/openService/'
  const pem = fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8')
  const cases = [
    [{ caFile: path.join(dir, 'missing.pem') }, 'caFile', /cannot read/],
    [{ caFile: path.join(dir, 'ca.key') }, 'caFile', /not a certificate/],
    [{ caPem: 'no certificate here' }, 'caPem', /no PEM certificate/],
    [{ caFile: path.join(dir, 'ca.pem'), caPem: pem }, 'caFile', /invalid caFile: cannot be given with caPem/],
  ]
  for (const [extra, field, message] of cases) {
    assert.throws(() => client(url, extra), (e) => e instanceof sosopay.ValidationError && e.field === field && message.test(e.message))
  }
  assert.throws(() => client(url, { caFile: 3 }), (e) => e instanceof sosopay.ValidationError && e.field === 'caFile')
  fs.rmSync(dir, { recursive: true, force: true })
})
