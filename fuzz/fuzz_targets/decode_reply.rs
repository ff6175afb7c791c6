#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sosopay_fuzz::decode_reply(data);
});
