'use strict'
// The TypeScript declarations (generated index.d.ts + sosopay.d.ts) type ordinary usage and
// reject float money and misspelled unions; the dictionaries' unions list exactly the core's
// known values.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const sosopay = require('..')

const PKG = path.resolve(__dirname, '..')

test('usage.ts compiles under tsc --strict against the package types', () => {
  const tsc = path.join(PKG, 'node_modules', 'typescript', 'bin', 'tsc')
  // Resolve `sosopay` to this package via a paths mapping.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sosopay-ts-'))
  const config = {
    compilerOptions: {
      strict: true, noEmit: true, target: 'es2022', module: 'commonjs', esModuleInterop: true,
      moduleResolution: 'node', types: ['node'], typeRoots: [path.join(PKG, 'node_modules', '@types')],
      baseUrl: PKG, paths: { sosopay: [path.join(PKG, 'sosopay.d.ts')], 'sosopay/stores': [path.join(PKG, 'stores', 'index.d.ts')] }, skipLibCheck: false,
    },
    files: [path.join(__dirname, 'types', 'usage.ts')],
  }
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config))
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], { encoding: 'utf8' })
  fs.rmSync(dir, { recursive: true, force: true })
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}\n${r.stderr}`)
})

function union(dts, name) {
  const m = new RegExp(`export type ${name} =([^]*?)(?:\\nexport|\\n/\\*\\*)`).exec(dts)
  assert.ok(m, `no union ${name} in index.d.ts`)
  return [...m[1].matchAll(/'([^']+)'/g)].map((x) => x[1]).filter((v) => v !== 'Unknown')
}

test('the TS unions list exactly the core dictionaries', () => {
  const dts = fs.readFileSync(path.join(PKG, 'index.d.ts'), 'utf8')
  const known = sosopay.knownValues()
  assert.deepEqual(union(dts, 'KnownResultCode'), known.resultCode)
  assert.deepEqual(union(dts, 'OrderState'), known.orderState)
  assert.deepEqual(union(dts, 'Channel'), known.channel)
  assert.deepEqual(union(dts, 'FundChannel'), known.fundChannel)
  assert.deepEqual(union(dts, 'DynamicIdType'), known.dynamicIdType)
  assert.deepEqual(union(dts, 'TradeType'), known.tradeType)
  assert.deepEqual(union(dts, 'SerType'), known.serType)
  assert.deepEqual(union(dts, 'OutcomeStatus'), known.outcomeStatus)
  assert.deepEqual(Object.values(sosopay.OutcomeStatus), known.outcomeStatus)
  assert.ok(union(dts, 'OutcomeStatus').includes('Conflict'))
  assert.equal(sosopay.OrderState.Paid, 'Paid')
  assert.equal(sosopay.Channel.Wechat, 'Wechat')
  assert.equal(sosopay.ResultCode.SERIAL_REPEAT, 'SERIAL_REPEAT')
  assert.ok(Object.isFrozen(sosopay.FundChannel))
})
