// sosopay for Android: one AAR = the generated Kotlin (mobile/kotlin, package io.github.sosopay),
// libsosopay_uniffi.so for arm64-v8a, armeabi-v7a, x86_64 and x86 (cargo-ndk), JNA as a
// dependency, and the consumer R8/ProGuard rules (consumer-rules.pro).
//
//   gradle assembleRelease                     -> build/outputs/aar/sosopay-android-release.aar
//   gradle publishToMavenLocal                 -> ~/.m2 (io.github.sosopay:sosopay-android)
//   gradle publishAndReleaseToMavenCentral     (release.yml: Central Portal credentials and an
//                                               in-memory GPG key in ORG_GRADLE_PROJECT_* env)
// -PskipCargo=true uses jniLibs already in build/rustJniLibs instead of running cargo-ndk.
import com.vanniktech.maven.publish.AndroidSingleVariantLibrary
import com.vanniktech.maven.publish.SonatypeHost

plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.0"
    id("com.vanniktech.maven.publish") version "0.30.0"
}

val sosopayVersion = providers.gradleProperty("VERSION_NAME").get()
val repoRoot = rootDir.resolve("../..").canonicalFile
val rustJniLibs = layout.buildDirectory.dir("rustJniLibs")
val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64", "x86")

android {
    namespace = "io.github.sosopay"
    compileSdk = 35
    ndkVersion = "27.2.12479018"

    defaultConfig {
        // Android 7.0: see the compatibility policy in CHANGELOG.md.
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
        ndk { abiFilters += abis }
    }

    sourceSets["main"].apply {
        // The generated bindings are committed there and checked by scripts/test-mobile.
        java.srcDir(repoRoot.resolve("mobile/kotlin/src/main/kotlin"))
        jniLibs.srcDir(rustJniLibs)
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // JNA as an Android archive: it carries JNA's own native part for every ABI.
    implementation("net.java.dev.jna:jna:5.14.0@aar")
}

// The native library for every ABI: cargo-ndk (cargo install cargo-ndk; ANDROID_NDK_HOME set,
// or the NDK of ndkVersion installed in the SDK).
val cargoNdk by tasks.registering(Exec::class) {
    description = "Builds libsosopay_uniffi.so for $abis with cargo-ndk"
    onlyIf { providers.gradleProperty("skipCargo").orNull != "true" }
    workingDir = repoRoot
    val args = mutableListOf("cargo", "ndk", "--platform", "24")
    abis.forEach { args += listOf("-t", it) }
    args += listOf("-o", rustJniLibs.get().asFile.absolutePath, "build", "-p", "sosopay-uniffi", "--lib", "--release")
    commandLine(args)
    inputs.dir(repoRoot.resolve("core/src"))
    inputs.dir(repoRoot.resolve("bindings/uniffi/src"))
    inputs.file(repoRoot.resolve("Cargo.lock"))
    outputs.dir(rustJniLibs)
}
tasks.named("preBuild") { dependsOn(cargoNdk) }

mavenPublishing {
    publishToMavenCentral(SonatypeHost.CENTRAL_PORTAL, automaticRelease = false)
    signAllPublications()
    coordinates("io.github.sosopay", "sosopay-android", sosopayVersion)
    configure(AndroidSingleVariantLibrary(variant = "release", sourcesJar = true, publishJavadocJar = true))
    pom {
        name.set("sosopay for Android")
        description.set("Client SDK for the SouSou (快收 / 嗖嗖收银) payment gateway: Kotlin bindings over the Rust core")
        url.set("https://github.com/sosopay/sosopay")
        inceptionYear.set("2026")
        licenses {
            license {
                name.set("MIT OR Apache-2.0")
                url.set("https://github.com/sosopay/sosopay")
            }
        }
        developers {
            developer {
                id.set("sosopay")
                name.set("sosopay developers")
                url.set("https://github.com/sosopay")
            }
        }
        scm {
            url.set("https://github.com/sosopay/sosopay")
            connection.set("scm:git:https://github.com/sosopay/sosopay.git")
            developerConnection.set("scm:git:ssh://git@github.com/sosopay/sosopay.git")
        }
    }
}
