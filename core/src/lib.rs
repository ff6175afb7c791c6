//! # sosopay
//!
//! The client SDK for the SouSou (快收 / 嗖嗖收银) payment gateway: the wire envelope (MD5
//! signatures, 3DES), typed models of every operation, lenient JSON and XML decoding, exact
//! money, the HTTP client, the till flow (`micropay_and_wait`) and notification handling.
//!
//! ```no_run
//! use sosopay::{Amount, Client, ClientConfig, WaitOptions};
//! use sosopay::models::MicropayRequest;
//!
//! let config = ClientConfig::new("0010000001", "98SDKFUO432HNODS098EEE07U9DUOIUE",
//!     "http://127.0.0.1:8080/openGateway/openService/")?;
//! let client = Client::new(config)?;
//! let mut req = MicropayRequest::new("ORDER-1", Amount::parse_yuan("12.50")?, "130730865806264036", "Coffee");
//! req.oper_id = "cashier-1".into();
//! req.dev_id = "till-1".into();
//! let outcome = client.micropay_and_wait(&req, &WaitOptions::default())?;
//! println!("{:?}: {}", outcome.status, outcome.reason);
//! # Ok::<(), sosopay::Error>(())
//! ```

#![deny(missing_docs)]

pub mod client;
pub mod codec;
pub mod crypto;
pub mod enums;
pub mod envelope;
pub mod error;
pub mod flows;
mod http1;
pub mod models;
pub mod money;
pub mod notify;
mod per_process;
mod resolve;
pub mod stores;
pub mod tls;
#[cfg(feature = "async")]
mod transport_async;
pub mod units;

pub use client::{Client, ClientConfig, ClientOptions, Environment, RequestLog, RetryPolicy};
pub use enums::{Channel, DynamicIdType, FundChannel, OrderState, ResultCode, SerType, TradeType};
pub use envelope::{Envelope, MerchantKey, Signature};
pub use error::{Error, Result};
pub use flows::{
    AwaitedOrder, CancelToken, FlowControl, FlowEvent, FlowInterrupt, FlowObserver, OutcomeStatus,
    PaymentOutcome, WaitOptions,
};
pub use money::Amount;
pub use notify::{
    parse_notification, IdempotencyStore, MemoryIdempotencyStore, NotificationVerifier,
};
pub use tls::CaCertificates;

/// The README's Rust examples, compiled by `cargo test --doc` so that they cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
