//! The sandbox's test payment codes (`DYNAMIC_ID` of a micropay), like card test numbers: the
//! customer's payment code chooses what happens (docs/SANDBOX.md, "Micropay test codes").
//!
//! Special codes are `PP000000000000BNNN` (18 digits): `PP` the channel prefix, twelve zeros,
//! `B` the behaviour digit, `NNN` seconds, scaled by the sandbox's `time_scale`. Any other
//! well-formed code pays at once. The gateway holds a micropay request open for at most 80 s
//! (scaled) while the customer confirms. Only the sandbox knows these codes.
//!
//! ```
//! use sosopay_sandbox::codes;
//! assert_eq!(codes::pays_after(5), "130000000000001005");
//! assert_eq!(codes::code(codes::Behaviour::InsufficientFunds, 0, codes::ALIPAY).unwrap(),
//!            "280000000000003000");
//! ```

/// WeChat Pay's prefix (`10`–`15`).
pub const WECHAT: &str = "13";
/// Alipay's prefix (`25`–`30`).
pub const ALIPAY: &str = "28";
/// QQ Wallet's prefix.
pub const QQ_WALLET: &str = "91";
/// UnionPay's prefix.
pub const UNION_PAY: &str = "62";

/// Any well-formed code: the customer pays at once (WeChat). `SUCCESS`, STATE 1.
pub const PAY_NOW: &str = "130730865806264036";
/// Pays at once (Alipay).
pub const PAY_NOW_ALIPAY: &str = "284214903060794755";
/// Not 16–24 digits: `ILLEGAL_PARAMETER` naming `DYNAMIC_ID`.
pub const MALFORMED: &str = "12345";
/// A prefix no channel has: with channel auto-detection (`CHANNEL_TYPE=0`),
/// `ILLEGAL_PARAMETER`.
pub const UNKNOWN_CHANNEL: &str = "990730865806264036";

/// A test code with a name, as every testing kit offers it (`codes.PAY_NOW` in Python and Node).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedCode {
    /// The kits' name (`PAY_NOW`).
    pub name: &'static str,
    /// The code.
    pub code: &'static str,
    /// What the customer does with it.
    pub doc: &'static str,
}

/// The named test codes, in the order the kits list them (their Python and Node constants are
/// generated from this table; a test checks each against the code builders).
#[rustfmt::skip]
pub const NAMED: &[NamedCode] = &[
    NamedCode { name: "PAY_NOW", code: "130730865806264036", doc: "Any well-formed code: the customer pays at once (WeChat). `SUCCESS`, STATE 1." },
    NamedCode { name: "PAY_NOW_ALIPAY", code: "284214903060794755", doc: "Pays at once (Alipay)." },
    NamedCode { name: "PAYS_AFTER_3S", code: "130000000000001003", doc: "Confirms on the phone, pays after 3 s; the request is held until then (the demo's code)." },
    NamedCode { name: "PAYS_AFTER_HOLD", code: "130000000000001090", doc: "Confirms but pays only after the 80 s hold (at 90 s): the reply is `SUCCESS` with STATE 0 after 80 s, and the client must poll until the order is paid." },
    NamedCode { name: "USER_PAYING", code: "130000000000002003", doc: "`SUCCESS` with STATE 0 at once (\"user paying\"); paid 3 s later: the client must poll." },
    NamedCode { name: "INSUFFICIENT_FUNDS", code: "130000000000003000", doc: "Insufficient funds at once: `FAIL` (`NOTENOUGH`), STATE 6." },
    NamedCode { name: "NEVER_CONFIRMS", code: "130000000000004000", doc: "Never confirms: the request is held the whole 80 s, then `FAIL`; the order is cancelled (STATE 2)." },
    NamedCode { name: "USER_PAYING_NEVER_CONFIRMS", code: "130000000000005000", doc: "`SUCCESS` with STATE 0 at once, and never confirms: cancelled (STATE 2) at 80 s." },
    NamedCode { name: "CODE_EXPIRED", code: "130000000000006000", doc: "The payment code has expired: `FAIL` (`AUTH_CODE_EXPIRED`) at once, STATE 6." },
    NamedCode { name: "REPLY_LOST", code: "130000000000007000", doc: "Paid at once, but the reply says `EXCEPTION`: the client must query to learn it is paid." },
    NamedCode { name: "MALFORMED", code: "12345", doc: "Not 16–24 digits: `ILLEGAL_PARAMETER` naming `DYNAMIC_ID`." },
    NamedCode { name: "UNKNOWN_CHANNEL", code: "990730865806264036", doc: "A prefix no channel has: with channel auto-detection (`CHANNEL_TYPE=0`), `ILLEGAL_PARAMETER`." },
];

/// What a special code makes the customer do (its behaviour digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Behaviour {
    /// Confirms on the phone and pays after the delay; the request is held until then.
    ConfirmThenPay = 1,
    /// The reply is `SUCCESS` with STATE 0 ("user paying") at once; pays after the delay.
    PayingThenPay = 2,
    /// Confirms for the delay, then insufficient funds: `FAIL`, STATE 6.
    InsufficientFunds = 3,
    /// Never confirms: held for the whole 80 s, then cancelled (STATE 2).
    NeverConfirms = 4,
    /// `SUCCESS` with STATE 0 at once, never confirms: cancelled (STATE 2) at 80 s.
    PayingNeverConfirms = 5,
    /// The payment code has expired: `FAIL` (`AUTH_CODE_EXPIRED`) at once, STATE 6.
    CodeExpired = 6,
    /// Pays after the delay, but the reply says `EXCEPTION`: only a query tells it is paid.
    ExceptionButPaid = 7,
}

/// The special code `PP000000000000BNNN` for `behaviour` after `seconds` (0–999, scaled by
/// the sandbox's `time_scale`) on the channel with the two-digit `channel` prefix. `Err`
/// names the argument at fault (`channel` or `seconds`) and says why.
pub fn code(
    behaviour: Behaviour,
    seconds: u16,
    channel: &str,
) -> Result<String, (&'static str, String)> {
    if channel.len() != 2 || !channel.bytes().all(|b| b.is_ascii_digit()) {
        return Err((
            "channel",
            format!("{channel:?} is not a two-digit prefix such as {WECHAT:?} (WeChat)"),
        ));
    }
    if seconds > 999 {
        return Err(("seconds", format!("{seconds} is not between 0 and 999")));
    }
    Ok(format!(
        "{channel}000000000000{}{seconds:03}",
        behaviour as u8
    ))
}

impl Behaviour {
    /// The behaviour of the code digit `d` (1 to 7), if any.
    pub fn from_digit(d: u8) -> Option<Behaviour> {
        use Behaviour::*;
        [
            ConfirmThenPay,
            PayingThenPay,
            InsufficientFunds,
            NeverConfirms,
            PayingNeverConfirms,
            CodeExpired,
            ExceptionButPaid,
        ]
        .into_iter()
        .find(|b| *b as u8 == d)
    }
}

/// [`code`] as the bindings take it (Python's and Node's `codes.code`): the behaviour as its
/// digit, the seconds as any integer. `Err` names the argument at fault (`behaviour`,
/// `seconds` or `channel`) and says why.
pub fn code_from_parts(
    behaviour: i64,
    seconds: i64,
    channel: &str,
) -> Result<String, (&'static str, String)> {
    let b = u8::try_from(behaviour)
        .ok()
        .and_then(Behaviour::from_digit)
        .ok_or_else(|| {
            (
                "behaviour",
                format!("{behaviour} is not a behaviour digit (1 to 7)"),
            )
        })?;
    let s = u16::try_from(seconds)
        .ok()
        .filter(|s| *s <= 999)
        .ok_or_else(|| ("seconds", format!("{seconds} is not between 0 and 999")))?;
    code(b, s, channel)
}

fn wechat(behaviour: Behaviour, seconds: u16) -> String {
    format!(
        "{WECHAT}000000000000{}{:03}",
        behaviour as u8,
        seconds.min(999)
    )
}

/// WeChat; confirms on the phone and pays after `seconds` (at most 999), the request held
/// until then. From 80 s the hold ends first: `SUCCESS` with STATE 0, and the client polls.
pub fn pays_after(seconds: u16) -> String {
    wechat(Behaviour::ConfirmThenPay, seconds)
}

/// WeChat; `SUCCESS` with STATE 0 ("user paying") at once, paid after `seconds`.
pub fn user_paying(seconds: u16) -> String {
    wechat(Behaviour::PayingThenPay, seconds)
}

/// WeChat; confirms for `seconds`, then insufficient funds: `FAIL`, STATE 6.
pub fn insufficient_funds_after(seconds: u16) -> String {
    wechat(Behaviour::InsufficientFunds, seconds)
}

/// WeChat; pays after `seconds`, but the reply is `EXCEPTION`: the order IS paid.
pub fn reply_lost_after(seconds: u16) -> String {
    wechat(Behaviour::ExceptionButPaid, seconds)
}

/// WeChat; never confirms: held 80 s, then `FAIL`, the order cancelled (STATE 2).
pub fn never_confirms() -> String {
    wechat(Behaviour::NeverConfirms, 0)
}

/// WeChat; `SUCCESS` with STATE 0 at once, never confirms: cancelled at 80 s.
pub fn user_paying_never_confirms() -> String {
    wechat(Behaviour::PayingNeverConfirms, 0)
}

/// WeChat; the payment code has expired: `FAIL` at once, STATE 6.
pub fn code_expired() -> String {
    wechat(Behaviour::CodeExpired, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Behaviour as Played;

    #[test]
    fn codes_from_parts_check_each_part() {
        assert_eq!(
            code_from_parts(6, 0, WECHAT).as_deref(),
            Ok(code_expired().as_str())
        );
        assert_eq!(
            code_from_parts(1, 5, WECHAT).as_deref(),
            Ok(pays_after(5).as_str())
        );
        for (b, s, ch, field) in [
            (0, 0, WECHAT, "behaviour"),
            (8, 0, WECHAT, "behaviour"),
            (-1, 0, WECHAT, "behaviour"),
            (1, 1000, WECHAT, "seconds"),
            (1, -1, WECHAT, "seconds"),
            (1, 0, "x", "channel"),
        ] {
            assert_eq!(code_from_parts(b, s, ch).map_err(|e| e.0), Err(field));
        }
    }

    #[test]
    fn the_named_codes_are_the_builders_codes() {
        let named = |n: &str| {
            NAMED
                .iter()
                .find(|c| c.name == n)
                .map(|c| c.code.to_owned())
                .expect("named")
        };
        assert_eq!(named("PAY_NOW"), PAY_NOW);
        assert_eq!(named("PAY_NOW_ALIPAY"), PAY_NOW_ALIPAY);
        assert_eq!(named("PAYS_AFTER_3S"), pays_after(3));
        assert_eq!(named("PAYS_AFTER_HOLD"), pays_after(90));
        assert_eq!(named("USER_PAYING"), user_paying(3));
        assert_eq!(named("INSUFFICIENT_FUNDS"), insufficient_funds_after(0));
        assert_eq!(named("NEVER_CONFIRMS"), never_confirms());
        assert_eq!(
            named("USER_PAYING_NEVER_CONFIRMS"),
            user_paying_never_confirms()
        );
        assert_eq!(named("CODE_EXPIRED"), code_expired());
        assert_eq!(named("REPLY_LOST"), reply_lost_after(0));
        assert_eq!(named("MALFORMED"), MALFORMED);
        assert_eq!(named("UNKNOWN_CHANNEL"), UNKNOWN_CHANNEL);
        assert_eq!(NAMED.len(), 12);
    }

    #[test]
    fn codes_play_their_behaviour() {
        assert_eq!(Played::of(PAY_NOW), Played::PayNow);
        assert_eq!(
            Played::of(&pays_after(5)),
            Played::ConfirmThenPay { secs: 5 }
        );
        assert_eq!(
            Played::of(&user_paying(3)),
            Played::PayingThenPay { secs: 3 }
        );
        assert_eq!(
            Played::of(&insufficient_funds_after(0)),
            Played::InsufficientFunds { secs: 0 }
        );
        assert_eq!(
            Played::of(&reply_lost_after(2)),
            Played::ExceptionButPaid { secs: 2 }
        );
        assert_eq!(Played::of(&never_confirms()), Played::NeverConfirms);
        assert_eq!(
            Played::of(&user_paying_never_confirms()),
            Played::PayingNeverConfirms
        );
        assert_eq!(Played::of(&code_expired()), Played::CodeExpired);
        assert_eq!(
            code(Behaviour::ConfirmThenPay, 7, ALIPAY).as_deref(),
            Ok("280000000000001007")
        );
        assert!(code(Behaviour::ConfirmThenPay, 1000, WECHAT).is_err());
        assert!(code(Behaviour::ConfirmThenPay, 1, "1").is_err());
    }
}
