//! Records for requests and replies. Money is a `Long` of fen (`amountFen`) everywhere, with
//! the yuan text (`amountYuan`, two decimals) beside it in replies; no floating point.

use sosopay::Amount;

use crate::enums::{Channel, DynamicIdType, SerType, TradeType};
use crate::error::{Result, SosopayError};
use crate::replies::OrderDetails;

pub(crate) fn fen_in(field: &str, fen: i64) -> Result<Amount> {
    if fen < 0 {
        return Err(SosopayError::validation(
            field,
            format!("{fen} fen is negative"),
        ));
    }
    Amount::from_fen_i64(fen).map_err(|_| {
        SosopayError::validation(
            field,
            format!("{fen} fen is above the maximum of {} fen", Amount::MAX_FEN),
        )
    })
}

pub(crate) fn fen_out(a: Amount) -> i64 {
    // At most 2^53 - 1 by construction, so it always fits.
    i64::try_from(a.fen()).unwrap_or(i64::MAX)
}

pub(crate) fn u32_in(field: &str, v: i32) -> Result<u32> {
    u32::try_from(v).map_err(|_| SosopayError::validation(field, format!("{v} is negative")))
}

fn opt_u32_in(field: &str, v: Option<i32>) -> Result<Option<u32>> {
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

/// One item of `GOODS_DETAIL` (appendix 1).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Goods {
    /// `GOOD_ID`.
    pub id: String,
    /// `GOOD_NAME`.
    pub name: String,
    /// `GOOD_CLASS`: the goods category.
    pub category: String,
    /// `GOOD_PRICE`, in fen.
    pub price_fen: i64,
    /// `GOOD_SUBJECT`.
    pub subject: String,
    /// `GOOD_QUANTITY`.
    #[uniffi(default = 1)]
    pub quantity: i32,
    /// `GOOD_SHOWURL`.
    #[uniffi(default = None)]
    pub show_url: Option<String>,
}

impl Goods {
    fn to_core(&self, i: usize) -> Result<sosopay::models::Goods> {
        Ok(sosopay::models::Goods {
            id: self.id.clone(),
            name: self.name.clone(),
            class: self.category.clone(),
            price: fen_in(&format!("goods[{i}].price_fen"), self.price_fen)?,
            subject: self.subject.clone(),
            quantity: u32_in(&format!("goods[{i}].quantity"), self.quantity)?,
            show_url: self.show_url.clone(),
        })
    }
}

impl From<sosopay::models::Goods> for Goods {
    fn from(g: sosopay::models::Goods) -> Self {
        Goods {
            id: g.id,
            name: g.name,
            category: g.class,
            price_fen: fen_out(g.price),
            subject: g.subject,
            quantity: count_out(g.quantity),
            show_url: g.show_url,
        }
    }
}

fn goods_in(goods: &[Goods]) -> Result<Vec<sosopay::models::Goods>> {
    goods
        .iter()
        .enumerate()
        .map(|(i, g)| g.to_core(i))
        .collect()
}

/// Micropay (被扫, `preOrder`): the till scans the customer's payment code.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MicropayRequest {
    /// `CHARGE_CODE`: the merchant's unique order number; reuse it when retrying this payment.
    pub charge_code: String,
    /// `AMT`, in fen (more than zero).
    pub amount_fen: i64,
    /// `DYNAMIC_ID`: the code scanned from the customer's wallet.
    pub dynamic_id: String,
    /// `PAY_SUBJECT`.
    pub pay_subject: String,
    /// `DYNAMIC_ID_TYPE` (barcode when null).
    #[uniffi(default = None)]
    pub dynamic_id_type: Option<DynamicIdType>,
    /// `CHANNEL_TYPE` (auto-detect when null).
    #[uniffi(default = None)]
    pub channel: Option<Channel>,
    /// `OPER_ID` (the client's default when empty).
    #[uniffi(default = "")]
    pub oper_id: String,
    /// `DEV_ID` (the client's default when empty).
    #[uniffi(default = "")]
    pub dev_id: String,
    /// `REGISTER_ID`: the store.
    #[uniffi(default = None)]
    pub register_id: Option<String>,
    /// `MERCHANTPARA`: Base64 text echoed back.
    #[uniffi(default = None)]
    pub merchant_para: Option<String>,
    /// `TIME_EXPIRE` in seconds, at least 120.
    #[uniffi(default = None)]
    pub time_expire_seconds: Option<i32>,
    /// `GOODS_DETAIL`.
    #[uniffi(default = [])]
    pub goods: Vec<Goods>,
    /// `verifyCodes`.
    #[uniffi(default = None)]
    pub verify_codes: Option<String>,
    /// `NODIFY_URL`.
    #[uniffi(default = None)]
    pub notify_url: Option<String>,
}

impl MicropayRequest {
    pub(crate) fn to_core(&self) -> Result<sosopay::models::MicropayRequest> {
        let mut r = sosopay::models::MicropayRequest::new(
            self.charge_code.clone(),
            fen_in("amount_fen", self.amount_fen)?,
            self.dynamic_id.clone(),
            self.pay_subject.clone(),
        );
        if let Some(t) = &self.dynamic_id_type {
            r.dynamic_id_type = t.to_core();
        }
        if let Some(c) = &self.channel {
            r.channel = c.to_core();
        }
        r.oper_id = self.oper_id.clone();
        r.dev_id = self.dev_id.clone();
        r.register_id = self.register_id.clone();
        r.merchant_para = self.merchant_para.clone();
        r.time_expire = opt_u32_in("time_expire_seconds", self.time_expire_seconds)?;
        r.goods = goods_in(&self.goods)?;
        r.verify_codes = self.verify_codes.clone();
        r.notify_url = self.notify_url.clone();
        Ok(r)
    }
}

/// A QR (主扫) or WeChat JSAPI (公众号) order (`order`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OrderRequest {
    /// `CHARGE_CODE`.
    pub charge_code: String,
    /// `AMT`, in fen (more than zero).
    pub amount_fen: i64,
    /// `CHANNEL_TYPE` (Alipay, Wechat, ...; not Auto).
    pub channel: Channel,
    /// `PAY_SUBJECT`.
    pub pay_subject: String,
    /// `OPER_ID` (the client's default when empty).
    #[uniffi(default = "")]
    pub oper_id: String,
    /// `DEV_ID` (the client's default when empty).
    #[uniffi(default = "")]
    pub dev_id: String,
    /// `REGISTER_ID`.
    #[uniffi(default = None)]
    pub register_id: Option<String>,
    /// `MERCHANTPARA`.
    #[uniffi(default = None)]
    pub merchant_para: Option<String>,
    /// `TIME_EXPIRE` in seconds, at least 120.
    #[uniffi(default = None)]
    pub time_expire_seconds: Option<i32>,
    /// `NODIFY_URL`: where the gateway POSTs the payment notification.
    #[uniffi(default = None)]
    pub notify_url: Option<String>,
    /// `GOODS_DETAIL`.
    #[uniffi(default = [])]
    pub goods: Vec<Goods>,
    /// `verifyCodes`.
    #[uniffi(default = None)]
    pub verify_codes: Option<String>,
    /// `TRADE_TYPE` (NATIVE when null; JSAPI is forced by `createJsapiOrder`).
    #[uniffi(default = None)]
    pub trade_type: Option<TradeType>,
    /// `subAppid`.
    #[uniffi(default = None)]
    pub sub_appid: Option<String>,
    /// `subOpenid` (required for JSAPI).
    #[uniffi(default = None)]
    pub sub_openid: Option<String>,
}

impl OrderRequest {
    pub(crate) fn to_core(&self) -> Result<sosopay::models::OrderRequest> {
        let mut r = sosopay::models::OrderRequest::new(
            self.charge_code.clone(),
            fen_in("amount_fen", self.amount_fen)?,
            self.channel.to_core(),
            self.pay_subject.clone(),
        );
        r.oper_id = self.oper_id.clone();
        r.dev_id = self.dev_id.clone();
        r.register_id = self.register_id.clone();
        r.merchant_para = self.merchant_para.clone();
        r.time_expire = opt_u32_in("time_expire_seconds", self.time_expire_seconds)?;
        r.notify_url = self.notify_url.clone();
        r.goods = goods_in(&self.goods)?;
        r.verify_codes = self.verify_codes.clone();
        r.trade_type = self.trade_type.as_ref().map(TradeType::to_core);
        r.sub_appid = self.sub_appid.clone();
        r.sub_openid = self.sub_openid.clone();
        Ok(r)
    }
}

/// A refund of a paid order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RefundRequest {
    /// `CHARGE_REFUND_FEE` in fen: at most what remains of the payment.
    pub refund_amount_fen: i64,
    /// `REFUND_SUBJECT`.
    pub refund_subject: String,
    /// `CHARGE_CODE` of the paid order (this or `charge_down_code` is required).
    #[uniffi(default = None)]
    pub charge_code: Option<String>,
    /// `CHARGE_DOWN_CODE`: the gateway's order number.
    #[uniffi(default = None)]
    pub charge_down_code: Option<String>,
    /// `OUT_REFUND_NO`: the merchant's unique refund number; reuse it to retry safely.
    #[uniffi(default = None)]
    pub out_refund_no: Option<String>,
    /// `OPER_ID` (the client's default when empty).
    #[uniffi(default = "")]
    pub oper_id: String,
    /// `DEV_ID` (the client's default when empty).
    #[uniffi(default = "")]
    pub dev_id: String,
}

impl RefundRequest {
    pub(crate) fn to_core(&self) -> Result<sosopay::models::RefundRequest> {
        Ok(sosopay::models::RefundRequest {
            charge_code: self.charge_code.clone(),
            charge_down_code: self.charge_down_code.clone(),
            out_refund_no: self.out_refund_no.clone(),
            refund_amount: fen_in("refund_amount_fen", self.refund_amount_fen)?,
            refund_subject: self.refund_subject.clone(),
            oper_id: self.oper_id.clone(),
            dev_id: self.dev_id.clone(),
        })
    }
}

/// A query by charge code (or gateway order number, or verification code).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QueryRequest {
    /// The looked-up code.
    pub code: String,
    /// What `code` is (the merchant's charge code when null).
    #[uniffi(default = None)]
    pub ser_type: Option<SerType>,
}

impl QueryRequest {
    pub(crate) fn to_core(&self) -> sosopay::models::QueryRequest {
        let mut q = sosopay::models::QueryRequest::by_charge_code(self.code.clone());
        if let Some(t) = &self.ser_type {
            q.ser_type = t.to_core();
        }
        q
    }
}

/// A cancel (撤单): immediate, or an application to cancel.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CancelRequest {
    /// `CHARGE_CODE`.
    pub charge_code: String,
    /// True to apply to cancel (`opType=ACO`), false for an immediate cancel.
    #[uniffi(default = false)]
    pub apply: bool,
}

impl CancelRequest {
    pub(crate) fn to_core(&self) -> sosopay::models::CancelRequest {
        sosopay::models::CancelRequest {
            charge_code: self.charge_code.clone(),
            apply: self.apply,
        }
    }
}

/// A mobile data top-up (流量充值).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FlowRechargeRequest {
    /// `phoneNo`.
    pub phone_no: String,
    /// `flowVal` in MB.
    pub flow_val_mb: i32,
    /// `flowType`: `"0"` nationwide (default), `"1"` within the province.
    #[uniffi(default = None)]
    pub flow_type: Option<String>,
    /// `notifyURL`.
    #[uniffi(default = None)]
    pub notify_url: Option<String>,
}

impl FlowRechargeRequest {
    pub(crate) fn to_core(&self) -> Result<sosopay::models::FlowRechargeRequest> {
        Ok(sosopay::models::FlowRechargeRequest {
            phone_no: self.phone_no.clone(),
            flow_val: u32_in("flow_val_mb", self.flow_val_mb)?,
            flow_type: self.flow_type.clone(),
            notify_url: self.notify_url.clone(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Replies

// The reply records are generated from the core's: see replies.rs.

/// A verified payment notification (`PAY_NODIFY`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PaymentNotification {
    /// The order.
    pub order: OrderDetails,
    /// The key under which to process it once (merchant, order and state): store it with a
    /// unique constraint; the gateway delivers the same notification up to 30 times.
    pub idempotency_key: String,
    /// The whole notification document, as JSON.
    pub raw_json: String,
}

impl PaymentNotification {
    pub(crate) fn from_core(n: sosopay::models::Notification, idempotency_key: String) -> Self {
        PaymentNotification {
            order: n.order.into(),
            idempotency_key,
            raw_json: n.raw.to_string(),
        }
    }
}

/// Validates a micropay request as the gateway would, without sending anything (the client
/// fills the default operator and device ids first, so set them here to check them too).
#[uniffi::export]
pub fn validate_micropay_request(request: MicropayRequest) -> Result<()> {
    Ok(request.to_core()?.validate()?)
}
