'use strict'
// The error classes of the SDK, and the one place where a native error becomes one of them.
//
// The Rust binding encodes every core error as `[sosopay]{json}` in the napi error message
// (bindings/node/src/error.rs): `code` is the core variant (`Error::kind()`), plus the variant's
// fields. `fromNative` turns that back into the matching subclass. napi's own argument errors
// (a missing field, a wrong type) become `ValidationError`s; anything else a `SosopayError`
// with code `internal`. No bare `Error` ever leaves the package.

const PREFIX = '[sosopay]'

/** Base class of every error the SDK throws or rejects with. */
class SosopayError extends Error {
  constructor(message, details = {}) {
    super(message)
    this.name = new.target.name
    /** The core error variant: `validation`, `signature`, `crypto`, `decode`, `gateway`,
     * `http_status`, `transport`, `timeout`, `outcome_unknown` (or `internal`). */
    this.code = details.code || 'internal'
    /** True when money may have moved: query the order before deciding anything. */
    this.outcomeUnknown = Boolean(details.outcomeUnknown)
    /** True when retrying an idempotent request (a query) may help. */
    this.retryable = Boolean(details.retryable)
  }
}

// One class per core error variant, generated from core/src/error.rs.
// --- generated from core/src/error.rs (scripts/gen-foreign.py)
/** A request or configuration field is missing or malformed; nothing was sent. */
class ValidationError extends SosopayError {
  constructor(message, details = {}) {
    super(message, { ...details, code: 'validation' })
    /** The field, by its JS (camelCase) name, e.g. `amountFen`, `goods[0].price`. */
    this.field = details.field
    /** Why it is rejected. */
    this.reason = details.reason
  }
}

/** A signature is malformed, does not match, or is too old. */
class SignatureError extends SosopayError {
  constructor(message, details = {}) {
    super(message, { ...details, code: 'signature' })
    /** Why. */
    this.reason = details.reason
  }
}

/** Base64, 3DES or padding failed: garbage, or the wrong key. */
class CryptoError extends SosopayError {
  constructor(message, details = {}) {
    super(message, { ...details, code: 'crypto' })
    /** Why. */
    this.reason = details.reason
    /**
     * The operation whose reply could not be decrypted (`preOrder`, `query`, ...); empty
     * outside a request (a notification, an envelope call).
     */
    this.operation = details.operation
  }
}

/** The gateway's reply (or a notification) could not be understood. */
class DecodeError extends SosopayError {
  constructor(message, details = {}) {
    super(message, { ...details, code: 'decode' })
    /** Why. */
    this.reason = details.reason
    /**
     * The operation whose reply could not be decoded (`preOrder`, `query`, ...); empty
     * outside a request (a notification, a document parsed by the caller).
     */
    this.operation = details.operation
  }
}

/** The gateway answered with a `RESULT.CODE` other than success. */
class GatewayError extends SosopayError {
  constructor(message, details = {}) {
    super(message, { ...details, code: 'gateway' })
    /** The result code. */
    this.resultCode = details.resultCode
    /** The gateway's message (`RESULT.INFO`). */
    this.info = details.info
    /** The operation answered (`preOrder`, `query`, ...); empty when not known. */
    this.operation = details.operation
  }
}

/** The gateway answered with an HTTP error status. */
class HttpStatusError extends SosopayError {
  constructor(message, details = {}) {
    super(message, { ...details, code: 'http_status' })
    /** The operation (`preOrder`, `query`, ...). */
    this.operation = details.operation
    /** The HTTP status. */
    this.status = details.status
  }
}

/** The request could not be delivered or its reply not read. */
class TransportError extends SosopayError {
  constructor(message, details = {}) {
    super(message, { ...details, code: 'transport' })
    /** The operation (`preOrder`, `query`, ...). */
    this.operation = details.operation
    /** What failed. */
    this.reason = details.reason
    /**
     * `false` when the request surely never reached the gateway (connection refused,
     * DNS failure); `true` when it may have been processed.
     */
    this.maybeSent = Boolean(details.maybeSent)
  }
}

/** No reply within the configured time. */
class TimeoutError extends SosopayError {
  constructor(message, details = {}) {
    super(message, { ...details, code: 'timeout' })
    /** The operation. */
    this.operation = details.operation
    /** The time waited. */
    this.afterMs = details.afterMs
  }
}

/**
 * A money-moving request may or may not have been carried out, and querying could not
 * settle it. Query `charge_code` later; never re-pay with a new charge code before that.
 */
class OutcomeUnknownError extends SosopayError {
  constructor(message, details = {}) {
    super(message, { ...details, code: 'outcome_unknown' })
    /** The operation. */
    this.operation = details.operation
    /** The merchant's order number. */
    this.chargeCode = details.chargeCode
    /** The last error seen. */
    this.reason = details.reason
  }
}

/** Core variant (`Error::kind()`) → class. */
const CORE_CLASSES = {
  validation: ValidationError,
  signature: SignatureError,
  crypto: CryptoError,
  decode: DecodeError,
  gateway: GatewayError,
  http_status: HttpStatusError,
  transport: TransportError,
  timeout: TimeoutError,
  outcome_unknown: OutcomeUnknownError,
}
// --- end of generated

/**
 * A flow (`micropayAndWait`, `waitForPayment`) aborted through its `signal` before it started:
 * nothing was sent. (Aborted once started, a flow resolves with its outcome instead.) `name` is
 * `'AbortError'`, as for `fetch`; `cause` is the signal's `reason`.
 */
class AbortError extends SosopayError {
  constructor(message = 'the flow was aborted before it started: nothing was sent', details = {}) {
    super(message, { ...details, code: 'aborted', outcomeUnknown: false })
    if (details.cause !== undefined) this.cause = details.cause
  }
}

/** Core variant (`Error::kind()`) → class, and the JS layer's own. */
const CLASSES = { ...CORE_CLASSES, aborted: AbortError }

/** napi statuses of argument conversion failures (a missing field, a wrong type). */
const ARGUMENT_STATUSES = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected',
  'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected',
  'ArrayBufferExpected',
])

/** The field named in a napi conversion message (`Missing field \`key\``, `... on X.baseUrl`). */
function argumentField(message) {
  const missing = /Missing field `([^`]+)`/.exec(message)
  if (missing) return missing[1]
  const on = /\bon ([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\s*$/.exec(message)
  if (on) return on[2]
  return undefined
}

/** Any error thrown by the native module → a `SosopayError` subclass. */
function fromNative(err) {
  if (err instanceof SosopayError) return err
  const message = err && typeof err.message === 'string' ? err.message : String(err)
  if (message.startsWith(PREFIX)) {
    let details
    try {
      details = JSON.parse(message.slice(PREFIX.length))
    } catch {
      details = { code: 'internal', message, outcomeUnknown: true }
    }
    const Cls = CLASSES[details.code] || SosopayError
    return new Cls(details.message, details)
  }
  // A TypeError from a native call is V8 refusing an argument (e.g. undefined for an object).
  if (err && (ARGUMENT_STATUSES.has(err.code) || err instanceof TypeError)) {
    const field = argumentField(message)
    return new ValidationError(field ? `invalid ${field}: ${message}` : message, {
      field,
      reason: message,
    })
  }
  // Unexpected: the SDK cannot tell whether a request went out, so it says "query first".
  const e = new SosopayError(message, { code: 'internal', outcomeUnknown: true })
  e.cause = err
  return e
}

module.exports = {
  SosopayError,
  ValidationError,
  SignatureError,
  CryptoError,
  DecodeError,
  GatewayError,
  HttpStatusError,
  TransportError,
  TimeoutError,
  OutcomeUnknownError,
  AbortError,
  ERROR_CLASSES: Object.freeze({ ...CLASSES }),
  fromNative,
}
