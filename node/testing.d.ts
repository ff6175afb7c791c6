// Types of `sosopay/testing`: the in-process sandbox gateway and its admin API (docs/TESTING.md).

import type { Client, ClientOptions, OrderState } from './sosopay'

/** The document's test merchant, registered in every sandbox unless `merchants` says otherwise. */
export declare const TEST_BUSI_CODE: string
/** Its key. */
export declare const TEST_KEY: string

/**
 * An admin action the sandbox refused. `status` is what its admin endpoint would answer: 404
 * (no such order), 409 (the order's state does not allow it), 410 (the sandbox is closed). A bad
 * setting or argument anywhere in this kit is the SDK's `ValidationError` instead, its `field`
 * named as JS spells it (`timeScale`, `faults[0]`, `behaviour`).
 */
export declare class SandboxError extends Error {
  readonly name: 'SandboxError'
  readonly status: number
  readonly reason: string
}

export interface StartSandboxOptions {
  /** Multiplies every gateway time (0.01: the 80 s micropay hold lasts 0.8 s). Default 1. */
  timeScale?: number
  /** Seed of the fault injection. Default 0. */
  seed?: number
  /** Fault rules `op:kind:prob[:param]` in force from the start. */
  faults?: string[]
  /** Registered merchants, `{ [busiCode]: key }`. Default: the document's test merchant. */
  merchants?: Record<string, string>
  /** IP address to listen on. Default `127.0.0.1`. */
  host?: string
  /** Port; 0 (the default) picks a free one. */
  port?: number
  /** Reject requests signed further than this from now (`INVALID_SIGN`). Default off. */
  maxRequestAgeMs?: number
}

/** What the kit adds to a ledger order. */
export interface OrderRules {
  /** The customer paid: Paid, PartiallyRefunded or Refunded (the core's `moneyTaken`). */
  isPaid: boolean
}

/** The ledger's lookups. */
export interface LedgerQueries {
  order(chargeCode: string): SandboxOrder | null
  refundsOf(chargeCode: string): SandboxRefund[]
  notificationsOf(chargeCode: string): NotificationAttempt[]
}

// --- generated from sandbox/src/ledger.rs (scripts/gen-foreign.py)
/** A fault rule in force, in its parts. */
export interface FaultRule {
  /** The operation (`preOrder`, `query`, ..., `notify`, `*`). */
  op: string
  /** The fault (`drop_reply`, `delay`, ...). */
  kind: string
  /** Chance per request, 0.0 to 1.0. */
  probability: number
  /** The fault's parameter (milliseconds, status, field), if it has one. */
  param: string | null
  /** The sandbox's JSON object (fields a newer sandbox adds are here). */
  raw: Record<string, unknown>
}

/** One fault that was injected. */
export interface FaultEvent {
  /** The operation it hit. */
  op: string
  /** The fault. */
  kind: string
  /** The operation's request number it hit (1 for the first). */
  requestNo: number
  /** The order the request named, when it named one. */
  chargeCode: string | null
  /** When. */
  atMs: number
  /** The sandbox's JSON object (fields a newer sandbox adds are here). */
  raw: Record<string, unknown>
}

/** The faults: the rules in force and what they did. */
export interface FaultsState {
  /** The seed of the deterministic draws. */
  seed: number
  /** The rules in force. */
  rules: FaultRule[]
  /** How many faults of each kind were injected, by `op:kind`. */
  injected: Record<string, number>
  /** Every injected fault, in order. */
  events: FaultEvent[]
  /** The sandbox's JSON object (fields a newer sandbox adds are here). */
  raw: Record<string, unknown>
}

/** One order as the gateway holds it. */
export interface SandboxOrder extends OrderRules {
  /** The merchant (`BUSI_ID`). */
  busiId: string
  /** The merchant's order number (`CHARGE_CODE`). */
  chargeCode: string
  /** The gateway's order number (`CHARGE_DOWN_CODE`). */
  chargeDownCode: string
  /** The channel's order number, once paid. */
  chargeThirdCode: string | null
  /** `micropay`, `qr` or `jsapi`. */
  kind: 'micropay' | 'qr' | 'jsapi'
  /** `CHANNEL_TYPE` as on the wire (`'2'` WeChat, `'1'` Alipay, ...). */
  channelCode: string | null
  /** The amount, in fen. */
  amountFen: number
  /** What was refunded of it, in fen. */
  refundedFen: number
  /** `STATE` as on the wire (`'1'`). */
  stateCode: string | null
  /** The order's state. */
  state: OrderState
  /** `PAY_SUBJECT`. */
  paySubject: string
  /** The customer's payment code (micropay only). */
  dynamicId: string | null
  /** The verification code(s) sent with the order. */
  verifyCode: string | null
  /** Where notifications go (`NODIFY_URL`). */
  notifyUrl: string | null
  /** Why the payment failed or was cancelled, when it did. */
  failReason: string | null
  /** When the order was created (ms since the Unix epoch). */
  createdAtMs: number
  /** When it was paid. */
  paidAtMs: number | null
  /** When it reached a final state. */
  endedAtMs: number | null
  /** When an unpaid order expires (or a micropay's hold ends). */
  expiresAtMs: number | null
  /** `BEGIN_TIME` as the gateway writes it (`yyyy-MM-dd HH:mm:ss`, UTC+8). */
  beginTime: string
  /** The sandbox's JSON object (fields a newer sandbox adds are here). */
  raw: Record<string, unknown>
}

/** One refund. */
export interface SandboxRefund {
  /** The merchant. */
  busiId: string
  /** The merchant's refund number (`OUT_REFUND_NO`), when given. */
  outRefundNo: string | null
  /** The refunded order's `CHARGE_CODE`. */
  chargeCode: string
  /** The refunded order's `CHARGE_DOWN_CODE`. */
  chargeDownCode: string
  /** The refunded amount, in fen. */
  amountFen: number
  /** The order's state code after the refund (4 partly refunded, 5 refunded). */
  stateAfter: OrderState
  /** When the refund was made. */
  createdAtMs: number
  /** How many times the same refund was asked for again (and answered the same). */
  replays: number
  /** The sandbox's JSON object (fields a newer sandbox adds are here). */
  raw: Record<string, unknown>
}

/** One attempt at delivering a payment notification (`PAY_NODIFY`). */
export interface NotificationAttempt {
  /** The merchant. */
  busiId: string
  /** The order notified about. */
  chargeCode: string
  /** The order's `NODIFY_URL`. */
  url: string
  /** 1 for the first attempt, then 2, 3, ... */
  attempt: number
  /** The HTTP status the merchant answered, if it answered. */
  httpStatus: number | null
  /** The merchant answered HTTP 200: the gateway stops retrying. */
  accepted: boolean
  /** Why there was no answer (connection refused, timeout, ...). */
  error: string | null
  /** When the attempt was made. */
  atMs: number
  /** `json` or `xml`. */
  format: 'json' | 'xml'
  /** Whether the body was 3DES-encrypted. */
  encrypted: boolean
  /** The fault injected into this attempt, if any. */
  fault: string | null
  /** Whether this was the second copy sent by the `duplicate` fault. */
  duplicate: boolean
  /** The sandbox's JSON object (fields a newer sandbox adds are here). */
  raw: Record<string, unknown>
}

/** One mobile data top-up (`flowRecharge`). */
export interface FlowRechargeRecord {
  /** The merchant. */
  busiId: string
  /** The gateway's order id. */
  orderId: string
  /** The phone number topped up. */
  phoneNo: string
  /** The data volume, in MB. */
  flowVal: number
  /** The top-up type (`0` national, ...). */
  flowType: string
  /** When it was made. */
  createdAtMs: number
  /** The sandbox's JSON object (fields a newer sandbox adds are here). */
  raw: Record<string, unknown>
}

/** Everything that happened since the sandbox started (or was last reset). */
export interface Ledger extends LedgerQueries {
  /** Every order, in the order they were created. */
  orders: SandboxOrder[]
  /** Every refund. */
  refunds: SandboxRefund[]
  /** Every notification delivery attempt. */
  notifications: NotificationAttempt[]
  /** Every top-up. */
  flowRecharges: FlowRechargeRecord[]
  /** The fault rules and what they injected. */
  faults: FaultsState
  /** How many requests each gateway operation received (every one, 0 if never requested). */
  requests: Record<string, number>
  /** The time scale the sandbox runs at. */
  timeScale: number
  /**
   * The sum of the amounts of the orders the customer paid (`STATE` 1, 4 or 5), in fen:
   * their refunds are not deducted. A paid order reversed (cancelled: the whole payment went
   * back) is counted in neither total: paid minus refunded is what the shop kept.
   */
  paidFen: number
  /** The sum of the refunds of the orders counted as paid, in fen. */
  refundedFen: number
  /** The sandbox's JSON object (fields a newer sandbox adds are here). */
  raw: Record<string, unknown>
}

// --- end of generated

/** The sandbox's fault rules (`op:kind:prob[:param]`, docs/SANDBOX.md "Faults"). */
export interface Faults extends Iterable<string> {
  /** The rules in force. */
  readonly rules: string[]
  /** The seed of the draws. */
  readonly seed: number
  /** Appends rules: `add('preOrder:drop_reply:1')`. Throws `ValidationError` (`field` `faults[i]`) on a bad rule. */
  add(...rules: string[]): void
  /** Replaces the rules (and the seed). Restarts the per-operation request counts. */
  set(rules: Iterable<string>, options?: { seed?: number }): void
  /** Removes every rule. */
  clear(): void
  /** Injected faults per `op:kind`. */
  injected(): Record<string, number>
}

export interface WaitForNotificationOptions {
  /** Only this order's notifications. */
  chargeCode?: string
  /** How many. Default 1. */
  count?: number
  /** Count only attempts the endpoint answered 200 (default), or every attempt. */
  accepted?: boolean
  /** Default: the kit's wait, 5 s (the sandbox crate's `DEFAULT_WAIT`). */
  timeoutMs?: number
}

/** A running sandbox gateway. */
export declare class Sandbox {
  private constructor()
  /** `http://127.0.0.1:PORT/openGateway/openService/`: a client's `baseUrl`. */
  readonly baseUrl: string
  /** `http://127.0.0.1:PORT/`: the admin HTTP API is under `${rootUrl}_sandbox/`. */
  readonly rootUrl: string
  readonly timeScale: number
  readonly closed: boolean
  /** The (first) registered merchant. */
  readonly busiCode: string
  /** Its key. */
  readonly key: string
  /** The fault rules. */
  readonly faults: Faults
  /**
   * The `gatewayHoldMs` the kit's clients give their flows unless told otherwise: the sandbox's
   * micropay hold, 80 s × `timeScale` (800 ms at 0.01), plus the longest `late` fault in force
   * (a late request is carried out after that wall-time wait); once closed, the micropay hold
   * alone.
   */
  readonly gatewayHoldMs: number
  /**
   * A `Client` for this sandbox and its test merchant (defaults: operator `cashier-1`, till
   * `till-1`). Its flows (`micropayAndWait`, `waitForPayment`) default `gatewayHoldMs` to
   * `sb.gatewayHoldMs`, the sandbox's scaled hold, instead of the real gateway's 80 s.
   */
  client(options?: Partial<ClientOptions>): Client
  /** Registers (or re-keys) a merchant. */
  addMerchant(busiCode: string, key: string): void
  /** The customer pays an order awaiting payment (STATE 0 → 1; the notification goes out). */
  pay(chargeCode: string): SandboxOrder
  /** The customer's payment fails (declined): STATE 0 → 6. */
  fail(chargeCode: string): SandboxOrder
  /** The order as the gateway sees it, or `null`. */
  order(chargeCode: string): SandboxOrder | null
  /** Every order, refund, notification attempt and injected fault. */
  ledger(): Ledger
  /** The notification delivery attempts (of one order), oldest first. */
  notifications(chargeCode?: string): NotificationAttempt[]
  /** Forgets every order, refund, notification and fault count (rules and seed stay). */
  reset(): void
  /** Resolves with the matching attempts; rejects with the SDK's `TimeoutError` (`operation` `'waitForNotification'`, `afterMs`) listing the attempts seen, and why none came when the ledger tells: no such order, no notify URL, not paid (a bad argument: `ValidationError`; closed: `SandboxError` 410). */
  waitForNotification(options?: WaitForNotificationOptions): Promise<NotificationAttempt[]>
  /** Resolves with the order once it is in `state` (or one of them); rejects with the SDK's `TimeoutError` (`operation` `'waitForState'`, `afterMs`) saying the state it is in. */
  waitForState(chargeCode: string, state: OrderState | OrderState[], options?: { timeoutMs?: number }): Promise<SandboxOrder>
  /** Stops serving (idempotent). */
  close(): Promise<void>
  /** `close()`, for `await using sb = await startSandbox()` (TypeScript ≥ 5.2). */
  [Symbol.asyncDispose](): Promise<void>
}

/** Starts a sandbox gateway in this process, on a free local port. */
export declare function startSandbox(options?: StartSandboxOptions): Promise<Sandbox>

/**
 * Test payment codes (`DYNAMIC_ID`): `PP000000000000BNNN`, `PP` the channel prefix, `B` the
 * behaviour, `NNN` seconds (scaled by the sandbox's time scale). docs/SANDBOX.md.
 */
export declare const codes: {
  // --- generated from sandbox/src/codes.rs (scripts/gen-foreign.py)
  /** WeChat Pay's prefix (`10`–`15`). */
  readonly WECHAT: '13'
  /** Alipay's prefix (`25`–`30`). */
  readonly ALIPAY: '28'
  /** QQ Wallet's prefix. */
  readonly QQ_WALLET: '91'
  /** UnionPay's prefix. */
  readonly UNION_PAY: '62'
  /** Any well-formed code: the customer pays at once (WeChat). `SUCCESS`, STATE 1. */
  readonly PAY_NOW: '130730865806264036'
  /** Pays at once (Alipay). */
  readonly PAY_NOW_ALIPAY: '284214903060794755'
  /** Confirms on the phone, pays after 3 s; the request is held until then (the demo's code). */
  readonly PAYS_AFTER_3S: '130000000000001003'
  /** Confirms but pays only after the 80 s hold (at 90 s): the reply is `SUCCESS` with STATE 0 after 80 s, and the client must poll until the order is paid. */
  readonly PAYS_AFTER_HOLD: '130000000000001090'
  /** `SUCCESS` with STATE 0 at once ("user paying"); paid 3 s later: the client must poll. */
  readonly USER_PAYING: '130000000000002003'
  /** Insufficient funds at once: `FAIL` (`NOTENOUGH`), STATE 6. */
  readonly INSUFFICIENT_FUNDS: '130000000000003000'
  /** Never confirms: the request is held the whole 80 s, then `FAIL`; the order is cancelled (STATE 2). */
  readonly NEVER_CONFIRMS: '130000000000004000'
  /** `SUCCESS` with STATE 0 at once, and never confirms: cancelled (STATE 2) at 80 s. */
  readonly USER_PAYING_NEVER_CONFIRMS: '130000000000005000'
  /** The payment code has expired: `FAIL` (`AUTH_CODE_EXPIRED`) at once, STATE 6. */
  readonly CODE_EXPIRED: '130000000000006000'
  /** Paid at once, but the reply says `EXCEPTION`: the client must query to learn it is paid. */
  readonly REPLY_LOST: '130000000000007000'
  /** Not 16–24 digits: `ILLEGAL_PARAMETER` naming `DYNAMIC_ID`. */
  readonly MALFORMED: '12345'
  /** A prefix no channel has: with channel auto-detection (`CHANNEL_TYPE=0`), `ILLEGAL_PARAMETER`. */
  readonly UNKNOWN_CHANNEL: '990730865806264036'
  // --- end of generated
  /** `PP000000000000BNNN` from its parts. */
  code(behaviour: number, seconds?: number, options?: { channel?: string }): string
  /** Confirms and pays after `seconds` (held; from 80 the hold ends first with STATE 0). */
  paysAfter(seconds: number, options?: { channel?: string }): string
  /** SUCCESS with STATE 0 at once; pays after `seconds`. */
  userPaying(seconds: number, options?: { channel?: string }): string
  /** Confirms for `seconds`, then insufficient funds. */
  insufficientFundsAfter(seconds: number, options?: { channel?: string }): string
  /** Pays after `seconds`, but the reply is EXCEPTION. */
  replyLostAfter(seconds: number, options?: { channel?: string }): string
}
