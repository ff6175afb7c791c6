package io.github.sosopay.test

import io.github.sosopay.*
import java.io.File

/** The shared behaviour scenarios (the JSON files of tests/scenarios, format in its README): the Rust,
 *  Python and Node suites run the same files and must agree. `baseUrl` is a sandbox started at
 *  the scenarios' time scale (`_defaults.json`). */
fun scenarioTests(r: Runner, dir: String, baseUrl: String) {
    val defaults = Json.parse(File(dir, "_defaults.json").readText()).obj()
    val files = File(dir).listFiles { f -> f.name.endsWith(".json") && !f.name.startsWith("_") }!!
        .sortedBy { it.name }
    val admin = Admin(baseUrl)
    r.test("scenarios: there are scenarios") { check(files.size >= 20) { "${files.size}" } }
    for (f in files) {
        r.test("scenario ${f.name}") {
            val wrong = runScenario(admin, baseUrl, defaults, Json.parse(f.readText()).obj())
            check(wrong.isEmpty()) { wrong.joinToString("\n") }
        }
    }
}

/** Json.parse keeps numbers as their text. */
private fun num(v: Any?): Long = (v as? Number)?.toLong() ?: v.toString().toLong()

private fun client(baseUrl: String, defaults: Map<String, Any?>, overrides: Map<String, Any?>?): SosopayClient {
    val s = HashMap(defaults["client"].obj())
    overrides?.let { s.putAll(it) }
    return SosopayClient(
        ClientConfig(
            busiCode = defaults.str("busi_code"), key = MerchantKey(defaults.str("key")), baseUrl = baseUrl,
            timeoutMs = num(s["timeout_ms"]), micropayTimeoutMs = num(s["micropay_timeout_ms"]),
            retryMaxAttempts = num(s["retry_max_attempts"]).toInt(), retryBaseDelayMs = num(s["retry_base_delay_ms"]),
            retryMaxDelayMs = num(s["retry_max_delay_ms"]),
            defaultOperId = s["oper_id"] as String?, defaultDevId = s["dev_id"] as String?,
        ),
        null,
    )
}

private fun options(o: Map<String, Any?>?): WaitOptions {
    val d = WaitOptions()
    if (o == null) return d
    fun ms(k: String, dflt: Long) = o[k]?.let { num(it) } ?: dflt
    return WaitOptions(
        deadlineMs = ms("deadline_ms", d.deadlineMs),
        pollIntervalMs = ms("poll_interval_ms", d.pollIntervalMs),
        maxPollIntervalMs = ms("max_poll_interval_ms", d.maxPollIntervalMs),
        cancelAttempts = o["cancel_attempts"]?.let { num(it).toInt() } ?: d.cancelAttempts,
        maxDurationMs = o["max_duration_ms"]?.let { num(it) },
        gatewayHoldMs = ms("gateway_hold_ms", d.gatewayHoldMs),
    )
}

private fun micropayRequest(r: Map<String, Any?>) = MicropayRequest(
    chargeCode = r.str("charge_code"), amountFen = parseYuan(r.str("amount")),
    dynamicId = r.str("dynamic_id"), paySubject = r.str("subject"),
)

private fun checkOutcome(name: String, out: PaymentOutcome, expect: Map<String, Any?>): List<String> {
    val wrong = ArrayList<String>()
    val status = out.status().name.lowercase()
    expect["status"]?.let { if (status != it) wrong.add("$name: status $status (${out.reason()}), expected $it") }
    expect["code"]?.let { if (out.resultCode()?.asWire() != it) wrong.add("$name: code ${out.resultCode()?.asWire()}, expected $it") }
    expect["order_amount_fen"]?.let {
        if (out.order()?.amountFen != num(it)) wrong.add("$name: order amount ${out.order()?.amountFen}, expected $it")
    }
    return wrong
}

private fun runScenario(admin: Admin, baseUrl: String, defaults: Map<String, Any?>, sc: Map<String, Any?>): List<String> {
    val name = sc.str("name")
    admin.call("POST", "reset")
    admin.clearFaults()
    @Suppress("UNCHECKED_CAST")
    val c = client(baseUrl, defaults, sc["client"] as Map<String, Any?>?)
    val wrong = ArrayList<String>()
    for (stepAny in sc["steps"].list()) {
        val step = stepAny.obj()
        @Suppress("UNCHECKED_CAST")
        val expect = (step["expect"] as Map<String, Any?>?) ?: emptyMap()
        when {
            step.containsKey("set_faults") -> {
                val rules = step["set_faults"].list().joinToString(",") { "\"$it\"" }
                admin.setFaults("{\"faults\":[$rules]}")
            }
            step.containsKey("micropay") -> {
                val code = try {
                    c.micropay(micropayRequest(step["micropay"].obj())).result.code.asWire()
                } catch (e: SosopayException.Gateway) {
                    e.resultCode.asWire()
                }
                expect["result_code"]?.let { if (code != it) wrong.add("$name: micropay answered $code, expected $it") }
            }
            step.containsKey("micropay_and_wait") -> {
                @Suppress("UNCHECKED_CAST")
                val out = c.micropayAndWait(micropayRequest(step["micropay_and_wait"].obj()), options(step["options"] as Map<String, Any?>?))
                wrong.addAll(checkOutcome(name, out, expect))
            }
            step.containsKey("create_qr_order") -> {
                val r = step["create_qr_order"].obj()
                c.createQrOrder(
                    OrderRequest(
                        chargeCode = r.str("charge_code"), amountFen = parseYuan(r.str("amount")),
                        channel = channelFromWire(r.str("channel")), paySubject = r.str("subject"),
                    ),
                )
            }
            step.containsKey("refund") -> {
                val r = step["refund"].obj()
                var code: String? = null
                var error: SosopayException? = null
                try {
                    code = c.refund(
                        RefundRequest(
                            refundAmountFen = parseYuan(r.str("amount")), refundSubject = r.str("subject"),
                            chargeCode = r.str("charge_code"), outRefundNo = r.str("out_refund_no"),
                        ),
                    ).result.code.asWire()
                } catch (e: SosopayException.Gateway) {
                    code = e.resultCode.asWire()
                } catch (e: SosopayException) {
                    error = e
                }
                val wantError = expect["error"] as String?
                val wantCode = (expect["result_code"] as String?) ?: "SUCCESS"
                when {
                    wantError != null && error?.kind() != wantError ->
                        wrong.add("$name: refund gave ${error ?: code}, expected a $wantError error")
                    wantError != null && expect["outcome_unknown"] != null && error?.outcomeUnknown() != expect["outcome_unknown"] ->
                        wrong.add("$name: refund error $error: outcomeUnknown is not ${expect["outcome_unknown"]}")
                    wantError == null && error != null -> wrong.add("$name: refund failed: $error")
                    wantError == null && code != wantCode -> wrong.add("$name: refund answered $code, expected $wantCode")
                }
            }
            step.containsKey("admin") -> {
                val (s, t) = admin.call("POST", "orders/${step.str("charge_code")}/${step.str("admin")}")
                check(s == 200) { t }
            }
            step.containsKey("wait_for_payment") -> {
                @Suppress("UNCHECKED_CAST")
                val w = step["wait_for_payment"].obj()
                val amountFen = if (w.containsKey("amount")) parseYuan(w.str("amount")) else null
                val out = c.waitForPayment(w.str("charge_code"), options(step["options"] as Map<String, Any?>?), amountFen = amountFen)
                wrong.addAll(checkOutcome(name, out, expect))
            }
            step.containsKey("sleep_ms") -> Thread.sleep(num(step["sleep_ms"]))
            else -> error("$name: unknown step $step")
        }
    }
    val (_, ledgerText) = admin.call("GET", "ledger")
    val orders = Json.parse(ledgerText).obj()["orders"].list().map { it.obj() }
    for ((cc, wantAny) in sc["ledger"].obj()) {
        val want = wantAny.obj()
        val mine = orders.filter { it["charge_code"] == cc }
        want["orders"]?.let { if (mine.size.toLong() != num(it)) wrong.add("$name: ${mine.size} orders $cc in the ledger, expected $it") }
        for (key in listOf("state", "amount_fen")) {
            want[key]?.let { w ->
                val got = mine.firstOrNull()?.get(key)?.let { num(it) }
                if (got != num(w)) wrong.add("$name: ledger $cc $key $got, expected $w")
            }
        }
    }
    return wrong
}
