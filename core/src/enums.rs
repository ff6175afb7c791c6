//! The gateway's dictionaries, each with an `Unknown(raw)` case so a new code never breaks parsing.

use std::fmt;

/// Every dictionary seen uniformly (what generic binding code needs); each method is the
/// enum's own.
pub trait Dictionary: Sized + Clone + 'static {
    /// Every known value.
    fn known() -> &'static [Self];
    /// The variant's name (`"Unknown"` for unknown codes).
    fn name(&self) -> &'static str;
    /// The text sent on the wire.
    fn as_wire(&self) -> &str;
    /// Parses the wire text.
    fn from_wire(raw: &str) -> Self;
    /// Parses a variant name or the wire text.
    fn from_name_or_wire(text: &str) -> Self;
}

/// Whether `text` names the variant `name` (`Wechat`, `ChargeDownCode`): equal ignoring ASCII
/// case and single underscores between words (`CHARGE_DOWN_CODE`, `charge_down_code`).
fn name_matches(text: &str, name: &str) -> bool {
    if text.starts_with('_') || text.ends_with('_') || text.contains("__") {
        return false;
    }
    let mut t = text.bytes().filter(|b| *b != b'_');
    let mut n = name.bytes();
    loop {
        match (t.next(), n.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(&b) => {}
            _ => return false,
        }
    }
}

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal $(| $alias:literal)* ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A code this SDK does not know yet, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// Every known value.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),*];

            /// Parses the wire text (surrounding whitespace ignored, letters case-insensitive).
            pub fn from_wire(raw: &str) -> Self {
                let t = raw.trim();
                $(
                    if t.eq_ignore_ascii_case($wire) $(|| t.eq_ignore_ascii_case($alias))* {
                        return $name::$variant;
                    }
                )*
                $name::parse_extra(t).unwrap_or_else(|| $name::Unknown(raw.to_owned()))
            }

            /// The text sent on the wire.
            pub fn as_wire(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Unknown(raw) => raw,
                }
            }

            /// The variant's name (`"Unknown"` for unknown codes), for bindings.
            pub fn name(&self) -> &'static str {
                match self {
                    $( $name::$variant => stringify!($variant), )*
                    $name::Unknown(_) => "Unknown",
                }
            }

            /// Parses a value given by its variant name (`"Wechat"`, in any case, with or
            /// without underscores: `"CHARGE_DOWN_CODE"` as Python spells the member,
            /// `"ChargeDownCode"` as JS does) or by its wire text (`"2"`, read as
            /// [`from_wire`](Self::from_wire) does): how bindings read a dictionary argument.
            /// Unknown text is kept as `Unknown(text)`.
            pub fn from_name_or_wire(text: &str) -> Self {
                let t = text.trim();
                $(
                    if name_matches(t, stringify!($variant)) {
                        return $name::$variant;
                    }
                )*
                $name::from_wire(t)
            }
        }

        impl Dictionary for $name {
            fn known() -> &'static [Self] {
                $name::KNOWN
            }
            fn name(&self) -> &'static str {
                $name::name(self)
            }
            fn as_wire(&self) -> &str {
                $name::as_wire(self)
            }
            fn from_wire(raw: &str) -> Self {
                $name::from_wire(raw)
            }
            fn from_name_or_wire(text: &str) -> Self {
                $name::from_name_or_wire(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_wire())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_wire())
            }
        }
    };
}

/// Calls the macro `$cb` once with every dictionary of the gateway, each written as
///
/// ```text
/// /// docs
/// Name, name_from_wire {
///     /// docs
///     Variant = "WIRE" | "ALIAS",
///     ...
/// }
/// ```
///
/// (`name_from_wire`: the name bindings give their parse function). This list is the one
/// definition of the dictionaries: the core's enums below are made from it, and each binding
/// derives its foreign enums from it (`sosopay::for_each_dictionary!(mirror_enums)`), so a new
/// value reaches every runtime with no edit there.
#[macro_export]
macro_rules! for_each_dictionary {
    ($cb:ident) => {
        $cb! {
            /// `RESULT.CODE` (appendix 5).
            ResultCode, result_code_from_wire {
                /// 成功 (`SUCCESS`; the appendix spells it `SUCESS`, both accepted).
                Success = "SUCCESS" | "SUCESS",
                /// 失败.
                Fail = "FAIL",
                /// 参数错误.
                IllegalParameter = "ILLEGAL_PARAMETER",
                /// 签名错误.
                InvalidSign = "INVALID_SIGN",
                /// 金额错误.
                AmtError = "AMT_ERROR",
                /// 数据库连接异常.
                DatabaseError = "DATABASE_ERROR",
                /// 无效的签约状态.
                InvalidContract = "INVALID_CONTRACT",
                /// 未注册的商户.
                UnregisteredBusi = "UNREGISTERED_BUSI",
                /// 未知异常.
                Exception = "EXCEPTION",
                /// 交易记录不存在.
                ChargeNonexistent = "CHARGE_NONEXISTENT",
                /// 服务不可用.
                ServiceUnavailable = "SERVICE_UNAVAILABLE",
                /// HTTP请求异常.
                HttpException = "HTTP_EXCEPTION",
                /// IO异常.
                IoException = "IO_EXCEPTION",
                /// 创建安全链接失败.
                CreateSecurityConnectionError = "CREATE_SECURITY_CONNECTION_ERROR",
                /// 该订单已经撤销 (sic).
                AreadyRevoked = "AREADY_REVOKED",
                /// 上行流水号与系统中重复.
                SerialRepeat = "SERIAL_REPEAT",
            }
            /// `STATE` (appendix 4).
            OrderState, order_state_from_wire {
                /// 0 待付款: awaiting payment.
                AwaitingPayment = "0",
                /// 1 已付款: paid.
                Paid = "1",
                /// 2 已撤单: cancelled / reversed.
                Cancelled = "2",
                /// 3 申请撤单: cancel applied for.
                CancelApplied = "3",
                /// 4 部分退款: partially refunded.
                PartiallyRefunded = "4",
                /// 5 已退款: refunded.
                Refunded = "5",
                /// 6 交易关闭: closed.
                Closed = "6",
                /// 7 系统保留状态.
                Reserved = "7",
                /// 8 退款中: refund in progress.
                RefundInProgress = "8",
                /// 9 退款失败: refund failed.
                RefundFailed = "9",
            }
            /// `CHANNEL_TYPE` (appendix 2).
            Channel, channel_from_wire {
                /// 0: auto-detect from the customer's code (micropay only).
                Auto = "0",
                /// 1 支付宝.
                Alipay = "1",
                /// 2 微信.
                Wechat = "2",
                /// 3 招商银行.
                Cmb = "3",
                /// 5 中国建设银行.
                Ccb = "5",
                /// 9 农业银行.
                Abc = "9",
                /// 10 浦发银行.
                Spdb = "10",
                /// 24 百度钱包.
                BaiduWallet = "24",
                /// 27 电信翼支付.
                Bestpay = "27",
                /// 31 QQ钱包.
                QqWallet = "31",
                /// 32 银联卡支付.
                UnionPay = "32",
                /// 34 支付宝手机网页支付.
                AlipayWap = "34",
            }
            /// `FUND_CHANNEL` (appendix 3).
            FundChannel, fund_channel_from_wire {
                /// 00 支付宝红包.
                AlipayRedPacket = "00",
                /// 10 支付宝余额.
                AlipayBalance = "10",
                /// 60 支付宝预存卡.
                AlipayPrepaidCard = "60",
                /// 30 支付宝集分宝.
                AlipayPoints = "30",
                /// 70 支付宝信用支付.
                AlipayCredit = "70",
                /// 40 折扣券.
                DiscountVoucher = "40",
                /// 80 预付卡.
                PrepaidCard = "80",
                /// 90 信用支付（消费信贷）.
                ConsumerCredit = "90",
                /// 11 微信支付.
                WechatPay = "11",
                /// 12 QQ钱包支付.
                QqWalletPay = "12",
                /// 13 百度钱包支付.
                BaiduWalletPay = "13",
                /// 14 翼支付.
                BestpayPay = "14",
                /// 41 微信现金券支付.
                WechatCoupon = "41",
                /// 42 QQ钱包现金券支付.
                QqWalletCoupon = "42",
                /// 43 百度钱包现金券支付.
                BaiduWalletCoupon = "43",
                /// 44 翼支付现金券支付.
                BestpayCoupon = "44",
                /// 100 支付宝理财专户.
                AlipayFinance = "100",
                /// 101 商户店铺卡.
                MerchantStoreCard = "101",
                /// 102 商户优惠券.
                MerchantCoupon = "102",
                /// 103 银行卡（支付宝渠道）.
                AlipayBankCard = "103",
                /// 104 商户红包.
                MerchantRedPacket = "104",
                /// 9001 银行卡（银行渠道）.
                BankCard = "9001",
                /// 9002 随机减.
                RandomDiscount = "9002",
                /// 9003 免单.
                FreeOrder = "9003",
                /// 9004 满立减.
                SpendAndSave = "9004",
                /// 9005 单品优惠.
                ItemDiscount = "9005",
                /// 9006 满送商品.
                SpendAndGift = "9006",
                /// 9007 代金券.
                CashVoucher = "9007",
                /// 9008 折扣券.
                DiscountCoupon = "9008",
            }
            /// `DYNAMIC_ID_TYPE`.
            DynamicIdType, dynamic_id_type_from_wire {
                /// 1 条码: barcode / QR scanned from the customer's phone.
                Barcode = "1",
                /// 2 声波: sound wave.
                SoundWave = "2",
                /// 3 NFC.
                Nfc = "3",
            }
            /// `TRADE_TYPE` of an order.
            TradeType, trade_type_from_wire {
                /// NATIVE: a QR code to scan (the default).
                Native = "NATIVE",
                /// JSAPI: WeChat official-account (公众号) payment.
                Jsapi = "JSAPI",
                /// APP.
                App = "APP",
            }
            /// `serType` of a query: what the looked-up code is.
            SerType, ser_type_from_wire {
                /// 0: the merchant's `CHARGE_CODE`.
                ChargeCode = "0",
                /// 1: the gateway's `CHARGE_DOWN_CODE`.
                ChargeDownCode = "1",
                /// 2: a verification code (核销码).
                VerifyCode = "2",
            }
        }
    };
}

macro_rules! wire_enums {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident, $from_wire:ident {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $wire:literal $(| $alias:literal)* ),* $(,)?
        }
    )*) => {$(
        wire_enum! {
            $(#[doc = $doc])*
            $name { $( $(#[doc = $vdoc])* $variant = $wire $(| $alias)* ),* }
        }
    )*};
}

for_each_dictionary!(wire_enums);

macro_rules! by_name {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident, $from_wire:ident {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $wire:literal $(| $alias:literal)* ),* $(,)?
        }
    )*) => {
        /// The name of every dictionary (`"ResultCode"`, `"OrderState"`, ...).
        pub const DICTIONARIES: &[&str] = &[$(stringify!($name)),*];

        /// `(variant name, wire text)` of every known value of the dictionary called `name`
        /// (`"Channel"` → `[("Auto", "0"), ("Alipay", "1"), ...]`); `None` for another name.
        pub fn dictionary_members(name: &str) -> Option<Vec<(&'static str, &'static str)>> {
            $(
                if name == stringify!($name) {
                    return Some(vec![$((stringify!($variant), $wire)),*]);
                }
            )*
            None
        }

        /// The documentation of the dictionary called `name` (its first line:
        /// ``"`RESULT.CODE` (appendix 5)."``), for generated foreign sources.
        pub fn dictionary_doc(name: &str) -> Option<&'static str> {
            $(
                if name == stringify!($name) {
                    return [$($doc),*].first().map(|d| d.trim());
                }
            )*
            None
        }

        /// The canonical wire text of `raw` read as the dictionary called `name` (`"1.0"` →
        /// `"1"` for `OrderState`, `"sucess"` → `"SUCCESS"`); unknown codes come back as given.
        /// `None` when `name` is not a dictionary.
        pub fn normalize_wire(name: &str, raw: &str) -> Option<String> {
            $(
                if name == stringify!($name) {
                    return Some($name::from_wire(raw).as_wire().to_owned());
                }
            )*
            None
        }
    };
}

for_each_dictionary!(by_name);

impl ResultCode {
    fn parse_extra(_t: &str) -> Option<Self> {
        None
    }

    /// Is it success?
    pub fn is_success(&self) -> bool {
        matches!(self, ResultCode::Success)
    }

    /// After a money-moving request, does this code leave the outcome unknown, so the order
    /// must be queried before deciding? True for the gateway's internal failures
    /// (`SERVICE_UNAVAILABLE`, `IO_EXCEPTION`, `EXCEPTION`, `DATABASE_ERROR`, `HTTP_EXCEPTION`,
    /// `CREATE_SECURITY_CONNECTION_ERROR`), for `SERIAL_REPEAT` (an earlier attempt with the same
    /// charge code was recorded) and for codes this SDK does not know.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            ResultCode::ServiceUnavailable
                | ResultCode::IoException
                | ResultCode::Exception
                | ResultCode::DatabaseError
                | ResultCode::HttpException
                | ResultCode::CreateSecurityConnectionError
                | ResultCode::SerialRepeat
                | ResultCode::Unknown(_)
        )
    }

    /// Does this code mean the request definitely failed and nothing happened?
    pub fn definitely_failed(&self) -> bool {
        !self.is_success() && !self.outcome_unknown()
    }

    /// Is it a transient gateway fault for which an idempotent request may be retried?
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ResultCode::ServiceUnavailable
                | ResultCode::IoException
                | ResultCode::Exception
                | ResultCode::DatabaseError
                | ResultCode::HttpException
                | ResultCode::CreateSecurityConnectionError
        )
    }
}

impl OrderState {
    fn parse_extra(t: &str) -> Option<Self> {
        // "01", "1.0": numbers as the lenient decoder may see them. Only a zero fraction is
        // the same number: "1.5" is not state 1.
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        if int.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b == b'0')
        {
            return None;
        }
        let n = match int.trim_start_matches('0') {
            "" => "0",
            n => n,
        };
        if n.len() == 1 && n != t {
            let s = OrderState::from_wire(n);
            if !matches!(s, OrderState::Unknown(_)) {
                return Some(s);
            }
        }
        None
    }

    /// Was the money taken (paid, or paid then partly or wholly refunded)?
    pub fn money_taken(&self) -> bool {
        matches!(
            self,
            OrderState::Paid
                | OrderState::PartiallyRefunded
                | OrderState::Refunded
                | OrderState::RefundInProgress
                | OrderState::RefundFailed
        )
    }

    /// Is it final for a payment (no longer awaiting the customer)? Exactly the states the
    /// flows settle on ([`crate::flows::status_of_state`]): not awaiting payment, a cancel
    /// applied for, `Reserved` (7, which says nothing about the payment) or an unknown state.
    pub fn is_final(&self) -> bool {
        crate::flows::status_of_state(self).is_some()
    }
}

impl Channel {
    fn parse_extra(t: &str) -> Option<Self> {
        let n = t.trim_start_matches('0');
        if n != t && !n.is_empty() {
            let c = Channel::from_wire(n);
            if !matches!(c, Channel::Unknown(_)) {
                return Some(c);
            }
        }
        None
    }
}

impl FundChannel {
    fn parse_extra(t: &str) -> Option<Self> {
        // A JSON number 0 for "00".
        if t == "0" {
            return Some(FundChannel::AlipayRedPacket);
        }
        None
    }
}

impl DynamicIdType {
    fn parse_extra(_t: &str) -> Option<Self> {
        None
    }
}

impl TradeType {
    fn parse_extra(_t: &str) -> Option<Self> {
        None
    }
}

impl SerType {
    fn parse_extra(t: &str) -> Option<Self> {
        if t.is_empty() {
            return Some(SerType::ChargeCode);
        }
        None
    }
}

/// `(dictionary, rule, documentation, the rule applied to a wire text)`: the yes/no rules of
/// the dictionaries, for bindings that expose them by name (Python's `OrderState.money_taken`).
type Rule = (&'static str, &'static str, &'static str, fn(&str) -> bool);

const RULES: &[Rule] = &[
    ("ResultCode", "is_success", "Is it success?", |w| {
        ResultCode::from_wire(w).is_success()
    }),
    (
        "ResultCode",
        "outcome_unknown",
        "After a money-moving request, does this code leave the outcome unknown (query the order before deciding)?",
        |w| ResultCode::from_wire(w).outcome_unknown(),
    ),
    (
        "ResultCode",
        "definitely_failed",
        "Does this code mean the request definitely failed and nothing happened?",
        |w| ResultCode::from_wire(w).definitely_failed(),
    ),
    (
        "ResultCode",
        "is_transient",
        "Is it a transient gateway fault for which an idempotent request may be retried?",
        |w| ResultCode::from_wire(w).is_transient(),
    ),
    (
        "OrderState",
        "money_taken",
        "Was the money taken (paid, or paid then partly or wholly refunded)?",
        |w| OrderState::from_wire(w).money_taken(),
    ),
    (
        "OrderState",
        "is_final",
        "Is it final for a payment (no longer awaiting the customer)?",
        |w| OrderState::from_wire(w).is_final(),
    ),
];

/// The yes/no rules the core knows about the values of the dictionary called `name`:
/// `(rule, documentation)`, for bindings that expose them as properties. Empty for a dictionary
/// without any.
pub fn dictionary_rules(name: &str) -> Vec<(&'static str, &'static str)> {
    RULES
        .iter()
        .filter(|r| r.0 == name)
        .map(|r| (r.1, r.2))
        .collect()
}

/// The value of `rule` (one of [`dictionary_rules`]) for the wire text `wire` of the dictionary
/// called `name`; `None` for an unknown dictionary or rule.
pub fn dictionary_rule(name: &str, rule: &str, wire: &str) -> Option<bool> {
    RULES
        .iter()
        .find(|r| r.0 == name && r.1 == rule)
        .map(|r| (r.3)(wire))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_codes() {
        assert_eq!(ResultCode::from_wire("SUCESS"), ResultCode::Success);
        assert_eq!(ResultCode::from_wire("success"), ResultCode::Success);
        assert_eq!(
            ResultCode::from_wire("NEW_CODE"),
            ResultCode::Unknown("NEW_CODE".into())
        );
        assert!(ResultCode::SerialRepeat.outcome_unknown());
        assert!(ResultCode::Fail.definitely_failed());
        assert!(!ResultCode::Success.definitely_failed());
    }

    #[test]
    fn rules_by_name() {
        for name in DICTIONARIES {
            for (rule, _) in dictionary_rules(name) {
                for (_, wire) in dictionary_members(name).expect("listed") {
                    assert!(dictionary_rule(name, rule, wire).is_some(), "{name}.{rule}");
                }
            }
        }
        assert_eq!(
            dictionary_rule("OrderState", "money_taken", "5"),
            Some(true)
        );
        assert_eq!(dictionary_rule("OrderState", "is_final", "0"), Some(false));
        // Final exactly where the flows settle: 7 (reserved) says nothing about the payment.
        for (name, wire) in dictionary_members("OrderState").expect("listed") {
            let state = OrderState::from_wire(wire);
            assert_eq!(
                state.is_final(),
                crate::flows::status_of_state(&state).is_some(),
                "{name}"
            );
        }
        assert!(!OrderState::Reserved.is_final() && !OrderState::from_wire("42").is_final());
        assert!(OrderState::Closed.is_final() && OrderState::RefundFailed.is_final());
        assert_eq!(
            dictionary_rule("ResultCode", "outcome_unknown", "NEW"),
            Some(true)
        );
        assert_eq!(dictionary_rule("ResultCode", "nope", "FAIL"), None);
    }

    #[test]
    fn by_name_or_wire() {
        assert_eq!(Channel::from_name_or_wire("wechat"), Channel::Wechat);
        assert_eq!(
            SerType::from_name_or_wire("CHARGE_DOWN_CODE"),
            SerType::ChargeDownCode
        );
        assert_eq!(
            SerType::from_name_or_wire("chargeDownCode"),
            SerType::ChargeDownCode
        );
        assert_eq!(
            SerType::from_name_or_wire("CHARGE__DOWN_CODE"),
            SerType::Unknown("CHARGE__DOWN_CODE".into())
        );
        assert_eq!(
            ResultCode::from_name_or_wire("SERIAL_REPEAT"),
            ResultCode::SerialRepeat
        );
        assert_eq!(Channel::from_name_or_wire(" 2 "), Channel::Wechat);
        assert_eq!(Channel::from_name_or_wire("Auto"), Channel::Auto);
        assert_eq!(
            DynamicIdType::from_name_or_wire("laser"),
            DynamicIdType::Unknown("laser".into())
        );
        assert_eq!(DICTIONARIES.len(), 7);
        let ch = dictionary_members("Channel").expect("Channel");
        assert_eq!(ch.len(), Channel::KNOWN.len());
        assert_eq!(ch[2], ("Wechat", "2"));
        assert!(dictionary_members("Nope").is_none());
        assert_eq!(normalize_wire("OrderState", "1.0").as_deref(), Some("1"));
        assert_eq!(
            normalize_wire("ResultCode", "sucess").as_deref(),
            Some("SUCCESS")
        );
        assert_eq!(normalize_wire("ResultCode", "NEW").as_deref(), Some("NEW"));
        assert!(normalize_wire("Nope", "1").is_none());
        for name in DICTIONARIES {
            for (_, wire) in dictionary_members(name).expect("listed") {
                assert_eq!(normalize_wire(name, wire).as_deref(), Some(wire));
            }
        }
    }

    #[test]
    fn numeric_forms() {
        assert_eq!(OrderState::from_wire("1"), OrderState::Paid);
        assert_eq!(OrderState::from_wire("1.0"), OrderState::Paid);
        assert_eq!(OrderState::from_wire("0"), OrderState::AwaitingPayment);
        assert_eq!(Channel::from_wire("02"), Channel::Wechat);
        assert_eq!(FundChannel::from_wire("0"), FundChannel::AlipayRedPacket);
        assert_eq!(
            OrderState::from_wire("42"),
            OrderState::Unknown("42".into())
        );
    }
}
