//! `uniffi-bindgen`: generates the Kotlin and Swift sources from the compiled library.

fn main() {
    uniffi::uniffi_bindgen_main()
}
