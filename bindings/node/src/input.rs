//! Reading the objects JS passes in (requests, options, goods) into their Rust structs. Every
//! mistake is a `ValidationError` naming the property as JS spells it (`chargeCode`,
//! `goods[0].price`, `retry.maxAttempts`) and saying what was given, never napi's own
//! conversion message (`Failed to convert JavaScript value ...`). A struct opts in with
//! `#[napi(object, object_from_js = false)]` and [`from_js!`](crate::from_js), which lists each
//! field's JS name and kind (generated for the request and wait-option objects).

use napi::bindgen_prelude::{Array, FromNapiValue, Object, Unknown, ValueType};
use napi::{sys, JsValue};

use crate::convert::{FenInput, YuanInput};
use crate::error::{to_napi, validation};

/// A struct read from a JS object through [`Props`].
pub trait FromProps: Sized {
    /// What is expected, for messages: `a MicropayRequest object`.
    const EXPECTED: &'static str;
    /// Reads the fields.
    fn from_props(p: &Props<'_>) -> napi::Result<Self>;
}

/// What a JS value is, for messages: `the number 5`, `a string`, `null`, `an array`.
pub fn given(v: &Unknown<'_>) -> String {
    match v.get_type() {
        // SAFETY (both casts): the type was just checked.
        #[allow(unsafe_code)]
        Ok(ValueType::Number) => unsafe { v.cast::<f64>() }
            .map_or_else(|_| "a number".into(), |n| format!("the number {n}")),
        #[allow(unsafe_code)]
        Ok(ValueType::Boolean) => unsafe { v.cast::<bool>() }
            .map_or_else(|_| "a boolean".into(), |b| format!("the boolean {b}")),
        Ok(ValueType::String) => "a string".into(),
        Ok(ValueType::Null) => "null".into(),
        Ok(ValueType::Undefined) => "undefined".into(),
        Ok(ValueType::Object) if v.is_array().unwrap_or(false) => "an array".into(),
        Ok(ValueType::Object) => "an object".into(),
        Ok(ValueType::BigInt) => "a bigint".into(),
        Ok(ValueType::Function) => "a function".into(),
        Ok(ValueType::Symbol) => "a symbol".into(),
        _ => "a value of another kind".into(),
    }
}

fn bad(field: &str, reason: impl Into<String>) -> napi::Error {
    to_napi(validation(field, reason))
}

fn kind(v: &Unknown<'_>) -> napi::Result<ValueType> {
    v.get_type()
}

/// The properties of one JS object; field names are prefixed with where it sits
/// (`goods[0].`, `retry.`).
pub struct Props<'a> {
    obj: Object<'a>,
    prefix: String,
}

impl<'a> Props<'a> {
    /// The object `v`, given as `what` (`request`, `options`, `goods[0]`); anything but a
    /// plain object is refused naming `what`.
    pub fn of(v: Unknown<'a>, what: &str, expected: &str, prefix: String) -> napi::Result<Self> {
        if kind(&v)? != ValueType::Object || v.is_array()? {
            return Err(bad(what, format!("expected {expected}, got {}", given(&v))));
        }
        // SAFETY: `v` is an object (checked above), from napi.
        #[allow(unsafe_code)]
        let obj = unsafe { v.cast::<Object<'a>>() }?;
        Ok(Props { obj, prefix })
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
        let u = unsafe { Unknown::from_napi_value(env, v) }?;
        Props::of(u, what, expected, String::new())
    }

    fn name(&self, js: &str) -> String {
        format!("{}{js}", self.prefix)
    }

    /// The property, or `None` when it is absent, `undefined` or `null`.
    fn get(&self, js: &str) -> napi::Result<Option<Unknown<'a>>> {
        use napi::bindgen_prelude::JsObjectValue;
        let v: Unknown<'a> = self.obj.get_named_property_unchecked(js)?;
        Ok(match kind(&v)? {
            ValueType::Undefined | ValueType::Null => None,
            _ => Some(v),
        })
    }

    fn typed<T: FromNapiValue>(
        &self,
        js: &str,
        want: ValueType,
        expected: &str,
    ) -> napi::Result<Option<T>> {
        match self.get(js)? {
            None => Ok(None),
            Some(v) if kind(&v)? == want => {
                // SAFETY: the type was just checked.
                #[allow(unsafe_code)]
                let t = unsafe { v.cast::<T>() }?;
                Ok(Some(t))
            }
            Some(v) => Err(bad(
                &self.name(js),
                format!("expected {expected}, got {}", given(&v)),
            )),
        }
    }

    /// A required string.
    pub fn text(&self, js: &str) -> napi::Result<String> {
        self.opt_text(js)?
            .ok_or_else(|| bad(&self.name(js), "is required"))
    }

    /// An optional string.
    pub fn opt_text(&self, js: &str) -> napi::Result<Option<String>> {
        self.typed(js, ValueType::String, "a string")
    }

    /// An optional number.
    pub fn opt_number(&self, js: &str) -> napi::Result<Option<f64>> {
        self.typed(js, ValueType::Number, "a number")
    }

    /// A required number.
    pub fn number(&self, js: &str) -> napi::Result<f64> {
        self.opt_number(js)?
            .ok_or_else(|| bad(&self.name(js), "is required"))
    }

    /// An optional boolean.
    pub fn opt_bool(&self, js: &str) -> napi::Result<Option<bool>> {
        self.typed(js, ValueType::Boolean, "true or false")
    }

    /// An optional port-sized whole number (0 to 65535).
    pub fn opt_u16(&self, js: &str) -> napi::Result<Option<u16>> {
        match self.opt_number(js)? {
            None => Ok(None),
            Some(n) if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) =>
            {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Ok(Some(n as u16))
            }
            Some(n) => Err(bad(
                &self.name(js),
                format!("{n} is not a whole number from 0 to 65535"),
            )),
        }
    }

    /// An optional function (a callback; napi makes its thread-safe handle).
    pub fn opt_function<T: FromNapiValue>(&self, js: &str) -> napi::Result<Option<T>> {
        self.typed(js, ValueType::Function, "a function")
    }

    /// Yuan: a decimal string (a number is passed on, to be refused with advice).
    pub fn yuan(&self, js: &str) -> napi::Result<Option<YuanInput>> {
        use napi::bindgen_prelude::Either;
        match self.get(js)? {
            None => Ok(None),
            Some(v) => match kind(&v)? {
                #[allow(unsafe_code)]
                ValueType::String => Ok(Some(Either::A(unsafe { v.cast::<String>() }?))),
                #[allow(unsafe_code)]
                ValueType::Number => Ok(Some(Either::B(unsafe { v.cast::<f64>() }?))),
                _ => Err(bad(
                    &self.name(js),
                    format!("expected yuan as a string (\"12.50\"), got {}", given(&v)),
                )),
            },
        }
    }

    /// Integer fen: a number or a bigint.
    pub fn fen(&self, js: &str) -> napi::Result<Option<FenInput>> {
        use napi::bindgen_prelude::{BigInt, Either};
        match self.get(js)? {
            None => Ok(None),
            Some(v) => match kind(&v)? {
                #[allow(unsafe_code)]
                ValueType::Number => Ok(Some(Either::A(unsafe { v.cast::<f64>() }?))),
                #[allow(unsafe_code)]
                ValueType::BigInt => Ok(Some(Either::B(unsafe { v.cast::<BigInt>() }?))),
                _ => Err(bad(
                    &self.name(js),
                    format!(
                        "expected integer fen (a number or a bigint), got {}",
                        given(&v)
                    ),
                )),
            },
        }
    }

    /// Text or bytes (`string | Buffer`).
    pub fn bytes(&self, js: &str) -> napi::Result<crate::envelope::Bytes> {
        use napi::bindgen_prelude::{Buffer, Either};
        let Some(v) = self.get(js)? else {
            return Err(bad(&self.name(js), "is required"));
        };
        if kind(&v)? == ValueType::String {
            #[allow(unsafe_code)]
            return Ok(Either::A(unsafe { v.cast::<String>() }?));
        }
        if v.is_buffer()? {
            #[allow(unsafe_code)]
            return Ok(Either::B(unsafe { v.cast::<Buffer>() }?));
        }
        Err(bad(
            &self.name(js),
            format!("expected a string or a Buffer, got {}", given(&v)),
        ))
    }

    fn array(&self, js: &str) -> napi::Result<Option<Array<'a>>> {
        match self.get(js)? {
            None => Ok(None),
            Some(v) if v.is_array()? => {
                // SAFETY: an array (checked above).
                #[allow(unsafe_code)]
                let a = unsafe { v.cast::<Array<'a>>() }?;
                Ok(Some(a))
            }
            Some(v) => Err(bad(
                &self.name(js),
                format!("expected an array, got {}", given(&v)),
            )),
        }
    }

    /// An optional array of strings.
    pub fn opt_texts(&self, js: &str) -> napi::Result<Option<Vec<String>>> {
        let Some(a) = self.array(js)? else {
            return Ok(None);
        };
        (0..a.len())
            .map(|i| {
                let v: Unknown<'_> = a.get(i)?.ok_or_else(|| bad(&self.name(js), "is sparse"))?;
                if kind(&v)? == ValueType::String {
                    // SAFETY: a string (checked).
                    #[allow(unsafe_code)]
                    let s = unsafe { v.cast::<String>() };
                    s
                } else {
                    Err(bad(
                        &format!("{}[{i}]", self.name(js)),
                        format!("expected a string, got {}", given(&v)),
                    ))
                }
            })
            .collect::<napi::Result<Vec<_>>>()
            .map(Some)
    }

    /// An optional array of objects, each read as `T` (fields named `goods[0].price`).
    pub fn opt_list<T: FromProps>(&self, js: &str) -> napi::Result<Option<Vec<T>>> {
        let Some(a) = self.array(js)? else {
            return Ok(None);
        };
        (0..a.len())
            .map(|i| {
                let at = format!("{}[{i}]", self.name(js));
                let v: Unknown<'_> = a.get(i)?.ok_or_else(|| bad(&at, "is missing"))?;
                let p = Props::of(v, &at, T::EXPECTED, format!("{at}."))?;
                T::from_props(&p)
            })
            .collect::<napi::Result<Vec<_>>>()
            .map(Some)
    }

    /// An optional nested object read as `T` (fields named `retry.maxAttempts`).
    pub fn opt_object<T: FromProps>(&self, js: &str) -> napi::Result<Option<T>> {
        match self.get(js)? {
            None => Ok(None),
            Some(v) => {
                let at = self.name(js);
                let p = Props::of(v, &at, T::EXPECTED, format!("{at}."))?;
                T::from_props(&p).map(Some)
            }
        }
    }
}

/// A query's or a cancel's argument: a charge code, or the request object.
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
        if kind(&u)? == ValueType::String {
            // SAFETY: a string (checked).
            return Ok(CodeOr::Code(unsafe { u.cast::<String>() }?));
        }
        let expected = format!("a charge code (a string) or {}", T::EXPECTED);
        let p = Props::of(u, "request", &expected, String::new())?;
        T::from_props(&p).map(CodeOr::Request)
    }
}

/// Implements `FromNapiValue` (and `ValidateNapiValue`) for a `#[napi(object, object_from_js =
/// false)]` struct through [`Props`]: `from_js!(Goods, "goods", "a Goods object", { id:
/// text("id"), price: yuan("price") })`.
#[macro_export]
macro_rules! from_js {
    ($ty:ident, $what:literal, $expected:literal, { $($field:ident: $kind:ident $(::<$t:ty>)? ($js:literal)),* $(,)? }) => {
        impl $crate::input::FromProps for $ty {
            const EXPECTED: &'static str = $expected;
            fn from_props(p: &$crate::input::Props<'_>) -> napi::Result<Self> {
                Ok($ty { $($field: p.$kind $(::<$t>)? ($js)?,)* })
            }
        }
        #[allow(unsafe_code)]
        impl napi::bindgen_prelude::FromNapiValue for $ty {
            unsafe fn from_napi_value(
                env: napi::sys::napi_env,
                v: napi::sys::napi_value,
            ) -> napi::Result<Self> {
                let (what, expected): (&str, &str) = ($what, $expected);
                // SAFETY: the env and value napi handed us.
                let p = unsafe { $crate::input::Props::top(env, v, what, expected) }?;
                <Self as $crate::input::FromProps>::from_props(&p)
            }
        }
        impl napi::bindgen_prelude::ValidateNapiValue for $ty {}
    };
}

// ---------------------------------------------------------------------------------------------
// Positional arguments (`signBody(key, body, timestamp)`): napi's own message for a wrong type
// names no argument, so each argument type carries its JS name.

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
);

#[allow(unsafe_code)]
fn arg<'a>(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Unknown<'a>> {
    // SAFETY: the env and value napi handed to `from_napi_value`.
    unsafe { Unknown::from_napi_value(env, v) }
}

/// A string argument named `N`.
pub struct Text<N>(pub String, std::marker::PhantomData<N>);

impl<N> std::ops::Deref for Text<N> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

#[allow(unsafe_code)]
impl<N: ArgName> FromNapiValue for Text<N> {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        let u = arg(env, v)?;
        if kind(&u)? == ValueType::String {
            // SAFETY: a string (checked).
            return Ok(Text(
                unsafe { u.cast::<String>() }?,
                std::marker::PhantomData,
            ));
        }
        Err(bad(
            N::NAME,
            format!("expected a string, got {}", given(&u)),
        ))
    }
}

/// A text-or-bytes argument (`string | Buffer`) named `N`.
pub struct Data<N>(pub crate::envelope::Bytes, std::marker::PhantomData<N>);

#[allow(unsafe_code)]
impl<N: ArgName> FromNapiValue for Data<N> {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        use napi::bindgen_prelude::{Buffer, Either};
        let u = arg(env, v)?;
        if kind(&u)? == ValueType::String {
            // SAFETY: a string (checked).
            return Ok(Data(
                Either::A(unsafe { u.cast::<String>() }?),
                std::marker::PhantomData,
            ));
        }
        if u.is_buffer()? {
            // SAFETY: a Buffer (checked).
            return Ok(Data(
                Either::B(unsafe { u.cast::<Buffer>() }?),
                std::marker::PhantomData,
            ));
        }
        Err(bad(
            N::NAME,
            format!("expected a string or a Buffer, got {}", given(&u)),
        ))
    }
}

/// The optional `timestamp` argument: text, or a number of Unix ms or s.
pub struct Timestamp(pub napi::bindgen_prelude::Either<String, f64>);

#[allow(unsafe_code)]
impl FromNapiValue for Timestamp {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        use napi::bindgen_prelude::Either;
        let u = arg(env, v)?;
        match kind(&u)? {
            // SAFETY (both): the type was just checked.
            ValueType::String => Ok(Timestamp(Either::A(unsafe { u.cast::<String>() }?))),
            ValueType::Number => Ok(Timestamp(Either::B(unsafe { u.cast::<f64>() }?))),
            _ => Err(bad(
                "timestamp",
                format!("expected a string or a number, got {}", given(&u)),
            )),
        }
    }
}

// `Option<T>` arguments need napi's validation hook; `undefined` and `null` never reach it.
impl napi::bindgen_prelude::TypeName for Timestamp {
    fn type_name() -> &'static str {
        "string | number"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}
impl napi::bindgen_prelude::ValidateNapiValue for Timestamp {}

/// The `yuan` argument of `yuanToFen`: a decimal string (a number is refused with advice).
pub struct YuanArg(pub YuanInput);

#[allow(unsafe_code)]
impl FromNapiValue for YuanArg {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        use napi::bindgen_prelude::Either;
        let u = arg(env, v)?;
        match kind(&u)? {
            // SAFETY (both): the type was just checked.
            ValueType::String => Ok(YuanArg(Either::A(unsafe { u.cast::<String>() }?))),
            ValueType::Number => Ok(YuanArg(Either::B(unsafe { u.cast::<f64>() }?))),
            _ => Err(bad(
                "yuan",
                format!("expected yuan as a string (\"12.50\"), got {}", given(&u)),
            )),
        }
    }
}

/// The `fen` argument of `fenToYuan`: a number or a bigint.
pub struct FenArg(pub FenInput);

#[allow(unsafe_code)]
impl FromNapiValue for FenArg {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        use napi::bindgen_prelude::{BigInt, Either};
        let u = arg(env, v)?;
        match kind(&u)? {
            // SAFETY (both): the type was just checked.
            ValueType::Number => Ok(FenArg(Either::A(unsafe { u.cast::<f64>() }?))),
            ValueType::BigInt => Ok(FenArg(Either::B(unsafe { u.cast::<BigInt>() }?))),
            _ => Err(bad(
                "fen",
                format!(
                    "expected integer fen (a number or a bigint), got {}",
                    given(&u)
                ),
            )),
        }
    }
}
