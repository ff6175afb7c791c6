'use strict'
// `sosopay/testing`: test your integration against the sandbox gateway, with nothing but this
// package. The sandbox (the Rust `sosopay-sandbox`) is compiled into the package's native addon;
// it runs on a background thread of this process and serves on a local port. Nothing of it runs,
// and this file is not loaded, until you require `sosopay/testing` and call `startSandbox`.
//
//   const { startSandbox, codes } = require('sosopay/testing')
//   const sb = await startSandbox({ timeScale: 0.01 })
//   const client = sb.client()
//   ...
//   await sb.close()
//
// See docs/TESTING.md.

const native = require('./index.js')
const { Client } = require('./sosopay.js')
const { fromNative, SosopayError, TimeoutError, ValidationError } = require('./errors.js')
const { checkFields } = require('./fields.js')

/** The document's test merchant (the sandbox's), registered in every sandbox unless `merchants` says otherwise. */
const TEST_BUSI_CODE = native.TEST_BUSI_CODE
/** Its key. */
const TEST_KEY = native.TEST_KEY

const PREFIX = '[sosopay-sandbox]'

/**
 * An admin action the sandbox refused. `status` is what its admin endpoint would answer: 404
 * (no such order), 409 (the order's state does not allow it), 410 (the sandbox is closed). A bad
 * setting or argument is the SDK's `ValidationError` instead, naming it in `field`.
 */
class SandboxError extends Error {
  constructor(message, status, reason) {
    super(message)
    this.name = 'SandboxError'
    this.status = status
    this.reason = reason
  }
}

/**
 * The native layer's error as this kit's: a `SandboxError`, the SDK's `TimeoutError` (status
 * 408: a wait ran out, `operation` naming it), or (a bad setting or argument) the SDK's
 * `ValidationError`.
 */
function converted(e, operation) {
  const m = e && typeof e.message === 'string' ? e.message : ''
  const i = m.indexOf(PREFIX)
  if (i < 0) return fromNative(e)
  let p
  try {
    p = JSON.parse(m.slice(i + PREFIX.length))
  } catch {
    return new SosopayError(m)
  }
  if (p.status !== 408) return new SandboxError(`sandbox: ${p.reason}`, p.status, p.reason)
  return new TimeoutError(p.reason, { operation, afterMs: p.afterMs })
}

function call(fn) {
  try {
    return fn()
  } catch (e) {
    throw converted(e)
  }
}

// ---------------------------------------------------------------------------------------------
// Test payment codes (docs/SANDBOX.md "Micropay test codes"): `PP000000000000BNNN`, `PP` the
// channel prefix, `B` the behaviour, `NNN` seconds (scaled by the sandbox's time scale).

// --- generated from sandbox/src/codes.rs (scripts/gen-foreign.py)
/** The channel prefixes and the named codes (the sandbox's own table). */
const NAMED_CODES = {
  /** WeChat Pay's prefix (`10`–`15`). */
  WECHAT: '13',
  /** Alipay's prefix (`25`–`30`). */
  ALIPAY: '28',
  /** QQ Wallet's prefix. */
  QQ_WALLET: '91',
  /** UnionPay's prefix. */
  UNION_PAY: '62',
  /** Any well-formed code: the customer pays at once (WeChat). `SUCCESS`, STATE 1. */
  PAY_NOW: '130730865806264036',
  /** Pays at once (Alipay). */
  PAY_NOW_ALIPAY: '284214903060794755',
  /** Confirms on the phone, pays after 3 s; the request is held until then (the demo's code). */
  PAYS_AFTER_3S: '130000000000001003',
  /** Confirms but pays only after the 80 s hold (at 90 s): the reply is `SUCCESS` with STATE 0 after 80 s, and the client must poll until the order is paid. */
  PAYS_AFTER_HOLD: '130000000000001090',
  /** `SUCCESS` with STATE 0 at once ("user paying"); paid 3 s later: the client must poll. */
  USER_PAYING: '130000000000002003',
  /** Insufficient funds at once: `FAIL` (`NOTENOUGH`), STATE 6. */
  INSUFFICIENT_FUNDS: '130000000000003000',
  /** Never confirms: the request is held the whole 80 s, then `FAIL`; the order is cancelled (STATE 2). */
  NEVER_CONFIRMS: '130000000000004000',
  /** `SUCCESS` with STATE 0 at once, and never confirms: cancelled (STATE 2) at 80 s. */
  USER_PAYING_NEVER_CONFIRMS: '130000000000005000',
  /** The payment code has expired: `FAIL` (`AUTH_CODE_EXPIRED`) at once, STATE 6. */
  CODE_EXPIRED: '130000000000006000',
  /** Paid at once, but the reply says `EXCEPTION`: the client must query to learn it is paid. */
  REPLY_LOST: '130000000000007000',
  /** Not 16–24 digits: `ILLEGAL_PARAMETER` naming `DYNAMIC_ID`. */
  MALFORMED: '12345',
  /** A prefix no channel has: with channel auto-detection (`CHANNEL_TYPE=0`), `ILLEGAL_PARAMETER`. */
  UNKNOWN_CHANNEL: '990730865806264036',
}
// --- end of generated
const { WECHAT } = NAMED_CODES

/** The special code: built by the sandbox itself (its `codes::code_from_parts`). */
function code(behaviour, seconds = 0, options = {}) {
  checkFields(options, 'a test code options object', ['channel'])
  const { channel = WECHAT } = options
  return call(() => native.testCode(behaviour, seconds, channel))
}
const paysAfter = (seconds, opts) => code(1, seconds, opts)
const userPaying = (seconds, opts) => code(2, seconds, opts)
const insufficientFundsAfter = (seconds, opts) => code(3, seconds, opts)
const replyLostAfter = (seconds, opts) => code(7, seconds, opts)

const codes = Object.freeze({
  ...NAMED_CODES,
  code,
  paysAfter,
  userPaying,
  insufficientFundsAfter,
  replyLostAfter,
})

// ---------------------------------------------------------------------------------------------
// Ledger records (camelCase; the ledger's JSON object is kept in `raw`): the converters are
// generated from the sandbox's own records (sandbox/src/ledger.rs); what the kit adds to them is
// below.

// State names and "was the money taken" are the core's (native.orderState).
const stateOf = (n) => (n === null || n === undefined ? null : native.orderState(String(n)))
const stateName = (n) => (stateOf(n) || { name: 'Unknown' }).name
const opt = (v) => (v === undefined ? null : v)
const optNum = (v) => (v === null || v === undefined ? null : Number(v))
const optText = (v) => (v === null || v === undefined ? null : String(v))
const counts = (m) => Object.fromEntries(Object.entries(m || {}).map(([k, v]) => [k, Number(v)]))

const orderRules = (o) => ({ ...o, isPaid: Boolean((stateOf(o.stateCode) || {}).moneyTaken) })
function ledgerQueries(l) {
  const { orders, refunds, notifications } = l
  return {
    ...l,
    order: (chargeCode) => orders.find((o) => o.chargeCode === chargeCode) || null,
    refundsOf: (chargeCode) => refunds.filter((r) => r.chargeCode === chargeCode),
    notificationsOf: (chargeCode) => notifications.filter((n) => n.chargeCode === chargeCode),
  }
}

// --- generated from sandbox/src/ledger.rs (scripts/gen-foreign.py)
/** FaultRule from the ledger's JSON. */
function toFaultRule(o) {
  return {
    op: o.op,
    kind: o.kind,
    probability: Number(o.probability),
    param: opt(o.param),
    raw: o,
  }
}

/** FaultEvent from the ledger's JSON. */
function toFaultEvent(o) {
  return {
    op: o.op,
    kind: o.kind,
    requestNo: Number(o.request_no),
    chargeCode: opt(o.charge_code),
    atMs: Number(o.at_ms),
    raw: o,
  }
}

/** FaultsState from the ledger's JSON. */
function toFaultsState(o) {
  return {
    seed: Number(o.seed),
    rules: (o.rules || []).map(toFaultRule),
    injected: counts(o.injected),
    events: (o.events || []).map(toFaultEvent),
    raw: o,
  }
}

/** SandboxOrder from the ledger's JSON. */
function toSandboxOrder(o) {
  return orderRules({
    busiId: o.busi_id,
    chargeCode: o.charge_code,
    chargeDownCode: o.charge_down_code,
    chargeThirdCode: opt(o.charge_third_code),
    kind: o.kind,
    channelCode: optText(o.channel),
    amountFen: Number(o.amount_fen),
    refundedFen: Number(o.refunded_fen),
    stateCode: optText(o.state),
    state: o.state_name,
    paySubject: o.pay_subject,
    dynamicId: opt(o.dynamic_id),
    verifyCode: opt(o.verify_code),
    notifyUrl: opt(o.notify_url),
    failReason: opt(o.fail_reason),
    createdAtMs: Number(o.created_at_ms),
    paidAtMs: optNum(o.paid_at_ms),
    endedAtMs: optNum(o.ended_at_ms),
    expiresAtMs: optNum(o.expires_at_ms),
    beginTime: o.begin_time,
    raw: o,
  })
}

/** SandboxRefund from the ledger's JSON. */
function toSandboxRefund(o) {
  return {
    busiId: o.busi_id,
    outRefundNo: opt(o.out_refund_no),
    chargeCode: o.charge_code,
    chargeDownCode: o.charge_down_code,
    amountFen: Number(o.amount_fen),
    stateAfter: stateName(o.state_after),
    createdAtMs: Number(o.created_at_ms),
    replays: Number(o.replays),
    raw: o,
  }
}

/** NotificationAttempt from the ledger's JSON. */
function toNotificationAttempt(o) {
  return {
    busiId: o.busi_id,
    chargeCode: o.charge_code,
    url: o.url,
    attempt: Number(o.attempt),
    httpStatus: optNum(o.http_status),
    accepted: Boolean(o.accepted),
    error: opt(o.error),
    atMs: Number(o.at_ms),
    format: o.format,
    encrypted: Boolean(o.encrypted),
    fault: opt(o.fault),
    duplicate: Boolean(o.duplicate),
    raw: o,
  }
}

/** FlowRechargeRecord from the ledger's JSON. */
function toFlowRechargeRecord(o) {
  return {
    busiId: o.busi_id,
    orderId: o.order_id,
    phoneNo: o.phone_no,
    flowVal: Number(o.flow_val),
    flowType: o.flow_type,
    createdAtMs: Number(o.created_at_ms),
    raw: o,
  }
}

/** Ledger from the ledger's JSON. */
function toLedger(o) {
  return ledgerQueries({
    orders: (o.orders || []).map(toSandboxOrder),
    refunds: (o.refunds || []).map(toSandboxRefund),
    notifications: (o.notifications || []).map(toNotificationAttempt),
    flowRecharges: (o.flow_recharges || []).map(toFlowRechargeRecord),
    faults: toFaultsState(o.faults || {}),
    requests: counts(o.requests),
    timeScale: Number(o.time_scale),
    paidFen: Number(o.paid_fen),
    refundedFen: Number(o.refunded_fen),
    raw: o,
  })
}

// --- end of generated

// ---------------------------------------------------------------------------------------------
// The kit's clients: their flows wait for the sandbox's own micropay hold, not the real 80 s.

/**
 * The flow's options with `gatewayHoldMs` filled in when unset. Anything but a plain options
 * object (or a property that cannot be read) is passed on as it is, for the flow to reject.
 */
function withHold(options, hold) {
  if (options == null) return { gatewayHoldMs: hold() }
  if (typeof options !== 'object' || Array.isArray(options)) return options
  let copy
  try {
    copy = {}
    for (const k of Object.keys(options)) copy[k] = options[k]
  } catch {
    return options
  }
  if (copy.gatewayHoldMs == null) copy.gatewayHoldMs = hold()
  return copy
}

/**
 * `sb.client()`: a `Client` whose flows (`micropayAndWait`, `waitForPayment`) default
 * `gatewayHoldMs` to the sandbox's own hold (`sb.gatewayHoldMs`) instead of the real 80 s.
 */
class KitClient extends Client {
  #hold
  constructor(options, hold) {
    super(options)
    this.#hold = hold
  }
  micropayAndWait(request, options, cancel) {
    return super.micropayAndWait(request, withHold(options, this.#hold), cancel)
  }
  waitForPayment(request, options, cancel) {
    return super.waitForPayment(request, withHold(options, this.#hold), cancel)
  }
}
Object.defineProperty(KitClient, 'name', { value: 'Client' })

/** The sandbox's fault rules (`op:kind:prob[:param]`, docs/SANDBOX.md "Faults"). */
class Faults {
  #sb
  constructor(sb) {
    this.#sb = sb
  }
  /** The rules in force. */
  get rules() {
    return this.#sb._call((n) => n.faults()).rules
  }
  /** The seed of the draws. */
  get seed() {
    return this.#sb._call((n) => n.faults()).seed
  }
  /** Appends rules: `add('preOrder:drop_reply:1', 'notify:duplicate:1')`. */
  add(...rules) {
    const rs = rules.map(String)
    this.#sb._call((n) => n.addFaults(rs))
  }
  /** Replaces the rules (and the seed, when given). Restarts the per-operation counts. */
  set(rules, options = {}) {
    checkFields(options, 'a faults.set options object', ['seed'])
    const { seed } = options
    if (rules === null || typeof rules !== 'object' || typeof rules[Symbol.iterator] !== 'function' || typeof rules === 'string') {
      throw new ValidationError('invalid rules: expected an array of fault rules ("op:kind:prob[:param]")',
        { field: 'rules', reason: 'expected an array of fault rules' })
    }
    const rs = [...rules].map(String)
    this.#sb._call((n) => n.setFaults(rs, seed === undefined ? null : seed))
  }
  /** Removes every rule. */
  clear() {
    this.#sb._call((n) => n.setFaults([], null))
  }
  /** Injected faults per `op:kind`. */
  injected() {
    return this.#sb.ledger().faults.injected
  }
  [Symbol.iterator]() {
    return this.rules[Symbol.iterator]()
  }
}

/** A running sandbox gateway; make one with `startSandbox`. */
class Sandbox {
  #native
  #timeScale
  constructor(nativeSandbox, timeScale) {
    this.#native = nativeSandbox
    this.#timeScale = timeScale
    /** The fault rules: `sb.faults.add(...)`, `sb.faults.clear()`. */
    this.faults = new Faults(this)
  }

  _call(fn) {
    return call(() => fn(this.#native))
  }

  /** `http://127.0.0.1:PORT/openGateway/openService/`: a client's `baseUrl`. */
  get baseUrl() {
    return this.#native.baseUrl
  }
  /** `http://127.0.0.1:PORT/`: the admin HTTP API is under `${rootUrl}_sandbox/`. */
  get rootUrl() {
    return this.#native.rootUrl
  }
  get timeScale() {
    return this.#timeScale
  }
  get closed() {
    return this.#native.closed
  }
  /** The (first) registered merchant: the document's test merchant by default. */
  get busiCode() {
    return this.#native.busiCode
  }
  /** That merchant's key. */
  get key() {
    return this.#native.key
  }

  /** Registers (or re-keys) a merchant. */
  addMerchant(busiCode, key) {
    this._call((n) => n.addMerchant(busiCode, key))
  }

  /**
   * The `gatewayHoldMs` the kit's clients give their flows unless told otherwise: the sandbox's
   * micropay hold, 80 s × `timeScale` (800 ms at 0.01), plus the longest `late` fault in force
   * (a late request is carried out after that wall-time wait); once closed, the micropay hold
   * alone. (The sandbox crate's rule, `SandboxHandle::gateway_hold`.)
   */
  get gatewayHoldMs() {
    return this.#native.gatewayHoldMs
  }

  /**
   * A `sosopay.Client` for this sandbox and its test merchant; options are the client's. Its
   * flows (`micropayAndWait`, `waitForPayment`) default `gatewayHoldMs` to `sb.gatewayHoldMs`
   * (the sandbox's scaled hold) instead of the real gateway's 80 s.
   */
  client(options = {}) {
    const busiCode = options.busiCode || this.busiCode
    const known = this._call((n) => n.keyOf(busiCode)) // a closed sandbox: SandboxError 410
    // Worked out at each flow (the fault rules may change); the client does not keep the
    // sandbox alive (once it is gone: the scaled micropay hold).
    const ref = new WeakRef(this)
    const gone = this.#native.micropayHoldMs
    const hold = () => ref.deref()?.gatewayHoldMs ?? gone
    return new KitClient({
      defaultOperId: native.KIT_OPER_ID,
      defaultDevId: native.KIT_DEV_ID,
      ...options,
      busiCode,
      key: options.key || known || this.key,
      baseUrl: this.baseUrl,
    }, hold)
  }

  /** The customer pays an order awaiting payment (STATE 0 → 1; the notification goes out). */
  pay(chargeCode) {
    return toSandboxOrder(this._call((n) => n.pay(chargeCode)))
  }
  /** The customer's payment fails (declined): STATE 0 → 6. */
  fail(chargeCode) {
    return toSandboxOrder(this._call((n) => n.fail(chargeCode)))
  }
  /** The order as the gateway sees it, or `null`. */
  order(chargeCode) {
    const o = this._call((n) => n.order(chargeCode))
    return o ? toSandboxOrder(o) : null
  }
  /** Every order, refund, notification attempt and injected fault. */
  ledger() {
    return toLedger(this._call((n) => n.ledger()))
  }
  /** The notification delivery attempts (of one order, if given), oldest first. */
  notifications(chargeCode) {
    if (chargeCode !== undefined && typeof chargeCode !== 'string') {
      throw new ValidationError(`invalid chargeCode: expected a string, got ${chargeCode === null ? 'null' : typeof chargeCode}`, {
        field: 'chargeCode',
        reason: 'is not a string',
      })
    }
    const all = this.ledger().notifications
    return chargeCode === undefined ? all : all.filter((a) => a.chargeCode === chargeCode)
  }
  /** Forgets every order, refund, notification and fault count (rules and seed stay). */
  reset() {
    this._call((n) => n.reset())
  }

  /**
   * Resolves once `count` notification attempts (for `chargeCode`, if given) were accepted
   * (HTTP 200) — or merely made, with `accepted: false`; rejects with a `TimeoutError` listing
   * the attempts seen. The wait runs off the event loop (the sandbox crate's own).
   */
  async waitForNotification(options = {}) {
    checkFields(options, 'a waitForNotification options object', ['chargeCode', 'count', 'accepted', 'timeoutMs'])
    const { chargeCode, count = 1, accepted = true, timeoutMs } = options
    const hits = await this.#wait('waitForNotification', (n) => n.waitForNotifications(chargeCode ?? null, count, accepted, timeoutMs ?? null))
    return hits.map(toNotificationAttempt)
  }

  /** Resolves with the order once it is in `state` (a name, or an array of names). */
  async waitForState(chargeCode, state, options = {}) {
    checkFields(options, 'a waitForState options object', ['timeoutMs'])
    const { timeoutMs } = options
    const states = (Array.isArray(state) ? state : [state]).map(String)
    return toSandboxOrder(await this.#wait('waitForState', (n) => n.waitForState(chargeCode, states, timeoutMs ?? null)))
  }

  /** `fn`'s Promise; a refusal, thrown at once or rejected later, converted once. */
  async #wait(operation, fn) {
    try {
      return await fn(this.#native)
    } catch (e) {
      throw converted(e, operation)
    }
  }

  /** Stops serving (idempotent). */
  close() {
    return this.#native.close()
  }
}
// `await using sb = await startSandbox()` where the runtime has explicit resource management.
if (typeof Symbol.asyncDispose === 'symbol') {
  Sandbox.prototype[Symbol.asyncDispose] = function () {
    return this.close()
  }
}

/**
 * Starts a sandbox gateway in this process on a free local port. `timeScale` multiplies every
 * gateway time (0.01: the 80 s micropay hold lasts 0.8 s); the client's own timeouts and
 * polling are not scaled.
 */
async function startSandbox(options = {}) {
  const plain = (v) => typeof v === 'object' && v !== null && !Array.isArray(v)
  const invalid = (field, reason) => new ValidationError(`invalid ${field}: ${reason}`, { field, reason })
  if (!plain(options)) throw invalid('options', 'expected an object')
  const { merchants, ...rest } = options
  if (merchants != null && !plain(merchants)) {
    throw invalid('merchants', 'expected { [busiCode]: key }')
  }
  for (const [busiCode, key] of Object.entries(merchants || {})) {
    if (typeof key !== 'string') {
      throw invalid('merchants', `the key of ${JSON.stringify(busiCode)} is not a string (expected { [busiCode]: key })`)
    }
  }
  const list = merchants ? Object.entries(merchants).map(([busiId, key]) => ({ busiId, key })) : undefined
  if (typeof native.NativeSandbox !== 'function') {
    throw new SandboxError(
      'sosopay/testing: this build of sosopay has no sandbox (built without the cargo feature `sandbox`)',
      501,
      'no sandbox in this build',
    )
  }
  const n = call(() => new native.NativeSandbox({ ...rest, merchants: list }))
  return new Sandbox(n, n.timeScale)
}

module.exports = { startSandbox, Sandbox, SandboxError, codes, TEST_BUSI_CODE, TEST_KEY }
