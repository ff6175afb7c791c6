// Compiled with `tsc --noEmit --strict` by testing.test.js: `sosopay/testing`'s declarations
// must type this ordinary test code, and reject the mistakes marked @ts-expect-error.
import { Client, type PaymentOutcome } from 'sosopay'
import {
  SandboxError,
  codes,
  startSandbox,
  type Ledger,
  type NotificationAttempt,
  type Sandbox,
  type SandboxOrder,
} from 'sosopay/testing'

async function main(): Promise<number> {
  const sb: Sandbox = await startSandbox({ timeScale: 0.01, faults: ['query:http503:0.5'], seed: 7 })
  const client: Client = sb.client({ encrypt: true })
  const outcome: PaymentOutcome = await client.micropayAndWait(
    { chargeCode: 'T-1', amount: '1.00', dynamicId: codes.PAYS_AFTER_3S, paySubject: 'x' },
    { pollIntervalMs: 50 },
  )
  await client.createQrOrder({ chargeCode: 'T-2', amountFen: 100, channel: 'Wechat', paySubject: 'x', notifyUrl: 'http://127.0.0.1:9/n' })
  const paid: SandboxOrder = sb.pay('T-2')
  const declined: SandboxOrder = sb.fail('T-3')
  const o: SandboxOrder | null = sb.order('T-1')
  sb.faults.add('preOrder:drop_reply:1', 'notify:duplicate:1')
  sb.faults.set(['*:delay:1:200'], { seed: 1 })
  sb.faults.clear()
  const rules: string[] = sb.faults.rules
  const ledger: Ledger = sb.ledger()
  const fen: number = ledger.paidFen - ledger.refundedFen + (ledger.order('T-2')?.amountFen ?? 0)
  const attempts: NotificationAttempt[] = await sb.waitForNotification({ chargeCode: 'T-2', timeoutMs: 1000 })
  const ok: boolean = attempts.every((a) => a.accepted && a.httpStatus === 200)
  const state = await sb.waitForState('T-1', ['Paid', 'Refunded'])
  // @ts-expect-error: not an order state
  await sb.waitForState('T-1', 'paid')
  // @ts-expect-error: rules are strings
  sb.faults.add({ op: 'preOrder' })
  // @ts-expect-error: the admin API is synchronous and returns the order, not a Promise
  ;(await sb.pay('T-4')).then
  try {
    sb.pay('nope')
  } catch (e) {
    if (e instanceof SandboxError) return e.status
  }
  await sb.close()
  return [outcome.status, paid.state, declined.state, o?.state, rules, fen, ok, state.isPaid].length
}

void main

// TESTING.md: "`await using sb = await startSandbox()` closes it for you".
export async function disposed(): Promise<string> {
  await using sb = await startSandbox({ timeScale: 0.01 })
  return sb.baseUrl
}
