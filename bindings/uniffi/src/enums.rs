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

/// Every core dictionary, mirrored: the variants come from the core's one list
/// (`sosopay::for_each_dictionary!`), never restated here.
macro_rules! mirror_enums {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident, $from_wire:ident {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $wire:literal $(| $alias:literal)* ),* $(,)?
        }
    )*) => {$(
        mirror_enum! {
            $(#[doc = $doc])*
            $name, $from_wire { $( $(#[doc = $vdoc])* $variant ),* }
        }
    )*};
}

sosopay::for_each_dictionary!(mirror_enums);

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
