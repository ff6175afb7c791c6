package io.github.sosopay.test

import kotlin.system.exitProcess

/** A minimal test runner: each test is a named block; a failure is any throwable. */
class Runner {
    private var passed = 0
    private val failures = ArrayList<String>()

    fun test(name: String, body: () -> Unit) {
        val t0 = System.nanoTime()
        try {
            body()
            passed++
            println("ok    $name (${(System.nanoTime() - t0) / 1_000_000} ms)")
        } catch (e: Throwable) {
            failures.add(name)
            println("FAIL  $name: $e")
            e.printStackTrace(System.out)
        }
    }

    fun finish(): Nothing {
        println("kotlin tests: $passed passed, ${failures.size} failed")
        if (failures.isNotEmpty()) {
            failures.forEach { println("  failed: $it") }
            exitProcess(1)
        }
        exitProcess(0)
    }
}

/** Runs `block`, expecting it to throw a `T`; returns the exception. */
inline fun <reified T : Throwable> expectThrows(block: () -> Unit): T {
    try {
        block()
    } catch (e: Throwable) {
        if (e is T) return e
        throw AssertionError("expected ${T::class.simpleName}, got $e", e)
    }
    throw AssertionError("expected ${T::class.simpleName}, nothing was thrown")
}
