//! Criterion benchmarks of the envelope: sign, seal (sign + encrypt), open (decrypt + verify),
//! raw 3DES (ours and, for reference, RustCrypto's `des` block by block) on 100-byte, 827-byte
//! (the document's §3.4 order sample) and 8-KiB bodies; decoding a reply; writing a request body
//! as JSON and reading it back.
//!
//! `cargo bench -p sosopay --bench envelope` (add `-- sign` etc. to filter).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sosopay::crypto::Des3;
use sosopay::envelope::{Envelope, MerchantKey};
use sosopay::models::{OrderReply, Reply};

const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";
const TS: &str = "1795706991879";

const BODIES: [(&str, &str); 3] = [
    ("100B", include_str!("data/body-100.json")),
    ("827B", include_str!("data/order-body.json")),
    ("8KiB", include_str!("data/body-8k.json")),
];

fn envelope() -> Envelope {
    Envelope::new(MerchantKey::new(KEY).expect("key"))
}

fn bench_envelope(c: &mut Criterion) {
    let env = envelope();
    for (group_name, which) in [
        ("sign", 0),
        ("seal", 1),
        ("open", 2),
        ("seal+decrypt", 3),
        ("3des-encrypt", 4),
        ("3des-encrypt-rustcrypto", 5),
    ] {
        let mut g = c.benchmark_group(group_name);
        for (name, body) in BODIES {
            g.throughput(Throughput::Bytes(body.len() as u64));
            match which {
                0 => g.bench_function(BenchmarkId::from_parameter(name), |b| {
                    b.iter(|| env.sign_body(TS, black_box(body)).expect("sign"))
                }),
                1 => g.bench_function(BenchmarkId::from_parameter(name), |b| {
                    b.iter(|| env.seal(TS, black_box(body)).expect("seal"))
                }),
                2 => {
                    let (sign, ct) = env.seal(TS, body).expect("seal");
                    g.bench_function(BenchmarkId::from_parameter(name), |b| {
                        b.iter(|| env.open(black_box(&sign), black_box(&ct)).expect("open"))
                    })
                }
                3 => g.bench_function(BenchmarkId::from_parameter(name), |b| {
                    // The peers' unit of work: sign + encrypt + decrypt.
                    b.iter(|| {
                        let (sign, ct) = env.seal(TS, black_box(body)).expect("seal");
                        (sign, env.decrypt_to_string(&ct).expect("decrypt"))
                    })
                }),
                5 => {
                    // The block-by-block RustCrypto `des` 0.8 the core used before (reference).
                    use des::cipher::{BlockEncrypt, KeyInit};
                    let des = des::TdesEde3::new(&env.key().des_key().into());
                    let mut buf = vec![0u8; (body.len() / 8 + 1) * 8];
                    g.bench_function(BenchmarkId::from_parameter(name), |b| {
                        b.iter(|| {
                            for block in black_box(&mut buf).chunks_exact_mut(8) {
                                des.encrypt_block(block.into());
                            }
                        })
                    })
                }
                _ => {
                    let des = Des3::new(&env.key().des_key());
                    let mut buf = vec![0u8; (body.len() / 8 + 1) * 8];
                    g.bench_function(BenchmarkId::from_parameter(name), |b| {
                        b.iter(|| des.encrypt_blocks(black_box(&mut buf)).expect("blocks"))
                    })
                }
            };
        }
        g.finish();
    }
}

fn bench_decode(c: &mut Criterion) {
    let reply = include_str!("data/order-reply.json");
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(reply.len() as u64));
    g.bench_function("OrderReply", |b| {
        b.iter(|| OrderReply::decode(black_box(reply)).expect("decode"))
    });
    // What the client does with a 3DES reply: decrypt, then decode.
    let env = envelope();
    let ct = env.encrypt(reply.as_bytes());
    g.bench_function("OrderReply (3DES)", |b| {
        b.iter(|| {
            let text = env.decrypt_to_string(black_box(&ct)).expect("decrypt");
            OrderReply::decode(&text).expect("decode")
        })
    });
    g.finish();
}

/// Writing a request body (the §3.4 order sample as a tree) as JSON: straight from the tree, as
/// the client and the sandbox do, and through a `serde_json::Value`, as they did before.
fn bench_encode(c: &mut Criterion) {
    let value: serde_json::Value =
        serde_json::from_str(include_str!("data/order-body.json")).expect("json");
    let tree = sosopay::codec::Node::from_json_value(&value);
    let mut g = c.benchmark_group("encode");
    g.bench_function("order body", |b| b.iter(|| black_box(&tree).to_json_text()));
    g.bench_function("order body (via Value)", |b| {
        b.iter(|| black_box(&tree).to_json_value().to_string())
    });
    g.finish();
    // Reading it back, as the sandbox reads a request: with and without the raw value.
    let text = include_str!("data/order-body.json");
    let mut g = c.benchmark_group("parse");
    g.bench_function("order body (Document::parse)", |b| {
        b.iter(|| sosopay::codec::Document::parse(black_box(text)).expect("parse"))
    });
    g.bench_function("order body (Document::parse_root)", |b| {
        b.iter(|| sosopay::codec::Document::parse_root(black_box(text)).expect("parse"))
    });
    g.finish();
}

criterion_group!(benches, bench_envelope, bench_decode, bench_encode);
criterion_main!(benches);
