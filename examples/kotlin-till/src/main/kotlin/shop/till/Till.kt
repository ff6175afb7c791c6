package shop.till

import io.github.sosopay.ClientConfig
import io.github.sosopay.MerchantKey
import io.github.sosopay.MicropayRequest
import io.github.sosopay.OutcomeStatus
import io.github.sosopay.PaymentOutcome
import io.github.sosopay.SosopayClient
import io.github.sosopay.SosopayException

/** What happened to one sale at the till. */
sealed class Sale {
    /** The customer paid `amountFen`; `gatewayOrder` is the gateway's order number. */
    data class Paid(val amountFen: Long, val gatewayOrder: String) : Sale()

    /** Nothing was charged (declined, cancelled, expired code): ask for another code and
     *  ring the sale up again under a new charge code. */
    data class NotPaid(val reason: String) : Sale()

    /** The gateway could not be reached to settle it: never charge again before
     *  `Till.settle(chargeCode)` says what happened. */
    data class Unknown(val chargeCode: String, val reason: String) : Sale()

    /** The sale was not sent: `field` is wrong. */
    data class Invalid(val field: String, val reason: String) : Sale()
}

/** A till: one client for the app, one blocking call per sale. Call `charge` from a
 *  background thread (a coroutine on Dispatchers.IO), never from the UI thread: it blocks
 *  while the customer confirms on the phone, up to about 90 s. */
class Till(private val client: SosopayClient) : AutoCloseable {
    constructor(baseUrl: String, busiCode: String, merchantKey: String) : this(
        SosopayClient(
            ClientConfig(
                busiCode = busiCode,
                key = MerchantKey(merchantKey),
                baseUrl = baseUrl,
                defaultOperId = "cashier-7",
                defaultDevId = "till-3",
            ),
        ),
    )

    /** Charges the payment code scanned from the customer's phone. */
    fun charge(chargeCode: String, amountFen: Long, scannedCode: String): Sale = try {
        sale(
            client.micropayAndWait(
                MicropayRequest(
                    chargeCode = chargeCode,
                    amountFen = amountFen,
                    dynamicId = scannedCode,
                    paySubject = "Store #12",
                ),
            ),
        )
    } catch (e: SosopayException.Validation) {
        Sale.Invalid(e.field, e.reason)
    }

    /** Settles a sale left `Unknown`: waits for the gateway to say whether it was paid.
     *  With the sale's amount, an order of another amount under that code is not this sale. */
    fun settle(chargeCode: String, amountFen: Long? = null): Sale =
        sale(client.waitForPayment(chargeCode, amountFen = amountFen))

    private fun sale(outcome: PaymentOutcome): Sale = when (outcome) {
        is PaymentOutcome.Paid -> Sale.Paid(outcome.order.amountFen ?: 0, outcome.order.chargeDownCode ?: "")
        is PaymentOutcome.Failed, is PaymentOutcome.Cancelled -> Sale.NotPaid(outcome.reason())
        is PaymentOutcome.Conflict -> Sale.NotPaid("charge code in use: ${outcome.reason}")
        is PaymentOutcome.Unresolved, is PaymentOutcome.Pending -> Sale.Unknown(outcome.chargeCode(), outcome.reason())
    }

    override fun close() = client.close()
}
