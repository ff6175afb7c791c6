// The Android library of sosopay (AAR): the generated Kotlin bindings (../kotlin) and the
// native library of bindings/uniffi for every Android ABI, built with cargo-ndk.
// Build: `gradle assembleRelease` (Gradle 8.10+, JDK 17, the Android SDK and NDK, rustup and
// cargo-ndk on PATH). See ../README.md and docs/RELEASING.md.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "sosopay-android"
