package io.github.sosopay.test

import com.sun.net.httpserver.HttpServer
import io.github.sosopay.*
import io.github.sosopay.example.Till
import kotlinx.coroutines.runBlocking
import java.net.HttpURLConnection
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.URI
import java.util.Collections
import java.util.UUID
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** The sandbox's test merchant (docs/SANDBOX.md). */
const val BUSI = "0010000001"
const val KEY = "98SDKFUO432HNODS098EEE07U9DUOIUE"

/** Customer payment codes understood by the sandbox: `PP000000000000BNNN`, behaviour B after
 *  NNN (scaled) seconds; any other code pays at once. */
object Codes {
    const val PAY_NOW = "134567890123456789"           // WeChat, pays at once
    const val CONFIRMING_THEN_PAY = "130000000000001020" // held while the user confirms, then paid
    const val PAYING_THEN_PAY = "130000000000002040"   // "user is paying" at once, paid later
    const val CONFIRMING_PAST_HOLD = "130000000000001090" // still confirming when the 80 s hold ends
    const val INSUFFICIENT_FUNDS = "280000000000003010"
    const val PAYING_NEVER_CONFIRMS = "130000000000005000"
    const val CODE_EXPIRED = "130000000000006000"
    const val EXCEPTION_BUT_PAID = "130000000000007010"
}

private fun newCode(prefix: String) = prefix + "-" + UUID.randomUUID().toString().substring(0, 12)

/** The sandbox's admin endpoints (`/_sandbox/...`), with plain HttpURLConnection. */
class Admin(baseUrl: String) {
    private val root = baseUrl.substringBefore("openGateway/")

    fun call(method: String, path: String, body: String? = null): Pair<Int, String> {
        val c = URI(root + "_sandbox/" + path).toURL().openConnection() as HttpURLConnection
        c.requestMethod = method
        c.connectTimeout = 5000
        c.readTimeout = 10000
        if (body != null) {
            c.doOutput = true
            c.setRequestProperty("Content-Type", "application/json")
            c.outputStream.use { it.write(body.toByteArray()) }
        }
        val status = c.responseCode
        val text = (if (status < 400) c.inputStream else c.errorStream)?.use { it.readBytes().decodeToString() } ?: ""
        return status to text
    }

    fun pay(chargeCode: String) {
        val (s, t) = call("POST", "orders/$chargeCode/pay")
        assertEquals(200, s, t)
    }

    fun setFaults(json: String) {
        val (s, t) = call("POST", "faults", json)
        assertEquals(200, s, t)
    }

    fun clearFaults() {
        call("DELETE", "faults")
    }
}

private fun client(
    baseUrl: String,
    encrypt: Boolean = false,
    format: ReplyFormat? = null,
    key: String = KEY,
    logger: RequestLogger? = null,
    retryMaxAttempts: Int = 3,
    timeoutMs: Long = 20000,
): SosopayClient = SosopayClient(
    ClientConfig(
        busiCode = BUSI, key = MerchantKey(key), baseUrl = baseUrl, encrypt = encrypt, format = format,
        retryMaxAttempts = retryMaxAttempts, retryBaseDelayMs = 10, retryMaxDelayMs = 50, timeoutMs = timeoutMs,
        defaultOperId = "cashier-7", defaultDevId = "till-3",
    ),
    logger,
)

/** Fast polling for the sandbox's scaled time (0.05: the 80 s hold lasts 4 s). */
private val FAST = WaitOptions(deadlineMs = 15000, pollIntervalMs = 100, maxPollIntervalMs = 300, cancelAttempts = 5)

private fun micropay(code: String, dynamicId: String, fen: Long = 1500) =
    MicropayRequest(chargeCode = code, amountFen = fen, dynamicId = dynamicId, paySubject = "咖啡 coffee")

/** Every client operation and both flows against the sandbox gateway. */
fun sandboxTests(r: Runner, baseUrl: String) {
    val admin = Admin(baseUrl)
    val (hs, ht) = admin.call("GET", "health")
    assertEquals(200, hs, ht)
    val c = client(baseUrl)

    r.test("client: config and environments") {
        assertEquals(BUSI, c.busiCode())
        assertTrue(c.baseUrl().endsWith("/openGateway/openService/"))
        assertTrue(environmentBaseUrl(GatewayEnvironment.PRODUCTION).startsWith("https://"))
        assertTrue(environmentBaseUrl(GatewayEnvironment.UAT).endsWith("/openGateway/openService/"))
        val e = expectThrows<SosopayException.Validation> {
            SosopayClient(ClientConfig(busiCode = BUSI, key = MerchantKey(KEY), baseUrl = "ftp://x/"))
        }
        assertEquals("baseUrl", e.field)
        val e2 = expectThrows<SosopayException.Validation> {
            SosopayClient(ClientConfig(busiCode = BUSI, key = MerchantKey(KEY), baseUrl = baseUrl, timeoutMs = -1))
        }
        assertEquals("timeoutMs", e2.field)
        // Credentials in the URL would be printed with it: refused, and the password not echoed.
        val e3 = expectThrows<SosopayException.Validation> {
            SosopayClient(ClientConfig(busiCode = BUSI, key = MerchantKey(KEY), baseUrl = "http://shop:s3cret@gw.example/"))
        }
        assertEquals("baseUrl", e3.field)
        assertFalse(e3.toString().contains("s3cret"), e3.toString())
        // OPER_ID and DEV_ID: per request, or the client's defaults (mobile/README.md).
        val bare = SosopayClient(ClientConfig(busiCode = BUSI, key = MerchantKey(KEY), baseUrl = baseUrl))
        val e4 = expectThrows<SosopayException.Validation> {
            bare.micropay(MicropayRequest(chargeCode = "NO-OPER-1", amountFen = 100, dynamicId = "130730865806264036", paySubject = "x"))
        }
        assertEquals("operId", e4.field)
        // Printing the configuration never shows the key.
        val cfg = ClientConfig(busiCode = BUSI, key = MerchantKey(KEY), baseUrl = baseUrl)
        assertFalse(cfg.toString().contains(KEY), cfg.toString())
    }

    r.test("waitForPayment: amountFen is checked (negative, over the limit) and names the field") {
        for (bad in listOf(-1L, 0L, 9007199254740992L)) {
            val e = expectThrows<SosopayException.Validation> { c.waitForPayment("WAIT-AMT-1", amountFen = bad) }
            assertEquals("amountFen", e.field, e.reason)
        }
    }

    r.test("client: negative and out-of-range numbers, and the core's limits, name the field") {
        val cfg = ClientConfig(busiCode = BUSI, key = MerchantKey(KEY), baseUrl = baseUrl)
        val configCases = listOf(
            "retryMaxAttempts" to cfg.copy(retryMaxAttempts = -1),
            "retryMaxAttempts" to cfg.copy(retryMaxAttempts = 0),
            "retryMaxAttempts" to cfg.copy(retryMaxAttempts = 11),
            "timeoutMs" to cfg.copy(timeoutMs = 0),
            "connectTimeoutMs" to cfg.copy(connectTimeoutMs = 600_001),
            "retryBaseDelayMs" to cfg.copy(retryBaseDelayMs = 5000, retryMaxDelayMs = 1000),
            "retryMaxDelayMs" to cfg.copy(retryMaxDelayMs = -1),
            "maxIdleConnections" to cfg.copy(maxIdleConnections = 0),
            "maxIdleConnections" to cfg.copy(maxIdleConnections = -1),
            // A CA that cannot be used is refused when the client is built, naming the setting.
            "caFile" to cfg.copy(caFile = "/nonexistent/ca.pem"),
            "caPem" to cfg.copy(caPem = "no certificate here"),
            "caFile" to cfg.copy(caFile = "/etc/hostname", caPem = "x"),
        )
        for ((field, bad) in configCases) {
            val e = expectThrows<SosopayException.Validation> { SosopayClient(bad) }
            assertEquals(field, e.field, "$bad: ${e.reason}")
            // A reason naming another setting names it as Kotlin spells it.
            assertFalse(e.reason.contains("retry_") || e.reason.contains("retry.") || e.reason.contains("ca_"), e.reason)
        }
        SosopayClient(cfg.copy(retryMaxAttempts = 10, retryBaseDelayMs = 0, timeoutMs = 1, maxIdleConnections = 1))
        assertEquals(32, cfg.maxIdleConnections) // the core's default

        val req = micropay(newCode("NV"), Codes.PAY_NOW)
        val waitCases = listOf(
            "cancelAttempts" to FAST.copy(cancelAttempts = -1),
            "cancelAttempts" to FAST.copy(cancelAttempts = 0),
            "deadlineMs" to FAST.copy(deadlineMs = -1),
            "maxDurationMs" to FAST.copy(deadlineMs = 20000, maxDurationMs = 10000),
            "maxDurationMs" to WaitOptions(maxDurationMs = 30000), // below the default deadline
            "gatewayHoldMs" to FAST.copy(gatewayHoldMs = -1),
            // Beyond the core's limit for any duration (10^7 s), as in every runtime.
            "gatewayHoldMs" to FAST.copy(gatewayHoldMs = Long.MAX_VALUE),
            "pollIntervalMs" to FAST.copy(pollIntervalMs = 1),
        )
        for ((field, opts) in waitCases) {
            val e = expectThrows<SosopayException.Validation> { c.micropayAndWait(req, opts) }
            assertEquals(field, e.field, "$opts: ${e.reason}")
            val e2 = expectThrows<SosopayException.Validation> { c.waitForPayment(req.chargeCode, opts) }
            assertEquals(field, e2.field, "$opts: ${e2.reason}")
        }
        val e = expectThrows<SosopayException.Validation> {
            c.flowRecharge(FlowRechargeRequest(phoneNo = "13800138000", flowValMb = -1))
        }
        assertEquals("flowValMb", e.field)
        val e2 = expectThrows<SosopayException.Validation> { c.micropay(req.copy(timeExpireSeconds = -1)) }
        assertEquals("timeExpireSeconds", e2.field)
        // Nothing above reached the gateway: the charge code is still unknown there.
        expectThrows<SosopayException.Gateway> { c.queryCharge(req.chargeCode) }
    }

    r.test("flow: another payment's charge code is a conflict, that order left untouched") {
        val code = newCode("CF")
        c.createQrOrder(OrderRequest(chargeCode = code, amountFen = 100, channel = Channel.Wechat, paySubject = "x"))
        val outcome = c.micropayAndWait(micropay(code, Codes.PAY_NOW, 2), FAST.copy(deadlineMs = 2000))
        assertEquals(OutcomeStatus.CONFLICT, outcome.status(), outcome.reason())
        assertEquals(100L, outcome.order()!!.amountFen)
        assertEquals(OrderState.AwaitingPayment, c.queryCharge(code).order.state)
    }

    r.test("micropay: pays at once, amounts in fen and yuan") {
        val code = newCode("MP")
        val reply = c.micropay(micropay(code, Codes.PAY_NOW, 1234))
        assertEquals(ResultCode.Success, reply.result.code)
        assertEquals(code, reply.chargeCode)
        assertEquals(OrderState.Paid, reply.state)
        assertEquals(1234L, reply.amountFen)
        assertEquals("12.34", reply.amountYuan)
        assertEquals(Channel.Wechat, reply.channel)
        assertNotNull(reply.chargeDownCode)
        assertEquals("cashier-7", reply.operId)
        assertTrue(reply.rawJson.contains(code))
    }

    r.test("query: by charge code and by request") {
        val code = newCode("Q")
        c.micropay(micropay(code, Codes.PAY_NOW, 880))
        val q = c.queryCharge(code)
        assertEquals(OrderState.Paid, q.order.state)
        assertEquals(880L, q.order.amountFen)
        assertEquals("8.80", q.order.amountYuan)
        assertEquals(code, q.order.chargeCode)
        assertEquals(BUSI, q.order.busiId)
        assertTrue(q.order.fundBills.isNotEmpty())
        assertEquals(880L, q.order.fundBills.sumOf { it.amountFen })
        val down = q.order.chargeDownCode!!
        val q2 = c.query(QueryRequest(code = down, serType = SerType.ChargeDownCode))
        assertEquals(code, q2.order.chargeCode)
    }

    r.test("QR order: bar code, paid through the sandbox, waitForPayment") {
        val code = newCode("QR")
        val reply = c.createQrOrder(OrderRequest(chargeCode = code, amountFen = 2500, channel = Channel.Alipay, paySubject = "order",
            goods = listOf(Goods(id = "g1", name = "tea", category = "drinks", priceFen = 2500, subject = "tea", quantity = 1))))
        assertNotNull(reply.barCode)
        assertTrue(reply.barCode!!.isNotEmpty())
        val pending = c.waitForPayment(code, FAST.copy(deadlineMs = 300))
        assertEquals(OutcomeStatus.PENDING, pending.status())
        admin.pay(code)
        val outcome = c.waitForPayment(code, FAST)
        assertEquals(OutcomeStatus.PAID, outcome.status(), outcome.reason())
        assertEquals(2500L, outcome.order()!!.amountFen)
        assertTrue(outcome.queries() >= 1)
        // An order showing another MERCHANTPARA than the one waited for is another payment's.
        val mp = newCode("QRMP")
        c.createQrOrder(OrderRequest(chargeCode = mp, amountFen = 2500, channel = Channel.Alipay, paySubject = "order", merchantPara = "c2hvcC0x"))
        admin.pay(mp)
        val other = c.waitForPayment(mp, FAST, amountFen = 2500, merchantPara = "c2hvcC0y")
        assertEquals(OutcomeStatus.CONFLICT, other.status(), other.reason())
        assertEquals(OutcomeStatus.PAID, c.waitForPayment(mp, FAST, amountFen = 2500, merchantPara = "c2hvcC0x").status())
    }

    r.test("JSAPI order: pay parameters") {
        val code = newCode("JS")
        val reply = c.createJsapiOrder(OrderRequest(chargeCode = code, amountFen = 100, channel = Channel.Wechat,
            paySubject = "jsapi", subOpenid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
        val j = assertNotNull(reply.jsapi)
        assertTrue(j.appId.isNotEmpty())
        assertTrue(j.packageData.startsWith("prepay_id="), j.packageData)
        assertTrue(j.paySign.isNotEmpty())
        val e = expectThrows<SosopayException.Validation> {
            c.createJsapiOrder(OrderRequest(chargeCode = newCode("JS"), amountFen = 100, channel = Channel.Wechat, paySubject = "x"))
        }
        assertEquals("subOpenid", e.field)
    }

    r.test("refund: partial, then too much (typed gateway error)") {
        val code = newCode("RF")
        c.micropay(micropay(code, Codes.PAY_NOW, 1000))
        val rf = c.refund(RefundRequest(refundAmountFen = 400, refundSubject = "return", chargeCode = code, outRefundNo = newCode("R")))
        assertEquals(ResultCode.Success, rf.result.code)
        assertEquals(OrderState.PartiallyRefunded, c.queryCharge(code).order.state)
        val e = expectThrows<SosopayException.Gateway> {
            c.refund(RefundRequest(refundAmountFen = 700, refundSubject = "too much", chargeCode = code, outRefundNo = newCode("R")))
        }
        assertEquals(ResultCode.AmtError, e.resultCode)
        assertTrue(e.info.isNotEmpty())
        assertEquals("gateway", e.kind())
        assertFalse(e.outcomeUnknown())
        // The refund's unique number is required (non-null, and not empty): without it a lost
        // reply could not be retried without refunding twice.
        val v = expectThrows<SosopayException.Validation> {
            c.refund(RefundRequest(refundAmountFen = 1, refundSubject = "r", chargeCode = code, outRefundNo = ""))
        }
        assertEquals("outRefundNo", v.field)
    }

    r.test("cancel: an open QR order, then query") {
        val code = newCode("CX")
        c.createQrOrder(OrderRequest(chargeCode = code, amountFen = 300, channel = Channel.Wechat, paySubject = "x"))
        val reply = c.cancel(CancelRequest(chargeCode = code))
        assertEquals(ResultCode.Success, reply.result.code)
        assertEquals(OrderState.Cancelled, c.queryCharge(code).order.state)
    }

    r.test("flow recharge") {
        val reply = c.flowRecharge(FlowRechargeRequest(phoneNo = "13800138000", flowValMb = 100))
        assertEquals(ResultCode.Success, reply.result.code)
        val f = assertNotNull(reply.flow)
        assertEquals("13800138000", f.phoneNo)
        assertEquals(100, f.flowValMb)
    }

    r.test("3DES envelope and XML replies") {
        val enc = client(baseUrl, encrypt = true)
        val code = newCode("ENC")
        assertEquals(OrderState.Paid, enc.micropay(micropay(code, Codes.PAY_NOW)).state)
        assertEquals(OrderState.Paid, enc.queryCharge(code).order.state)
        val xml = client(baseUrl, format = ReplyFormat.XML)
        assertEquals(OrderState.Paid, xml.queryCharge(code).order.state)
    }

    r.test("flow: user is confirming on the phone (held), then paid") {
        val outcome = c.micropayAndWait(micropay(newCode("F1"), Codes.CONFIRMING_THEN_PAY), FAST)
        assertEquals(OutcomeStatus.PAID, outcome.status(), outcome.reason())
        assertEquals(OrderState.Paid, outcome.order()!!.state)
    }

    r.test("flow: user still confirming when the gateway's hold ends, polled until paid") {
        val code = newCode("F7")
        // At time scale 0.05: held 4 s, answered SUCCESS with STATE 0, paid at 4.5 s.
        val outcome = c.micropayAndWait(micropay(code, Codes.CONFIRMING_PAST_HOLD, 1688), FAST)
        assertEquals(OutcomeStatus.PAID, outcome.status(), outcome.reason())
        assertTrue(outcome.queries() >= 1, "queries ${outcome.queries()}")
        assertEquals("16.88", outcome.order()!!.amountYuan)
    }

    r.test("flow: user is paying (state 0 at once), polled until paid") {
        val outcome = c.micropayAndWait(micropay(newCode("F2"), Codes.PAYING_THEN_PAY, 4200), FAST)
        assertEquals(OutcomeStatus.PAID, outcome.status(), outcome.reason())
        assertTrue(outcome.queries() >= 1, "queries ${outcome.queries()}")
        assertEquals(4200L, outcome.order()!!.amountFen)
    }

    r.test("flow: insufficient funds and expired code fail") {
        for (dyn in listOf(Codes.INSUFFICIENT_FUNDS, Codes.CODE_EXPIRED)) {
            val outcome = c.micropayAndWait(micropay(newCode("F3"), dyn), FAST)
            assertEquals(OutcomeStatus.FAILED, outcome.status(), "$dyn: ${outcome.reason()}")
            assertTrue(outcome.reason().isNotEmpty())
        }
    }

    r.test("flow: never confirmed, cancelled at the deadline") {
        val code = newCode("F4")
        val outcome = c.micropayAndWait(micropay(code, Codes.PAYING_NEVER_CONFIRMS), FAST.copy(deadlineMs = 600))
        assertEquals(OutcomeStatus.CANCELLED, outcome.status(), outcome.reason())
        assertFalse(c.queryCharge(code).order.state!!.moneyTaken())
    }

    r.test("flow: EXCEPTION reply but paid, settled by querying") {
        val outcome = c.micropayAndWait(micropay(newCode("F5"), Codes.EXCEPTION_BUT_PAID), FAST)
        assertEquals(OutcomeStatus.PAID, outcome.status(), outcome.reason())
        assertTrue(outcome.queries() >= 1)
    }

    r.test("flow: default options, invalid request throws before sending") {
        val outcome = c.micropayAndWait(micropay(newCode("F6"), Codes.PAY_NOW))
        assertEquals(OutcomeStatus.PAID, outcome.status())
        val e = expectThrows<SosopayException.Validation> { c.micropayAndWait(micropay("bad code!", Codes.PAY_NOW)) }
        assertEquals("chargeCode", e.field)
    }

    r.test("errors: unknown order, wrong key") {
        val e = expectThrows<SosopayException.Gateway> { c.queryCharge(newCode("NONE")) }
        assertEquals(ResultCode.ChargeNonexistent, e.resultCode)
        assertTrue(e.info.isNotEmpty())
        // The message and toString() both name the gateway's code as it sends it.
        assertTrue(e.message!!.startsWith("resultCode=CHARGE_NONEXISTENT,"), e.message)
        assertTrue(e.toString().contains("CHARGE_NONEXISTENT"), e.toString())
        val wrong = client(baseUrl, key = "WRONGKEY0123456789")
        val e2 = expectThrows<SosopayException.Gateway> { wrong.micropay(micropay(newCode("WK"), Codes.PAY_NOW)) }
        assertEquals(ResultCode.InvalidSign, e2.resultCode)
        assertTrue(e2.toString().isNotEmpty())
        assertFalse(e2.toString().contains("WRONGKEY"))
    }

    r.test("errors: transport (nothing listening), HTTP 503, lost reply") {
        val port = ServerSocket(0).use { it.localPort }
        val dead = client("http://127.0.0.1:$port/openGateway/openService/", retryMaxAttempts = 1)
        val t = expectThrows<SosopayException.Transport> { dead.queryCharge("C1") }
        assertFalse(t.maybeSent)
        assertFalse(t.outcomeUnknown())
        assertEquals("transport", t.kind())
        try {
            admin.setFaults("""[{"op": "query", "kind": "http503", "probability": 1}]""")
            val h = expectThrows<SosopayException.HttpStatus> { client(baseUrl, retryMaxAttempts = 2).queryCharge("C1") }
            assertEquals(503, h.status)
            assertEquals("query", h.operation)
            // A failed query moves no money.
            assertFalse(h.outcomeUnknown())
            assertTrue(h.isRetryable())
            admin.setFaults("""[{"op": "preOrder", "kind": "drop_reply", "probability": 1}]""")
            val lost = expectThrows<SosopayException> { c.micropay(micropay(newCode("LR"), Codes.PAY_NOW)) }
            assertTrue(lost.outcomeUnknown(), "$lost")
            // The till flow settles the same situation by querying.
            val code = newCode("LR")
            val outcome = c.micropayAndWait(micropay(code, Codes.PAY_NOW), FAST)
            assertEquals(OutcomeStatus.PAID, outcome.status(), outcome.reason())
        } finally {
            admin.clearFaults()
        }
    }

    r.test("request logger: one log per attempt, a throwing logger is ignored") {
        val logs = Collections.synchronizedList(ArrayList<RequestLog>())
        // A lambda: RequestLogger is a `fun interface`.
        val logging = client(baseUrl, logger = RequestLogger { log -> logs.add(log) })
        val code = newCode("LOG")
        logging.micropay(micropay(code, Codes.PAY_NOW))
        val first = logs.single()
        assertEquals("preOrder", first.operation)
        assertEquals(code, first.chargeCode)
        assertEquals(1, first.attempt)
        assertEquals(200, first.httpStatus)
        assertEquals("SUCCESS", first.resultCode)
        assertNull(first.error)
        assertFalse(first.toString().contains(KEY))
        val throwing = client(baseUrl, logger = object : RequestLogger {
            override fun onRequest(log: RequestLog) = throw IllegalStateException("logger bug")
        })
        assertEquals(OrderState.Paid, throwing.micropay(micropay(newCode("LOG"), Codes.PAY_NOW)).state)
    }

    r.test("README till example (coroutines)") {
        val till = Till(baseUrl, BUSI, KEY)
        val paid = runBlocking { till.takePayment(newCode("TILL"), 1999, Codes.CONFIRMING_THEN_PAY) }
        assertEquals("PAID 19.99 yuan", paid)
        val declined = runBlocking { till.takePayment(newCode("TILL"), 1999, Codes.INSUFFICIENT_FUNDS) }
        assertTrue(declined.startsWith("NOT PAID: "), declined)
        val invalid = runBlocking { till.takePayment(newCode("TILL"), 0, Codes.PAY_NOW) }
        assertTrue(invalid.startsWith("INVALID amount"), invalid)
    }

    r.test("notifications: delivered by the sandbox, verified in Kotlin") {
        val received = LinkedBlockingQueue<PaymentNotification>()
        val errors = LinkedBlockingQueue<Throwable>()
        val verifier = NotificationVerifier(MerchantKey(KEY))
        val server = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
        server.createContext("/notify") { ex ->
            val status = try {
                received.add(verifier.parse(ex.requestURI.rawQuery ?: "", ex.requestBody.readBytes()))
                200
            } catch (e: Throwable) {
                errors.add(e)
                400
            }
            ex.sendResponseHeaders(status, -1)
            ex.close()
        }
        server.start()
        try {
            for ((query, encrypted) in listOf("_type=json" to false, "_type=json&encrypt=3DES" to true, "" to false)) {
                val code = newCode("NT")
                val url = "http://127.0.0.1:${server.address.port}/notify?$query".trimEnd('?')
                c.createQrOrder(OrderRequest(chargeCode = code, amountFen = 666, channel = Channel.Wechat, paySubject = "n", notifyUrl = url))
                admin.pay(code)
                val n = received.poll(20, TimeUnit.SECONDS)
                assertNull(errors.poll(), "verifier failed ($query)")
                assertNotNull(n, "no notification for $query (encrypted=$encrypted)")
                assertEquals(code, n.order.chargeCode)
                assertEquals(OrderState.Paid, n.order.state)
                assertEquals(666L, n.order.amountFen)
                assertTrue(n.idempotencyKey.contains(code))
            }
        } finally {
            server.stop(0)
        }
    }
}

/** Notification parsing without the gateway: signatures, replays, encryption. */
fun notificationTests(r: Runner) {
    val key = MerchantKey(KEY)
    val body = """{"PAY_NODIFY":{"BUSI_ID":"0010000001","CHARGE_CODE":"C-1","CHANNEL_TYPE":"1","STATE":"1","AMT":"1","FUND_BILL_LIST":{"TRADEFUNDBILL":[{"FUND_CHANNEL":"10","AMOUNT":"0.01"}]}}}"""

    r.test("notifications: verified, tampered, replayed, encrypted") {
        val now = System.currentTimeMillis()
        val sign = signBody(key, body, now.toString())
        val n = parseNotification(key, "sign=$sign&_type=json", body.toByteArray())
        assertEquals("C-1", n.order.chargeCode)
        // Every notification has these: non-null types (no `!!`, no `?.`).
        val guaranteed: Triple<String, OrderState, Long> = Triple(n.chargeCode, n.state, n.amountFen)
        assertEquals(Triple("C-1", OrderState.Paid, 1L), guaranteed)
        assertEquals("0.01", n.amountYuan)
        assertEquals(Channel.Alipay, n.order.channel)
        assertEquals(1L, n.order.amountFen)
        assertEquals(FundChannel.AlipayBalance, n.order.fundBills.single().fundChannel)
        assertEquals("0010000001:C-1:1:1", n.idempotencyKey)

        val tampered = body.replace("\"AMT\":\"1\"", "\"AMT\":\"100\"")
        expectThrows<SosopayException.Signature> { parseNotification(key, "sign=$sign", tampered.toByteArray()) }
        expectThrows<SosopayException.Signature> { parseNotification(key, "", body.toByteArray()) }
        expectThrows<SosopayException.Signature> { parseNotification(MerchantKey("other"), "sign=$sign", body.toByteArray()) }

        val old = now - 3_600_000
        val oldSign = signBody(key, body, old.toString())
        expectThrows<SosopayException.Signature> { NotificationVerifier(key).parse("sign=$oldSign", body.toByteArray()) }
        // A wider window, or none, accepts it; parseAt pins the clock.
        NotificationVerifier(key, maxAgeMs = 0).parse("sign=$oldSign", body.toByteArray())
        val tooLong = expectThrows<SosopayException.Validation> { NotificationVerifier(key, maxAgeMs = Long.MAX_VALUE) }
        assertEquals("maxAgeMs", tooLong.field, tooLong.reason)
        NotificationVerifier(key).parseAt("sign=$oldSign", body.toByteArray(), old + 1000)
        parseNotification(key, "sign=$oldSign", body.toByteArray(), maxAgeMs = 7_200_000)
        expectThrows<SosopayException.Validation> { NotificationVerifier(key, maxAgeMs = -1) }

        val encrypted = Envelope(key).encryptString(body)
        val e = parseNotification(key, "sign=$sign&encrypt=3DES", encrypted.toByteArray())
        assertEquals("C-1", e.order.chargeCode)
        val emptySign = signBody(key, "{}", now.toString())
        expectThrows<SosopayException.Decode> { parseNotification(key, "sign=$emptySign", "{}".toByteArray()) }
    }

    r.test("notifications: a key being rotated out is accepted when given") {
        val newKey = MerchantKey("NEWKEYNEWKEYNEWKEYNEWKEYNEWKEY12")
        val sign = signBody(key, body, System.currentTimeMillis().toString()) // the old key's
        val encrypted = Envelope(key).encryptString(body)
        for ((query, raw) in listOf("sign=$sign" to body, "sign=$sign&encrypt=3DES" to encrypted)) {
            expectThrows<SosopayException> { NotificationVerifier(newKey).parse(query, raw.toByteArray()) }
            val rotating = NotificationVerifier(newKey, previousKeys = listOf(key))
            assertEquals("C-1", rotating.parse(query, raw.toByteArray()).order.chargeCode)
        }
        val many = (1..5).map { MerchantKey("PREVIOUSKEY0${it}PREVIOUSKEY") }
        val e = expectThrows<SosopayException.Validation> { NotificationVerifier(newKey, previousKeys = many) }
        assertEquals("previousKeys", e.field, e.reason)
    }

    r.test("notifications: busiCode refuses another merchant's, or an unnamed, notification") {
        val sign = signBody(key, body, System.currentTimeMillis().toString())
        val ours = NotificationVerifier(key, busiCode = "0010000001")
        assertEquals("0010000001", ours.parse("sign=$sign", body.toByteArray()).order.busiId)
        val theirs = expectThrows<SosopayException.Decode> {
            NotificationVerifier(key, busiCode = "0010000002").parse("sign=$sign", body.toByteArray())
        }
        assertTrue(theirs.reason.contains("BUSI_ID \"0010000001\", not \"0010000002\""), theirs.reason)
        val unnamed = body.replace("\"BUSI_ID\":\"0010000001\",", "")
        val unnamedSign = signBody(key, unnamed, System.currentTimeMillis().toString())
        assertEquals(null, NotificationVerifier(key).parse("sign=$unnamedSign", unnamed.toByteArray()).order.busiId)
        expectThrows<SosopayException.Decode> { ours.parse("sign=$unnamedSign", unnamed.toByteArray()) }
        val bad = expectThrows<SosopayException.Validation> { NotificationVerifier(key, busiCode = "a/b") }
        assertEquals("busiCode", bad.field, bad.reason)
    }
}
