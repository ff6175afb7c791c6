//! Reading what JS passes in (requests, options, goods, positional arguments). Every mistake is
//! a `ValidationError` naming the field as JS spells it (`chargeCode`, `goods[0].price`,
//! `retry.maxAttempts`, `key`) and saying what was given, never napi's own conversion message.
//! An object type opts in with `#[napi(object, object_from_js = false)]` and
//! [`from_js!`](crate::from_js) (generated for the requests and wait options); a positional
//! argument is typed `Text<Key>`, `Data<Body>`, ... (its JS name in the type).

use std::marker::PhantomData;

use napi::bindgen_prelude::{
    Array, BigInt, Buffer, Either, FromNapiValue, Object, Unknown, Utf16String, ValueType,
};
use napi::{sys, JsValue};

use crate::convert::{FenInput, YuanInput};
use crate::envelope::Bytes;
use crate::error::{to_napi, to_napi_verbatim, validation, IntoNapi};

/// What a JS value is, for messages: `the number 5`, `a string`, `null`, `an array`.
fn given(v: &Unknown<'_>) -> String {
    match v.get_type() {
        Ok(ValueType::Number) => {
            cast::<f64>(v).map_or("a number".into(), |n| format!("the number {n}"))
        }
        Ok(ValueType::Boolean) => {
            cast::<bool>(v).map_or("a boolean".into(), |b| format!("the boolean {b}"))
        }
        Ok(ValueType::Object) if v.is_array().unwrap_or(false) => "an array".into(),
        Ok(t @ (ValueType::Null | ValueType::Undefined)) => format!("{t}").to_lowercase(),
        Ok(ValueType::Object) => "an object".into(),
        Ok(ValueType::String) => "a string".into(),
        Ok(ValueType::BigInt) => "a bigint".into(),
        Ok(ValueType::Function) => "a function".into(),
        _ => "a value of another kind".into(),
    }
}

/// `v` as `T`, once its type was checked to be `T`'s.
fn cast<T: FromNapiValue>(v: &Unknown<'_>) -> napi::Result<T> {
    // SAFETY: every caller checked the value's type first; env and value are napi's.
    #[allow(unsafe_code)]
    unsafe {
        v.cast::<T>()
    }
}

fn bad(field: &str, expected: &str, v: &Unknown<'_>) -> napi::Error {
    to_napi(validation(
        field,
        format!("expected {expected}, got {}", given(v)),
    ))
}

fn is(v: &Unknown<'_>, t: ValueType) -> napi::Result<bool> {
    Ok(v.get_type()? == t)
}

/// The UTF-8 text of a JS string, read in one pass: napi-rs's `String` asks V8 for the UTF-8
/// length first (a walk over the whole string), then zero-fills a buffer and copies; sized
/// from the string's length instead (O(1): at most 3 UTF-8 bytes per UTF-16 unit), V8 writes
/// it at once. Strings over 64 Ki units take napi-rs's exact-size path (no 3x buffer). A lone
/// surrogate becomes U+FFFD either way.
fn utf8(v: &Unknown<'_>) -> napi::Result<String> {
    const ONE_PASS_MAX_UNITS: usize = 64 * 1024;
    let (env, raw) = (v.value().env, v.raw());
    let mut units = 0usize;
    // SAFETY: env and value are napi's; a null buffer asks for the length (in UTF-16 units).
    #[allow(unsafe_code)]
    napi::check_status!(unsafe {
        sys::napi_get_value_string_latin1(env, raw, std::ptr::null_mut(), 0, &mut units)
    })?;
    if units > ONE_PASS_MAX_UNITS {
        return cast(v);
    }
    let cap = units * 3 + 1;
    let mut buf: Vec<u8> = Vec::with_capacity(cap);
    let mut written = 0usize;
    // SAFETY: `buf` has room for `cap` bytes; V8 writes at most `cap - 1` and a NUL.
    #[allow(unsafe_code)]
    unsafe {
        napi::check_status!(sys::napi_get_value_string_utf8(
            env,
            raw,
            buf.as_mut_ptr().cast(),
            cap,
            &mut written
        ))?;
        buf.set_len(written.min(cap - 1));
    }
    String::from_utf8(buf).map_err(|e| napi::Error::from_reason(e.to_string()))
}

/// `e`, from reading `field` of the caller's object; when the read ran the caller's own code
/// (a getter, a Proxy trap) and that threw, its exception (cleared here) becomes a
/// `ValidationError` naming the field and quoting it: nothing was sent, so it must not read as
/// an internal error whose outcome is unknown.
fn threw(env: sys::napi_env, field: &str, e: napi::Error) -> napi::Error {
    let mut pending = false;
    let mut exc = std::ptr::null_mut();
    // SAFETY: env is napi's; the exception, if any, is taken off the environment.
    #[allow(unsafe_code)]
    let taken = unsafe {
        sys::napi_is_exception_pending(env, &mut pending) == sys::Status::napi_ok
            && pending
            && sys::napi_get_and_clear_last_exception(env, &mut exc) == sys::Status::napi_ok
    };
    if !taken {
        return e;
    }
    // `String(exception)`, which is user code too: if that throws, it is cleared and not quoted.
    let mut text = std::ptr::null_mut();
    // SAFETY: env is napi's, `exc` the value napi just handed over.
    #[allow(unsafe_code)]
    let quoted = unsafe {
        if sys::napi_coerce_to_string(env, exc, &mut text) == sys::Status::napi_ok {
            Unknown::from_napi_value(env, text)
                .and_then(|t| utf8(&t))
                .ok()
        } else {
            let mut again = std::ptr::null_mut();
            sys::napi_get_and_clear_last_exception(env, &mut again);
            None
        }
    };
    let reason = match quoted {
        // At most 200 characters of it: the message is for a log line.
        Some(q) if q.chars().nth(200).is_some() => {
            format!(
                "reading it threw {}...",
                q.chars().take(200).collect::<String>()
            )
        }
        Some(q) => format!("reading it threw {q}"),
        None => "reading it threw an exception".to_owned(),
    };
    to_napi(validation(field, reason))
}

/// The text of a JS string (`utf8`), refused when it holds a lone surrogate: V8 would write
/// U+FFFD for it, so the gateway would get (and a key would sign) other text than the caller
/// gave. Python refuses such text the same way. Only a string whose UTF-8 shows U+FFFD is read
/// again, as UTF-16, to tell a lone surrogate from a U+FFFD the caller wrote.
fn text(v: &Unknown<'_>, field: &str) -> napi::Result<String> {
    let s = utf8(v)?;
    // A body is bytes as Node sends them (`Buffer.from(s)`: a lone surrogate is U+FFFD there
    // too), so a body's text is signed as it would go out.
    if !s.contains('\u{FFFD}') || field == "body" {
        return Ok(s);
    }
    let units: Vec<u16> = cast::<Utf16String>(v)?.to_vec();
    if char::decode_utf16(units).any(|c| c.is_err()) {
        return Err(to_napi(validation(
            field,
            "is not valid text: it holds a lone surrogate",
        )));
    }
    Ok(s)
}

// One reader per kind of value; `field` names it in errors.

fn string(v: &Unknown<'_>, field: &str) -> napi::Result<String> {
    if is(v, ValueType::String)? {
        text(v, field)
    } else {
        Err(bad(field, "a string", v))
    }
}
pub(crate) fn number(v: &Unknown<'_>, field: &str) -> napi::Result<f64> {
    if is(v, ValueType::Number)? {
        cast(v)
    } else {
        Err(bad(field, "a number", v))
    }
}
fn boolean(v: &Unknown<'_>, field: &str) -> napi::Result<bool> {
    if is(v, ValueType::Boolean)? {
        cast(v)
    } else {
        Err(bad(field, "true or false", v))
    }
}
fn function<T: FromNapiValue>(v: &Unknown<'_>, field: &str) -> napi::Result<T> {
    if is(v, ValueType::Function)? {
        cast(v)
    } else {
        Err(bad(field, "a function", v))
    }
}
/// Yuan as text; a number is passed on, to be refused with advice (`convert::amount`).
fn yuan(v: &Unknown<'_>, field: &str) -> napi::Result<YuanInput> {
    text_or_number(v, field, "yuan as a string (\"12.50\")")
}
fn fen(v: &Unknown<'_>, field: &str) -> napi::Result<FenInput> {
    match v.get_type()? {
        ValueType::Number => cast(v).map(Either::A),
        ValueType::BigInt => cast::<BigInt>(v).map(Either::B),
        _ => Err(bad(field, "integer fen (a number or a bigint)", v)),
    }
}
fn bytes(v: &Unknown<'_>, field: &str) -> napi::Result<Bytes> {
    if is(v, ValueType::String)? {
        // Bytes, as Node's own `Buffer.from(s)` makes them (a lone surrogate: U+FFFD).
        utf8(v).map(Either::A)
    } else if v.is_buffer()? {
        cast::<Buffer>(v).map(Either::B)
    } else {
        Err(bad(field, "a string or a Buffer", v))
    }
}
fn text_or_number(
    v: &Unknown<'_>,
    field: &str,
    expected: &str,
) -> napi::Result<Either<String, f64>> {
    match v.get_type()? {
        ValueType::String => text(v, field).map(Either::A),
        ValueType::Number => cast(v).map(Either::B),
        _ => Err(bad(field, expected, v)),
    }
}

/// A struct read from a JS object through [`Props`].
pub trait FromProps: Sized {
    /// What is expected, for messages: `a MicropayRequest object`.
    const EXPECTED: &'static str;
    /// The argument's name when it is one (`request`, `order`), for messages.
    const WHAT: &'static str;
    /// The fields as JS spells them; any other property is refused ([`Props::only`]).
    const FIELDS: &'static [&'static str];
    /// Reads the fields.
    fn from_props(p: &Props<'_>) -> napi::Result<Self>;
}

/// The properties of one JS object; field names are prefixed with where it sits
/// (`goods[0].`, `retry.`).
pub struct Props<'a> {
    obj: Object<'a>,
    /// The object's own name (`request`, `goods[0]`), for an error about the whole object.
    what: String,
    prefix: String,
}

impl<'a> Props<'a> {
    /// The object `v`, given as `what` (`request`, `goods[0]`); anything but a plain object is
    /// refused naming `what`.
    pub fn of(v: Unknown<'a>, what: &str, expected: &str, prefix: String) -> napi::Result<Self> {
        if !is(&v, ValueType::Object)? || v.is_array()? {
            return Err(bad(what, expected, &v));
        }
        Ok(Props {
            obj: cast(&v)?,
            what: what.to_owned(),
            prefix,
        })
    }

    /// A top-level argument (`FromNapiValue`).
    ///
    /// # Safety
    /// `env` and `v` are the ones napi handed to `from_napi_value`.
    #[allow(unsafe_code)]
    pub unsafe fn top(
        env: sys::napi_env,
        v: sys::napi_value,
        what: &str,
        expected: &str,
    ) -> napi::Result<Props<'a>> {
        // SAFETY: the caller's.
        Props::of(
            unsafe { Unknown::from_napi_value(env, v) }?,
            what,
            expected,
            String::new(),
        )
    }

    fn name(&self, js: &str) -> String {
        format!("{}{js}", self.prefix)
    }

    /// Refuses an own enumerable property that is not one of `known` (one whose value is
    /// `undefined` is taken as absent): a misspelt option would otherwise be ignored silently.
    pub fn only(&self, known: &[&str], what: &str) -> napi::Result<()> {
        use napi::bindgen_prelude::{JsObjectValue, JsValue as _};
        let (env, raw) = (self.obj.value().env, self.obj.raw());
        let mut names = std::ptr::null_mut();
        // SAFETY: env and object are napi's; `names` receives a new array.
        #[allow(unsafe_code)]
        napi::check_status!(unsafe {
            sys::napi_get_all_property_names(
                env,
                raw,
                sys::KeyCollectionMode::own_only,
                sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
                sys::KeyConversion::numbers_to_strings,
                &mut names,
            )
        })
        .map_err(|e| threw(env, &self.what, e))?;
        // SAFETY: napi just made it: an array of strings.
        #[allow(unsafe_code)]
        let names: Array<'a> = unsafe { Array::from_napi_value(env, names) }?;
        for i in 0..names.len() {
            let Some(name) = names.get::<String>(i)? else {
                continue;
            };
            if known.contains(&name.as_str()) {
                continue;
            }
            let v: Unknown<'a> = self
                .obj
                .get_named_property_unchecked(&name)
                .map_err(|e| threw(env, &self.name(&name), e))?;
            if v.get_type()? != ValueType::Undefined {
                return Err(to_napi_verbatim(sosopay::Error::unknown_field(
                    &self.name(&name),
                    &name,
                    what,
                    known,
                )));
            }
        }
        Ok(())
    }

    /// Reads the property with `read`; `None` when it is absent, `undefined` or `null`.
    fn opt<T>(
        &self,
        js: &str,
        read: impl FnOnce(&Unknown<'a>, &str) -> napi::Result<T>,
    ) -> napi::Result<Option<T>> {
        use napi::bindgen_prelude::JsObjectValue;
        let v: Unknown<'a> = self
            .obj
            .get_named_property_unchecked(js)
            .map_err(|e| threw(self.obj.value().env, &self.name(js), e))?;
        match v.get_type()? {
            ValueType::Undefined | ValueType::Null => Ok(None),
            _ => read(&v, &self.name(js)).map(Some),
        }
    }

    fn required<T>(
        &self,
        js: &str,
        read: impl FnOnce(&Unknown<'a>, &str) -> napi::Result<T>,
    ) -> napi::Result<T> {
        self.opt(js, read)?
            .ok_or_else(|| to_napi(validation(&self.name(js), "is required")))
    }

    /// A required string.
    pub fn text(&self, js: &str) -> napi::Result<String> {
        self.required(js, string)
    }
    /// An optional string.
    pub fn opt_text(&self, js: &str) -> napi::Result<Option<String>> {
        self.opt(js, string)
    }
    /// A required number.
    pub fn number(&self, js: &str) -> napi::Result<f64> {
        self.required(js, number)
    }
    /// An optional number.
    pub fn opt_number(&self, js: &str) -> napi::Result<Option<f64>> {
        self.opt(js, number)
    }
    /// An optional boolean.
    pub fn opt_bool(&self, js: &str) -> napi::Result<Option<bool>> {
        self.opt(js, boolean)
    }
    /// An optional whole number from 0 to 65535 (a port).
    pub fn opt_u16(&self, js: &str) -> napi::Result<Option<u16>> {
        self.opt(js, |v, field| {
            sosopay::units::whole(field, number(v, field)?, u16::MAX).napi()
        })
    }
    /// An optional callback (napi makes its thread-safe handle).
    pub fn opt_function<T: FromNapiValue>(&self, js: &str) -> napi::Result<Option<T>> {
        self.opt(js, function)
    }
    /// Yuan as text (or a number, refused later with advice).
    pub fn yuan(&self, js: &str) -> napi::Result<Option<YuanInput>> {
        self.opt(js, yuan)
    }
    /// Integer fen: a number or a bigint.
    pub fn fen(&self, js: &str) -> napi::Result<Option<FenInput>> {
        self.opt(js, fen)
    }
    /// Text or bytes (`string | Buffer`), required.
    pub fn bytes(&self, js: &str) -> napi::Result<Bytes> {
        self.required(js, bytes)
    }
    /// An optional array, each item read with `item` (named `name[i]`).
    fn list<T>(
        &self,
        js: &str,
        item: impl Fn(Unknown<'a>, &str) -> napi::Result<T>,
    ) -> napi::Result<Option<Vec<T>>> {
        self.opt(js, |v, field| {
            if !v.is_array()? {
                return Err(bad(field, "an array", v));
            }
            let a: Array<'a> = cast(v)?;
            (0..a.len())
                .map(|i| {
                    let at = format!("{field}[{i}]");
                    let u: Option<Unknown<'a>> =
                        a.get(i).map_err(|e| threw(v.value().env, &at, e))?;
                    item(
                        u.ok_or_else(|| to_napi(validation(&at, "is missing")))?,
                        &at,
                    )
                })
                .collect()
        })
    }
    /// An optional array of strings.
    pub fn opt_texts(&self, js: &str) -> napi::Result<Option<Vec<String>>> {
        self.list(js, |v, at| string(&v, at))
    }
    /// An optional array of objects read as `T` (fields named `goods[0].price`).
    pub fn opt_list<T: FromProps>(&self, js: &str) -> napi::Result<Option<Vec<T>>> {
        self.list(js, |v, at| nested(v, at))
    }
    /// An optional nested object read as `T` (fields named `retry.maxAttempts`).
    pub fn opt_object<T: FromProps>(&self, js: &str) -> napi::Result<Option<T>> {
        self.opt(js, |v, field| nested(*v, field))
    }
}

/// The object `v` at `at` read as `T`, its fields named `{at}.field`.
fn nested<T: FromProps>(v: Unknown<'_>, at: &str) -> napi::Result<T> {
    T::from_props(&Props::of(v, at, T::EXPECTED, format!("{at}."))?)
}

/// Implements `FromNapiValue` (and `ValidateNapiValue`) for a `#[napi(object, object_from_js =
/// false)]` struct through [`Props`]: `from_js!(Goods, "goods", "a Goods object", { id:
/// text("id"), price: yuan("price") })`.
#[macro_export]
macro_rules! from_js {
    ($ty:ident, $what:literal, $expected:literal, { $($field:ident: $kind:ident $(::<$t:ty>)? ($js:literal)),* $(,)? }) => {
        impl $crate::input::FromProps for $ty {
            const EXPECTED: &'static str = $expected;
            const WHAT: &'static str = $what;
            const FIELDS: &'static [&'static str] = &[$($js),*];
            fn from_props(p: &$crate::input::Props<'_>) -> napi::Result<Self> {
                p.only(Self::FIELDS, Self::EXPECTED)?;
                Ok($ty { $($field: p.$kind $(::<$t>)? ($js)?,)* })
            }
        }
        #[allow(unsafe_code)]
        impl napi::bindgen_prelude::FromNapiValue for $ty {
            unsafe fn from_napi_value(env: napi::sys::napi_env, v: napi::sys::napi_value) -> napi::Result<Self> {
                let (what, expected) = (<Self as $crate::input::FromProps>::WHAT, $expected);
                // SAFETY: the env and value napi handed us.
                let p = unsafe { $crate::input::Props::top(env, v, what, expected) }?;
                <Self as $crate::input::FromProps>::from_props(&p)
            }
        }
        impl napi::bindgen_prelude::ValidateNapiValue for $ty {}
    };
}

/// A query's, a cancel's or `waitForPayment`'s argument: a charge code, or the object.
pub enum CodeOr<T> {
    /// A charge code.
    Code(String),
    /// The request object.
    Request(T),
}

#[allow(unsafe_code)]
impl<T: FromProps> FromNapiValue for CodeOr<T> {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        // SAFETY: the env and value napi handed us.
        let u = unsafe { Unknown::from_napi_value(env, v) }?;
        if is(&u, ValueType::String)? {
            return cast(&u).map(CodeOr::Code);
        }
        let expected = format!("a charge code (a string) or {}", T::EXPECTED);
        T::from_props(&Props::of(u, T::WHAT, &expected, String::new())?).map(CodeOr::Request)
    }
}

// ---------------------------------------------------------------------------------------------
// Positional arguments: napi's message for a wrong type names no argument, so each argument's
// type carries its JS name.

/// The JS name of a positional argument.
pub trait ArgName {
    /// As JS spells it.
    const NAME: &'static str;
}

macro_rules! arg_names {
    ($($t:ident = $n:literal),* $(,)?) => {
        $(
            #[doc = concat!("The argument `", $n, "`.")]
            pub struct $t;
            impl ArgName for $t {
                const NAME: &'static str = $n;
            }
        )*
    };
}

arg_names!(
    Key = "key",
    Sign = "sign",
    ChargeCode = "chargeCode",
    BusiCode = "busiCode",
    Ciphertext = "ciphertext",
    Body = "body",
    Plaintext = "plaintext",
    Id = "id",
    Query = "query",
    Timestamp = "timestamp",
    Behaviour = "behaviour",
    Seconds = "seconds",
    Channel = "channel",
    Code = "code",
    Seed = "seed",
    Count = "count",
    Accepted = "accepted",
    TimeoutMs = "timeoutMs",
    YuanArg = "yuan",
    FenArg = "fen",
);

/// A positional argument named `N`, read as `T` (`Arg<Key, String>`, `Arg<Body, Bytes>`).
pub struct Arg<N, T>(pub T, PhantomData<N>);

impl<N, T> std::ops::Deref for Arg<N, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// How an argument's value is read (one of the readers above).
pub trait Read: Sized {
    /// Reads `v`, naming `field` in errors.
    fn read(v: &Unknown<'_>, field: &str) -> napi::Result<Self>;
}
impl Read for String {
    fn read(v: &Unknown<'_>, field: &str) -> napi::Result<Self> {
        string(v, field)
    }
}
impl Read for f64 {
    fn read(v: &Unknown<'_>, field: &str) -> napi::Result<Self> {
        number(v, field)
    }
}
impl Read for Bytes {
    fn read(v: &Unknown<'_>, field: &str) -> napi::Result<Self> {
        bytes(v, field)
    }
}
impl Read for Either<String, f64> {
    fn read(v: &Unknown<'_>, field: &str) -> napi::Result<Self> {
        text_or_number(v, field, "a string or a number")
    }
}
impl Read for bool {
    fn read(v: &Unknown<'_>, field: &str) -> napi::Result<Self> {
        boolean(v, field)
    }
}
/// Yuan: text (a number reaches the money check, which gives advice).
pub struct Yuan(pub YuanInput);
impl Read for Yuan {
    fn read(v: &Unknown<'_>, field: &str) -> napi::Result<Self> {
        yuan(v, field).map(Yuan)
    }
}
impl Read for FenInput {
    fn read(v: &Unknown<'_>, field: &str) -> napi::Result<Self> {
        fen(v, field)
    }
}

/// A string argument named `N`.
pub type Text<N> = Arg<N, String>;
/// A `string | Buffer` argument named `N`.
pub type Data<N> = Arg<N, Bytes>;
/// A `string | number` argument named `N` (a timestamp).
pub type TextOrNumber<N> = Arg<N, Either<String, f64>>;

#[allow(unsafe_code)]
impl<N: ArgName, T: Read> FromNapiValue for Arg<N, T> {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        // SAFETY: the env and value napi handed us.
        let u = unsafe { Unknown::from_napi_value(env, v) }?;
        let value = T::read(&u, N::NAME)?;
        Ok(Arg(value, PhantomData))
    }
}

// `Option<Arg<..>>` arguments need napi's validation hook (`undefined`/`null` never reach it).
impl<N, T> napi::bindgen_prelude::TypeName for Arg<N, T> {
    fn type_name() -> &'static str {
        "unknown"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}
impl<N, T> napi::bindgen_prelude::ValidateNapiValue for Arg<N, T> {}
