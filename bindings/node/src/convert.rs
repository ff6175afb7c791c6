//! JS values ↔ core types: money, dictionaries, and the reply models as plain JS objects.

use napi::bindgen_prelude::{
    BigInt, Either, FromNapiValue, Function, JsObjectValue, Latin1String, Object, ToNapiValue,
    TypeName, Unknown, ValueType,
};
use napi::{sys, Env, JsValue};
use sosopay::models::{Goods as CoreGoods, RawDocument};
use sosopay::{Amount, Error};

use crate::error::validation;
use crate::requests::GoodsInput;

// ---------------------------------------------------------------------------------------------
// The whole reply document

/// `raw` of a reply: the whole document as decoded (an object in JS). Serialized for
/// [`Json`] only: a JSON reply's text goes into it as it came (never read into a
/// `serde_json::Value` and written out again), an XML reply's tree as JSON.
pub struct RawJson(pub RawDocument);

impl From<serde_json::Value> for RawJson {
    fn from(v: serde_json::Value) -> Self {
        RawJson(v.into())
    }
}

impl From<RawDocument> for RawJson {
    fn from(v: RawDocument) -> Self {
        RawJson(v)
    }
}

impl serde::Serialize for RawJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.0.json_text();
        match text.and_then(|t| serde_json::from_str::<&serde_json::value::RawValue>(t).ok()) {
            Some(verbatim) => verbatim.serialize(s),
            None => self.0.value().serialize(s),
        }
    }
}

impl TypeName for RawJson {
    fn type_name() -> &'static str {
        "Record<string, unknown>"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

// `ToNapiValue` and `FromNapiValue` are unsafe traits' functions of napi: the env comes from
// napi itself; no raw pointer is dereferenced here.
#[allow(unsafe_code)]
impl ToNapiValue for RawJson {
    unsafe fn to_napi_value(raw_env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: the env napi handed us.
        unsafe { Json::to_napi_value(raw_env, Json::new(&val)?) }
    }
}

/// A value as JSON text, made where it is produced (a worker thread) and turned into a JS
/// object by V8's own `JSON.parse`, one call on the JS thread, rather than a napi call per
/// property: that per-property path was a tenth of the Node binding's CPU per request
/// (docs/BENCHMARKS.md). The objects are the same as napi's (`Serialize` of the generated
/// replies names fields in camelCase and leaves an absent option out).
///
/// The text is ASCII (other characters as `\uXXXX` escapes), so that it crosses as a one-byte
/// (Latin-1) string: no UTF-8 decoding on the JS thread, and V8 parses one-byte text faster.
pub struct Json(String);

impl Json {
    /// Serializes `v` (its `Serialize` cannot fail: replies hold text, numbers and maps).
    pub fn new<T: serde::Serialize>(v: &T) -> napi::Result<Self> {
        ascii_json(v)
            .map(Json)
            .map_err(|e| napi::Error::from_reason(format!("reply to JSON: {e}")))
    }
}

/// `v` as ASCII JSON text.
fn ascii_json<T: serde::Serialize>(v: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(1024);
    v.serialize(&mut serde_json::Serializer::with_formatter(
        &mut out, AsciiJson,
    ))?;
    // The formatter writes ASCII only, so this never replaces anything.
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// serde_json's compact output with every non-ASCII character escaped (`\uXXXX`, a surrogate
/// pair above U+FFFF), as JSON allows.
struct AsciiJson;

impl serde_json::ser::Formatter for AsciiJson {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut rest = fragment;
        while let Some(i) = rest.find(|c: char| !c.is_ascii()) {
            w.write_all(&rest.as_bytes()[..i])?;
            let c = rest[i..].chars().next().unwrap_or('\u{fffd}');
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                write!(w, "\\u{u:04x}")?;
            }
            rest = &rest[i + c.len_utf8()..];
        }
        w.write_all(rest.as_bytes())
    }

    /// A reply's JSON text, written as it came: its non-ASCII characters can only stand in its
    /// strings, so they are escaped the same way.
    fn write_raw_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        self.write_string_fragment(w, fragment)
    }
}

#[allow(unsafe_code)]
impl ToNapiValue for Json {
    unsafe fn to_napi_value(raw_env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let env = Env::from_raw(raw_env);
        let json: Object = env.get_global()?.get_named_property("JSON")?;
        let parse: Function<Latin1String, Unknown> = json.get_named_property("parse")?;
        Ok(parse.call(Latin1String::from(val.0))?.raw())
    }
}

#[allow(unsafe_code)]
impl FromNapiValue for RawJson {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        // SAFETY: the same env and value napi handed us.
        unsafe { serde_json::Value::from_napi_value(env, v) }.map(RawJson::from)
    }
}

// ---------------------------------------------------------------------------------------------
// Money

/// A yuan amount as JS may pass it: a decimal string, or a number (always rejected: inexact).
pub type YuanInput = Either<String, f64>;
/// Integer fen as JS may pass it: a safe-integer number or a bigint.
pub type FenInput = Either<f64, BigInt>;

fn fen_from_js(v: &FenInput, field: &str) -> Result<Amount, Error> {
    match v {
        Either::A(n) => Amount::from_fen_f64_named(*n, field),
        Either::B(b) => {
            let (negative, value, lossless) = b.get_u64();
            if negative {
                return Err(validation(field, "is negative"));
            }
            if !lossless {
                return Err(validation(field, "is too large"));
            }
            Amount::from_fen_named(value, field)
        }
    }
}

fn yuan_from_js(v: &YuanInput, field: &str, fen_field: &str) -> Result<Amount, Error> {
    match v {
        Either::A(s) => Amount::parse_yuan_named(s, field),
        Either::B(n) => Err(validation(
            field,
            format!(
                "got the number {n}; give yuan as a string (\"{n}\") or integer fen as {fen_field}: JS numbers are not exact for money"
            ),
        )),
    }
}

/// An amount given either as yuan text (`field`) or integer fen (`fen_field`): exactly one.
pub fn amount(
    yuan: &Option<YuanInput>,
    fen: &Option<FenInput>,
    field: &str,
    fen_field: &str,
) -> Result<Amount, Error> {
    match (yuan, fen) {
        (Some(y), None) => yuan_from_js(y, field, fen_field),
        (None, Some(f)) => fen_from_js(f, fen_field),
        (y, _) => Err(Amount::unit_error(field, fen_field, y.is_some())),
    }
}

/// Optional money: at most one of the yuan text and the fen.
pub fn opt_amount(
    yuan: &Option<YuanInput>,
    fen: &Option<FenInput>,
    field: &str,
    fen_field: &str,
) -> Result<Option<Amount>, Error> {
    if yuan.is_none() && fen.is_none() {
        return Ok(None);
    }
    amount(yuan, fen, field, fen_field).map(Some)
}

/// Amount as JS reads it: integer fen (exact up to 2^53 − 1) and the yuan text.
pub fn fen_number(a: Amount) -> f64 {
    a.fen() as f64
}

// ---------------------------------------------------------------------------------------------
// Dictionaries

pub use sosopay::enums::Dictionary;

/// A dictionary argument: its name (`"Wechat"`, any case) or its wire code (`"2"`), read by
/// the core.
pub fn parse_enum<T: Dictionary>(text: &str) -> T {
    T::from_name_or_wire(text)
}

/// The names of every known value, for `knownValues()` in JS.
pub fn names<T: Dictionary>() -> Vec<String> {
    T::known().iter().map(|v| v.name().to_owned()).collect()
}

/// The name of an optional dictionary value (`"Paid"`, `"Unknown"`).
pub fn name_of<T: Dictionary>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(|v| v.name().to_owned())
}

/// The wire text of an optional dictionary value (`"1"`).
pub fn wire_of<T: Dictionary>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(|v| v.as_wire().to_owned())
}

// ---------------------------------------------------------------------------------------------
// Goods (the input object is generated from the core's: requests.rs)

/// Converts the goods list; an error names the item (`goods[1].priceFen`).
pub fn goods_in(list: Option<Vec<GoodsInput>>) -> Result<Vec<CoreGoods>, Error> {
    list.unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, g)| g.into_core().map_err(|e| e.within(&format!("goods[{i}]"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_or_rejected() {
        let a = amount(
            &Some(Either::A("0.01".into())),
            &None,
            "amount",
            "amountFen",
        );
        assert_eq!(a.map(Amount::fen), Ok(1));
        let a = amount(&None, &Some(Either::A(158.0)), "amount", "amountFen");
        assert_eq!(a.map(Amount::fen), Ok(158));
        for bad in [0.5, -1.0, f64::NAN, f64::INFINITY, 9.1e15] {
            let e = amount(&None, &Some(Either::A(bad)), "amount", "amountFen")
                .expect_err("must be rejected");
            assert!(matches!(e, Error::Validation { ref field, .. } if field == "amountFen"));
        }
        let e = amount(&Some(Either::B(0.1)), &None, "amount", "amountFen").expect_err("float");
        assert!(matches!(e, Error::Validation { ref field, .. } if field == "amount"));
        assert!(amount(&None, &None, "amount", "amountFen").is_err());
        assert!(amount(
            &Some(Either::A("1".into())),
            &Some(Either::A(100.0)),
            "amount",
            "amountFen"
        )
        .is_err());
    }

    #[test]
    fn bigint_fen() {
        let b = BigInt {
            sign_bit: false,
            words: vec![42],
        };
        assert_eq!(
            amount(&None, &Some(Either::B(b)), "a", "aFen").map(Amount::fen),
            Ok(42)
        );
        let neg = BigInt {
            sign_bit: true,
            words: vec![1],
        };
        assert!(amount(&None, &Some(Either::B(neg)), "a", "aFen").is_err());
        let huge = BigInt {
            sign_bit: false,
            words: vec![1 << 60],
        };
        assert!(amount(&None, &Some(Either::B(huge)), "a", "aFen").is_err());
    }

    #[test]
    fn enum_names() {
        assert_eq!(
            names::<sosopay::TradeType>(),
            vec!["Native", "Jsapi", "App"]
        );
    }
}

#[cfg(test)]
mod json_tests {
    use super::ascii_json;

    #[test]
    fn json_text_is_ascii_and_reads_back_the_same() {
        let v = serde_json::json!({
            "info": "请求成功! 咖啡 ☕ 𝄞 \"quoted\" \\ \n tab\t",
            "amountFen": 15800,
            "none": null,
            "nested": { "k": ["é", "ü", ""] }
        });
        let text = ascii_json(&v).expect("json");
        assert!(text.is_ascii(), "{text}");
        assert!(
            text.contains("\\u8bf7") && text.contains("\\ud834\\udd1e"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, v);
    }

    /// A JSON reply's text goes into the JS object as it came (its characters escaped to
    /// ASCII), and reads back as the reply's raw value; an XML reply's raw value as JSON.
    #[test]
    fn raw_json_is_the_reply_text_in_ascii() {
        use super::RawJson;
        use sosopay::models::Reply as _;
        let text = " {\"QUERY_RESP\":{\"RESULT\":{\"CODE\":\"SUCCESS\",\"INFO\":\"请求成功 𝄞\"},\"X_RATE\":1.50}}\n";
        let reply = sosopay::models::QueryReply::decode(text).expect("reply");
        assert_eq!(reply.raw.json_text(), Some(text));
        let out = ascii_json(&RawJson(reply.raw.clone())).expect("json");
        assert!(out.is_ascii(), "{out}");
        assert!(
            out.starts_with("{\"QUERY_RESP\"") && out.contains("1.50"),
            "{out}"
        );
        let back: serde_json::Value = serde_json::from_str(&out).expect("parse");
        assert_eq!(reply.raw, back);
        let xml = "<QUERY_RESP><RESULT><CODE>SUCCESS</CODE><INFO>成功</INFO></RESULT></QUERY_RESP>";
        let reply = sosopay::models::QueryReply::decode(xml).expect("xml reply");
        assert_eq!(reply.raw.json_text(), None);
        let out = ascii_json(&RawJson(reply.raw.clone())).expect("json");
        assert!(out.is_ascii(), "{out}");
        assert_eq!(
            reply.raw,
            serde_json::from_str::<serde_json::Value>(&out).expect("parse")
        );
    }
}
