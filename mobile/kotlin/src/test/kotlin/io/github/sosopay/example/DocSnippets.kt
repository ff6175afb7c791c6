package io.github.sosopay.example

import io.github.sosopay.*
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

// The Kotlin blocks of README.md and mobile/README.md that are not whole files, compiled here
// (scripts/test-mobile checks that every Kotlin block of the docs is in a compiled source).

/** README.md, "Kotlin and Swift". */
@Suppress("LocalVariableName")
suspend fun readmeTill(KEY: String, scannedCode: String): PaymentOutcome {
    val client = SosopayClient(ClientConfig(busiCode = "0010000001", key = MerchantKey(KEY),
                                            baseUrl = environmentBaseUrl(GatewayEnvironment.PRODUCTION),
                                            defaultOperId = "cashier-1", defaultDevId = "till-1"))
    val outcome = withContext(Dispatchers.IO) {          // blocks while the customer confirms
        client.micropayAndWait(MicropayRequest(chargeCode = "ORDER-1", amountFen = 1250L,
                                               dynamicId = scannedCode, paySubject = "Coffee"))
    }
    client.close()
    return outcome
}

/** mobile/README.md: single operations throw typed exceptions. */
fun refundShowingErrors(client: SosopayClient, show: (String) -> Unit, retryLaterWithSameOutRefundNo: () -> Unit) {
    try {
        client.refund(RefundRequest(refundAmountFen = 400, refundSubject = "return",
                                    chargeCode = "C-1001", outRefundNo = "R-1001-1"))
    } catch (e: SosopayException.Gateway) {
        show("refused: ${e.resultCode.asWire()} ${e.info}")          // e.g. AMT_ERROR
    } catch (e: SosopayException) {
        if (e.outcomeUnknown()) retryLaterWithSameOutRefundNo() else show(e.toString())
    }
}
