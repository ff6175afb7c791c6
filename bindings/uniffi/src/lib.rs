//! sosopay for Kotlin (Android) and Swift (iOS), through uniffi.
//!
//! Thin wrappers only: every function converts its arguments to the core's types, calls
//! `sosopay`, and converts the result or the error back. All logic lives in the core.
//!
//! Calls that reach the network block the calling thread (up to the configured timeouts, 95 s
//! for a micropay, about 90 s for the till flow): call them from a background thread, a
//! Kotlin coroutine on `Dispatchers.IO`, or a Swift `Task.detached`, never from the UI thread.
//! The flows also come as `suspend` / `async` variants (`micropayAndWaitAsync`,
//! `waitForPaymentAsync`) that run on a thread of their own and never block the caller.

uniffi::setup_scaffolding!("sosopay");

mod client;
mod config;
mod enums;
mod envelope;
mod error;
mod error_enum;
mod flows;
mod models;
mod notify;
mod options;
mod replies;
mod requests;

pub use client::{
    GatewayEnvironment, OutcomeStatus, PaymentOutcome, ReplyFormat, RequestLogger, SosopayClient,
};
pub use config::ClientConfig;
pub use enums::{Channel, DynamicIdType, FundChannel, OrderState, ResultCode, SerType, TradeType};
pub use envelope::{Envelope, MerchantKey, SealedBody, VerifiedSignature};
pub use error::SosopayError;
pub use flows::{CancelToken, FlowEvent, FlowProgress};
pub use notify::NotificationVerifier;
pub use options::{RequestLog, WaitOptions};
pub use replies::{
    CancelReply, FlowOrder, FlowRechargeReply, FundBill, GatewayResult, JsapiParams, OrderDetails,
    OrderReply, PaymentNotification, QueryReply, RefundReply,
};
pub use requests::{
    CancelRequest, FlowRechargeRequest, Goods, MicropayRequest, OrderRequest, QueryRequest,
    RefundRequest,
};

/// The version of this SDK.
#[uniffi::export]
pub fn sdk_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
