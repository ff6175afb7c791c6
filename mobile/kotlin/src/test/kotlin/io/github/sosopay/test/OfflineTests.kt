package io.github.sosopay.test

import io.github.sosopay.*
import java.io.File
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** The shared vectors (tests/vectors/envelope.json) and everything that needs no gateway. */
fun offlineTests(r: Runner, vectorsPath: String) {
    val vectors = Json.parse(File(vectorsPath).readText()).obj()
    val keys = HashMap<String, MerchantKey>()
    fun key(k: String) = keys.getOrPut(k) { MerchantKey(k) }

    r.test("dictionaries print their names") {
        assertEquals("ChargeNonexistent", ResultCode.ChargeNonexistent.toString())
        assertEquals("Paid", OrderState.Paid.toString())
        assertEquals("Unknown(XYZ)", resultCodeFromWire("XYZ").toString())
    }

    r.test("a Gateway exception's message carries the gateway's wire code, as its toString() does") {
        // Logs are grepped by the gateway's code: never the Kotlin case's name (`AmtError`).
        val e = SosopayException.Gateway(ResultCode.AmtError, "too much", "refund")
        assertEquals("resultCode=AMT_ERROR, info=too much, operation=refund", e.message)
        assertTrue(e.toString().contains("AMT_ERROR"), e.toString())
        val missing = SosopayException.Gateway(ResultCode.ChargeNonexistent, "no such order", "query")
        assertTrue(missing.message!!.startsWith("resultCode=CHARGE_NONEXISTENT,"), missing.message)
        assertFalse(missing.message!!.contains("ChargeNonexistent"), missing.message)
        // A code this SDK does not know yet: as the gateway sent it.
        val unknown = SosopayException.Gateway(resultCodeFromWire("NEW_CODE"), "?", "preOrder")
        assertTrue(unknown.message!!.startsWith("resultCode=NEW_CODE,"), unknown.message)
    }

    r.test("vectors: body signatures") {
        val list = vectors["sign"].list()
        assertTrue(list.size >= 50)
        for (v in list.map { it.obj() }) {
            val k = key(v.str("key"))
            val sign = signBody(k, v.str("body"), v.str("timestamp"))
            assertEquals(v.str("sign"), sign, "sign of ${v.str("body")}")
            val verified = verifyBody(k, sign, v.str("body"))
            assertEquals(v.str("timestamp"), verified.timestamp)
            val env = Envelope(k)
            assertEquals(sign, env.signBody(v.str("body"), timestamp = v.str("timestamp")))
            assertEquals(verified, env.verifyBody(sign, v.str("body")))
            // The signed input is the body without Java whitespace.
            assertEquals(v.str("sign_input"), v.str("timestamp") + v.str("key") + stripJavaWhitespace(v.str("body")))
        }
    }

    r.test("vectors: query signatures") {
        val list = vectors["query_sign"].list()
        assertTrue(list.isNotEmpty())
        for (v in list.map { it.obj() }) {
            val k = key(v.str("key"))
            assertEquals(v.str("sign"), signQuery(k, v.str("charge_code"), v.str("timestamp")))
            verifyQuery(k, v.str("sign"), v.str("charge_code"))
            expectThrows<SosopayException.Signature> { verifyQuery(k, v.str("sign"), v.str("charge_code") + "X") }
        }
    }

    r.test("vectors: cancel signatures") {
        val list = vectors["cancel_sign"].list()
        assertTrue(list.isNotEmpty())
        for (v in list.map { it.obj() }) {
            val k = key(v.str("key"))
            assertEquals(v.str("sign"), signCancel(k, v.str("charge_code"), v.str("busi_code"), v.str("timestamp")))
            verifyCancel(k, v.str("sign"), v.str("charge_code"), v.str("busi_code"))
        }
    }

    r.test("vectors: 3DES") {
        val list = vectors["des3"].list()
        assertTrue(list.size >= 10)
        for (v in list.map { it.obj() }) {
            val env = Envelope(key(v.str("key")))
            val pt = v.str("plaintext")
            assertEquals(v.str("ciphertext_base64"), env.encryptString(pt), "encrypt ${v.str("key")} '$pt'")
            assertEquals(v.str("ciphertext_base64"), env.encrypt(pt.toByteArray(Charsets.UTF_8)))
            assertEquals(pt, env.decryptString(v.str("ciphertext_base64")))
            assertContentEquals(pt.toByteArray(Charsets.UTF_8), env.decrypt(v.str("ciphertext_base64")))
        }
    }

    r.test("envelope: seal/open, wrong key, garbage") {
        val env = Envelope(MerchantKey("98SDKFUO432HNODS098EEE07U9DUOIUE"))
        val sealed = env.seal("{\"AMT\": \"0.01\"}", "1473431447123")
        assertEquals("{\"AMT\": \"0.01\"}", env.open(sealed.sign, sealed.ciphertext))
        assertEquals(1473431447123L, env.verifyBody(sealed.sign, "{\"AMT\":\"0.01\"}").timestampMs)
        // Without a timestamp: now, in milliseconds.
        val now = env.verifyBody(env.signBody("{}"), "{}").timestampMs
        assertTrue(Math.abs(now - System.currentTimeMillis()) < 60_000, "$now")
        val other = Envelope(MerchantKey("another-key"))
        val e = expectThrows<SosopayException> { other.open(sealed.sign, sealed.ciphertext) }
        assertTrue(e is SosopayException.Crypto || e is SosopayException.Signature, "$e")
        expectThrows<SosopayException.Crypto> { env.decrypt("!!!not base64") }
        val bad = expectThrows<SosopayException.Signature> { verifyBody(MerchantKey("k"), "nonsense", "") }
        assertTrue(bad.reason.isNotEmpty())
        // A bad signature moves no money.
        assertFalse(bad.outcomeUnknown())
        assertEquals("signature", bad.kind())
    }

    r.test("merchant key: validated and never printed") {
        val k = MerchantKey("98SDKFUO432HNODS098EEE07U9DUOIUE")
        assertFalse(k.toString().contains("98SDK"), k.toString())
        val e = expectThrows<SosopayException.Validation> { MerchantKey("") }
        assertEquals("key", e.field)
        val e2 = expectThrows<SosopayException.Validation> { MerchantKey("has space") }
        assertFalse(e2.outcomeUnknown())
        assertFalse(e2.toString().contains("has space"))
    }

    r.test("money: exact fen, yuan strings") {
        assertEquals(15800L, parseYuan("158.00"))
        assertEquals(10L, parseYuan("0.1"))
        assertEquals(1L, parseYuan("0.01"))
        assertEquals(1200L, parseYuan("12"))
        assertEquals("158.00", fenToYuan(15800))
        assertEquals("0.01", fenToYuan(1))
        assertEquals("90071992547409.91", fenToYuan(9007199254740991))
        for (bad in listOf("", "-1", "1.234", "1e3", "NaN", "1,00", "99999999999999999999")) {
            val e = expectThrows<SosopayException.Validation> { parseYuan(bad) }
            assertEquals("amount", e.field)
        }
        expectThrows<SosopayException.Validation> { fenToYuan(-1) }
        expectThrows<SosopayException.Validation> { fenToYuan(9007199254740992) }
    }

    r.test("enums: wire codes, unknown codes kept") {
        assertEquals(Channel.Wechat, channelFromWire("2"))
        assertEquals(Channel.Wechat, channelFromWire("02"))
        assertEquals("1", Channel.Alipay.asWire())
        assertEquals(Channel.Unknown("77"), channelFromWire("77"))
        assertEquals("77", Channel.Unknown("77").asWire())
        assertEquals(ResultCode.Success, resultCodeFromWire("SUCESS"))
        assertTrue(ResultCode.Success.isSuccess())
        assertTrue(ResultCode.SerialRepeat.outcomeUnknown())
        assertFalse(ResultCode.Fail.outcomeUnknown())
        assertEquals(ResultCode.Unknown("NEW_CODE"), resultCodeFromWire("NEW_CODE"))
        assertEquals(OrderState.Paid, orderStateFromWire("1"))
        assertTrue(OrderState.Refunded.moneyTaken())
        assertFalse(OrderState.AwaitingPayment.isFinal())
        assertEquals(FundChannel.AlipayRedPacket, fundChannelFromWire("00"))
        assertEquals("9008", FundChannel.DiscountCoupon.asWire())
        assertEquals(DynamicIdType.Nfc, dynamicIdTypeFromWire("3"))
        assertEquals(TradeType.Jsapi, tradeTypeFromWire("jsapi"))
        assertEquals(SerType.ChargeDownCode, serTypeFromWire("1"))
        assertEquals(
            listOf("PAID", "FAILED", "CANCELLED", "PENDING", "UNRESOLVED", "CONFLICT"),
            OutcomeStatus.entries.map { it.name },
        )
    }

    r.test("validation: typed errors name the field") {
        val ok = MicropayRequest(chargeCode = "C-1", amountFen = 1, dynamicId = "134567890123456789",
            paySubject = "coffee", operId = "op1", devId = "till1")
        validateMicropayRequest(ok)
        val cases = listOf(
            "chargeCode" to ok.copy(chargeCode = "a/b"),
            "amountFen" to ok.copy(amountFen = 0),
            "amountFen" to ok.copy(amountFen = -5),
            "dynamicId" to ok.copy(dynamicId = "12 34"),
            "paySubject" to ok.copy(paySubject = " "),
            "timeExpireSeconds" to ok.copy(timeExpireSeconds = 60),
            "timeExpireSeconds" to ok.copy(timeExpireSeconds = -1),
            "goods[0].quantity" to ok.copy(goods = listOf(Goods(id = "g1", name = "n", category = "food", priceFen = 100, subject = "s", quantity = -1))),
            "goods[0].name" to ok.copy(goods = listOf(Goods(id = "g1", name = "", category = "food", priceFen = 100, subject = "s"))),
            "goods[0].priceFen" to ok.copy(goods = listOf(Goods(id = "g1", name = "n", category = "food", priceFen = -1, subject = "s"))),
            "goods[1].priceFen" to ok.copy(goods = listOf(Goods(id = "g1", name = "n", category = "food", priceFen = 1, subject = "s"),
                Goods(id = "g2", name = "n", category = "food", priceFen = -1, subject = "s"))),
            "goods[0].category" to ok.copy(goods = listOf(Goods(id = "g1", name = "n", category = "", priceFen = 100, subject = "s"))),
        )
        for ((field, req) in cases) {
            val e = expectThrows<SosopayException.Validation> { validateMicropayRequest(req) }
            assertEquals(field, e.field, "$req")
            // Its text (the core's message) names the field as Kotlin spells it too.
            assertTrue(e.toString().contains(field), e.toString())
            assertFalse(e.outcomeUnknown())
            assertEquals("validation", e.kind())
        }
    }

    r.test("validation: a reason naming other fields names them as Kotlin does") {
        val c = SosopayClient(ClientConfig(busiCode = "0010000001", key = MerchantKey("98SDKFUO432HNODS098EEE07U9DUOIUE"),
            baseUrl = "http://127.0.0.1:9/openGateway/openService/", defaultOperId = "o", defaultDevId = "d"))
        val e = expectThrows<SosopayException.Validation> {
            c.refund(RefundRequest(outRefundNo = "R-1", refundAmountFen = 10, refundSubject = "r"))
        }
        assertEquals("chargeCode", e.field)
        assertEquals("a refund needs chargeCode or chargeDownCode", e.reason)
        assertTrue(e.toString().contains("invalid chargeCode: a refund needs chargeCode or chargeDownCode"), e.toString())
        c.close()
    }

    r.test("records: defaults") {
        val q = QueryRequest(code = "C1")
        assertNull(q.serType)
        val c = CancelRequest(chargeCode = "C1")
        assertFalse(c.apply)
        val g = Goods(id = "1", name = "n", category = "c", priceFen = 5, subject = "s")
        // Unset: the core's default quantity (1) is sent, so the item is valid as it stands.
        assertNull(g.quantity)
        validateMicropayRequest(MicropayRequest(chargeCode = "C-1", amountFen = 5, dynamicId = "134567890123456789",
            paySubject = "tea", operId = "op1", devId = "till1", goods = listOf(g)))
        assertTrue(sdkVersion().isNotEmpty())
    }

    r.test("text holding a lone surrogate is a SosopayException.Validation, never a java.nio exception") {
        for (call in listOf<() -> Unit>(
            { MerchantKey("98SDKFUO432HNODS098EEE07U9DUO\uD800") },
            { parseYuan("1\uD800") },
            { validateMicropayRequest(MicropayRequest(chargeCode = "C-1", amountFen = 5, dynamicId = "134567890123456789",
                paySubject = "x\uDC00y", operId = "op1", devId = "till1")) },
        )) {
            val e = expectThrows<SosopayException.Validation> { call() }
            assertTrue(e.reason.contains("lone surrogate"), e.reason)
        }
    }

    r.test("a closed object passed into a call throws IllegalStateException, never crashes the JVM") {
        val closedKey = MerchantKey("98SDKFUO432HNODS098EEE07U9DUOIUE").also { it.close() }
        for (call in listOf<() -> Unit>(
            { signBody(closedKey, "{}") },
            { Envelope(closedKey) },
            { NotificationVerifier(closedKey) },
            { NotificationVerifier(MerchantKey("98SDKFUO432HNODS098EEE07U9DUOIUE"), previousKeys = listOf(closedKey)) },
            { SosopayClient(ClientConfig(busiCode = "0010000001", key = closedKey, baseUrl = "http://127.0.0.1:9/")) },
        )) {
            val e = expectThrows<IllegalStateException> { call() }
            assertTrue(e.message!!.contains("MerchantKey object has already been destroyed"), e.message)
        }
        // A config destroyed (it holds the key): refused the same way.
        val config = ClientConfig(busiCode = "0010000001", key = MerchantKey("98SDKFUO432HNODS098EEE07U9DUOIUE"), baseUrl = "http://127.0.0.1:9/")
        config.destroy()
        expectThrows<IllegalStateException> { SosopayClient(config) }
        // Printed (a log line, a crash report) after its key was closed: no exception.
        val key = MerchantKey("98SDKFUO432HNODS098EEE07U9DUOIUE")
        val printed = ClientConfig(busiCode = "0010000001", key = key, baseUrl = "http://127.0.0.1:9/")
        assertTrue("$key".contains("<redacted>"), "$key")
        key.close()
        assertTrue("$printed".contains("MerchantKey(closed)"), "$printed")
        // A closed cancel token: refused before anything is sent.
        SosopayClient(ClientConfig(busiCode = "0010000001", key = MerchantKey("98SDKFUO432HNODS098EEE07U9DUOIUE"), baseUrl = "http://127.0.0.1:9/")).use { client ->
            val token = CancelToken().also { it.close() }
            val req = MicropayRequest(chargeCode = "C-1", amountFen = 5, dynamicId = "134567890123456789",
                paySubject = "tea", operId = "op1", devId = "till1")
            val e = expectThrows<IllegalStateException> { client.micropayAndWait(req, cancel = token) }
            assertTrue(e.message!!.contains("CancelToken object has already been destroyed"), e.message)
            // Its own methods too (mobile/README.md says so).
            expectThrows<IllegalStateException> { token.cancel() }
        }
    }

    r.test("merchantPara must be Base64 text, checked before anything is sent (mobile/README.md)") {
        val req = MicropayRequest(chargeCode = "C-1", amountFen = 5, dynamicId = "134567890123456789",
            paySubject = "tea", operId = "op1", devId = "till1", merchantPara = "table 12")
        val e = expectThrows<SosopayException.Validation> { validateMicropayRequest(req) }
        assertEquals("merchantPara", e.field)
        assertTrue(e.reason.contains("must be Base64 text"), e.reason)
        validateMicropayRequest(req.copy(merchantPara = java.util.Base64.getEncoder().encodeToString("table=12".toByteArray())))
        expectThrows<SosopayException.Validation> { validateMicropayRequest(req.copy(merchantPara = "dGFibGU9MTI=\n")) }
    }

    r.test("a closed SosopayClient throws IllegalStateException (uniffi's), not a SosopayException") {
        // mobile/README.md: a closed object is a programming error; `catch (e: SosopayException)`
        // does not catch it. Nothing is sent (nothing listens on port 9 anyway).
        val client = SosopayClient(ClientConfig(busiCode = "0010000001", key = MerchantKey("98SDKFUO432HNODS098EEE07U9DUOIUE"),
            baseUrl = "http://127.0.0.1:9/", defaultOperId = "op1", defaultDevId = "till1"))
        client.close()
        client.close() // closing twice does nothing
        val req = MicropayRequest(chargeCode = "C-1", amountFen = 5, dynamicId = "134567890123456789", paySubject = "tea")
        for (call in listOf<() -> Unit>(
            { client.query(QueryRequest(code = "C-1")) },
            { client.micropay(req) },
            { client.micropayAndWait(req) },
            { kotlinx.coroutines.runBlocking { client.queryAsync(QueryRequest(code = "C-1")) } },
            { kotlinx.coroutines.runBlocking { client.micropayAndWaitAsync(req) } },
        )) {
            val e = expectThrows<IllegalStateException> { call() }
            assertTrue(e.message!!.contains("SosopayClient object has already been destroyed"), e.message)
        }
    }
}
