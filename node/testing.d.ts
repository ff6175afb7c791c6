// Types of `sosopay/testing`: the in-process sandbox gateway and its admin API (docs/TESTING.md).

import type { Client, ClientOptions, OrderState } from './sosopay'

/** The document's test merchant, registered in every sandbox unless `merchants` says otherwise. */
export declare const TEST_BUSI_CODE: '0010000001'
/** Its key. */
export declare const TEST_KEY: '98SDKFUO432HNODS098EEE07U9DUOIUE'

/**
 * An admin action the sandbox refused, or a bad setting. `status` is what its admin endpoint
 * would answer: 400 (bad input), 404 (no such order), 409 (the order's state does not allow
 * it), 410 (the sandbox is closed).
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

/** One order as the sandbox (the gateway's side) sees it. */
export interface SandboxOrder {
  busiId: string
  chargeCode: string
  chargeDownCode: string
  chargeThirdCode: string | null
  kind: 'micropay' | 'qr' | 'jsapi'
  /** `CHANNEL_TYPE` (`'2'` WeChat, `'1'` Alipay, ...). */
  channelCode: string | null
  amountFen: number
  refundedFen: number
  state: OrderState
  /** `STATE` as on the wire (`'1'`). */
  stateCode: string | null
  /** The customer paid: Paid, PartiallyRefunded or Refunded. */
  isPaid: boolean
  paySubject: string
  dynamicId: string | null
  verifyCode: string | null
  notifyUrl: string | null
  failReason: string | null
  createdAtMs: number
  paidAtMs: number | null
  endedAtMs: number | null
  expiresAtMs: number | null
  beginTime: string
  /** The ledger's JSON object. */
  raw: Record<string, unknown>
}

/** One refund the sandbox accepted. */
export interface SandboxRefund {
  busiId: string
  outRefundNo: string | null
  chargeCode: string
  chargeDownCode: string
  amountFen: number
  /** The order's state right after this refund. */
  stateAfter: OrderState
  createdAtMs: number
  /** Repeated requests with the same `outRefundNo` (answered, not refunded again). */
  replays: number
  raw: Record<string, unknown>
}

/** One delivery attempt of a payment notification to a `notifyUrl`. */
export interface NotificationAttempt {
  busiId: string
  chargeCode: string
  url: string
  /** 1 to 30. */
  attempt: number
  /** What the merchant's endpoint answered; `null` when the request failed (see `error`). */
  httpStatus: number | null
  /** The endpoint answered 200: the gateway stops retrying. */
  accepted: boolean
  error: string | null
  atMs: number
  format: 'json' | 'xml'
  encrypted: boolean
  /** The injected fault (`'bad_sign'`, `'duplicate'`, `'garble'`, ...), if any. */
  fault: string | null
  /** The extra copy sent by a `duplicate` fault. */
  duplicate: boolean
  raw: Record<string, unknown>
}

export interface FlowRechargeRecord {
  busiId: string
  orderId: string
  phoneNo: string
  flowVal: number
  flowType: string
  createdAtMs: number
  raw: Record<string, unknown>
}

export interface FaultEvent {
  op: string
  kind: string
  /** The n-th request of `op` since the rules were last set. */
  requestNo: number
  chargeCode: string | null
  atMs: number
}

export interface FaultsState {
  seed: number
  rules: Array<{ op: string; kind: string; probability: number; param: string | null }>
  /** Counts per `op:kind`, e.g. `{ 'preOrder:drop_reply': 1 }`. */
  injected: Record<string, number>
  events: FaultEvent[]
}

/** Everything the sandbox did: the ground truth for reconciliation tests. */
export interface Ledger {
  orders: SandboxOrder[]
  refunds: SandboxRefund[]
  notifications: NotificationAttempt[]
  flowRecharges: FlowRechargeRecord[]
  faults: FaultsState
  /** Requests received per operation (`{ preOrder: 3, query: 7 }`). */
  requests: Record<string, number>
  timeScale: number
  /** The sum of every paid order's amount (refunds not deducted). */
  paidFen: number
  /** The sum of every order's refunds. */
  refundedFen: number
  order(chargeCode: string): SandboxOrder | null
  refundsOf(chargeCode: string): SandboxRefund[]
  notificationsOf(chargeCode: string): NotificationAttempt[]
  raw: Record<string, unknown>
}

/** The sandbox's fault rules (`op:kind:prob[:param]`, docs/SANDBOX.md "Faults"). */
export interface Faults extends Iterable<string> {
  /** The rules in force. */
  readonly rules: string[]
  /** The seed of the draws. */
  readonly seed: number
  /** Appends rules: `add('preOrder:drop_reply:1')`. Throws `SandboxError` (400) on a bad rule. */
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
  /** Default 5000. */
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
  /** A `Client` for this sandbox and its test merchant (defaults: operator `cashier-1`, till `till-1`). */
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
  /** Resolves with the matching attempts; rejects with an `Error` named `TimeoutError` listing the attempts seen (a bad argument: `SandboxError` 400; closed: 410). */
  waitForNotification(options?: WaitForNotificationOptions): Promise<NotificationAttempt[]>
  /** Resolves with the order once it is in `state` (or one of them). */
  waitForState(chargeCode: string, state: OrderState | OrderState[], options?: { timeoutMs?: number }): Promise<SandboxOrder>
  /** Stops serving (idempotent). */
  close(): Promise<void>
}

/** Starts a sandbox gateway in this process, on a free local port. */
export declare function startSandbox(options?: StartSandboxOptions): Promise<Sandbox>

/**
 * Test payment codes (`DYNAMIC_ID`): `PP000000000000BNNN`, `PP` the channel prefix, `B` the
 * behaviour, `NNN` seconds (scaled by the sandbox's time scale). docs/SANDBOX.md.
 */
export declare const codes: {
  readonly WECHAT: '13'
  readonly ALIPAY: '28'
  readonly QQ_WALLET: '91'
  readonly UNION_PAY: '62'
  /** Any well-formed code: pays at once (WeChat). */
  readonly PAY_NOW: string
  /** Pays at once (Alipay). */
  readonly PAY_NOW_ALIPAY: string
  /** Confirms on the phone, pays after 3 s (the request is held until then). */
  readonly PAYS_AFTER_3S: string
  /** Pays only after the 80 s hold: SUCCESS with STATE 0 after 80 s; the client must poll. */
  readonly PAYS_AFTER_HOLD: string
  /** SUCCESS with STATE 0 at once ("user paying"), paid 3 s later: the client must poll. */
  readonly USER_PAYING: string
  /** Insufficient funds at once: FAIL, STATE 6. */
  readonly INSUFFICIENT_FUNDS: string
  /** Never confirms: held the whole 80 s, then FAIL; the order is cancelled (STATE 2). */
  readonly NEVER_CONFIRMS: string
  /** SUCCESS with STATE 0 at once, never confirms: cancelled at 80 s. */
  readonly USER_PAYING_NEVER_CONFIRMS: string
  /** The payment code has expired: FAIL at once, STATE 6. */
  readonly CODE_EXPIRED: string
  /** Paid at once, but the reply says EXCEPTION: only a query tells it is paid. */
  readonly REPLY_LOST: string
  /** Not 16 to 24 digits: ILLEGAL_PARAMETER naming DYNAMIC_ID. */
  readonly MALFORMED: string
  /** A prefix no channel has: with channel 'Auto', ILLEGAL_PARAMETER. */
  readonly UNKNOWN_CHANNEL: string
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
