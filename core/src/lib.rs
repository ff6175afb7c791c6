//! # sosopay
//!
//! The client SDK for the SouSou (快收 / 嗖嗖收银) payment gateway: the wire envelope (MD5
//! signatures, 3DES), typed models of every operation, lenient JSON and XML decoding, exact
//! money, and (in later modules) the HTTP client, the till flow and notification handling.

pub mod codec;
pub mod crypto;
pub mod enums;
pub mod envelope;
pub mod error;
pub mod models;
pub mod money;

pub use enums::{Channel, DynamicIdType, FundChannel, OrderState, ResultCode, SerType, TradeType};
pub use envelope::{Envelope, MerchantKey, Signature};
pub use error::{Error, Result};
pub use money::Amount;
