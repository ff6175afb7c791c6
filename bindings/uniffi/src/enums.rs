//! The gateway's dictionaries. Each mirrors the core enum of the same name, with an
//! `Unknown(raw)` case so a new code never breaks parsing (a sealed class in Kotlin, an enum
//! with an associated value in Swift).

macro_rules! mirror_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $from_wire:ident {
            $( $(#[$vmeta:meta])* $variant:ident ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]
        #[uniffi::export(Display)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A code this SDK does not know yet, kept as sent.
            Unknown {
                /// The wire text.
                raw: String,
            },
        }

        impl From<sosopay::$name> for $name {
            fn from(v: sosopay::$name) -> Self {
                match v {
                    $( sosopay::$name::$variant => $name::$variant, )*
                    other => $name::Unknown { raw: other.as_wire().to_owned() },
                }
            }
        }

        impl From<$name> for sosopay::$name {
            fn from(v: $name) -> Self {
                match v {
                    $( $name::$variant => sosopay::$name::$variant, )*
                    $name::Unknown { raw } => sosopay::$name::from_wire(&raw),
                }
            }
        }

        /// The variant's name (`ChargeNonexistent`), or `Unknown(raw)`: what Kotlin's
        /// `toString()` and Swift's `description` show.
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    $name::Unknown { raw } => write!(f, "Unknown({raw})"),
                    other => f.write_str(other.to_core().name()),
                }
            }
        }

        impl $name {
            pub(crate) fn to_core(&self) -> sosopay::$name {
                sosopay::$name::from(self.clone())
            }
        }

        #[uniffi::export]
        impl $name {
            /// The text sent on the wire.
            pub fn as_wire(&self) -> String {
                self.to_core().as_wire().to_owned()
            }
        }

        /// Parses the wire text (surrounding whitespace ignored, letters case-insensitive);
        /// codes this SDK does not know become `Unknown`.
        #[uniffi::export]
        pub fn $from_wire(raw: String) -> $name {
            $name::from(sosopay::$name::from_wire(&raw))
        }
    };
}

mirror_enum! {
    /// `RESULT.CODE` (appendix 5).
    ResultCode, result_code_from_wire {
        /// 成功.
        Success,
        /// 失败.
        Fail,
        /// 参数错误.
        IllegalParameter,
        /// 签名错误.
        InvalidSign,
        /// 金额错误.
        AmtError,
        /// 数据库连接异常.
        DatabaseError,
        /// 无效的签约状态.
        InvalidContract,
        /// 未注册的商户.
        UnregisteredBusi,
        /// 未知异常.
        Exception,
        /// 交易记录不存在.
        ChargeNonexistent,
        /// 服务不可用.
        ServiceUnavailable,
        /// HTTP请求异常.
        HttpException,
        /// IO异常.
        IoException,
        /// 创建安全链接失败.
        CreateSecurityConnectionError,
        /// 该订单已经撤销 (sic).
        AreadyRevoked,
        /// 上行流水号与系统中重复.
        SerialRepeat,
    }
}

#[uniffi::export]
impl ResultCode {
    /// Is it success?
    pub fn is_success(&self) -> bool {
        self.to_core().is_success()
    }

    /// After a money-moving request, does this code leave the outcome unknown?
    pub fn outcome_unknown(&self) -> bool {
        self.to_core().outcome_unknown()
    }
}

mirror_enum! {
    /// `STATE` of an order (appendix 4).
    OrderState, order_state_from_wire {
        /// 0 待付款: awaiting payment.
        AwaitingPayment,
        /// 1 已付款: paid.
        Paid,
        /// 2 已撤单: cancelled / reversed.
        Cancelled,
        /// 3 申请撤单: cancel applied for.
        CancelApplied,
        /// 4 部分退款: partially refunded.
        PartiallyRefunded,
        /// 5 已退款: refunded.
        Refunded,
        /// 6 交易关闭: closed.
        Closed,
        /// 7 系统保留状态.
        Reserved,
        /// 8 退款中: refund in progress.
        RefundInProgress,
        /// 9 退款失败: refund failed.
        RefundFailed,
    }
}

#[uniffi::export]
impl OrderState {
    /// Was the money taken (paid, or paid then partly or wholly refunded)?
    pub fn money_taken(&self) -> bool {
        self.to_core().money_taken()
    }

    /// Is it final for a payment (no longer awaiting the customer)?
    pub fn is_final(&self) -> bool {
        self.to_core().is_final()
    }
}

mirror_enum! {
    /// `CHANNEL_TYPE` (appendix 2).
    Channel, channel_from_wire {
        /// 0: auto-detect from the customer's code (micropay only).
        Auto,
        /// 1 支付宝.
        Alipay,
        /// 2 微信.
        Wechat,
        /// 3 招商银行.
        Cmb,
        /// 5 中国建设银行.
        Ccb,
        /// 9 农业银行.
        Abc,
        /// 10 浦发银行.
        Spdb,
        /// 24 百度钱包.
        BaiduWallet,
        /// 27 电信翼支付.
        Bestpay,
        /// 31 QQ钱包.
        QqWallet,
        /// 32 银联卡支付.
        UnionPay,
        /// 34 支付宝手机网页支付.
        AlipayWap,
    }
}

mirror_enum! {
    /// `FUND_CHANNEL` (appendix 3): where the money came from.
    FundChannel, fund_channel_from_wire {
        /// 00 支付宝红包.
        AlipayRedPacket,
        /// 10 支付宝余额.
        AlipayBalance,
        /// 60 支付宝预存卡.
        AlipayPrepaidCard,
        /// 30 支付宝集分宝.
        AlipayPoints,
        /// 70 支付宝信用支付.
        AlipayCredit,
        /// 40 折扣券.
        DiscountVoucher,
        /// 80 预付卡.
        PrepaidCard,
        /// 90 信用支付（消费信贷）.
        ConsumerCredit,
        /// 11 微信支付.
        WechatPay,
        /// 12 QQ钱包支付.
        QqWalletPay,
        /// 13 百度钱包支付.
        BaiduWalletPay,
        /// 14 翼支付.
        BestpayPay,
        /// 41 微信现金券支付.
        WechatCoupon,
        /// 42 QQ钱包现金券支付.
        QqWalletCoupon,
        /// 43 百度钱包现金券支付.
        BaiduWalletCoupon,
        /// 44 翼支付现金券支付.
        BestpayCoupon,
        /// 100 支付宝理财专户.
        AlipayFinance,
        /// 101 商户店铺卡.
        MerchantStoreCard,
        /// 102 商户优惠券.
        MerchantCoupon,
        /// 103 银行卡（支付宝渠道）.
        AlipayBankCard,
        /// 104 商户红包.
        MerchantRedPacket,
        /// 9001 银行卡（银行渠道）.
        BankCard,
        /// 9002 随机减.
        RandomDiscount,
        /// 9003 免单.
        FreeOrder,
        /// 9004 满立减.
        SpendAndSave,
        /// 9005 单品优惠.
        ItemDiscount,
        /// 9006 满送商品.
        SpendAndGift,
        /// 9007 代金券.
        CashVoucher,
        /// 9008 折扣券.
        DiscountCoupon,
    }
}

mirror_enum! {
    /// `DYNAMIC_ID_TYPE`: how the customer's code was read.
    DynamicIdType, dynamic_id_type_from_wire {
        /// 1 条码: barcode / QR scanned from the customer's phone.
        Barcode,
        /// 2 声波: sound wave.
        SoundWave,
        /// 3 NFC.
        Nfc,
    }
}

mirror_enum! {
    /// `TRADE_TYPE` of an order.
    TradeType, trade_type_from_wire {
        /// NATIVE: a QR code to scan (the default).
        Native,
        /// JSAPI: WeChat official-account (公众号) payment.
        Jsapi,
        /// APP.
        App,
    }
}

mirror_enum! {
    /// `serType` of a query: what the looked-up code is.
    SerType, ser_type_from_wire {
        /// 0: the merchant's `CHARGE_CODE`.
        ChargeCode,
        /// 1: the gateway's `CHARGE_DOWN_CODE`.
        ChargeDownCode,
        /// 2: a verification code (核销码).
        VerifyCode,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! round_trip {
        ($name:ident) => {
            for known in sosopay::$name::KNOWN {
                let b = $name::from(known.clone());
                assert!(!matches!(b, $name::Unknown { .. }), "{known:?} unmapped");
                assert_eq!(b.as_wire(), known.as_wire());
                assert_eq!(&b.to_core(), known);
            }
            let u = $name::from(sosopay::$name::from_wire("zz-new"));
            assert_eq!(
                u,
                $name::Unknown {
                    raw: "zz-new".into()
                }
            );
            assert_eq!(u.as_wire(), "zz-new");
        };
    }

    #[test]
    fn every_known_value_round_trips() {
        round_trip!(ResultCode);
        round_trip!(OrderState);
        round_trip!(Channel);
        round_trip!(FundChannel);
        round_trip!(DynamicIdType);
        round_trip!(TradeType);
        round_trip!(SerType);
        assert_eq!(channel_from_wire("02".into()), Channel::Wechat);
        assert!(ResultCode::Success.is_success());
        assert!(OrderState::Refunded.money_taken());
    }
}
