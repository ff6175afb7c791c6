// Compiled with `tsc --noEmit --strict` by types.test.js: the package's declarations must type
// this ordinary usage, and reject the mistakes marked @ts-expect-error.
import {
  AbortError,
  CancelToken,
  Client,
  Envelope,
  GatewayError,
  OrderState,
  SosopayError,
  ValidationError,
  createWebhookHandler,
  parseNotification,
  type FlowEvent,
  type MicropayRequest,
  type OutcomeStatus,
  type Notification,
  type OrderReply,
  type PaymentOutcome,
} from 'sosopay'
import http from 'node:http'

async function till(client: Client): Promise<string> {
  const req: MicropayRequest = { chargeCode: 'C1', amount: '0.01', dynamicId: '134567890123456789', paySubject: 'coffee' }
  const outcome: PaymentOutcome = await client.micropayAndWait(req, { deadlineMs: 90_000 })
  if (outcome.status === 'Paid') return outcome.order?.amountYuan ?? ''
  // @ts-expect-error: not an outcome status
  if (outcome.status === 'paid') return ''
  return outcome.reason
}

async function qr(client: Client): Promise<string | undefined> {
  const reply: OrderReply = await client.createQrOrder({ chargeCode: 'C2', amountFen: 100, channel: 'Wechat', paySubject: 'tea' })
  const state: OrderState | undefined = reply.state
  void state
  await client.refund({ chargeCode: 'C2', outRefundNo: 'R1', refundAmountFen: 50n, refundSubject: 'refund' })
  // @ts-expect-error: a JS number is not accepted for a yuan amount
  await client.micropay({ chargeCode: 'C3', amount: 0.01, dynamicId: 'x', paySubject: 's' })
  return reply.barCode
}

async function tillScreen(client: Client, ac: AbortController): Promise<PaymentOutcome | 'aborted'> {
  const show = (e: FlowEvent): void => {
    const kind: 'sending' | 'waiting' | 'queried' | 'cancelling' | 'done' = e.kind
    const status: OutcomeStatus | undefined = e.status
    void kind; void status; void e.elapsedMs; void e.state; void e.requested
  }
  try {
    return await client.micropayAndWait(
      { chargeCode: 'C4', amountFen: 1, dynamicId: 'x', paySubject: 's' },
      { deadlineMs: 60_000, signal: ac.signal, onProgress: show },
    )
  } catch (e) {
    if (e instanceof AbortError) return 'aborted'
    throw e
  }
}

async function waitScreen(client: Client): Promise<OutcomeStatus> {
  const token = new CancelToken()
  token.cancel()
  // @ts-expect-error: onProgress is a function
  await client.waitForPayment('C5', { onProgress: 42 })
  return (await client.waitForPayment('C5', { signal: AbortSignal.timeout(1000) }, token)).status
}

function errors(e: unknown): string {
  if (e instanceof GatewayError) return `${e.resultCode}: ${e.info}`
  if (e instanceof ValidationError) return `bad ${e.field}`
  if (e instanceof SosopayError && e.outcomeUnknown) return 'query before deciding'
  return 'other'
}

const env = new Envelope('key')
const sealed = env.seal('{"AMT":"0.01"}')
const plain: string = env.open(sealed.sign, sealed.ciphertext)
const n: Notification = parseNotification({ key: 'key', query: 'sign=x:1', body: Buffer.from('{}') })
const paid: boolean = n.order.state === OrderState.Paid
// Every notification has these: not optional in the type.
const guaranteed: [string, OrderState, number, string] = [n.chargeCode, n.state, n.amountFen, n.amountYuan]
void guaranteed

http.createServer(createWebhookHandler({ key: 'key', onNotification: async (note) => { void note.order.chargeCode } }))
const client = new Client({ busiCode: '0010000001', key: 'key', environment: 'uat', timeoutMs: 20_000 })
void till(client); void qr(client); void tillScreen(client, new AbortController()); void waitScreen(client); void errors; void plain; void paid

// Stores shared by many worker processes (sosopay/stores).
import { RedisIdempotencyStore, PostgresIdempotencyStore, StoreUnavailableError, applySchema } from 'sosopay/stores'
async function shared(): Promise<void> {
  const redis = new RedisIdempotencyStore({ url: 'redis://localhost:6379/0', leaseMs: 30_000 })
  const pg = new PostgresIdempotencyStore({ connectionString: 'postgresql://app@db/app', table: 'app.notifications' })
  await applySchema('postgresql://app@db/app')
  const claim = await redis.begin('id')
  if (claim.state === 'New' && claim.token) await redis.complete('id', claim.token)
  // @ts-expect-error a claim state is one of three
  if (claim.state === 'Busy') return
  const purged: number = await pg.purge()
  http.createServer(createWebhookHandler({ key: 'key', store: pg, onNotification: () => {} }))
  const err: unknown = null
  if (err instanceof StoreUnavailableError) void err.message
  void purged
}
void shared

// operId / devId: required in requests unless the client has defaults.
async function ids(): Promise<void> {
  const bare = new Client({ busiCode: '0010000001', key: 'key' })
  // @ts-expect-error this client has no defaultOperId / defaultDevId
  await bare.micropay({ chargeCode: 'C5', amountFen: 1, dynamicId: 'x', paySubject: 's' })
  await bare.micropay({ chargeCode: 'C5', amountFen: 1, dynamicId: 'x', paySubject: 's', operId: 'o', devId: 'd' })
  // @ts-expect-error devId is still required
  await bare.refund({ chargeCode: 'C5', refundAmountFen: 1, refundSubject: 'r', operId: 'o' })
  await bare.query('C5')
  const withDefaults = new Client({ busiCode: '0010000001', key: 'key', defaultOperId: 'till-1', defaultDevId: 'pos-1' })
  await withDefaults.createQrOrder({ chargeCode: 'C6', amountFen: 100, channel: 'Wechat', paySubject: 'tea' })
  const any: Client = bare
  void any; void (bare instanceof Client)
}
void ids

// The types export only what the package exports at run time: the native layer's internals
// (sosopay.js keeps them to itself) would type-check and then be undefined.
import * as pkg from 'sosopay'
export function internalsAreNotExported(): unknown[] {
  return [
    // @ts-expect-error: internal to the testing kit
    pkg.TEST_KEY,
    // @ts-expect-error: internal to the webhook helpers
    pkg.webhookAnswer,
    // @ts-expect-error: internal to napi's loader
    pkg.__napiBindingTarget,
    // @ts-expect-error: internal to the stores
    pkg.storeWire,
    pkg.signBody,
    pkg.Envelope,
  ]
}
