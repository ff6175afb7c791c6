// Types of the `sosopay` package: the generated native declarations (index.d.ts) plus the
// error classes, the dictionary constants and the webhook helpers of the JS layer.

import type { IncomingMessage, ServerResponse } from 'node:http'
import type {
  Client as NativeClient,
  ClientOptions,
  Notification,
  NotificationVerifier,
  ResultCode as ResultCodeT,
  KnownResultCode,
  OrderState as OrderStateT,
  Channel as ChannelT,
  FundChannel as FundChannelT,
  DynamicIdType as DynamicIdTypeT,
  TradeType as TradeTypeT,
  SerType as SerTypeT,
  OutcomeStatus as OutcomeStatusT,
  signBody,
  verifyBody,
} from './index'

// Every type of the native declarations, and the values the package really exports (generated).
export * from './index-exports'

// The JS layer adds `signal` to the flows' options (see README: "The till screen").
declare module './index' {
  interface WaitOptions {
    /**
     * Aborting it cancels the flow: `micropayAndWait` reverses the order at once (prove it
     * ours, cancel, confirm) and *resolves* with the outcome (`'Cancelled'`, or `'Paid'` /
     * `'Unresolved'`); `waitForPayment` stops waiting and resolves. Only a signal aborted
     * before the flow sent its first request rejects, with an `AbortError` (nothing was sent):
     * always so when aborted by the code that made the call, before it returns to the event
     * loop (the flow starts on a later turn). After the flow ended it changes nothing.
     */
    signal?: AbortSignal | null
  }
}

// ---------------------------------------------------------------------------------------------
// The client: `operId` / `devId` are required in requests unless the client has defaults.

/** The `OPER_ID` / `DEV_ID` a request must carry itself, given the client's options `O`. */
export type RequiredIds<O> = (O extends { defaultOperId: string } ? {} : { operId: string }) &
  (O extends { defaultDevId: string } ? {} : { devId: string })
/** A client method whose request carries `operId` / `devId`, with the ones `O` lacks required. */
export type WithIds<F, O> = F extends (request: infer R, ...rest: infer A) => infer Ret
  ? [R] extends [{ operId?: string; devId?: string }]
    ? (request: R & RequiredIds<O>, ...rest: A) => Ret
    : F
  : F
/**
 * The client built from the options `O`. Without `defaultOperId` / `defaultDevId`, the
 * requests of `micropay`, `createQrOrder`, `createJsapiOrder`, `refund` and `micropayAndWait`
 * must give `operId` / `devId` (at run time a request without them is a `ValidationError`
 * naming the field; the types say so before).
 */
export type ClientFor<O> = { [K in keyof NativeClient]: WithIds<NativeClient[K], O> }
/** The client class itself (what `new Client(...)` makes, before `ClientFor` types its requests). */
export type { NativeClient as ClientClass }
/** A client (any options): its requests may leave out `operId` / `devId`. */
export type Client = NativeClient
export declare const Client: {
  /** Builds the client (validates the options; nothing is sent). */
  new <O extends ClientOptions>(options: O): ClientFor<O>
  readonly prototype: NativeClient
}

/** `sign` is `signBody`: the signature of a POST or notification body. */
export declare const sign: typeof signBody
/** `verify` is `verifyBody`. */
export declare const verify: typeof verifyBody

// ---------------------------------------------------------------------------------------------
// Dictionaries as constants (`OrderState.Paid === 'Paid'`).

/** The constants of a dictionary: each known value, named by itself (`OrderState.Paid === 'Paid'`). */
export type Consts<T extends string> = { readonly [K in T]: K }
export type ResultCode = ResultCodeT
export declare const ResultCode: Consts<KnownResultCode>
export type OrderState = OrderStateT
export declare const OrderState: Consts<Exclude<OrderStateT, 'Unknown'>>
export type Channel = ChannelT
export declare const Channel: Consts<Exclude<ChannelT, 'Unknown'>>
export type FundChannel = FundChannelT
export declare const FundChannel: Consts<Exclude<FundChannelT, 'Unknown'>>
export type DynamicIdType = DynamicIdTypeT
export declare const DynamicIdType: Consts<DynamicIdTypeT>
export type TradeType = TradeTypeT
export declare const TradeType: Consts<TradeTypeT>
export type SerType = SerTypeT
export declare const SerType: Consts<SerTypeT>
export type OutcomeStatus = OutcomeStatusT
export declare const OutcomeStatus: Consts<OutcomeStatusT>

// ---------------------------------------------------------------------------------------------
// Errors: every rejection and throw of the SDK is a SosopayError.

/** The core error variant behind an error (`internal`: an unexpected failure). */
export type ErrorCode =
  | 'validation' | 'signature' | 'crypto' | 'decode' | 'gateway' | 'http_status' | 'transport'
  | 'timeout' | 'outcome_unknown' | 'aborted' | 'internal'

/** Base class of every error the SDK throws or rejects with. */
export declare class SosopayError extends Error {
  /** The core error variant. */
  readonly code: ErrorCode
  /** True when money may have moved: query the order before deciding anything. */
  readonly outcomeUnknown: boolean
  /** True when retrying an idempotent request (a query) may help. */
  readonly retryable: boolean
}
// One class per core error variant, generated from core/src/error.rs.
// --- generated from core/src/error.rs (scripts/gen-foreign.py)
/** A request or configuration field is missing or malformed; nothing was sent. */
export declare class ValidationError extends SosopayError {
  readonly code: 'validation'
  /** The field, by its JS (camelCase) name, e.g. `amountFen`, `goods[0].price`. */
  readonly field: string | undefined
  /** Why it is rejected. */
  readonly reason: string | undefined
}
/** A signature is malformed, does not match, or is too old. */
export declare class SignatureError extends SosopayError {
  readonly code: 'signature'
  /** Why. */
  readonly reason: string
}
/** Base64, 3DES or padding failed: garbage, or the wrong key. */
export declare class CryptoError extends SosopayError {
  readonly code: 'crypto'
  /** Why. */
  readonly reason: string
  /**
   * The operation whose reply could not be decrypted (`preOrder`, `query`, ...); empty
   * outside a request (a notification, an envelope call).
   */
  readonly operation: string
}
/** The gateway's reply (or a notification) could not be understood. */
export declare class DecodeError extends SosopayError {
  readonly code: 'decode'
  /** Why. */
  readonly reason: string
  /**
   * The operation whose reply could not be decoded (`preOrder`, `query`, ...); empty
   * outside a request (a notification, a document parsed by the caller).
   */
  readonly operation: string
}
/** The gateway answered with a `RESULT.CODE` other than success. */
export declare class GatewayError extends SosopayError {
  readonly code: 'gateway'
  /** The result code. */
  readonly resultCode: ResultCodeT
  /** The gateway's message (`RESULT.INFO`). */
  readonly info: string
  /** The operation answered (`preOrder`, `query`, ...); empty when not known. */
  readonly operation: string
}
/** The gateway answered with an HTTP error status. */
export declare class HttpStatusError extends SosopayError {
  readonly code: 'http_status'
  /** The operation (`preOrder`, `query`, ...). */
  readonly operation: string
  /** The HTTP status. */
  readonly status: number
}
/** The request could not be delivered or its reply not read. */
export declare class TransportError extends SosopayError {
  readonly code: 'transport'
  /** The operation (`preOrder`, `query`, ...). */
  readonly operation: string
  /** What failed. */
  readonly reason: string
  /**
   * `false` when the request surely never reached the gateway (connection refused,
   * DNS failure); `true` when it may have been processed.
   */
  readonly maybeSent: boolean
}
/** No reply within the configured time. */
export declare class TimeoutError extends SosopayError {
  readonly code: 'timeout'
  /** The operation. */
  readonly operation: string
  /** The time waited. */
  readonly afterMs: number
}
/**
 * A money-moving request may or may not have been carried out, and querying could not
 * settle it. Query `charge_code` later; never re-pay with a new charge code before that.
 */
export declare class OutcomeUnknownError extends SosopayError {
  readonly code: 'outcome_unknown'
  /** The operation. */
  readonly operation: string
  /** The merchant's order number. */
  readonly chargeCode: string
  /** The last error seen. */
  readonly reason: string
}
// --- end of generated
/** A flow aborted through its `signal` before it started: nothing was sent. `name` is `'AbortError'`. */
export declare class AbortError extends SosopayError {
  readonly code: 'aborted'
  readonly name: 'AbortError'
}
/** Core variant → class. */
export declare const ERROR_CLASSES: Readonly<Record<Exclude<ErrorCode, 'internal'>, typeof SosopayError>>

// ---------------------------------------------------------------------------------------------
// Webhooks

/** Where a notification stands in a store. */
export type ClaimState = 'New' | 'InProgress' | 'Done'
/** A claim with its token, as the leased stores of `sosopay/stores` answer `begin`. */
export interface TokenClaim {
  state: ClaimState
  /** Set when `state` is `'New'`: give it back to `complete`/`abandon`. */
  token?: string
}

/**
 * Remembers processed notifications; may be async (a database). `MemoryIdempotencyStore` is one
 * (per process); `sosopay/stores` has Redis and PostgreSQL ones shared by many processes.
 * `begin` answers a state, or a `TokenClaim` whose token the webhook passes back.
 */
export interface IdempotencyStore {
  begin(id: string): ClaimState | TokenClaim | Promise<ClaimState | TokenClaim>
  complete(id: string, token?: string): unknown
  abandon(id: string, token?: string): unknown
}

export interface WebhookOptions {
  /** The merchant key (or give `verifier`). */
  key?: string
  /** Replay window in seconds (default 300; 0 disables it). */
  maxAgeSeconds?: number
  /** Merchant keys being rotated out (with `key`): their deliveries are accepted too. */
  previousKeys?: string[]
  /** Accept only this merchant's notifications (their `BUSI_ID`; with `key`): another
   * merchant's, or an unnamed one, is answered 400 without running `onNotification`. */
  busiCode?: string
  /** A verifier to reuse instead of `key`. */
  verifier?: NotificationVerifier
  /** Where processed notifications are remembered (default: in memory, per process). */
  store?: IdempotencyStore
  /** Runs once per notification; a throw (or rejection) answers 500 so the gateway retries.
   * Required: without it a `ValidationError` naming `onNotification` is thrown. */
  onNotification: (notification: Notification) => void | Promise<void>
}

/** What to answer the gateway for one delivery. */
export interface WebhookResult {
  /** 200 processed or duplicate; 400 not a genuine notification; 500 the handler failed; 503 in
   * progress, or the store could not be reached. */
  status: 200 | 400 | 500 | 503
  /** The response body (`SUCCESS` on 200). */
  body: string
  delivery: 'Processed' | 'Duplicate' | 'InProgress' | 'Failed' | 'Rejected' | 'StoreUnavailable'
  notification?: Notification
  error?: unknown
}

/** Verifies one delivery (raw query and raw body) and runs `onNotification` once per notification. */
export declare function handleNotification(
  options: WebhookOptions & { query: string; body: string | Buffer | Uint8Array | ArrayBuffer },
): Promise<WebhookResult>

/** A handler for `http.createServer` or an Express route (mount no JSON parser before it).
 * `onError` sees each delivery answered non-200 because of an error (`result.error`: a forged or
 * malformed delivery, a body already parsed by a JSON parser, `onNotification` throwing, the
 * store unreachable); without it each is a `SosopayWarning` (`process.emitWarning`). */
export declare function createWebhookHandler(
  options: WebhookOptions & { limit?: number; onError?: (error: unknown, result: WebhookResult) => void },
): (req: IncomingMessage, res: ServerResponse) => Promise<void>

/** The raw query string of a request (Node, Express or Fastify), without the `?`. */
export declare function rawQuery(req: IncomingMessage | { url?: string; originalUrl?: string; raw?: IncomingMessage }): string

/** The raw body of a request: a raw-parsed `req.body`/`req.rawBody`, or read from the stream. */
export declare function readRawBody(req: IncomingMessage | object, options?: { limit?: number }): Promise<Buffer | string>
