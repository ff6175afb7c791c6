//! Records for requests and replies. Money is a `Long` of fen (`amountFen`) everywhere, with
//! the yuan text (`amountYuan`, two decimals) beside it in replies; no floating point.

use sosopay::Amount;

use crate::enums::{
    Channel, DynamicIdType, FundChannel, OrderState, ResultCode, SerType, TradeType,
};
use crate::error::{Result, SosopayError};

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

/// `RESULT`: the result code and the gateway's message.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GatewayResult {
    /// `CODE`.
    pub code: ResultCode,
    /// `INFO`.
    pub info: String,
}

impl From<sosopay::models::GatewayResult> for GatewayResult {
    fn from(r: sosopay::models::GatewayResult) -> Self {
        GatewayResult {
            code: r.code.into(),
            info: r.info,
        }
    }
}

/// One funding source of a payment or refund.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FundBill {
    /// `FUND_CHANNEL`.
    pub fund_channel: FundChannel,
    /// `AMOUNT` in fen.
    pub amount_fen: i64,
    /// `AMOUNT` in yuan, two decimals.
    pub amount_yuan: String,
}

impl From<sosopay::models::FundBill> for FundBill {
    fn from(b: sosopay::models::FundBill) -> Self {
        FundBill {
            fund_channel: b.fund_channel.into(),
            amount_fen: fen_out(b.amount),
            amount_yuan: b.amount.to_yuan_string(),
        }
    }
}

fn bills(v: Vec<sosopay::models::FundBill>) -> Vec<FundBill> {
    v.into_iter().map(FundBill::from).collect()
}

/// WeChat JSAPI pay parameters, for `WeixinJSBridge` / `wx.chooseWXPay`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JsapiParams {
    /// `appId`.
    pub app_id: String,
    /// `timeStamp`.
    pub time_stamp: String,
    /// `nonceStr`.
    pub nonce_str: String,
    /// `package` (the gateway sends it as `packageData`).
    pub package_data: String,
    /// `signType`.
    pub sign_type: String,
    /// `paySign` (the gateway sends it as `sign`).
    pub pay_sign: String,
}

/// The reply of a micropay or an order (`ORDER_RESP`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OrderReply {
    /// `RESULT` (always success: failures are thrown).
    pub result: GatewayResult,
    /// `CHARGE_CODE`.
    pub charge_code: Option<String>,
    /// `CHARGE_DOWN_CODE`: the gateway's order number.
    pub charge_down_code: Option<String>,
    /// `CHARGE_THIRD_CODE`: the channel's transaction id.
    pub charge_third_code: Option<String>,
    /// `CHANNEL_TYPE`.
    pub channel: Option<Channel>,
    /// `STATE`, when the gateway includes it.
    pub state: Option<OrderState>,
    /// `AMT` in fen.
    pub amount_fen: Option<i64>,
    /// `AMT` in yuan, two decimals.
    pub amount_yuan: Option<String>,
    /// `MERCHANTPARA`.
    pub merchant_para: Option<String>,
    /// `FUND_BILL_LIST`.
    pub fund_bills: Vec<FundBill>,
    /// `OPER_ID`.
    pub oper_id: Option<String>,
    /// `DEV_ID`.
    pub dev_id: Option<String>,
    /// `BEGIN_TIME` (`YYYY-MM-DD hh:mm:ss`, UTC+8).
    pub begin_time: Option<String>,
    /// `BAR_CODE`: the payment link to render as a QR code (QR orders).
    pub bar_code: Option<String>,
    /// The JSAPI pay parameters (JSAPI orders).
    pub jsapi: Option<JsapiParams>,
    /// The whole reply document, as JSON.
    pub raw_json: String,
}

impl From<sosopay::models::OrderReply> for OrderReply {
    fn from(r: sosopay::models::OrderReply) -> Self {
        OrderReply {
            result: r.result.into(),
            charge_code: r.charge_code,
            charge_down_code: r.charge_down_code,
            charge_third_code: r.charge_third_code,
            channel: r.channel.map(Into::into),
            state: r.state.map(Into::into),
            amount_fen: r.amount.map(fen_out),
            amount_yuan: r.amount.map(Amount::to_yuan_string),
            merchant_para: r.merchant_para,
            fund_bills: bills(r.fund_bills),
            oper_id: r.oper_id,
            dev_id: r.dev_id,
            begin_time: r.begin_time,
            bar_code: r.bar_code,
            jsapi: r.jsapi.map(|j| JsapiParams {
                app_id: j.app_id,
                time_stamp: j.time_stamp,
                nonce_str: j.nonce_str,
                package_data: j.package,
                sign_type: j.sign_type,
                pay_sign: j.pay_sign,
            }),
            raw_json: r.raw.to_string(),
        }
    }
}

/// An order's details: the query reply's fields, also those of a payment notification.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OrderDetails {
    /// `BUSI_ID`.
    pub busi_id: Option<String>,
    /// `CHARGE_CODE`.
    pub charge_code: Option<String>,
    /// `CHARGE_DOWN_CODE`.
    pub charge_down_code: Option<String>,
    /// `CHARGE_THIRD_CODE`.
    pub charge_third_code: Option<String>,
    /// `CHANNEL_TYPE`.
    pub channel: Option<Channel>,
    /// `STATE`.
    pub state: Option<OrderState>,
    /// `AMT` in fen.
    pub amount_fen: Option<i64>,
    /// `AMT` in yuan, two decimals.
    pub amount_yuan: Option<String>,
    /// `realAMT` in fen: what the customer actually paid after discounts.
    pub real_amount_fen: Option<i64>,
    /// `realAMT` in yuan, two decimals.
    pub real_amount_yuan: Option<String>,
    /// `PAY_SUBJECT`.
    pub pay_subject: Option<String>,
    /// `OPER_ID`.
    pub oper_id: Option<String>,
    /// `DEV_ID`.
    pub dev_id: Option<String>,
    /// `REGISTER_ID`.
    pub register_id: Option<String>,
    /// `MERCHANTPARA`.
    pub merchant_para: Option<String>,
    /// `DYNAMIC_ID`.
    pub dynamic_id: Option<String>,
    /// `GOODS_DETAIL`.
    pub goods: Vec<Goods>,
    /// `FUND_BILL_LIST`.
    pub fund_bills: Vec<FundBill>,
    /// `BEGIN_TIME`.
    pub begin_time: Option<String>,
    /// `END_TIME`.
    pub end_time: Option<String>,
}

impl From<sosopay::models::OrderDetails> for OrderDetails {
    fn from(o: sosopay::models::OrderDetails) -> Self {
        OrderDetails {
            busi_id: o.busi_id,
            charge_code: o.charge_code,
            charge_down_code: o.charge_down_code,
            charge_third_code: o.charge_third_code,
            channel: o.channel.map(Into::into),
            state: o.state.map(Into::into),
            amount_fen: o.amount.map(fen_out),
            amount_yuan: o.amount.map(Amount::to_yuan_string),
            real_amount_fen: o.real_amount.map(fen_out),
            real_amount_yuan: o.real_amount.map(Amount::to_yuan_string),
            pay_subject: o.pay_subject,
            oper_id: o.oper_id,
            dev_id: o.dev_id,
            register_id: o.register_id,
            merchant_para: o.merchant_para,
            dynamic_id: o.dynamic_id,
            goods: o.goods.into_iter().map(Goods::from).collect(),
            fund_bills: bills(o.fund_bills),
            begin_time: o.begin_time,
            end_time: o.end_time,
        }
    }
}

/// The reply of a query (`QUERY_RESP`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QueryReply {
    /// `RESULT`.
    pub result: GatewayResult,
    /// The order.
    pub order: OrderDetails,
    /// The whole reply document, as JSON.
    pub raw_json: String,
}

impl From<sosopay::models::QueryReply> for QueryReply {
    fn from(r: sosopay::models::QueryReply) -> Self {
        QueryReply {
            result: r.result.into(),
            order: r.order.into(),
            raw_json: r.raw.to_string(),
        }
    }
}

/// The reply of a refund (`REFUND_RESP`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RefundReply {
    /// `RESULT`.
    pub result: GatewayResult,
    /// `CHANNEL_TYPE`.
    pub channel: Option<Channel>,
    /// `FUND_BILL_LIST`: where the refund went.
    pub fund_bills: Vec<FundBill>,
    /// `CHARGE_CODE`, when included.
    pub charge_code: Option<String>,
    /// `OUT_REFUND_NO`, when included.
    pub out_refund_no: Option<String>,
    /// `STATE` of the order after the refund, when included.
    pub state: Option<OrderState>,
    /// The whole reply document, as JSON.
    pub raw_json: String,
}

impl From<sosopay::models::RefundReply> for RefundReply {
    fn from(r: sosopay::models::RefundReply) -> Self {
        RefundReply {
            result: r.result.into(),
            channel: r.channel.map(Into::into),
            fund_bills: bills(r.fund_bills),
            charge_code: r.charge_code,
            out_refund_no: r.out_refund_no,
            state: r.state.map(Into::into),
            raw_json: r.raw.to_string(),
        }
    }
}

/// The reply of a cancel (`CANCELTRADE_RESP`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CancelReply {
    /// `RESULT`.
    pub result: GatewayResult,
    /// The whole reply document, as JSON.
    pub raw_json: String,
}

impl From<sosopay::models::CancelReply> for CancelReply {
    fn from(r: sosopay::models::CancelReply) -> Self {
        CancelReply {
            result: r.result.into(),
            raw_json: r.raw.to_string(),
        }
    }
}

/// The `flow` node of a top-up reply.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FlowOrder {
    /// `id`.
    pub id: Option<String>,
    /// `phoneNo`.
    pub phone_no: Option<String>,
    /// `flowVal` (MB).
    pub flow_val_mb: Option<i32>,
    /// `flowType`.
    pub flow_type: Option<String>,
    /// `busiCode`.
    pub busi_code: Option<String>,
    /// `orderID`: the gateway's order number.
    pub order_id: Option<String>,
    /// `platOrderID`: the top-up platform's order number.
    pub plat_order_id: Option<String>,
    /// `creatTime` (sic).
    pub create_time: Option<String>,
    /// `status`: 0 created, 1 in progress, 2 done, 3 failed.
    pub status: Option<String>,
}

/// The reply of a top-up.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FlowRechargeReply {
    /// `result`.
    pub result: GatewayResult,
    /// `flow`.
    pub flow: Option<FlowOrder>,
    /// The whole reply document, as JSON.
    pub raw_json: String,
}

impl From<sosopay::models::FlowRechargeReply> for FlowRechargeReply {
    fn from(r: sosopay::models::FlowRechargeReply) -> Self {
        FlowRechargeReply {
            result: r.result.into(),
            flow: r.flow.map(|f| FlowOrder {
                id: f.id,
                phone_no: f.phone_no,
                flow_val_mb: f.flow_val.map(count_out),
                flow_type: f.flow_type,
                busi_code: f.busi_code,
                order_id: f.order_id,
                plat_order_id: f.plat_order_id,
                create_time: f.create_time,
                status: f.status,
            }),
            raw_json: r.raw.to_string(),
        }
    }
}

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
