//! Records for requests and replies. Money is a `Long` of fen (`amountFen`) everywhere, with
//! the yuan text (`amountYuan`, two decimals) beside it in replies; no floating point.

use sosopay::Amount;

use crate::error::{Result, SosopayError};
use crate::requests::{Goods, MicropayRequest};

pub(crate) fn fen_in(field: &str, fen: i64) -> Result<Amount> {
    Ok(Amount::from_fen_i64_named(fen, field)?)
}

pub(crate) fn fen_out(a: Amount) -> i64 {
    // At most 2^53 - 1 by construction, so it always fits.
    i64::try_from(a.fen()).unwrap_or(i64::MAX)
}

pub(crate) fn u32_in(field: &str, v: i32) -> Result<u32> {
    u32::try_from(v).map_err(|_| SosopayError::validation(field, format!("{v} is negative")))
}

pub(crate) fn opt_u32_in(field: &str, v: Option<i32>) -> Result<Option<u32>> {
    v.map(|v| u32_in(field, v)).transpose()
}

/// A count for Kotlin's `Int` / Swift's `Int32` (saturating: no count the gateway sends comes
/// near 2^31).
pub(crate) fn count_out(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// Parses a yuan amount (`"158.00"`, `"0.1"`, `"12"`) exactly into fen. Rejects signs,
/// exponents, more than two decimals and overflow.
#[uniffi::export]
pub fn parse_yuan(text: String) -> Result<i64> {
    Ok(fen_out(Amount::parse_yuan(&text)?))
}

/// Formats fen as yuan with two decimals (`15800` → `"158.00"`).
#[uniffi::export]
pub fn fen_to_yuan(fen: i64) -> Result<String> {
    Ok(fen_in("fen", fen)?.to_yuan_string())
}

// ---------------------------------------------------------------------------------------------
// Requests

// The goods item and the request records are generated from the core's: see requests.rs.

/// The goods list; an error names the item (`goods[1].priceFen`).
pub(crate) fn goods_in(goods: &[Goods]) -> Result<Vec<sosopay::models::Goods>> {
    goods
        .iter()
        .enumerate()
        .map(|(i, g)| g.to_core().map_err(|e| e.within(&format!("goods[{i}]"))))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Replies

// The reply records are generated from the core's: see replies.rs.

/// Validates a micropay request as the gateway would, without sending anything (the client
/// fills the default operator and device ids first, so set them here to check them too).
#[uniffi::export]
pub fn validate_micropay_request(request: MicropayRequest) -> Result<()> {
    request
        .to_core()?
        .validate()
        .map_err(|e| SosopayError::from(e.renamed_fields(MicropayRequest::FIELDS)))
}
