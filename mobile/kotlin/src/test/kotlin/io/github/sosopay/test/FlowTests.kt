package io.github.sosopay.test

import io.github.sosopay.*
import io.github.sosopay.example.TillScreen
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull
import java.io.File
import java.util.Collections
import java.util.UUID
import kotlin.test.assertEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** The sandbox runs at time scale 0.05: the gateway holds an unconfirmed micropay 4 s. */
private const val HOLD_MS = 4000L
private const val NEVER_CONFIRMS = "130000000000004000"
private const val CONFIRMS_IN_A_SECOND = "130000000000001020"

private val QUICK = WaitOptions(deadlineMs = 15000, pollIntervalMs = 50, maxPollIntervalMs = 200, cancelAttempts = 5)

private fun code(prefix: String) = prefix + "-" + UUID.randomUUID().toString().substring(0, 12)

private fun request(chargeCode: String, dynamicId: String = NEVER_CONFIRMS) =
    MicropayRequest(chargeCode = chargeCode, amountFen = 100, dynamicId = dynamicId, paySubject = "held")

/** The order's state in the sandbox's ledger (null: never sent). */
private fun ledgerState(admin: Admin, chargeCode: String): Long? {
    val (_, text) = admin.call("GET", "ledger")
    val orders = Json.parse(text).obj()["orders"].list().map { it.obj() }
    return orders.firstOrNull { it["charge_code"] == chargeCode }?.get("state")?.toString()?.toLong()
}

/** Polls the ledger until the order is in `state` (the flow finishes on its own thread). */
private fun awaitLedgerState(admin: Admin, chargeCode: String, state: Long, withinMs: Long = 3000) {
    val until = System.currentTimeMillis() + withinMs
    while (true) {
        val got = ledgerState(admin, chargeCode)
        if (got == state) return
        check(System.currentTimeMillis() < until) { "order $chargeCode is in state $got, not $state, after $withinMs ms" }
        Thread.sleep(20)
    }
}

/** Collects the events (they arrive on the flow's thread). */
private class Events : FlowProgress {
    val list: MutableList<FlowEvent> = Collections.synchronizedList(ArrayList())
    override fun onEvent(event: FlowEvent) {
        list.add(event)
    }
    fun kinds(): List<String> = synchronized(list) { list.map { it::class.simpleName ?: "?" } }
    fun awaitDone(withinMs: Long = 3000): FlowEvent.Done {
        val until = System.currentTimeMillis() + withinMs
        while (true) {
            synchronized(list) { (list.lastOrNull() as? FlowEvent.Done)?.let { return it } }
            check(System.currentTimeMillis() < until) { "no Done event: ${kinds()}" }
            Thread.sleep(10)
        }
    }
}

/** A client whose `RequestLogger` adds every attempt to `logs`. */
private fun loggedClient(baseUrl: String, logs: MutableList<RequestLog>) = SosopayClient(
    ClientConfig(busiCode = BUSI, key = MerchantKey(KEY), baseUrl = baseUrl, defaultOperId = "cashier-7", defaultDevId = "till-3"),
    RequestLogger { logs.add(it) },
)

/** Cancellation (tokens, coroutines), progress, and the suspend variants (issue #14). */
fun flowTests(r: Runner, baseUrl: String, vectorsPath: String) {
    val admin = Admin(baseUrl)
    val c = SosopayClient(
        ClientConfig(busiCode = BUSI, key = MerchantKey(KEY), baseUrl = baseUrl, defaultOperId = "cashier-7", defaultDevId = "till-3"),
    )

    r.test("async: cancelling the coroutine mid-hold reverses the order") {
        val cc = code("KC")
        val events = Events()
        val took = runBlocking {
            val job = launch { c.micropayAndWaitAsync(request(cc), QUICK, progress = events) }
            delay(400)
            assertEquals(0L, ledgerState(admin, cc), "held: awaiting the customer")
            val t0 = System.currentTimeMillis()
            job.cancel()
            job.join()
            assertTrue(job.isCancelled)
            awaitLedgerState(admin, cc, 2)
            System.currentTimeMillis() - t0
        }
        println("      cancel to reversed in the ledger: $took ms (hold $HOLD_MS ms)")
        assertTrue(took < HOLD_MS / 2, "took $took ms")
        val done = events.awaitDone()
        assertEquals(OutcomeStatus.CANCELLED, done.status, "the flow finished on its own thread")
        assertTrue(events.list.first() is FlowEvent.Sending, events.kinds().toString())
        assertTrue(events.list.any { it is FlowEvent.Cancelling && it.requested }, events.kinds().toString())
    }

    r.test("async: 10 parallel tills with structured concurrency") {
        val t0 = System.currentTimeMillis()
        val outcomes = runBlocking {
            coroutineScope {
                (1..10).map { i -> async { c.micropayAndWaitAsync(request(code("P$i"), CONFIRMS_IN_A_SECOND), QUICK) } }.awaitAll()
            }
        }
        val took = System.currentTimeMillis() - t0
        println("      10 tills (customer confirms after 1 s) on one thread: $took ms")
        assertEquals(List(10) { OutcomeStatus.PAID }, outcomes.map { it.status() })
        assertTrue(took < 3000, "took $took ms: the tills did not run in parallel")
    }

    r.test("async: a timeout around a coroutineScope of held tills reverses them all") {
        val codes = (1..5).map { code("T$it") }
        val result = runBlocking {
            withTimeoutOrNull(500) {
                coroutineScope { codes.map { cc -> async { c.micropayAndWaitAsync(request(cc), QUICK) } }.awaitAll() }
            }
        }
        assertNull(result)
        codes.forEach { awaitLedgerState(admin, it, 2) }
    }

    r.test("async: a CancelToken returns the outcome instead") {
        val cc = code("KT")
        val token = CancelToken()
        val out = runBlocking {
            launch { delay(400); token.cancel() }
            c.micropayAndWaitAsync(request(cc), QUICK, cancel = token)
        }
        assertEquals(OutcomeStatus.CANCELLED, out.status(), out.reason())
        assertEquals(2L, ledgerState(admin, cc))
    }

    r.test("async: waitForPaymentAsync cancelled stops waiting; the order is left as it is") {
        val cc = code("KW")
        c.createQrOrder(OrderRequest(chargeCode = cc, amountFen = 100, channel = Channel.Wechat, paySubject = "qr"))
        runBlocking {
            val job = launch { c.waitForPaymentAsync(cc, QUICK.copy(deadlineMs = 30000)) }
            delay(300)
            job.cancel()
            job.join()
        }
        assertEquals(0L, ledgerState(admin, cc))
        // Invalid options throw from the suspend variant too.
        val e = expectThrows<SosopayException.Validation> { runBlocking { c.waitForPaymentAsync(cc, QUICK.copy(deadlineMs = -1)) } }
        assertEquals("deadlineMs", e.field)
    }

    r.test("async: every single operation has a suspend variant, the blocking one's result and errors") {
        val cc = code("KS")
        val logs = Collections.synchronizedList(ArrayList<RequestLog>())
        val logged = loggedClient(baseUrl, logs)
        runBlocking {
            val paid = logged.micropayAsync(request(cc, "130730865806264036"))
            assertEquals(OrderState.Paid, paid.state)
            assertEquals(100L, paid.amountFen)
            val q = logged.queryAsync(QueryRequest(code = cc))
            assertEquals(OrderState.Paid, q.order.state)
            val refund = logged.refundAsync(RefundRequest(chargeCode = cc, outRefundNo = "R-$cc", refundAmountFen = 40, refundSubject = "part"))
            assertTrue(refund.result.code.isSuccess())
            val qr = logged.createQrOrderAsync(OrderRequest(chargeCode = "$cc-Q", amountFen = 250, channel = Channel.Alipay, paySubject = "qr"))
            assertTrue(qr.barCode != null)
            val cancelled = logged.cancelAsync(CancelRequest(chargeCode = "$cc-Q"))
            assertTrue(cancelled.result.code.isSuccess(), cancelled.toString())
            assertEquals(2L, ledgerState(admin, "$cc-Q"))
            // Ten queries at once from one thread: they overlap.
            val many = coroutineScope { (1..10).map { async { logged.queryAsync(QueryRequest(code = cc)).order.chargeCode } }.awaitAll() }
            assertEquals(List(10) { cc }, many)
        }
        assertEquals(listOf("preOrder", "query", "refund", "order", "cancelTrade"), logs.take(5).map { it.operation })
        // Errors are the blocking calls' errors, with the fields spelt as in Kotlin.
        val bad = expectThrows<SosopayException.Validation> {
            runBlocking { c.micropayAsync(MicropayRequest(chargeCode = "bad code", amountFen = 100, dynamicId = NEVER_CONFIRMS, paySubject = "x")) }
        }
        assertEquals("chargeCode", bad.field)
        val missing = expectThrows<SosopayException.Gateway> { runBlocking { c.queryAsync(QueryRequest(code = code("NONE"))) } }
        assertEquals(ResultCode.ChargeNonexistent, missing.resultCode)
        // queryCharge too.
        runBlocking {
            assertEquals(OrderState.PartiallyRefunded, c.queryChargeAsync(cc).order.state) // refunded in part above
            val none = expectThrows<SosopayException.Gateway> { c.queryChargeAsync(code("NONE")) }
            assertEquals(ResultCode.ChargeNonexistent, none.resultCode)
        }
    }

    r.test("async: a cancelled micropayAsync is not unsent: it runs to its end, the logger sees it") {
        val cc = code("KU")
        val logs = Collections.synchronizedList(ArrayList<RequestLog>())
        val logged = loggedClient(baseUrl, logs)
        runBlocking {
            // The customer confirms after about a second; the coroutine is cancelled before.
            val job = launch { logged.micropayAsync(request(cc, CONFIRMS_IN_A_SECOND)) }
            delay(300)
            job.cancel()
            job.join()
            assertTrue(job.isCancelled)
        }
        awaitLedgerState(admin, cc, 1)
        val until = System.currentTimeMillis() + 3000
        while (logs.none { it.operation == "preOrder" } && System.currentTimeMillis() < until) Thread.sleep(10)
        val log = logs.single { it.operation == "preOrder" }
        assertEquals(cc, log.chargeCode)
        assertEquals("SUCCESS", log.resultCode)
        assertEquals("1", log.orderState)
    }

    r.test("blocking: a CancelToken from another thread reverses the held payment; events in order") {
        val cc = code("KB")
        val token = CancelToken()
        val events = Events()
        Thread { Thread.sleep(400); token.cancel() }.start()
        val t0 = System.currentTimeMillis()
        val out = c.micropayAndWait(request(cc), QUICK, token, events)
        val took = System.currentTimeMillis() - t0
        assertEquals(OutcomeStatus.CANCELLED, out.status(), out.reason())
        assertTrue(took < HOLD_MS / 2 + 400, "took $took ms")
        assertEquals(2L, ledgerState(admin, cc))
        val kinds = events.kinds()
        assertEquals("Sending", kinds.first(), kinds.toString())
        assertEquals("Done", kinds.last(), kinds.toString())
        assertTrue(events.list.any { it is FlowEvent.Cancelling && it.requested }, kinds.toString())
        assertTrue(token.isCancelled())
    }

    r.test("blocking: progress of a paid flow; a throwing callback does not affect the payment") {
        val events = Events()
        val out = c.micropayAndWait(request(code("KP"), CONFIRMS_IN_A_SECOND), QUICK, progress = events)
        assertEquals(OutcomeStatus.PAID, out.status())
        val kinds = events.kinds()
        assertEquals("Sending", kinds.first(), kinds.toString())
        assertEquals(FlowEvent.Done::class.simpleName, kinds.last())
        assertEquals(OutcomeStatus.PAID, (events.list.last() as FlowEvent.Done).status)
        val queried = events.list.filterIsInstance<FlowEvent.Queried>()
        assertEquals(OrderState.Paid, queried.last().state)
        val elapsed = events.list.mapNotNull {
            when (it) { is FlowEvent.Waiting -> it.elapsedMs; is FlowEvent.Queried -> it.elapsedMs; else -> null }
        }
        assertEquals(elapsed.sorted(), elapsed)
        val throwing = object : FlowProgress {
            override fun onEvent(event: FlowEvent) { throw IllegalStateException("a broken display") }
        }
        assertEquals(OutcomeStatus.PAID, c.micropayAndWait(request(code("KX"), CONFIRMS_IN_A_SECOND), QUICK, progress = throwing).status())
    }

    r.test("blocking: a token cancelled before the start sends nothing (FAILED)") {
        val cc = code("KF")
        val token = CancelToken()
        token.cancel()
        val events = Events()
        val out = c.micropayAndWait(request(cc), QUICK, token, events)
        assertEquals(OutcomeStatus.FAILED, out.status())
        assertEquals(0, out.queries())
        assertEquals(listOf("Done"), events.kinds())
        assertNull(ledgerState(admin, cc))
    }

    r.test("README till screen example: pay, progress, cancel, final status") {
        val cc = code("TS")
        val lines = Collections.synchronizedList(ArrayList<String>())
        runBlocking {
            val screen = TillScreen(c, this) { lines.add(it) }
            val job = screen.pay(cc, 1250, NEVER_CONFIRMS)
            delay(400)
            screen.cancel()
            job.join()
        }
        assertEquals("sending the payment...", lines.first(), lines.toString())
        assertTrue(lines.last().startsWith("final: CANCELLED"), lines.toString())
        assertTrue(lines.any { it.startsWith("waiting for the customer") }, lines.toString())
        // Once cancelling, the screen does not go back to "waiting" (the confirming query).
        val cancelling = lines.indexOf("cancelling the payment...")
        assertTrue(cancelling > 0, lines.toString())
        assertTrue(lines.drop(cancelling).none { it.startsWith("waiting") }, lines.toString())
        assertEquals(2L, ledgerState(admin, cc))
        // The README shows this very file.
        val root = File(vectorsPath).absoluteFile.parentFile.parentFile.parentFile
        val readme = File(root, "mobile/README.md").readText()
        val source = File(root, "mobile/kotlin/src/test/kotlin/io/github/sosopay/example/TillScreen.kt").readText()
        val body = source.substringAfter("\n\n") // without the package line
        assertTrue(readme.contains(body.trimEnd()), "mobile/README.md does not show TillScreen.kt as it is")
    }
}
