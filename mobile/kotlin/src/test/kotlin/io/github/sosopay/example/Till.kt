// The till of mobile/README.md (the README's block is this file after the package line): one
// client for the app, payments taken off the main thread. Compiled and run against the sandbox
// by scripts/test-mobile, so the README stays true.
package io.github.sosopay.example

import io.github.sosopay.*
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

class Till(baseUrl: String, busiCode: String, merchantKey: String) {
    private val client = SosopayClient(
        ClientConfig(
            busiCode = busiCode,
            key = MerchantKey(merchantKey),
            baseUrl = baseUrl, // environmentBaseUrl(GatewayEnvironment.PRODUCTION) in production
            defaultOperId = "cashier-7",
            defaultDevId = "till-3",
        ),
    )

    /** Charges the code scanned from the customer's phone. Blocks while the customer confirms
     *  (up to about 90 s), so it runs on Dispatchers.IO, never on the main thread. */
    suspend fun takePayment(chargeCode: String, amountFen: Long, scannedCode: String): String =
        withContext(Dispatchers.IO) {
            try {
                val outcome = client.micropayAndWait(
                    MicropayRequest(
                        chargeCode = chargeCode, // unique per sale; reuse it only to retry this sale
                        amountFen = amountFen,
                        dynamicId = scannedCode,
                        paySubject = "Store #12",
                    ),
                )
                when (outcome) {
                    // Paid always carries the paid order.
                    is PaymentOutcome.Paid -> "PAID ${outcome.order.amountYuan} yuan"
                    // Nothing was charged: ask for another code and use a new charge code.
                    is PaymentOutcome.Failed, is PaymentOutcome.Cancelled -> "NOT PAID: ${outcome.reason()}"
                    // The gateway could not be reached to settle it: never charge again before
                    // client.queryCharge(chargeCode) says what happened.
                    is PaymentOutcome.Unresolved, is PaymentOutcome.Pending -> "UNKNOWN: ${outcome.reason()}"
                    // The charge code is another sale's (left untouched): this sale was not
                    // charged under it; retry it with a new charge code.
                    is PaymentOutcome.Conflict -> "NOT PAID (charge code in use): ${outcome.reason}"
                }
            } catch (e: SosopayException.Validation) {
                "INVALID ${e.field}: ${e.reason}" // nothing was sent
            }
        }
}
