package shop.till

import com.sun.net.httpserver.HttpServer
import io.github.sosopay.Channel
import io.github.sosopay.ClientConfig
import io.github.sosopay.MerchantKey
import io.github.sosopay.MicropayRequest
import io.github.sosopay.NotificationVerifier
import io.github.sosopay.OrderRequest
import io.github.sosopay.PaymentOutcome
import io.github.sosopay.SosopayClient
import io.github.sosopay.WaitOptions
import io.github.sosopay.testing.SandboxException
import io.github.sosopay.testing.SandboxGateway
import io.github.sosopay.testing.SandboxOptions
import io.github.sosopay.testing.TestMerchant
import io.github.sosopay.testing.codeInsufficientFundsAfter
import io.github.sosopay.testing.codeNeverConfirms
import io.github.sosopay.testing.codePayNow
import io.github.sosopay.testing.codePaysAfter
import io.github.sosopay.testing.codeReplyLostAfter
import io.github.sosopay.testing.testMerchant
import org.junit.After
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.BeforeClass
import org.junit.Test
import java.net.InetSocketAddress
import java.util.UUID
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

private inline fun <reified T : Throwable> assertFailsWith(crossinline block: () -> Unit): T =
    assertThrows(T::class.java) { block() }

/** The till's own tests: everything runs against the sandbox gateway of the testing kit,
 *  in-process, at 1/100 of the gateway's real durations (the 80 s hold takes 0.8 s). */
class TillTest {
    companion object {
        private lateinit var sandbox: SandboxGateway

        @BeforeClass @JvmStatic
        fun startSandbox() {
            sandbox = SandboxGateway.start(SandboxOptions(timeScale = 0.01))
        }

        @AfterClass @JvmStatic
        fun stopSandbox() = sandbox.close()
    }

    private val merchant = testMerchant()
    private lateinit var till: Till

    @Before
    fun setUp() {
        sandbox.reset()
        sandbox.clearFaults()
        till = Till(sandbox.baseUrl(), merchant.busiId, merchant.key)
    }

    @After
    fun tearDown() = till.close()

    private fun newSale() = "SALE-" + UUID.randomUUID().toString().take(12)

    @Test
    fun `the customer pays at once`() {
        val sale = newSale()
        val result = till.charge(sale, 1999, codePayNow())
        assertTrue("$result", result is Sale.Paid)
        assertEquals(1999L, (result as Sale.Paid).amountFen)
        val order = sandbox.order(sale)!!
        assertEquals(1u, order.state)
        assertEquals(1999uL, order.amountFen)
    }

    @Test
    fun `the customer confirms slowly on the phone`() {
        val result = till.charge(newSale(), 500, codePaysAfter(3u))
        assertTrue("$result", result is Sale.Paid)
    }

    @Test
    fun `the customer's balance is too low`() {
        val sale = newSale()
        val result = till.charge(sale, 500, codeInsufficientFundsAfter(0u))
        assertTrue("$result", result is Sale.NotPaid)
        assertEquals(6u, sandbox.order(sale)!!.state) // closed: nothing was charged
    }

    @Test
    fun `the customer never confirms`() {
        val sale = newSale()
        val result = till.charge(sale, 500, codeNeverConfirms())
        assertTrue("$result", result is Sale.NotPaid)
        assertEquals(0uL, sandbox.ledger().orders.single().refundedFen)
        assertTrue(sandbox.order(sale)!!.paidAtMs == null)
    }

    @Test
    fun `the gateway's reply says EXCEPTION but the order is paid`() {
        val result = till.charge(newSale(), 800, codeReplyLostAfter(0u))
        assertTrue("$result", result is Sale.Paid)
    }

    @Test
    fun `the reply is lost on the way back`() {
        sandbox.addFaults(listOf("preOrder:drop_reply:1"))
        val sale = newSale()
        val result = till.charge(sale, 1200, codePayNow())
        // The core queries the order instead of charging again: the sale is paid once.
        assertTrue("$result", result is Sale.Paid)
        val ledger = sandbox.ledger()
        assertEquals(1, ledger.orders.size)
        assertEquals("drop_reply", ledger.faults.events.first().kind)
    }

    @Test
    fun `a request that arrives late is waited for with the sandbox's gateway hold`() {
        assertEquals(800L, sandbox.gatewayHoldMs()) // 80 s at timeScale 0.01
        // A client that gives up on a micropay after 300 ms.
        val client = SosopayClient(
            ClientConfig(
                busiCode = merchant.busiId, key = MerchantKey(merchant.key), baseUrl = sandbox.baseUrl(),
                micropayTimeoutMs = 300, defaultOperId = "cashier-7", defaultDevId = "till-3",
            ),
        )
        client.use {
            // The micropay reaches the gateway 1.5 s late (wall time), long after the client gave
            // up on it; the gateway carries it out all the same.
            sandbox.setFaults(listOf("preOrder:late:1:1500"), null)
            assertEquals(2300L, sandbox.gatewayHoldMs()) // the scaled hold + the longest late fault
            val options = WaitOptions(pollIntervalMs = 50, gatewayHoldMs = sandbox.gatewayHoldMs())
            val sale = newSale()
            val outcome = client.micropayAndWait(
                MicropayRequest(chargeCode = sale, amountFen = 1200, dynamicId = codePayNow(), paySubject = "Store #12"),
                options,
            )
            assertTrue("$outcome", outcome is PaymentOutcome.Paid) // never FAILED for a charged customer
            assertEquals(1u, sandbox.order(sale)!!.state)

            // The scaled hold alone does not cover the late fault: the flow settles "no such
            // order" as FAILED, and the customer is charged a moment later.
            val short = newSale()
            val failed = client.micropayAndWait(
                MicropayRequest(chargeCode = short, amountFen = 1200, dynamicId = codePayNow(), paySubject = "Store #12"),
                WaitOptions(pollIntervalMs = 50, gatewayHoldMs = 800),
            )
            assertTrue("$failed", failed is PaymentOutcome.Failed)
            assertEquals(1u, sandbox.waitForState(short, listOf("Paid"), timeoutMs = 5000u).state)
        }
        sandbox.clearFaults()
        assertEquals(800L, sandbox.gatewayHoldMs())
    }

    @Test
    fun `the kit's waits return the order or say what they saw`() {
        val sale = newSale()
        SosopayClient(ClientConfig(busiCode = merchant.busiId, key = MerchantKey(merchant.key), baseUrl = sandbox.baseUrl())).use { shop ->
            shop.createQrOrder(
                OrderRequest(chargeCode = sale, amountFen = 300, channel = Channel.Wechat, paySubject = "Tea", operId = "web", devId = "shop"),
            )
        }
        val timedOut = assertFailsWith<SandboxException.Timeout> {
            sandbox.waitForState(sale, listOf("Paid"), timeoutMs = 20u)
        }
        assertTrue(timedOut.reason, timedOut.reason.contains("not in Paid") && timedOut.reason.contains("AwaitingPayment"))
        val bad = assertFailsWith<SandboxException.Invalid> { sandbox.waitForState(sale, listOf("Sleeping")) }
        assertEquals("states[0]", bad.field)
        Thread { Thread.sleep(20); sandbox.pay(sale) }.start()
        assertEquals(1u, sandbox.waitForState(sale, listOf("Paid", "Closed")).state)
        assertFailsWith<SandboxException.Timeout> { sandbox.waitForNotification(sale, timeoutMs = 0u) }
        val invalid = assertFailsWith<SandboxException.Invalid> { SandboxGateway.start(SandboxOptions(timeScale = 0.0)) }
        assertEquals("timeScale", invalid.field)
        val noKey = assertFailsWith<SandboxException.Invalid> { sandbox.addMerchant(TestMerchant(busiId = "0050000005", key = "")) }
        assertEquals("merchant.key", noKey.field)
        val noId = assertFailsWith<SandboxException.Invalid> { sandbox.addMerchant(TestMerchant(busiId = "", key = merchant.key)) }
        assertEquals("merchant.busiId", noId.field)
    }

    @Test
    fun `an invalid amount is never sent`() {
        val result = till.charge(newSale(), 0, codePayNow())
        assertTrue("$result", result is Sale.Invalid)
        assertTrue(sandbox.ledger().orders.isEmpty())
    }

    @Test
    fun `the shop's webhook gets the notification and processes it once`() {
        // The duplicate fault sends every notification twice.
        sandbox.addFaults(listOf("notify:duplicate:1"))
        val seen = ConcurrentHashMap.newKeySet<String>()
        val fulfilled = AtomicInteger()
        val done = CountDownLatch(2)
        val verifier = NotificationVerifier(MerchantKey(merchant.key), busiCode = merchant.busiId)
        val server = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
        server.createContext("/notify") { ex ->
            val status = try {
                val n = verifier.parse(ex.requestURI.rawQuery ?: "", ex.requestBody.readBytes())
                // Process each notification once: a redelivery is answered 200 and ignored.
                if (seen.add(n.idempotencyKey)) fulfilled.incrementAndGet()
                200
            } catch (e: Exception) {
                400
            }
            ex.sendResponseHeaders(status, -1)
            ex.close()
            done.countDown()
        }
        server.start()
        try {
            val sale = newSale()
            SosopayClient(ClientConfig(busiCode = merchant.busiId, key = MerchantKey(merchant.key), baseUrl = sandbox.baseUrl())).use { shop ->
                shop.createQrOrder(
                    OrderRequest(
                        chargeCode = sale, amountFen = 2500, channel = Channel.Wechat, paySubject = "Order",
                        operId = "web", devId = "shop",
                        notifyUrl = "http://127.0.0.1:${server.address.port}/notify?_type=json",
                    ),
                )
            }
            sandbox.pay(sale) // the customer scans the QR code and pays
            assertTrue("two deliveries", done.await(20, TimeUnit.SECONDS))
            assertEquals("delivered twice, fulfilled once", 1, fulfilled.get())
            // The sandbox records an attempt once it has read the answer, just after our handler
            // counted down: wait for both records.
            val attempts = sandbox.waitForNotification(chargeCode = sale, count = 2u)
            assertEquals(2, attempts.size)
            assertTrue(attempts.all { it.httpStatus == 200.toUShort() && it.accepted && it.chargeCode == sale })
        } finally {
            server.stop(0)
        }
    }
}
