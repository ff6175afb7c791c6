//! Typed models of every request and reply of the gateway document (§2–§9) and of the
//! payment notification (`PAY_NODIFY`).
//!
//! Requests are plain structs with snake_case fields; [`MicropayRequest::to_wire`] and friends
//! produce the wire body with the wire's names (`NODIFY_URL`, `verifyCodes`, `subAppid`, ...),
//! every value a JSON string as the vendor's client sends it. Replies decode leniently from
//! JSON or XML (see [`crate::codec`]) and keep the raw document in `raw`.

use serde::Serialize;

pub use crate::codec::RawDocument;
use crate::codec::{Document, MapBuilder, Node, Tree};
use crate::enums::{
    Channel, DynamicIdType, FundChannel, OrderState, ResultCode, SerType, TradeType,
};
use crate::error::{Error, Result};
use crate::money::Amount;

// ---------------------------------------------------------------------------------------------
// Validation helpers

/// Longest merchant order number accepted.
pub const MAX_CODE_LEN: usize = 64;
/// Longest free-text field accepted (characters).
pub const MAX_TEXT_LEN: usize = 256;

fn require_text(field: &str, v: &str) -> Result<()> {
    if v.trim().is_empty() {
        return Err(Error::validation(field, "is required"));
    }
    check_text(field, v)
}

fn check_text(field: &str, v: &str) -> Result<()> {
    if v.chars().count() > MAX_TEXT_LEN {
        return Err(Error::validation(
            field,
            format!("is longer than {MAX_TEXT_LEN} characters"),
        ));
    }
    if v.chars().any(|c| c.is_control() && c != '\t') {
        return Err(Error::validation(field, "contains control characters"));
    }
    Ok(())
}

fn check_opt_text(field: &str, v: &Option<String>) -> Result<()> {
    match v {
        Some(v) => check_text(field, v),
        None => Ok(()),
    }
}

/// Checks a code that travels in a URL path segment (`CHARGE_CODE`, `BUSI_ID`, ...): 1 to 64
/// ASCII letters, digits, `-`, `_` or `.`, and not `.` or `..`.
pub fn validate_code(field: &str, v: &str) -> Result<()> {
    if v.is_empty() {
        return Err(Error::validation(field, "is required"));
    }
    if v.len() > MAX_CODE_LEN {
        return Err(Error::validation(
            field,
            format!("is longer than {MAX_CODE_LEN} characters"),
        ));
    }
    if let Some(c) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(Error::validation(
            field,
            format!("contains {c:?}; only ASCII letters, digits, '-', '_' and '.' are allowed (it is sent in a URL path)"),
        ));
    }
    if v == "." || v == ".." {
        return Err(Error::validation(
            field,
            "cannot be '.' or '..' (it is sent in a URL path)",
        ));
    }
    Ok(())
}

fn check_positive(field: &str, a: Amount) -> Result<()> {
    if a.is_zero() {
        return Err(Error::validation(field, "must be more than zero"));
    }
    Ok(())
}

fn check_time_expire(v: Option<u32>) -> Result<()> {
    match v {
        Some(t) if t < 120 => Err(Error::validation(
            "time_expire",
            format!("is {t} s; the gateway requires at least 120"),
        )),
        _ => Ok(()),
    }
}

fn check_url(field: &str, v: &Option<String>) -> Result<()> {
    if let Some(u) = v {
        let lower = u.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(Error::validation(
                field,
                "must be an http:// or https:// URL",
            ));
        }
        if u.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::validation(
                field,
                "must not contain spaces or control characters",
            ));
        }
        if u.len() > 1024 {
            return Err(Error::validation(field, "is longer than 1024 characters"));
        }
        if u.contains('#') {
            // The gateway appends its signature (`?…&sign=…`) to the URL: after a fragment it
            // would never reach the server, and every delivery would be refused.
            return Err(Error::validation(
                field,
                "must not contain '#': the gateway appends the signature to the URL, and a fragment is never sent to your server",
            ));
        }
        if url_host(u).is_empty() {
            return Err(Error::validation(field, "has no host"));
        }
    }
    Ok(())
}

/// The authority of an `http(s)://` URL (`user@host:port`): after `://`, up to the first `/`,
/// `?` or `#`.
pub(crate) fn url_authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or_default()
}

/// The host of an `http(s)://` URL, lower-case, without brackets or port ("" when it has
/// none).
pub(crate) fn url_host(url: &str) -> String {
    let authority = url_authority(url);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    host.to_ascii_lowercase()
}

/// Whether `host` names this machine (`localhost`, 127.0.0.0/8, `::1`, `0.0.0.0`), in any of
/// the spellings a resolver takes for them: a trailing dot (`localhost.`), an IPv4-mapped IPv6
/// address (`::ffff:127.0.0.1`), and the shorthand IPv4 forms `inet_aton` reads (`127.1`,
/// `2130706433`, `0x7f.1`, `0177.0.0.1`).
pub(crate) fn is_loopback_host(host: &str) -> bool {
    use std::net::IpAddr;
    let host = host.trim_end_matches('.');
    let local = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.is_loopback() || v4.is_unspecified(),
            None => v6.is_loopback() || v6.is_unspecified(),
        },
        v4 => v4.is_loopback() || v4.is_unspecified(),
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(local)
        || inet_aton(host).is_some_and(|v4| local(IpAddr::V4(v4)))
}

/// An IPv4 address in the forms `inet_aton` accepts: one to four parts, each decimal, octal
/// (a leading `0`) or hexadecimal (`0x`), the last filling the bytes left.
fn inet_aton(host: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(parts.len());
    for p in &parts {
        let v = if let Some(hex) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            u32::from_str_radix(hex, 16).ok()?
        } else if p.len() > 1 && p.starts_with('0') {
            u32::from_str_radix(&p[1..], 8).ok()?
        } else if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse().ok()?
        } else {
            return None;
        };
        values.push(v);
    }
    let (last, first) = values.split_last()?;
    if first.iter().any(|v| *v > 255) {
        return None;
    }
    let room = 32 - 8 * first.len() as u32;
    if room < 32 && *last >> room != 0 {
        return None;
    }
    let high = first
        .iter()
        .enumerate()
        .fold(0u32, |acc, (i, v)| acc | (v << (24 - 8 * i as u32)));
    Some(std::net::Ipv4Addr::from(high | last))
}

fn check_merchant_para(v: &Option<String>) -> Result<()> {
    if let Some(p) = v {
        if p.len() > 1024 {
            return Err(Error::validation(
                "merchant_para",
                "is longer than 1024 characters",
            ));
        }
        if !p
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
        {
            return Err(Error::validation(
                "merchant_para",
                "must be Base64 text (the gateway echoes it back)",
            ));
        }
    }
    Ok(())
}

fn check_channel(field: &str, c: &Channel, allow_auto: bool) -> Result<()> {
    match c {
        Channel::Unknown(raw) if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) => Err(
            Error::validation(field, format!("{raw:?} is not a channel number")),
        ),
        Channel::Auto if !allow_auto => Err(Error::validation(
            field,
            "auto-detect (0) is only for micropay",
        )),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Goods

/// One item of `GOODS_DETAIL` (appendix 1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Goods {
    /// `GOOD_ID`.
    pub id: String,
    /// `GOOD_NAME`.
    pub name: String,
    /// `GOOD_CLASS`.
    pub class: String,
    /// `GOOD_PRICE`: the unit price (yuan on the wire).
    #[serde(rename = "price_fen")]
    pub price: Amount,
    /// `GOOD_SUBJECT`.
    pub subject: String,
    /// `GOOD_QUANTITY` (in a request, 1 unless set: `Goods::DEFAULT_QUANTITY`).
    pub quantity: u32,
    /// `GOOD_SHOWURL`.
    pub show_url: Option<String>,
}

impl Goods {
    /// `GOOD_QUANTITY` when a binding's caller gives none.
    pub const DEFAULT_QUANTITY: u32 = 1;

    /// One item at unit `price`, [`Goods::DEFAULT_QUANTITY`] of it, with no show URL.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        class: impl Into<String>,
        price: Amount,
        subject: impl Into<String>,
    ) -> Self {
        Goods {
            id: id.into(),
            name: name.into(),
            class: class.into(),
            price,
            subject: subject.into(),
            quantity: Self::DEFAULT_QUANTITY,
            show_url: None,
        }
    }

    /// Checks the item on its own: its fields named bare (`name`, `quantity`). A request
    /// checks each of its items, named `goods[i].name`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    fn validate_at(&self, at: &str) -> Result<()> {
        let f = |name: &str| format!("{at}{name}");
        require_text(&f("id"), &self.id)?;
        require_text(&f("name"), &self.name)?;
        require_text(&f("class"), &self.class)?;
        require_text(&f("subject"), &self.subject)?;
        if self.quantity == 0 {
            return Err(Error::validation(f("quantity"), "must be at least 1"));
        }
        check_opt_text(&f("show_url"), &self.show_url)
    }

    fn to_node(&self) -> Node {
        MapBuilder::new()
            .text("GOOD_ID", &self.id)
            .text("GOOD_NAME", &self.name)
            .text("GOOD_CLASS", &self.class)
            .text("GOOD_PRICE", self.price.to_yuan_string())
            .text("GOOD_SUBJECT", &self.subject)
            .text("GOOD_QUANTITY", self.quantity.to_string())
            .opt("GOOD_SHOWURL", self.show_url.as_deref())
            .build()
    }

    /// An item as a request (`Strict`: a price or quantity that cannot be read is an error
    /// naming it) or the gateway (`Described`) gives it.
    fn from_node<T: Tree>(n: &T, read: GoodsRead) -> Result<Goods> {
        let price = opt_yuan(n, "GOOD_PRICE");
        let quantity = match one_text(n, "GOOD_QUANTITY") {
            Err(e) => Err(e),
            Ok(None) => Ok(0),
            Ok(Some(q)) => parse_whole(q)
                .ok_or_else(|| Error::decode(format!("GOOD_QUANTITY {q:?} is not a whole number"))),
        };
        let (price, quantity) = match read {
            GoodsRead::Strict => (price?, quantity?),
            // Goods only describe a payment (its facts are CHARGE_CODE, STATE and AMT): a price
            // or quantity that cannot be read (`"0.015"`, `"1.5"`) is read as one not given (0),
            // never a reason to refuse the reply or notification; the raw document keeps it.
            GoodsRead::Described => (price.unwrap_or_default(), quantity.unwrap_or_default()),
        };
        Ok(Goods {
            id: text(n, "GOOD_ID"),
            name: text(n, "GOOD_NAME"),
            class: text(n, "GOOD_CLASS"),
            price: price.unwrap_or_default(),
            subject: text(n, "GOOD_SUBJECT"),
            quantity,
            show_url: opt_text(n, "GOOD_SHOWURL"),
        })
    }
}

fn goods_node(goods: &[Goods]) -> Option<Node> {
    if goods.is_empty() {
        None
    } else {
        Some(Node::List(goods.iter().map(Goods::to_node).collect()))
    }
}

fn validate_goods(goods: &[Goods]) -> Result<()> {
    goods
        .iter()
        .enumerate()
        .try_for_each(|(i, g)| g.validate_at(&format!("goods[{i}].")))
}

// ---------------------------------------------------------------------------------------------
// Requests

/// Micropay (被扫, §2, `preOrder`): the merchant scans the customer's payment code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MicropayRequest {
    /// `CHARGE_CODE`: the merchant's unique order number; reuse it when retrying this payment.
    pub charge_code: String,
    /// `AMT`.
    pub amount: Amount,
    /// `DYNAMIC_ID`: the code scanned from the customer's wallet.
    pub dynamic_id: String,
    /// `DYNAMIC_ID_TYPE` (default barcode).
    pub dynamic_id_type: DynamicIdType,
    /// `CHANNEL_TYPE` (default 0, auto-detect).
    pub channel: Channel,
    /// `PAY_SUBJECT`.
    pub pay_subject: String,
    /// `OPER_ID` (the client's default when empty).
    pub oper_id: String,
    /// `DEV_ID` (the client's default when empty).
    pub dev_id: String,
    /// `REGISTER_ID`: the store.
    pub register_id: Option<String>,
    /// `MERCHANTPARA`: Base64 text echoed back.
    pub merchant_para: Option<String>,
    /// `TIME_EXPIRE` in seconds, at least 120.
    pub time_expire: Option<u32>,
    /// `GOODS_DETAIL`.
    pub goods: Vec<Goods>,
    /// `verifyCodes`.
    pub verify_codes: Option<String>,
    /// `NODIFY_URL` (the vendor client sends it on micropay too).
    pub notify_url: Option<String>,
}

impl MicropayRequest {
    /// A micropay of `amount` for the scanned `dynamic_id`, auto-detecting the channel.
    pub fn new(
        charge_code: impl Into<String>,
        amount: Amount,
        dynamic_id: impl Into<String>,
        pay_subject: impl Into<String>,
    ) -> Self {
        MicropayRequest {
            charge_code: charge_code.into(),
            amount,
            dynamic_id: dynamic_id.into(),
            dynamic_id_type: DynamicIdType::Barcode,
            channel: Channel::Auto,
            pay_subject: pay_subject.into(),
            oper_id: String::new(),
            dev_id: String::new(),
            register_id: None,
            merchant_para: None,
            time_expire: None,
            goods: Vec::new(),
            verify_codes: None,
            notify_url: None,
        }
    }

    /// Checks every field as the gateway would, naming the field on error.
    pub fn validate(&self) -> Result<()> {
        validate_code("charge_code", &self.charge_code)?;
        check_positive("amount", self.amount)?;
        if self.dynamic_id.is_empty()
            || self.dynamic_id.len() > 128
            || !self.dynamic_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            // Name what is wrong: a scanner typing its Enter key, a code shown in groups.
            // A character as any runtime's user reads it: 'x', or its code point (U+200B).
            let shown = |c: char| match c {
                ' ' => "a space".to_owned(),
                '\t' => "a tab".to_owned(),
                c if c.is_ascii_graphic() => format!("'{c}'"),
                c => format!("U+{:04X}", u32::from(c)),
            };
            let mut why = match self.dynamic_id.chars().find(|c| !c.is_ascii_alphanumeric()) {
                Some('\r' | '\n') => {
                    "; it contains a line break (a scanner's Enter key?): give the code without it"
                        .to_owned()
                }
                Some(c) if c.is_whitespace() => {
                    format!("; it contains {}: give the code without spaces", shown(c))
                }
                Some(c) => format!("; it contains {}", shown(c)),
                None if self.dynamic_id.is_empty() => "; it is empty".to_owned(),
                None => String::new(),
            };
            if self.dynamic_id.len() > 128 {
                let n = self.dynamic_id.chars().count();
                why.push_str(&format!("; it is {n} characters long"));
            }
            return Err(Error::validation(
                "dynamic_id",
                format!("must be the scanned payment code: 1 to 128 ASCII letters or digits{why}"),
            ));
        }
        if let DynamicIdType::Unknown(raw) = &self.dynamic_id_type {
            return Err(Error::validation(
                "dynamic_id_type",
                format!("{raw:?} is not 1 (barcode), 2 (sound wave) or 3 (NFC)"),
            ));
        }
        check_channel("channel", &self.channel, true)?;
        require_text("pay_subject", &self.pay_subject)?;
        require_text("oper_id", &self.oper_id)?;
        require_text("dev_id", &self.dev_id)?;
        check_opt_text("register_id", &self.register_id)?;
        check_merchant_para(&self.merchant_para)?;
        check_time_expire(self.time_expire)?;
        validate_goods(&self.goods)?;
        check_opt_text("verify_codes", &self.verify_codes)?;
        check_url("notify_url", &self.notify_url)
    }

    /// The wire body (a JSON object of strings) for merchant `busi_id`.
    pub fn to_wire(&self, busi_id: &str) -> Node {
        MapBuilder::new()
            .text("BUSI_ID", busi_id)
            .text("OPER_ID", &self.oper_id)
            .text("DEV_ID", &self.dev_id)
            .opt("MERCHANTPARA", self.merchant_para.as_deref())
            .opt("REGISTER_ID", self.register_id.as_deref())
            .text("AMT", self.amount.to_yuan_string())
            .opt("TIME_EXPIRE", self.time_expire.map(|t| t.to_string()))
            .text("CHANNEL_TYPE", self.channel.as_wire())
            .text("DYNAMIC_ID_TYPE", self.dynamic_id_type.as_wire())
            .text("DYNAMIC_ID", &self.dynamic_id)
            .text("CHARGE_CODE", &self.charge_code)
            .text("PAY_SUBJECT", &self.pay_subject)
            .node_opt("GOODS_DETAIL", goods_node(&self.goods))
            .opt("verifyCodes", self.verify_codes.as_deref())
            .opt("NODIFY_URL", self.notify_url.as_deref())
            .build()
    }

    /// Decodes a request body (as the sandbox receives it), leniently.
    pub fn from_wire(n: &Node) -> Result<Self> {
        Ok(MicropayRequest {
            charge_code: text(n, "CHARGE_CODE"),
            amount: req_yuan(n, "AMT")?,
            dynamic_id: text(n, "DYNAMIC_ID"),
            dynamic_id_type: n
                .text("DYNAMIC_ID_TYPE")
                .map(DynamicIdType::from_wire)
                .unwrap_or(DynamicIdType::Unknown(String::new())),
            channel: n
                .text("CHANNEL_TYPE")
                .map(Channel::from_wire)
                .unwrap_or(Channel::Unknown(String::new())),
            pay_subject: text(n, "PAY_SUBJECT"),
            oper_id: text(n, "OPER_ID"),
            dev_id: text(n, "DEV_ID"),
            register_id: opt_text(n, "REGISTER_ID"),
            merchant_para: opt_text(n, "MERCHANTPARA"),
            time_expire: opt_u32(n, "TIME_EXPIRE")?,
            goods: goods_list(n, GoodsRead::Strict)?,
            verify_codes: opt_text(n, "verifyCodes"),
            notify_url: notify_url(n),
        })
    }
}

/// A QR (主扫, §3) or WeChat JSAPI (公众号, §4) order: `order`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    /// `CHARGE_CODE`.
    pub charge_code: String,
    /// `AMT`.
    pub amount: Amount,
    /// `CHANNEL_TYPE` (1 Alipay, 2 WeChat, ...; not 0).
    pub channel: Channel,
    /// `PAY_SUBJECT`.
    pub pay_subject: String,
    /// `OPER_ID` (the client's default when empty).
    pub oper_id: String,
    /// `DEV_ID` (the client's default when empty).
    pub dev_id: String,
    /// `REGISTER_ID`.
    pub register_id: Option<String>,
    /// `MERCHANTPARA`.
    pub merchant_para: Option<String>,
    /// `TIME_EXPIRE` in seconds, at least 120.
    pub time_expire: Option<u32>,
    /// `NODIFY_URL`: where the gateway POSTs `PAY_NODIFY`; `?_type=json` and
    /// `encrypt=3DES` in it choose the notification's format and encryption.
    pub notify_url: Option<String>,
    /// `GOODS_DETAIL`.
    pub goods: Vec<Goods>,
    /// `verifyCodes`.
    pub verify_codes: Option<String>,
    /// `TRADE_TYPE` (NATIVE when absent; JSAPI for official-account payment).
    pub trade_type: Option<TradeType>,
    /// `subAppid`.
    pub sub_appid: Option<String>,
    /// `subOpenid` (required for JSAPI).
    pub sub_openid: Option<String>,
}

impl OrderRequest {
    /// A QR order.
    pub fn new(
        charge_code: impl Into<String>,
        amount: Amount,
        channel: Channel,
        pay_subject: impl Into<String>,
    ) -> Self {
        OrderRequest {
            charge_code: charge_code.into(),
            amount,
            channel,
            pay_subject: pay_subject.into(),
            oper_id: String::new(),
            dev_id: String::new(),
            register_id: None,
            merchant_para: None,
            time_expire: None,
            notify_url: None,
            goods: Vec::new(),
            verify_codes: None,
            trade_type: None,
            sub_appid: None,
            sub_openid: None,
        }
    }

    /// A WeChat JSAPI order for the user `sub_openid` (under `sub_appid` when given).
    pub fn jsapi(
        charge_code: impl Into<String>,
        amount: Amount,
        pay_subject: impl Into<String>,
        sub_openid: impl Into<String>,
    ) -> Self {
        let mut r = Self::new(charge_code, amount, Channel::Wechat, pay_subject);
        r.trade_type = Some(TradeType::Jsapi);
        r.sub_openid = Some(sub_openid.into());
        r
    }

    /// Is it a JSAPI order?
    pub fn is_jsapi(&self) -> bool {
        matches!(self.trade_type, Some(TradeType::Jsapi))
    }

    /// Checks every field, naming the field on error.
    pub fn validate(&self) -> Result<()> {
        validate_code("charge_code", &self.charge_code)?;
        check_positive("amount", self.amount)?;
        check_channel("channel", &self.channel, false)?;
        require_text("pay_subject", &self.pay_subject)?;
        require_text("oper_id", &self.oper_id)?;
        require_text("dev_id", &self.dev_id)?;
        check_opt_text("register_id", &self.register_id)?;
        check_merchant_para(&self.merchant_para)?;
        check_time_expire(self.time_expire)?;
        check_url("notify_url", &self.notify_url)?;
        validate_goods(&self.goods)?;
        check_opt_text("verify_codes", &self.verify_codes)?;
        if let Some(TradeType::Unknown(raw)) = &self.trade_type {
            return Err(Error::validation(
                "trade_type",
                format!("{raw:?} is not JSAPI, NATIVE or APP"),
            ));
        }
        check_opt_text("sub_appid", &self.sub_appid)?;
        check_opt_text("sub_openid", &self.sub_openid)?;
        if self.is_jsapi() {
            if self
                .sub_openid
                .as_deref()
                .map(str::trim)
                .unwrap_or("")
                .is_empty()
            {
                return Err(Error::validation(
                    "sub_openid",
                    "is required for a JSAPI order",
                ));
            }
            if self.channel != Channel::Wechat {
                return Err(Error::validation(
                    "channel",
                    "a JSAPI order must use WeChat (2)",
                ));
            }
        }
        Ok(())
    }

    /// The wire body for merchant `busi_id`.
    pub fn to_wire(&self, busi_id: &str) -> Node {
        MapBuilder::new()
            .text("BUSI_ID", busi_id)
            .text("OPER_ID", &self.oper_id)
            .text("DEV_ID", &self.dev_id)
            .opt("MERCHANTPARA", self.merchant_para.as_deref())
            .opt("REGISTER_ID", self.register_id.as_deref())
            .text("AMT", self.amount.to_yuan_string())
            .opt("TIME_EXPIRE", self.time_expire.map(|t| t.to_string()))
            .text("CHANNEL_TYPE", self.channel.as_wire())
            .opt(
                "TRADE_TYPE",
                self.trade_type.as_ref().map(|t| t.as_wire().to_owned()),
            )
            .opt("subAppid", self.sub_appid.as_deref())
            .opt("subOpenid", self.sub_openid.as_deref())
            .text("CHARGE_CODE", &self.charge_code)
            .opt("NODIFY_URL", self.notify_url.as_deref())
            .text("PAY_SUBJECT", &self.pay_subject)
            .node_opt("GOODS_DETAIL", goods_node(&self.goods))
            .opt("verifyCodes", self.verify_codes.as_deref())
            .build()
    }

    /// Decodes a request body leniently.
    pub fn from_wire(n: &Node) -> Result<Self> {
        Ok(OrderRequest {
            charge_code: text(n, "CHARGE_CODE"),
            amount: req_yuan(n, "AMT")?,
            channel: n
                .text("CHANNEL_TYPE")
                .map(Channel::from_wire)
                .unwrap_or(Channel::Unknown(String::new())),
            pay_subject: text(n, "PAY_SUBJECT"),
            oper_id: text(n, "OPER_ID"),
            dev_id: text(n, "DEV_ID"),
            register_id: opt_text(n, "REGISTER_ID"),
            merchant_para: opt_text(n, "MERCHANTPARA"),
            time_expire: opt_u32(n, "TIME_EXPIRE")?,
            notify_url: notify_url(n),
            goods: goods_list(n, GoodsRead::Strict)?,
            verify_codes: opt_text(n, "verifyCodes"),
            trade_type: n.text("TRADE_TYPE").map(TradeType::from_wire),
            sub_appid: opt_text(n, "subAppid"),
            sub_openid: opt_text(n, "subOpenid"),
        })
    }
}

/// A refund (§6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// `CHARGE_CODE` of the paid order (this or `charge_down_code` is required).
    pub charge_code: Option<String>,
    /// `CHARGE_DOWN_CODE`: the gateway's order number; preferred by the gateway when given.
    pub charge_down_code: Option<String>,
    /// `OUT_REFUND_NO`: the merchant's unique refund number; reuse it to retry safely. Required
    /// (the gateway accepts a refund without one, but then a refund whose reply was lost can
    /// neither be retried without refunding twice nor told apart from another refund of the
    /// order).
    pub out_refund_no: String,
    /// `CHARGE_REFUND_FEE`: at most what remains of the payment.
    pub refund_amount: Amount,
    /// `REFUND_SUBJECT`.
    pub refund_subject: String,
    /// `OPER_ID` (the client's default when empty).
    pub oper_id: String,
    /// `DEV_ID` (the client's default when empty).
    pub dev_id: String,
}

impl RefundRequest {
    /// A refund of `refund_amount` of order `charge_code`, identified by `out_refund_no`.
    pub fn new(
        charge_code: impl Into<String>,
        out_refund_no: impl Into<String>,
        refund_amount: Amount,
        refund_subject: impl Into<String>,
    ) -> Self {
        RefundRequest {
            charge_code: Some(charge_code.into()),
            charge_down_code: None,
            out_refund_no: out_refund_no.into(),
            refund_amount,
            refund_subject: refund_subject.into(),
            oper_id: String::new(),
            dev_id: String::new(),
        }
    }

    /// Checks every field, naming the field on error. The refund number is required.
    pub fn validate(&self) -> Result<()> {
        self.check(true)
    }

    /// [`validate`](Self::validate) for a refund as the gateway accepts it: without a refund
    /// number (only this SDK requires one), every other field checked. The sandbox's check.
    pub fn validate_received(&self) -> Result<()> {
        self.check(false)
    }

    fn check(&self, refund_no_required: bool) -> Result<()> {
        match (&self.charge_code, &self.charge_down_code) {
            (None, None) => {
                return Err(Error::validation(
                    "charge_code",
                    "a refund needs charge_code or charge_down_code",
                ))
            }
            (cc, cdc) => {
                if let Some(c) = cc {
                    validate_code("charge_code", c)?;
                }
                if let Some(c) = cdc {
                    validate_code("charge_down_code", c)?;
                }
            }
        }
        if self.out_refund_no.is_empty() {
            if refund_no_required {
                return Err(Error::validation(
                    "out_refund_no",
                    "is required: the refund's unique number, which makes retrying a refund whose outcome is unknown safe (the gateway refunds once per number)",
                ));
            }
        } else {
            validate_code("out_refund_no", &self.out_refund_no)?;
        }
        check_positive("refund_amount", self.refund_amount)?;
        require_text("refund_subject", &self.refund_subject)?;
        require_text("oper_id", &self.oper_id)?;
        require_text("dev_id", &self.dev_id)
    }

    /// The wire body for merchant `busi_id`.
    pub fn to_wire(&self, busi_id: &str) -> Node {
        MapBuilder::new()
            .text("BUSI_ID", busi_id)
            .text("OPER_ID", &self.oper_id)
            .text("DEV_ID", &self.dev_id)
            .text("CHARGE_REFUND_FEE", self.refund_amount.to_yuan_string())
            .text("REFUND_SUBJECT", &self.refund_subject)
            .opt("CHARGE_CODE", self.charge_code.as_deref())
            .opt("CHARGE_DOWN_CODE", self.charge_down_code.as_deref())
            .opt(
                "OUT_REFUND_NO",
                Some(self.out_refund_no.as_str()).filter(|s| !s.is_empty()),
            )
            .build()
    }

    /// Decodes a request body leniently.
    pub fn from_wire(n: &Node) -> Result<Self> {
        Ok(RefundRequest {
            charge_code: opt_text(n, "CHARGE_CODE"),
            charge_down_code: opt_text(n, "CHARGE_DOWN_CODE"),
            out_refund_no: text(n, "OUT_REFUND_NO"),
            refund_amount: req_yuan(n, "CHARGE_REFUND_FEE")?,
            refund_subject: text(n, "REFUND_SUBJECT"),
            oper_id: text(n, "OPER_ID"),
            dev_id: text(n, "DEV_ID"),
        })
    }
}

/// The order `wait_for_payment` waits for: its charge code and, when known, the amount it was
/// created for. In Rust an `OrderRequest` (recommended) or a charge code alone converts into
/// one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwaitedOrder {
    /// The order's `CHARGE_CODE`.
    pub charge_code: String,
    /// The amount the order was created for. When given, an order under this charge code for
    /// another amount (the code was used before, for another payment) is `Conflict`, never
    /// `Paid`; an answer without the amount proves nothing. Without it, any order under the
    /// code counts.
    pub amount: Option<Amount>,
    /// The `MERCHANTPARA` the order was created with. When given, an order under this charge
    /// code showing another one is `Conflict`, never `Paid` (one not showing it is not
    /// compared).
    pub merchant_para: Option<String>,
}

impl AwaitedOrder {
    /// The order under `charge_code`, whatever its amount.
    pub fn new(charge_code: impl Into<String>) -> Self {
        AwaitedOrder {
            charge_code: charge_code.into(),
            amount: None,
            merchant_para: None,
        }
    }

    /// The same, proven only by an order of `amount`.
    pub fn with_amount(mut self, amount: Amount) -> Self {
        self.amount = Some(amount);
        self
    }

    /// Checks the charge code, the amount (positive when given) and `MERCHANTPARA`.
    pub fn validate(&self) -> Result<()> {
        validate_code("charge_code", &self.charge_code)?;
        check_merchant_para(&self.merchant_para)?;
        self.amount.map_or(Ok(()), |a| check_positive("amount", a))
    }
}

impl From<&str> for AwaitedOrder {
    fn from(charge_code: &str) -> Self {
        AwaitedOrder::new(charge_code)
    }
}

impl From<String> for AwaitedOrder {
    fn from(charge_code: String) -> Self {
        AwaitedOrder::new(charge_code)
    }
}

impl From<&String> for AwaitedOrder {
    fn from(charge_code: &String) -> Self {
        AwaitedOrder::new(charge_code.as_str())
    }
}

impl From<&OrderRequest> for AwaitedOrder {
    fn from(req: &OrderRequest) -> Self {
        AwaitedOrder {
            merchant_para: req.merchant_para.clone(),
            ..AwaitedOrder::new(req.charge_code.as_str()).with_amount(req.amount)
        }
    }
}

/// A query (§7): `GET query/{code}/{BUSI_CODE}?serType=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRequest {
    /// The looked-up code: a `CHARGE_CODE`, `CHARGE_DOWN_CODE` or verification code.
    pub code: String,
    /// What `code` is.
    pub ser_type: SerType,
}

impl QueryRequest {
    /// A query by the merchant's `CHARGE_CODE`.
    pub fn by_charge_code(code: impl Into<String>) -> Self {
        QueryRequest {
            code: code.into(),
            ser_type: SerType::ChargeCode,
        }
    }

    /// Checks the code.
    pub fn validate(&self) -> Result<()> {
        if let SerType::Unknown(raw) = &self.ser_type {
            return Err(Error::validation(
                "ser_type",
                format!("{raw:?} is not 0, 1 or 2"),
            ));
        }
        validate_code("code", &self.code)
    }
}

/// A cancel (撤单, §8): immediate, or an application to cancel (`opType=ACO`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelRequest {
    /// `CHARGE_CODE`.
    pub charge_code: String,
    /// `true` for `opType=ACO` (apply to cancel), `false` for an immediate cancel.
    pub apply: bool,
}

impl CancelRequest {
    /// An immediate cancel.
    pub fn new(charge_code: impl Into<String>) -> Self {
        CancelRequest {
            charge_code: charge_code.into(),
            apply: false,
        }
    }

    /// Checks the code.
    pub fn validate(&self) -> Result<()> {
        validate_code("charge_code", &self.charge_code)
    }
}

/// A mobile data top-up (流量充值, §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRechargeRequest {
    /// `phoneNo`.
    pub phone_no: String,
    /// `flowVal` in MB.
    pub flow_val: u32,
    /// `flowType`: `"0"` nationwide (default), `"1"` within the province.
    pub flow_type: Option<String>,
    /// `notifyURL`.
    pub notify_url: Option<String>,
}

impl FlowRechargeRequest {
    /// A top-up of `flow_val` MB for `phone_no`.
    pub fn new(phone_no: impl Into<String>, flow_val: u32) -> Self {
        FlowRechargeRequest {
            phone_no: phone_no.into(),
            flow_val,
            flow_type: None,
            notify_url: None,
        }
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if self.phone_no.len() < 5
            || self.phone_no.len() > 20
            || !self.phone_no.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Error::validation("phone_no", "must be 5 to 20 digits"));
        }
        if self.flow_val == 0 {
            return Err(Error::validation("flow_val", "must be at least 1 MB"));
        }
        if let Some(t) = &self.flow_type {
            if t != "0" && t != "1" {
                return Err(Error::validation(
                    "flow_type",
                    "must be \"0\" (nationwide) or \"1\" (province)",
                ));
            }
        }
        check_url("notify_url", &self.notify_url)
    }

    /// The wire body (`flowVal` is a JSON number, as in the document's sample).
    pub fn to_wire_json(&self) -> String {
        let mut m = serde_json::Map::new();
        m.insert("phoneNo".into(), self.phone_no.clone().into());
        m.insert("flowVal".into(), serde_json::Value::from(self.flow_val));
        if let Some(t) = &self.flow_type {
            m.insert("flowType".into(), t.clone().into());
        }
        if let Some(u) = &self.notify_url {
            m.insert("notifyURL".into(), u.clone().into());
        }
        serde_json::Value::Object(m).to_string()
    }

    /// Decodes a request body leniently.
    pub fn from_wire(n: &Node) -> Result<Self> {
        Ok(FlowRechargeRequest {
            phone_no: text(n, "phoneNo"),
            flow_val: opt_u32(n, "flowVal")?.unwrap_or(0),
            flow_type: opt_text(n, "flowType"),
            notify_url: opt_text(n, "notifyURL"),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Lenient field readers

fn text<T: Tree>(n: &T, name: &str) -> String {
    n.text(name).unwrap_or("").to_owned()
}

fn opt_text<T: Tree>(n: &T, name: &str) -> Option<String> {
    n.text(name).map(str::to_owned)
}

/// What [`code_text`] reads a code given as several different values, or as an object: no
/// code is spelled so (codes are letters, digits, `-`, `_`, `.`).
const NOT_ONE_CODE: &str = "(not one value)";

/// A code or text the client compares with its request's (`CHARGE_CODE`, `CHARGE_DOWN_CODE`,
/// `OUT_REFUND_NO`, `BUSI_ID`, a top-up's `phoneNo`, and the till flow's `DYNAMIC_ID`,
/// `CHANNEL_TYPE` and `MERCHANTPARA`) in a reply,
/// as [`opt_text`] reads it, except that a field given
/// as a list (an XML element repeated, a JSON array) or as an object never reads as missing: a
/// list of one value, repeated or not, is that value; several different values, or anything
/// not a scalar, read as [`NOT_ONE_CODE`], so that the reply is not taken as naming no order
/// (and so passing for this one).
fn code_text<T: Tree>(n: &T, name: &str) -> Option<String> {
    let v = n.get(name)?;
    if v.is_null() || v.as_text().is_some() {
        return opt_text(n, name);
    }
    let mut one: Option<&str> = None;
    for item in v.items() {
        let Some(t) = item.as_text().map(str::trim) else {
            return Some(NOT_ONE_CODE.to_owned());
        };
        match one {
            _ if t.is_empty() => {}
            Some(o) if o != t => return Some(NOT_ONE_CODE.to_owned()),
            _ => one = Some(t),
        }
    }
    one.map(str::to_owned)
}

/// `NODIFY_URL`, with the vendor client's literal `"null"` read as absent.
fn notify_url<T: Tree>(n: &T) -> Option<String> {
    n.text("NODIFY_URL")
        .filter(|u| !u.eq_ignore_ascii_case("null"))
        .map(str::to_owned)
}

/// A whole number, allowing `"5.0"`-style zero decimals.
fn parse_whole(t: &str) -> Option<u32> {
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if !frac.bytes().all(|b| b == b'0')
        || int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    int.parse().ok()
}

fn opt_u32<T: Tree>(n: &T, name: &str) -> Result<Option<u32>> {
    match one_text(n, name)? {
        None => Ok(None),
        Some(t) => parse_whole(t)
            .map(Some)
            .ok_or_else(|| Error::validation(name, format!("{t:?} is not a whole number"))),
    }
}

fn req_yuan<T: Tree>(n: &T, name: &str) -> Result<Amount> {
    match one_text(n, name)? {
        None => Err(Error::validation(name, "is required")),
        Some(t) => Amount::parse_yuan_named(t, name),
    }
}

fn opt_yuan<T: Tree>(n: &T, name: &str) -> Result<Option<Amount>> {
    match one_text(n, name)? {
        None => Ok(None),
        Some(t) => Amount::parse_yuan_named(t, name)
            .map(Some)
            .map_err(|e| Error::decode(e.to_string())),
    }
}

fn opt_fen<T: Tree>(n: &T, name: &str) -> Result<Option<Amount>> {
    match one_text(n, name)? {
        None => Ok(None),
        Some(t) => {
            // Integer fen; tolerate "15800.0" (a serialised double). Not "12.00": that is how
            // yuan are written (requests carry them so), and read as fen it would be 100 times
            // too small; refused, so that the amount is asked again, never misread.
            let t2 = match t.split_once('.') {
                Some((i, "0")) => i,
                Some((_, f)) if f.len() == 2 && f.bytes().all(|b| b.is_ascii_digit()) => {
                    return Err(Error::decode(format!(
                        "invalid {name}: {t:?} is written as yuan, but {name} is in integer fen"
                    )));
                }
                _ => t,
            };
            Amount::parse_fen(t2, name)
                .map(Some)
                .map_err(|e| Error::decode(e.to_string()))
        }
    }
}

/// How [`Goods`] are read: from a request, or from the gateway's reply or notification.
#[derive(Clone, Copy)]
enum GoodsRead {
    Strict,
    Described,
}

fn goods_list<T: Tree>(n: &T, read: GoodsRead) -> Result<Vec<Goods>> {
    match n.get("GOODS_DETAIL") {
        None => Ok(Vec::new()),
        Some(g) => {
            // In XML a list field may be wrapped: <GOODS_DETAIL><GOOD>…</GOOD></GOODS_DETAIL>, or
            // be the item itself (repeated elements).
            // Only maps with `GOOD_*` fields are goods: unknown scalars or empty placeholders
            // must not become empty items.
            let is_goods = |x: &T| {
                x.fields()
                    .iter()
                    .any(|(k, _)| k.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("GOOD_")))
            };
            let mut out = Vec::new();
            for it in g.items() {
                if is_goods(it) {
                    out.push(Goods::from_node(it, read)?);
                } else {
                    for (_, inner) in it.fields() {
                        for x in inner.items().into_iter().filter(|x| is_goods(x)) {
                            out.push(Goods::from_node(x, read)?);
                        }
                    }
                }
            }
            Ok(out)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Replies

/// `RESULT`: the result code and the gateway's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayResult {
    /// `CODE`.
    pub code: ResultCode,
    /// `INFO`.
    pub info: String,
}

impl GatewayResult {
    /// Success.
    pub fn success(info: impl Into<String>) -> Self {
        GatewayResult {
            code: ResultCode::Success,
            info: info.into(),
        }
    }

    fn from_body<T: Tree>(body: &T) -> Result<Self> {
        let r = body
            .get("RESULT")
            .ok_or_else(|| Error::decode("the reply has no RESULT"))?;
        let code = r
            .text("CODE")
            .ok_or_else(|| Error::decode("the reply's RESULT has no CODE"))?;
        Ok(GatewayResult {
            code: ResultCode::from_wire(code),
            info: text(r, "INFO"),
        })
    }

    /// `Ok(())` on success, else [`Error::Gateway`].
    pub fn into_result(&self) -> Result<()> {
        if self.code.is_success() {
            Ok(())
        } else {
            Err(Error::gateway(self.code.clone(), self.info.clone(), ""))
        }
    }
}

/// One item of `FUND_BILL_LIST.TRADEFUNDBILL`: how much came from which funding source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FundBill {
    /// `FUND_CHANNEL` (appendix 3).
    pub fund_channel: FundChannel,
    /// `AMOUNT`, in yuan on the wire.
    #[serde(rename = "amount_fen")]
    pub amount: Amount,
}

/// `FUND_BILL_LIST`: `{"TRADEFUNDBILL": [...]}` (in XML one `<TRADEFUNDBILL>` per bill, a single
/// one unwrapped), or a bare list of bills. The list given more than once (an XML element
/// repeated, a JSON array of lists) is one list only when every copy lists the same bills: else
/// which one holds cannot be told. A list in another shape (no bills in it that can be read,
/// yet not empty) is refused too, never read as "no bills" (which is not compared).
fn fund_bills<T: Tree>(n: &T) -> Result<Vec<FundBill>> {
    let Some(list) = n.get("FUND_BILL_LIST") else {
        return Ok(Vec::new());
    };
    // Empty copies (`null`, `<FUND_BILL_LIST/>`) add nothing.
    let copies: Vec<&T> = list.items().into_iter().filter(|c| !blank(*c)).collect();
    if !copies.iter().any(|c| c.get("TRADEFUNDBILL").is_some()) {
        return bills_of(copies);
    }
    let mut one: Option<Vec<FundBill>> = None;
    for copy in copies {
        // A holder holds its TRADEFUNDBILL list and nothing else: a bill beside it (or bills
        // beside holders in a list) would be read or dropped by guesswork.
        let inner = copy.get("TRADEFUNDBILL");
        let beside = copy
            .fields()
            .into_iter()
            .any(|(k, v)| !k.eq_ignore_ascii_case("TRADEFUNDBILL") && !blank(v));
        if beside || (inner.is_none() && !copy.fields().is_empty()) {
            return Err(Error::decode(
                "FUND_BILL_LIST holds something beside its TRADEFUNDBILL list: which bills it lists cannot be told",
            ));
        }
        let bills = match inner {
            Some(inner) => bills_of(inner.items())?,
            None => Vec::new(),
        };
        match &one {
            // An empty copy (`{}`) beside a list adds nothing, as a blank value does.
            _ if bills.is_empty() => {}
            Some(o) if *o != bills => {
                return Err(Error::decode(
                    "FUND_BILL_LIST is given more than once with different bills: which ones hold cannot be told",
                ))
            }
            _ => one = Some(bills),
        }
    }
    Ok(one.unwrap_or_default())
}

/// A value that says nothing: null, blank text, or an empty list or object.
fn blank<T: Tree>(v: &T) -> bool {
    if v.is_map() {
        return v.fields().iter().all(|(_, f)| blank(*f));
    }
    match v.as_text() {
        Some(t) => t.trim().is_empty(),
        None => v.is_null() || v.items().iter().all(|i| blank(*i)),
    }
}

/// The bills of a `TRADEFUNDBILL` list: each a map with `FUND_CHANNEL` and `AMOUNT`; an empty
/// placeholder (`{}`) is no bill (not a bill of zero from an unknown channel).
fn bills_of<T: Tree>(items: Vec<&T>) -> Result<Vec<FundBill>> {
    let mut out = Vec::new();
    for item in items.into_iter().filter(|i| !blank(*i)) {
        let unreadable = || {
            Error::decode(
                "FUND_BILL_LIST holds something that is not a fund bill (a FUND_CHANNEL and an AMOUNT): the bills cannot be read",
            )
        };
        if !item.is_map() {
            return Err(unreadable());
        }
        let channel = one_text(item, "FUND_CHANNEL")?;
        let amount = one_text(item, "AMOUNT")?;
        if channel.is_none() && amount.is_none() {
            if item.fields().iter().all(|(_, v)| blank(*v)) {
                continue;
            }
            return Err(unreadable());
        }
        out.push(FundBill {
            fund_channel: FundChannel::from_wire(channel.unwrap_or("")),
            amount: match amount {
                None => Amount::default(),
                Some(t) => Amount::parse_yuan_named(t, "AMOUNT")
                    .map_err(|e| Error::decode(e.to_string()))?,
            },
        });
    }
    Ok(out)
}

/// The text of field `name`, trimmed (`None` when absent or blank), where a value that is not
/// one scalar is refused: a list (an XML element repeated, a JSON array) or an object could
/// hold two amounts, and which one holds cannot be told. The same value repeated is that value
/// (as a JSON field given twice with one value is). Every amount and count is read so: read as
/// [`Tree::text`] does, a repeated `<AMT>` would be an amount not given, which is not compared.
fn one_text<'a, T: Tree>(n: &'a T, name: &str) -> Result<Option<&'a str>> {
    let ambiguous = || {
        Error::decode(format!(
            "{name} is given more than once with different values, or not as one value: which one holds cannot be told"
        ))
    };
    let Some(v) = n.get(name) else {
        return Ok(None);
    };
    if let Some(t) = v.as_text() {
        return Ok(Some(t.trim()).filter(|t| !t.is_empty()));
    }
    if v.is_map() {
        return if v.fields().is_empty() {
            Ok(None)
        } else {
            Err(ambiguous())
        };
    }
    // Null (no items), or a list.
    let mut one: Option<&str> = None;
    for item in v.items() {
        if item.is_null() {
            continue;
        }
        let t = item.as_text().ok_or_else(ambiguous)?.trim();
        match one {
            _ if t.is_empty() => {}
            Some(o) if o != t => return Err(ambiguous()),
            _ => one = Some(t),
        }
    }
    Ok(one)
}

fn fund_bills_node(bills: &[FundBill]) -> Node {
    let items = bills
        .iter()
        .map(|b| {
            MapBuilder::new()
                .text("FUND_CHANNEL", b.fund_channel.as_wire())
                .text("AMOUNT", b.amount.to_yuan_string())
                .build()
        })
        .collect();
    MapBuilder::new()
        .node("TRADEFUNDBILL", Node::List(items))
        .build()
}

/// `CHANNEL_TYPE`, read as a compared code is ([`code_text`]): given as several different
/// values, an unknown channel, never "not shown" (the till flow compares it with the request's).
fn channel<T: Tree>(n: &T) -> Option<Channel> {
    code_text(n, "CHANNEL_TYPE").map(|c| Channel::from_wire(&c))
}

/// `STATE`: missing or empty is `None`; a value that is not a scalar (a list, an object) is
/// kept as an unknown state, never mistaken for a missing one.
fn state<T: Tree>(n: &T) -> Option<OrderState> {
    match n.get("STATE") {
        None => None,
        Some(v) if v.is_null() => None,
        Some(v) => match v.as_text() {
            Some(t) if t.trim().is_empty() => None,
            Some(t) => Some(OrderState::from_wire(t)),
            None => Some(OrderState::Unknown("(not a scalar)".into())),
        },
    }
}

/// A reply document the client can decode.
pub trait Reply: Sized {
    /// The JSON root key / XML root element.
    const ROOT: &'static str;
    /// Decodes from the body under the root.
    fn from_body(body: &Node, raw: serde_json::Value) -> Result<Self> {
        let mut reply = Self::from_tree(body)?;
        *reply.raw_mut() = raw.into();
        Ok(reply)
    }
    /// Decodes from the body under the root, through either tree ([`Tree`]), with an empty
    /// `raw` (null).
    #[doc(hidden)]
    fn from_tree<T: Tree>(body: &T) -> Result<Self>;
    /// The reply's `raw` field.
    #[doc(hidden)]
    fn raw_mut(&mut self) -> &mut RawDocument;
    /// The `RESULT`.
    fn result(&self) -> &GatewayResult;

    /// The order's `STATE`, for replies that carry one.
    fn order_state(&self) -> Option<&OrderState> {
        None
    }

    /// The order's `CHARGE_CODE` or `CHARGE_DOWN_CODE`, or the refund's `OUT_REFUND_NO`
    /// (`field`), for replies that carry it.
    fn order_code(&self, _field: &str) -> Option<&str> {
        None
    }

    /// The order a reply to an order-creating call shows (a micropay, QR or JSAPI order
    /// reply), as an [`OrderDetails`]: what the client compares with the request.
    fn order_details(&self) -> Option<OrderDetails> {
        None
    }

    /// The amount a refund reply shows refunded, in fen: the sum of its `FUND_BILL_LIST`
    /// (`None` when it lists none, or for other replies). What the client compares with the
    /// request.
    fn refunded_fen(&self) -> Option<u128> {
        None
    }

    /// Decodes JSON or XML text.
    fn decode(text: &str) -> Result<Self> {
        // A JSON document that gives no field twice (the gateway's replies) is read through
        // its plain tree, and keeps its text as `raw`; anything else goes through the lenient
        // tree and its rules.
        if let Some((tree, json)) = crate::codec::parse_plain_json(text) {
            let mut reply = Self::from_tree(crate::codec::body_of(&tree, Self::ROOT)?)?;
            *reply.raw_mut() = RawDocument::json(json);
            return Ok(reply);
        }
        let Document { raw, root, .. } = Document::parse(text)?;
        let body = crate::codec::body_of(&root, Self::ROOT)?;
        Self::from_body(body, raw)
    }
}

/// WeChat JSAPI pay parameters (§4.5), to hand to `WeixinJSBridge` / `wx.chooseWXPay`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JsapiParams {
    /// `appId`.
    pub app_id: String,
    /// `timeStamp`.
    pub time_stamp: String,
    /// `nonceStr`.
    pub nonce_str: String,
    /// `packageData` (`prepay_id=…`): WeChat's `package`.
    pub package: String,
    /// `signType`.
    pub sign_type: String,
    /// `sign`: WeChat's `paySign`.
    pub pay_sign: String,
}

/// `ORDER_RESP`: the reply to micropay (§2.5) and to QR/JSAPI orders (§3.5, §4.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderReply {
    /// `RESULT`.
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
    /// `AMT`, in fen on the wire.
    #[serde(rename = "amount_fen")]
    pub amount: Option<Amount>,
    /// `MERCHANTPARA`.
    pub merchant_para: Option<String>,
    /// `DYNAMIC_ID`: the customer's payment code, when the reply gives it (possibly masked,
    /// `1307**********4036`). The till flow compares it with the request's.
    pub dynamic_id: Option<String>,
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
    /// The six JSAPI pay parameters (JSAPI orders).
    pub jsapi: Option<JsapiParams>,
    /// The whole reply document.
    pub raw: RawDocument,
}

#[cfg(test)]
impl OrderReply {
    /// A successful reply about `charge_code` with nothing else in it (tests fill in the rest).
    pub(crate) fn success_about(charge_code: &str) -> Self {
        OrderReply {
            result: GatewayResult::success("ok"),
            charge_code: Some(charge_code.into()),
            charge_down_code: None,
            charge_third_code: None,
            channel: None,
            state: None,
            amount: None,
            merchant_para: None,
            dynamic_id: None,
            fund_bills: vec![],
            oper_id: None,
            dev_id: None,
            begin_time: None,
            bar_code: None,
            jsapi: None,
            raw: Default::default(),
        }
    }
}

impl Reply for OrderReply {
    const ROOT: &'static str = "ORDER_RESP";
    fn raw_mut(&mut self) -> &mut RawDocument {
        &mut self.raw
    }
    fn from_tree<T: Tree>(b: &T) -> Result<Self> {
        let jsapi = b.text("appId").map(|app_id| JsapiParams {
            app_id: app_id.to_owned(),
            time_stamp: text(b, "timeStamp"),
            nonce_str: text(b, "nonceStr"),
            package: text(b, "packageData"),
            sign_type: text(b, "signType"),
            pay_sign: text(b, "sign"),
        });
        Ok(OrderReply {
            result: GatewayResult::from_body(b)?,
            charge_code: code_text(b, "CHARGE_CODE"),
            charge_down_code: code_text(b, "CHARGE_DOWN_CODE"),
            charge_third_code: opt_text(b, "CHARGE_THIRD_CODE"),
            channel: channel(b),
            state: state(b),
            amount: opt_fen(b, "AMT")?,
            merchant_para: code_text(b, "MERCHANTPARA"),
            dynamic_id: code_text(b, "DYNAMIC_ID"),
            fund_bills: fund_bills(b)?,
            oper_id: opt_text(b, "OPER_ID"),
            dev_id: opt_text(b, "DEV_ID"),
            begin_time: opt_text(b, "BEGIN_TIME"),
            bar_code: opt_text(b, "BAR_CODE"),
            jsapi,
            raw: RawDocument::default(),
        })
    }
    fn result(&self) -> &GatewayResult {
        &self.result
    }
    fn order_state(&self) -> Option<&OrderState> {
        self.state.as_ref()
    }
    fn order_code(&self, field: &str) -> Option<&str> {
        match field {
            "CHARGE_CODE" => self.charge_code.as_deref(),
            "CHARGE_DOWN_CODE" => self.charge_down_code.as_deref(),
            _ => None,
        }
    }
    fn order_details(&self) -> Option<OrderDetails> {
        Some(crate::flows::details_from_reply(self))
    }
}

impl OrderReply {
    /// The wire body (for the sandbox and tests).
    pub fn to_wire(&self) -> Node {
        let mut m = MapBuilder::new()
            .node(
                "RESULT",
                MapBuilder::new()
                    .text("CODE", self.result.code.as_wire())
                    .text("INFO", &self.result.info)
                    .build(),
            )
            .opt("CHARGE_CODE", self.charge_code.as_deref())
            .opt("CHARGE_DOWN_CODE", self.charge_down_code.as_deref())
            .opt("CHARGE_THIRD_CODE", self.charge_third_code.as_deref())
            .opt(
                "CHANNEL_TYPE",
                self.channel.as_ref().map(|c| c.as_wire().to_owned()),
            )
            .opt("STATE", self.state.as_ref().map(|c| c.as_wire().to_owned()))
            .opt("AMT", self.amount.map(|a| a.fen().to_string()))
            .opt("MERCHANTPARA", self.merchant_para.as_deref())
            .opt("DYNAMIC_ID", self.dynamic_id.as_deref())
            .opt("OPER_ID", self.oper_id.as_deref())
            .opt("DEV_ID", self.dev_id.as_deref())
            .opt("BEGIN_TIME", self.begin_time.as_deref())
            .opt("BAR_CODE", self.bar_code.as_deref());
        if !self.fund_bills.is_empty() {
            m = m.node("FUND_BILL_LIST", fund_bills_node(&self.fund_bills));
        }
        if let Some(j) = &self.jsapi {
            m = m
                .text("appId", &j.app_id)
                .text("timeStamp", &j.time_stamp)
                .text("nonceStr", &j.nonce_str)
                .text("packageData", &j.package)
                .text("signType", &j.sign_type)
                .text("sign", &j.pay_sign);
        }
        m.build()
    }
}

/// `REFUND_RESP` (§6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundReply {
    /// `RESULT`.
    pub result: GatewayResult,
    /// `CHANNEL_TYPE`.
    pub channel: Option<Channel>,
    /// `FUND_BILL_LIST`: where the refund went.
    pub fund_bills: Vec<FundBill>,
    /// `CHARGE_CODE`, when included.
    pub charge_code: Option<String>,
    /// `CHARGE_DOWN_CODE` (the gateway's order number), when included.
    pub charge_down_code: Option<String>,
    /// `OUT_REFUND_NO`, when included.
    pub out_refund_no: Option<String>,
    /// `STATE` of the order after the refund, when included: in a successful reply, 4
    /// (partially refunded) or 5 (refunded); any other is a `Decode` error (`outcome_unknown`).
    pub state: Option<OrderState>,
    /// The whole reply document.
    pub raw: RawDocument,
}

impl Reply for RefundReply {
    const ROOT: &'static str = "REFUND_RESP";
    fn raw_mut(&mut self) -> &mut RawDocument {
        &mut self.raw
    }
    fn from_tree<T: Tree>(b: &T) -> Result<Self> {
        Ok(RefundReply {
            result: GatewayResult::from_body(b)?,
            channel: channel(b),
            fund_bills: fund_bills(b)?,
            charge_code: code_text(b, "CHARGE_CODE"),
            charge_down_code: code_text(b, "CHARGE_DOWN_CODE"),
            out_refund_no: code_text(b, "OUT_REFUND_NO"),
            state: state(b),
            raw: RawDocument::default(),
        })
    }
    fn result(&self) -> &GatewayResult {
        &self.result
    }
    fn order_state(&self) -> Option<&OrderState> {
        self.state.as_ref()
    }
    fn order_code(&self, field: &str) -> Option<&str> {
        match field {
            "CHARGE_CODE" => self.charge_code.as_deref(),
            "CHARGE_DOWN_CODE" => self.charge_down_code.as_deref(),
            "OUT_REFUND_NO" => self.out_refund_no.as_deref(),
            _ => None,
        }
    }
    fn refunded_fen(&self) -> Option<u128> {
        (!self.fund_bills.is_empty()).then(|| {
            self.fund_bills
                .iter()
                .map(|b| u128::from(b.amount.fen()))
                .sum()
        })
    }
}

impl RefundReply {
    /// The wire body.
    pub fn to_wire(&self) -> Node {
        let mut m = MapBuilder::new().node(
            "RESULT",
            MapBuilder::new()
                .text("CODE", self.result.code.as_wire())
                .text("INFO", &self.result.info)
                .build(),
        );
        if !self.fund_bills.is_empty() {
            m = m.node("FUND_BILL_LIST", fund_bills_node(&self.fund_bills));
        }
        m.opt(
            "CHANNEL_TYPE",
            self.channel.as_ref().map(|c| c.as_wire().to_owned()),
        )
        .opt("CHARGE_CODE", self.charge_code.as_deref())
        .opt("CHARGE_DOWN_CODE", self.charge_down_code.as_deref())
        .opt("OUT_REFUND_NO", self.out_refund_no.as_deref())
        .opt("STATE", self.state.as_ref().map(|c| c.as_wire().to_owned()))
        .build()
    }
}

/// `QUERY_RESP` (§7.2) and, with the same fields, `PAY_NODIFY` (§5.2): an order's details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    #[serde(rename = "channel_type")]
    pub channel: Option<Channel>,
    /// `STATE`.
    pub state: Option<OrderState>,
    /// `AMT`, in fen on the wire.
    #[serde(rename = "amount_fen")]
    pub amount: Option<Amount>,
    /// `realAMT` (yuan on the wire): what the customer actually paid after discounts.
    #[serde(rename = "real_amount_fen")]
    pub real_amount: Option<Amount>,
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

impl OrderDetails {
    fn from_body<T: Tree>(b: &T) -> Result<Self> {
        Ok(OrderDetails {
            busi_id: code_text(b, "BUSI_ID"),
            charge_code: code_text(b, "CHARGE_CODE"),
            charge_down_code: code_text(b, "CHARGE_DOWN_CODE"),
            charge_third_code: opt_text(b, "CHARGE_THIRD_CODE"),
            channel: channel(b),
            state: state(b),
            amount: opt_fen(b, "AMT")?,
            real_amount: opt_yuan(b, "realAMT")?,
            pay_subject: opt_text(b, "PAY_SUBJECT"),
            oper_id: opt_text(b, "OPER_ID"),
            dev_id: opt_text(b, "DEV_ID"),
            register_id: opt_text(b, "REGISTER_ID"),
            merchant_para: code_text(b, "MERCHANTPARA"),
            dynamic_id: code_text(b, "DYNAMIC_ID"),
            goods: goods_list(b, GoodsRead::Described)?,
            fund_bills: fund_bills(b)?,
            begin_time: opt_text(b, "BEGIN_TIME"),
            end_time: opt_text(b, "END_TIME"),
        })
    }

    /// The wire fields (without `RESULT`).
    pub fn to_wire_fields(&self) -> MapBuilder {
        let mut m = MapBuilder::new()
            .opt("BUSI_ID", self.busi_id.as_deref())
            .opt("CHARGE_CODE", self.charge_code.as_deref())
            .opt("CHARGE_DOWN_CODE", self.charge_down_code.as_deref())
            .opt("CHARGE_THIRD_CODE", self.charge_third_code.as_deref())
            .opt(
                "CHANNEL_TYPE",
                self.channel.as_ref().map(|c| c.as_wire().to_owned()),
            )
            .opt("STATE", self.state.as_ref().map(|c| c.as_wire().to_owned()))
            .opt("AMT", self.amount.map(|a| a.fen().to_string()))
            .opt("realAMT", self.real_amount.map(|a| a.to_yuan_string()))
            .opt("PAY_SUBJECT", self.pay_subject.as_deref())
            .opt("OPER_ID", self.oper_id.as_deref())
            .opt("DEV_ID", self.dev_id.as_deref())
            .opt("REGISTER_ID", self.register_id.as_deref())
            .opt("MERCHANTPARA", self.merchant_para.as_deref())
            .opt("DYNAMIC_ID", self.dynamic_id.as_deref())
            .opt("BEGIN_TIME", self.begin_time.as_deref())
            .opt("END_TIME", self.end_time.as_deref());
        if let Some(g) = goods_node(&self.goods) {
            m = m.node("GOODS_DETAIL", g);
        }
        if !self.fund_bills.is_empty() {
            m = m.node("FUND_BILL_LIST", fund_bills_node(&self.fund_bills));
        }
        m
    }
}

/// `QUERY_RESP` (§7.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryReply {
    /// `RESULT`.
    pub result: GatewayResult,
    /// The order.
    #[serde(flatten)]
    pub order: OrderDetails,
    /// The whole reply document.
    pub raw: RawDocument,
}

impl Reply for QueryReply {
    const ROOT: &'static str = "QUERY_RESP";
    fn raw_mut(&mut self) -> &mut RawDocument {
        &mut self.raw
    }
    fn from_tree<T: Tree>(b: &T) -> Result<Self> {
        Ok(QueryReply {
            result: GatewayResult::from_body(b)?,
            order: OrderDetails::from_body(b)?,
            raw: RawDocument::default(),
        })
    }
    fn result(&self) -> &GatewayResult {
        &self.result
    }
    fn order_state(&self) -> Option<&OrderState> {
        self.order.state.as_ref()
    }
    fn order_code(&self, field: &str) -> Option<&str> {
        match field {
            "CHARGE_CODE" => self.order.charge_code.as_deref(),
            "CHARGE_DOWN_CODE" => self.order.charge_down_code.as_deref(),
            "BUSI_ID" => self.order.busi_id.as_deref(),
            _ => None,
        }
    }
}

impl QueryReply {
    /// The wire body.
    pub fn to_wire(&self) -> Node {
        let fields = self.order.to_wire_fields();
        let mut all = vec![(
            "RESULT".to_owned(),
            MapBuilder::new()
                .text("CODE", self.result.code.as_wire())
                .text("INFO", &self.result.info)
                .build(),
        )];
        if let Node::Map(f) = fields.build() {
            all.extend(f);
        }
        Node::Map(all)
    }
}

/// `CANCELTRADE_RESP` (§8.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CancelReply {
    /// `RESULT`.
    pub result: GatewayResult,
    /// `CHARGE_CODE`, when the reply names the order (the gateway's documented reply names
    /// none). The client refuses a reply naming another order than the request's.
    pub charge_code: Option<String>,
    /// `STATE` of the order, when the reply shows it (the documented reply does not): in a
    /// confirmation (`SUCCESS`, `AREADY_REVOKED`), 2 (cancelled), 3 (cancel applied for) or 6
    /// (closed); any other (paid, say) is a `Decode` error (`outcome_unknown`).
    pub state: Option<OrderState>,
    /// The whole reply document.
    pub raw: RawDocument,
}

impl Reply for CancelReply {
    const ROOT: &'static str = "CANCELTRADE_RESP";
    fn raw_mut(&mut self) -> &mut RawDocument {
        &mut self.raw
    }
    fn from_tree<T: Tree>(b: &T) -> Result<Self> {
        Ok(CancelReply {
            result: GatewayResult::from_body(b)?,
            charge_code: code_text(b, "CHARGE_CODE"),
            state: state(b),
            raw: RawDocument::default(),
        })
    }
    fn result(&self) -> &GatewayResult {
        &self.result
    }
    fn order_state(&self) -> Option<&OrderState> {
        self.state.as_ref()
    }
    fn order_code(&self, field: &str) -> Option<&str> {
        (field == "CHARGE_CODE")
            .then_some(self.charge_code.as_deref())
            .flatten()
    }
}

/// The `flow` node of a top-up reply (§9.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowOrder {
    /// `id`.
    pub id: Option<String>,
    /// `phoneNo`.
    pub phone_no: Option<String>,
    /// `flowVal` (MB).
    pub flow_val: Option<u32>,
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

/// The top-up reply (§9.5): lower-case `result` and `flow` at the top level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowRechargeReply {
    /// `result`.
    pub result: GatewayResult,
    /// `flow`.
    pub flow: Option<FlowOrder>,
    /// The whole reply document.
    pub raw: RawDocument,
}

impl FlowRechargeReply {
    /// The XML root element of a top-up reply (the JSON reply has none: `result` and `flow`
    /// are at the top level).
    pub const ROOT: &'static str = "FLOWRECHARGE_RESP";

    /// Decodes JSON (or XML with a root holding `result` and `flow`). A reply under another
    /// operation's root (`REFUND_RESP`, `QUERY_RESP`, ...) is an answer to something else,
    /// never this top-up's: a `Decode` error.
    pub fn decode(text: &str) -> Result<Self> {
        let doc = Document::parse(text)?;
        let mut top = &doc.root;
        // A `result` beside a reply's root (this one's or another's), at the top or under the
        // root: two answers.
        let two_answers = |n: &Node| -> Result<()> {
            if let (Some(_), Node::Map(fields)) = (n.get("result"), n) {
                if let Some((root, _)) = fields.iter().find(|(k, _)| crate::codec::is_reply_root(k))
                {
                    return Err(Error::decode(format!(
                        "the document gives a result beside a {root} document: two answers, which proves neither"
                    )));
                }
            }
            Ok(())
        };
        two_answers(top)?;
        if top.get("result").is_none() {
            if let Node::Map(f) = &doc.root {
                if let [(root, body)] = f.as_slice() {
                    if !root.eq_ignore_ascii_case(Self::ROOT) && crate::codec::is_reply_root(root) {
                        return Err(Error::decode(format!(
                            "expected a {} document, got a {root} document",
                            Self::ROOT
                        )));
                    }
                    top = body;
                    two_answers(top)?;
                }
            }
        }
        let result = GatewayResult::from_body(top)?;
        // `flow` once: given more than once (an XML element repeated, a JSON array) it is one
        // only when every copy says the same; anything but an object is refused, never read as
        // "no flow" (whose phone is not compared).
        let mut flow: Option<FlowOrder> = None;
        for f in top.get("flow").map(Tree::items).unwrap_or_default() {
            if !f.is_map() {
                return Err(Error::decode("the top-up reply's flow is not an object"));
            }
            let read = FlowOrder {
                id: opt_text(f, "id"),
                phone_no: code_text(f, "phoneNo"),
                flow_val: opt_u32(f, "flowVal").map_err(|e| match e {
                    e @ Error::Decode { .. } => e,
                    other => Error::decode(other.to_string()),
                })?,
                flow_type: opt_text(f, "flowType"),
                busi_code: opt_text(f, "busiCode"),
                order_id: opt_text(f, "orderID"),
                plat_order_id: opt_text(f, "platOrderID"),
                create_time: opt_text(f, "creatTime"),
                status: opt_text(f, "status"),
            };
            match &flow {
                Some(one) if *one != read => {
                    return Err(Error::decode(
                        "the top-up reply gives flow more than once with different values: which one holds cannot be told",
                    ))
                }
                _ => flow = Some(read),
            }
        }
        Ok(FlowRechargeReply {
            result,
            flow,
            raw: doc.raw.into(),
        })
    }
}

/// `PAY_NODIFY` (§5): the gateway's payment notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// `CHARGE_CODE`: the merchant's order number, as in `order`. Every notification has it (a
    /// delivery without it is refused).
    pub charge_code: String,
    /// `STATE`: the order's state, as in `order`. Every notification has it.
    pub state: OrderState,
    /// `AMT`, in fen on the wire: the order's amount, as in `order`. Every notification has it.
    #[serde(rename = "amount_fen")]
    pub amount: Amount,
    /// The order, as a query reply gives it.
    pub order: OrderDetails,
    /// The whole notification document.
    pub raw: serde_json::Value,
}

impl Notification {
    /// The JSON root key / XML root element (sic).
    pub const ROOT: &'static str = "PAY_NODIFY";

    /// Decodes a plaintext notification body (JSON or XML) without checking its signature;
    /// see [`crate::notify`] for the verified path.
    ///
    /// Stricter than the replies' decoding, since a notification moves the merchant's books:
    /// a body that gives a field twice (see [`Document::parse_strict`]) or lacks
    /// `CHARGE_CODE`, `STATE` or `AMT` is an [`Error::Decode`] naming the field.
    pub fn decode(text: &str) -> Result<Self> {
        let doc = Document::parse_strict(text)?;
        let body = match doc.root.get(Self::ROOT) {
            Some(b) if b.is_map() => b,
            _ => return Err(Error::decode("expected a PAY_NODIFY document")),
        };
        if let Node::Map(fields) = body {
            for (k, v) in fields {
                if ["CHARGE_CODE", "STATE", "AMT"]
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(k))
                    && matches!(v, Node::List(_) | Node::Map(_))
                {
                    return Err(Error::decode(format!(
                        "the notification's {k} is repeated or not a single value"
                    )));
                }
            }
        }
        Notification::new(OrderDetails::from_body(body)?, doc.raw)
    }

    /// A notification of `order`: a [`Error::Decode`] naming `CHARGE_CODE`, `STATE` or `AMT` when
    /// the order lacks it.
    pub fn new(order: OrderDetails, raw: serde_json::Value) -> Result<Self> {
        let missing = |field: &str| Error::decode(format!("the notification has no {field}"));
        Ok(Notification {
            charge_code: order
                .charge_code
                .clone()
                .ok_or_else(|| missing("CHARGE_CODE"))?,
            state: order.state.clone().ok_or_else(|| missing("STATE"))?,
            amount: order.amount.ok_or_else(|| missing("AMT"))?,
            order,
            raw,
        })
    }

    /// The wire body.
    pub fn to_wire(&self) -> Node {
        self.order.to_wire_fields().build()
    }
}

impl MapBuilder {
    /// Adds a node when present.
    pub fn node_opt(self, k: &str, v: Option<Node>) -> Self {
        match v {
            Some(v) => self.node(k, v),
            None => self,
        }
    }
}

/// The two ways a reply is read ([`Reply::decode`]: the plain tree of a JSON document that gives
/// no field twice, its text kept as `raw`; the lenient tree otherwise) give the same reply,
/// serialize the same, or fail with the same error, for any document.
#[cfg(test)]
mod decode_paths {
    use super::*;
    use crate::codec::{body_of, parse_plain_json};
    use proptest::prelude::*;

    /// The reply through the lenient tree, as every document was read before.
    fn lenient<R: Reply>(text: &str) -> Result<R> {
        let Document { raw, root, .. } = Document::parse(text)?;
        R::from_body(body_of(&root, R::ROOT)?, raw)
    }

    fn same<R: Reply + PartialEq + std::fmt::Debug + serde::Serialize>(text: &str) {
        let (decoded, lenient) = (R::decode(text), lenient::<R>(text));
        // Serialized first: a plain reply's raw serializes from its text, before any value.
        let json = |r: &Result<R>| r.as_ref().ok().map(|r| serde_json::to_string(r).ok());
        assert_eq!(json(&decoded), json(&lenient), "{text}");
        let shown = |r: Result<R>| r.map_err(|e| e.to_string());
        assert_eq!(shown(decoded), shown(lenient), "{text}");
    }

    fn all_the_same(text: &str) {
        same::<OrderReply>(text);
        same::<QueryReply>(text);
        same::<RefundReply>(text);
        same::<CancelReply>(text);
    }

    #[test]
    fn the_fixtures_read_the_same_and_json_ones_take_the_raw_value() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut json = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            all_the_same(&text);
            if path.extension().is_some_and(|e| e == "json") {
                assert!(parse_plain_json(&text).is_some(), "{path:?}");
                json += 1;
            }
        }
        assert!(json >= 5, "{json} JSON fixtures");
        // A field given twice, in any spelling, is left to the lenient tree.
        for twice in [
            r#"{"QUERY_RESP":{"STATE":"1","STATE":"0"}}"#,
            r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS","code":""}}}"#,
        ] {
            assert!(parse_plain_json(twice).is_none(), "{twice}");
            all_the_same(twice);
        }
        // Past 16 fields too (names are then looked up in a map, not scanned).
        let many: String = (0..18).map(|i| format!(r#""F{i}":"x","#)).collect();
        let twice = format!(r#"{{"QUERY_RESP":{{{many}"STATE":"1","F3":"","state":"0"}}}}"#);
        assert!(parse_plain_json(&twice).is_none(), "{twice}");
        all_the_same(&twice);
        let once = format!(r#"{{"QUERY_RESP":{{{many}"STATE":"1"}}}}"#);
        assert!(parse_plain_json(&once).is_some(), "{once}");
        all_the_same(&once);
    }

    /// A JSON value, written out by hand so that a field can be given twice.
    #[derive(Debug, Clone)]
    enum J {
        Raw(&'static str),
        Str(&'static str),
        List(Vec<J>),
        Map(Vec<(String, J)>),
    }

    impl J {
        fn write(&self, out: &mut String) {
            match self {
                J::Raw(t) => out.push_str(t),
                J::Str(t) => out.push_str(&serde_json::Value::from(*t).to_string()),
                J::List(items) => {
                    out.push('[');
                    for (i, x) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        x.write(out);
                    }
                    out.push(']');
                }
                J::Map(fields) => {
                    out.push('{');
                    for (i, (k, v)) in fields.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(&serde_json::Value::from(k.as_str()).to_string());
                        out.push(':');
                        v.write(out);
                    }
                    out.push('}');
                }
            }
        }
    }

    const NAMES: &[&str] = &[
        "RESULT",
        "CODE",
        "INFO",
        "CHARGE_CODE",
        "CHARGE_DOWN_CODE",
        "STATE",
        "AMT",
        "CHANNEL_TYPE",
        "FUND_BILL_LIST",
        "TRADEFUNDBILL",
        "FUND_CHANNEL",
        "AMOUNT",
        "GOODS_DETAIL",
        "GOOD_ID",
        "GOOD_PRICE",
        "GOOD_QUANTITY",
        "NODIFY_URL",
        "appId",
        "OPER_ID",
        "REFUND_AMT",
        "OUT_REFUND_NO",
        "REFUND_CODE",
        "PAY_TIME",
        "MERCHANTPARA",
    ];

    fn name() -> impl Strategy<Value = String> {
        (prop::sample::select(NAMES), 0..4u8).prop_map(|(n, case)| match case {
            0 => n.to_ascii_lowercase(),
            1 => {
                let mut c = n.chars();
                c.next()
                    .map(|f| f.to_string() + &c.as_str().to_ascii_lowercase())
                    .unwrap_or_default()
            }
            _ => n.to_owned(),
        })
    }

    fn value() -> impl Strategy<Value = J> {
        let leaf = prop_oneof![
            prop::sample::select(
                &[
                    "null",
                    "true",
                    "false",
                    "0",
                    "1",
                    "2",
                    "-3",
                    "1.50",
                    "0.01",
                    "15800",
                    "1e2",
                    "12345678901234567890123",
                ][..]
            )
            .prop_map(J::Raw),
            prop::sample::select(
                &[
                    "",
                    " ",
                    "SUCCESS",
                    "FAIL",
                    "0",
                    "1",
                    "2",
                    "3",
                    "9",
                    "0.01",
                    "15800",
                    "15800.0",
                    "1.5",
                    "abc",
                    "null",
                    "中文",
                    "http://x/y",
                    "5.0",
                ][..]
            )
            .prop_map(J::Str),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(J::List),
                prop::collection::vec((name(), inner), 0..8).prop_map(J::Map),
            ]
        })
    }

    /// `name` in a random case.
    fn spelled(name: &'static str) -> impl Strategy<Value = String> {
        prop::sample::select(&[0u8, 1, 2][..]).prop_map(move |case| match case {
            0 => name.to_ascii_lowercase(),
            1 => name.to_owned(),
            _ => name[..1].to_owned() + &name[1..].to_ascii_lowercase(),
        })
    }

    fn document() -> impl Strategy<Value = String> {
        let root = prop::sample::select(
            &[
                "ORDER_RESP",
                "QUERY_RESP",
                "REFUND_RESP",
                "CANCELTRADE_RESP",
                "PAY_NODIFY",
                "OTHER",
            ][..],
        );
        // Most documents carry a RESULT that reads, so that most decode.
        let result = (
            spelled("RESULT"),
            spelled("CODE"),
            prop::sample::select(&["SUCCESS", "FAIL", "", "1"][..]),
        )
            .prop_map(|(result, code, c)| {
                let inner = J::Map(vec![(code, J::Str(c)), ("INFO".to_owned(), J::Str("x"))]);
                (result, inner)
            });
        (
            root,
            prop::collection::vec((name(), value()), 0..12),
            any::<bool>(),
            prop::option::weighted(0.8, (any::<prop::sample::Index>(), result)),
        )
            .prop_map(|(root, mut fields, bare, result)| {
                if let Some((at, field)) = result {
                    fields.insert(at.index(fields.len() + 1), field);
                }
                let body = J::Map(fields);
                let doc = if bare {
                    body
                } else {
                    J::Map(vec![(root.to_owned(), body)])
                };
                let mut out = String::new();
                doc.write(&mut out);
                out
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn any_document_reads_the_same_either_way(text in document()) {
            all_the_same(&text);
        }
    }
}
