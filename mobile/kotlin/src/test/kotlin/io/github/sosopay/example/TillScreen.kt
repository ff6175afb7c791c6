package io.github.sosopay.example

import io.github.sosopay.*
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch

/** A till screen: "Pay" starts the payment, the screen shows its progress, "Cancel" reverses
 *  it, and the final status is shown at the end. `scope` is the screen's (on Android
 *  `lifecycleScope` or `viewModelScope`, whose dispatcher is the main thread); `show` updates
 *  the status line. */
class TillScreen(
    private val client: SosopayClient,
    private val scope: CoroutineScope,
    private val show: (String) -> Unit,
) {
    private var cancelButton: CancelToken? = null

    /** "Pay": the flow runs on a thread of its own; this coroutine only suspends, so it may
     *  run on the main thread. */
    fun pay(chargeCode: String, amountFen: Long, scannedCode: String): Job {
        val token = CancelToken()
        cancelButton = token
        // Called on the flow's thread, in order: hop to the screen's dispatcher to show it.
        var cancelling = false // then the queries confirm the reversal: not "waiting" again
        val progress = FlowProgress { event ->
            val text = when (event) {
                is FlowEvent.Sending -> "sending the payment..."
                is FlowEvent.Waiting -> if (cancelling) null else "waiting for the customer... ${event.elapsedMs / 1000} s"
                is FlowEvent.Queried -> if (cancelling) null else "waiting for the customer... ${event.elapsedMs / 1000} s"
                is FlowEvent.Cancelling -> "cancelling the payment...".also { cancelling = true }
                is FlowEvent.Done -> null
            }
            if (text != null) scope.launch { show(text) }
        }
        return scope.launch {
            try {
                val outcome = client.micropayAndWaitAsync(
                    MicropayRequest(chargeCode = chargeCode, amountFen = amountFen, dynamicId = scannedCode, paySubject = "Store #12"),
                    cancel = token,
                    progress = progress,
                )
                show("final: ${outcome.status()} - ${outcome.reason()}")
            } catch (e: SosopayException.Validation) {
                show("final: INVALID ${e.field}: ${e.reason}") // nothing was sent
            }
        }
    }

    /** "Cancel": the payment is reversed at once (or reported PAID if the customer had already
     *  paid), and `pay`'s coroutine shows that final status. If the screen goes away instead,
     *  cancelling its scope also reverses the payment (but shows nothing). */
    fun cancel() {
        cancelButton?.cancel()
    }
}
