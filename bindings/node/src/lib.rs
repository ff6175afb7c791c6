//! Node.js bindings of the sosopay core (napi-rs). The npm package lives in `../../node`:
//! `node/sosopay.js` wraps these exports and turns errors into `SosopayError` subclasses.
//!
//! Logic lives in the core; this crate only converts JS values and errors.

// napi-derive registers exports only outside `cfg(test)`: in unit-test builds they look unused.
#![cfg_attr(test, allow(dead_code))]

mod client;
mod config;
mod convert;
mod envelope;
mod error;
mod flows;
mod input;
mod notify;
mod options;
mod replies;
mod requests;
#[cfg(feature = "sandbox")]
mod sandbox;
mod settle;

/// The addon's Rust allocations go through mimalloc, not glibc's malloc: every request builds
/// and frees a few hundred small objects (the reply's trees, its JSON for JS) on the runtime
/// thread, and glibc's consolidation of freed chunks was about 12 % of the process's CPU under
/// load (`perf`, docs/BENCHMARKS.md, "Node: the addon's allocator"). Node's and V8's own
/// allocations are untouched.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use napi_derive::napi;
use sosopay::{Channel, DynamicIdType, FundChannel, OrderState, ResultCode, SerType, TradeType};

use crate::convert::names;
use crate::error::IntoNapi;

/// The names of every known value of each dictionary.
#[napi(object)]
pub struct KnownValues {
    /// `RESULT.CODE` values, as sent.
    pub result_code: Vec<String>,
    /// Order states.
    pub order_state: Vec<String>,
    /// Channels.
    pub channel: Vec<String>,
    /// Funding sources.
    pub fund_channel: Vec<String>,
    /// Kinds of scanned codes.
    pub dynamic_id_type: Vec<String>,
    /// Order trade types.
    pub trade_type: Vec<String>,
    /// What a query's code is.
    pub ser_type: Vec<String>,
    /// How a payment flow ended.
    pub outcome_status: Vec<String>,
}

/// Every known dictionary value (names as used in requests and replies).
#[napi(js_name = "knownValues")]
pub fn known_values() -> KnownValues {
    KnownValues {
        result_code: ResultCode::KNOWN
            .iter()
            .map(|c| c.as_wire().to_owned())
            .collect(),
        order_state: names::<OrderState>(),
        channel: names::<Channel>(),
        fund_channel: names::<FundChannel>(),
        dynamic_id_type: names::<DynamicIdType>(),
        trade_type: names::<TradeType>(),
        ser_type: names::<SerType>(),
        outcome_status: sosopay::OutcomeStatus::KNOWN
            .iter()
            .map(|s| s.name().to_owned())
            .collect(),
    }
}

/// An order state read by the core from its wire code (`"1"`, `"1.0"`): its name and the core's
/// rules about it.
#[napi(object)]
pub struct OrderStateFacts {
    /// The state's name (`"Paid"`; `"Unknown"` for a code this SDK does not know).
    #[napi(ts_type = "OrderState")]
    pub name: String,
    /// Was the money taken (paid, or paid then partly or wholly refunded)?
    pub money_taken: bool,
    /// Is it final for a payment (no longer awaiting the customer)?
    pub is_final: bool,
}

/// The core's reading of an order state code (text, or a number as a JSON reply may carry it).
#[napi(js_name = "orderState")]
pub fn order_state(
    #[napi(ts_arg_type = "string | number")] code: input::TextOrNumber<input::Code>,
) -> OrderStateFacts {
    let s = match &code.0 {
        napi::Either::A(text) => OrderState::from_wire(text),
        napi::Either::B(n) => OrderState::from_wire(&n.to_string()),
    };
    OrderStateFacts {
        name: s.name().to_owned(),
        money_taken: s.money_taken(),
        is_final: s.is_final(),
    }
}

/// Parses yuan text exactly (`"158.00"`, `"0.1"`) and returns integer fen.
#[napi(js_name = "yuanToFen")]
pub fn yuan_to_fen(
    #[napi(ts_arg_type = "string")] yuan: input::Arg<input::YuanArg, input::Yuan>,
) -> napi::Result<f64> {
    convert::amount(&Some(yuan.0 .0), &None, "yuan", "fen")
        .map(convert::fen_number)
        .napi()
}

/// Formats integer fen as yuan text with two decimals (`1` → `"0.01"`).
#[napi(js_name = "fenToYuan")]
pub fn fen_to_yuan(
    #[napi(ts_arg_type = "number | bigint")] fen: input::Arg<input::FenArg, convert::FenInput>,
) -> napi::Result<String> {
    convert::amount(&None, &Some(fen.0), "yuan", "fen")
        .map(|a| a.to_yuan_string())
        .napi()
}

/// For the package's JS helpers (webhooks, stores, testing kit): refuses a property of
/// `options` that is not one of `fields`, as the native readers do (`ValidationError` naming
/// it, with the field meant). Not exported by the package.
#[napi(js_name = "checkFields")]
pub fn check_fields(
    #[napi(ts_arg_type = "object")] options: napi::bindgen_prelude::Unknown<'_>,
    what: String,
    fields: Vec<String>,
) -> napi::Result<()> {
    let known: Vec<&str> = fields.iter().map(String::as_str).collect();
    input::Props::of(options, "options", &what, String::new())?.only(&known, &what)
}

/// The tokio runtime the client's requests run on: one worker thread. Node feeds it from one
/// JS thread, and its work per request (sign, 3DES, decode: tens of µs) is small beside the
/// network's; a second worker only added wake-ups between the two (`docs/BENCHMARKS.md`:
/// 117.7 -> 99 µs of CPU per sequential query, the same requests/s at 1 and 8 concurrent
/// loops). The flows' blocking pool is tokio's, unchanged.
#[napi_derive::module_init]
fn init_runtime() {
    // Should it fail, napi makes its default runtime instead.
    if let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("sosopay-io")
        .enable_all()
        .build()
    {
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}
