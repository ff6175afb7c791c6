package io.github.sosopay.test

/** Runs the Kotlin tests. Environment:
 *   SOSOPAY_VECTORS      path of tests/vectors/envelope.json (required)
 *   SOSOPAY_SANDBOX_URL  base URL of a running sosopay-sandbox (the gateway tests are skipped
 *                        only when it is unset AND SOSOPAY_REQUIRE_SANDBOX is not 1)
 *   SOSOPAY_SCENARIOS    the tests/scenarios directory, and
 *   SOSOPAY_SCENARIO_SANDBOX_URL  a sandbox at the scenarios' time scale (_defaults.json) */
fun main() {
    val r = Runner()
    val vectors = System.getenv("SOSOPAY_VECTORS") ?: error("SOSOPAY_VECTORS is not set")
    offlineTests(r, vectors)
    notificationTests(r)
    val url = System.getenv("SOSOPAY_SANDBOX_URL")
    if (url.isNullOrEmpty()) {
        if (System.getenv("SOSOPAY_REQUIRE_SANDBOX") == "1") {
            r.test("sandbox available") { error("SOSOPAY_SANDBOX_URL is not set") }
        } else {
            println("skip  sandbox tests: SOSOPAY_SANDBOX_URL is not set")
        }
    } else {
        sandboxTests(r, url)
        flowTests(r, url, vectors)
    }
    val scenarios = System.getenv("SOSOPAY_SCENARIOS")
    val scenarioUrl = System.getenv("SOSOPAY_SCENARIO_SANDBOX_URL")
    if (!scenarios.isNullOrEmpty() && !scenarioUrl.isNullOrEmpty()) {
        scenarioTests(r, scenarios, scenarioUrl)
    } else if (System.getenv("SOSOPAY_REQUIRE_SANDBOX") == "1") {
        r.test("scenario sandbox available") { error("SOSOPAY_SCENARIOS / SOSOPAY_SCENARIO_SANDBOX_URL are not set") }
    }
    r.finish()
}
