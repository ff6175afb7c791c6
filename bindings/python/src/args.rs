//! The keyword arguments of one call, as the Python layer passes them (a `dict` built from the
//! method's signature), read by type. The generated `requests.rs` reads every request field
//! through these; each error names the Python argument.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyString};
use sosopay::enums::Dictionary;
use sosopay::models::Goods;
use sosopay::units::TimeUnit;
use sosopay::Amount;

use crate::convert::amount_arg;
use crate::errors::{type_error, validation, OrPyErr};

/// One call's arguments; a missing key and `None` are the same.
pub struct Args<'a, 'py>(pub &'a Bound<'py, PyDict>);

impl<'py> Args<'_, 'py> {
    fn py(&self) -> Python<'py> {
        self.0.py()
    }

    fn get(&self, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(self.0.get_item(name)?.filter(|v| !v.is_none()))
    }

    /// Whether `name` was given (and not `None`).
    pub fn given(&self, name: &str) -> bool {
        self.get(name).is_ok_and(|v| v.is_some())
    }

    /// A required `str`.
    pub fn text(&self, name: &str) -> PyResult<String> {
        self.opt_text(name)?
            .ok_or_else(|| validation(self.py(), name, "is required"))
    }

    /// An optional `str`.
    pub fn opt_text(&self, name: &str) -> PyResult<Option<String>> {
        self.typed_text(name, "a str")
    }

    /// An optional file path: a `str` or an `os.PathLike` (`pathlib.Path`).
    pub fn opt_path(&self, name: &str) -> PyResult<Option<String>> {
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        let v = if v.is_instance_of::<PyString>() {
            v
        } else if v.hasattr("__fspath__")? {
            v.call_method0("__fspath__")?
        } else {
            return Err(wrong_type(&v, name, "a str or os.PathLike"));
        };
        text_as(&v, name, "a str or os.PathLike").map(Some)
    }

    /// A `bool` (default false).
    pub fn flag(&self, name: &str) -> PyResult<bool> {
        Ok(self.opt_flag(name)?.unwrap_or(false))
    }

    /// An optional `bool`.
    pub fn opt_flag(&self, name: &str) -> PyResult<Option<bool>> {
        self.get(name)?.map(|v| flag(&v, name)).transpose()
    }

    /// Money: exactly one of `name` (yuan: `Decimal`, `str` or `int`) and `{name}_fen`.
    pub fn amount(&self, name: &str) -> PyResult<Amount> {
        let fen = format!("{name}_fen");
        amount_arg(
            self.py(),
            self.get(name)?.as_ref(),
            self.get(&fen)?.as_ref(),
            name,
        )
    }

    /// Optional money: at most one of `name` (yuan) and `{name}_fen`.
    pub fn opt_amount(&self, name: &str) -> PyResult<Option<Amount>> {
        let fen = format!("{name}_fen");
        let (yuan, fen_value) = (self.get(name)?, self.get(&fen)?);
        if yuan.is_none() && fen_value.is_none() {
            return Ok(None);
        }
        amount_arg(self.py(), yuan.as_ref(), fen_value.as_ref(), name).map(Some)
    }

    /// A required whole number from 0 to `u32::MAX`.
    pub fn count(&self, name: &str) -> PyResult<u32> {
        self.opt_count(name)?
            .ok_or_else(|| validation(self.py(), name, "is required"))
    }

    /// An optional whole number from 0 to `u32::MAX`.
    pub fn opt_count(&self, name: &str) -> PyResult<Option<u32>> {
        self.get(name)?
            .map(|v| crate::convert::whole_from_py(&v, name, u32::MAX))
            .transpose()
    }

    /// A dictionary value: an enum member (a `str`), its wire text, its variant name (any case,
    /// `"WECHAT"`) or its `int` code; read by the core's rule for bindings
    /// (`from_name_or_wire`), as in every runtime.
    pub fn dictionary<T: Dictionary>(&self, name: &str) -> PyResult<Option<T>> {
        let parse = T::from_name_or_wire;
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        if let Ok(s) = v.cast::<PyString>() {
            return Ok(Some(parse(&text_of(s, name)?)));
        }
        if v.is_instance_of::<PyInt>() && !v.is_instance_of::<PyBool>() {
            return match v.extract::<i64>() {
                Ok(n) => Ok(Some(parse(&n.to_string()))),
                Err(_) => Err(validation(
                    self.py(),
                    name,
                    format!("{v} is not a known code"),
                )),
            };
        }
        Err(wrong_type(
            &v,
            name,
            "a sosopay enum member or its wire text",
        ))
    }

    /// A required dictionary value.
    pub fn required_dictionary<T: Dictionary>(&self, name: &str) -> PyResult<T> {
        self.dictionary(name)?
            .ok_or_else(|| validation(self.py(), name, "is required"))
    }

    /// Seconds (`int` or `float`: a duration, not money).
    pub fn seconds(&self, name: &str) -> PyResult<Option<Duration>> {
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        // A bool is an int to Python, never a duration.
        let s: f64 = (!v.is_instance_of::<PyBool>())
            .then(|| v.extract().ok())
            .flatten()
            .ok_or_else(|| wrong_type(&v, name, "a number of seconds"))?;
        sosopay::units::duration(name, s, TimeUnit::Seconds)
            .map(Some)
            .or_py(self.py())
    }

    /// A number (`int` or `float`, not `bool`).
    pub fn number(&self, name: &str) -> PyResult<Option<f64>> {
        self.get(name)?.map(|v| number(&v, name)).transpose()
    }

    /// A whole number from 0 to `max` (a `ValidationError` naming it otherwise).
    pub fn whole<T: Copy + Into<u64> + TryFrom<u64> + std::fmt::Display>(
        &self,
        name: &str,
        max: T,
    ) -> PyResult<Option<T>> {
        self.get(name)?
            .map(|v| crate::convert::whole_from_py(&v, name, max))
            .transpose()
    }

    /// A `str`; a wrong type is a `TypeError` saying it expected `what`.
    pub fn typed_text(&self, name: &str, what: &str) -> PyResult<Option<String>> {
        self.get(name)?.map(|v| text_as(&v, name, what)).transpose()
    }

    /// A list (or tuple, or other iterable but a `str`) of `str`s.
    pub fn texts(&self, name: &str, what: &str) -> PyResult<Option<Vec<String>>> {
        self.get(name)?.map(|v| texts(&v, name, what)).transpose()
    }

    /// A mapping of `str` to `str`, as pairs in its order.
    pub fn text_pairs(&self, name: &str, what: &str) -> PyResult<Option<Vec<(String, String)>>> {
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        let map = v
            .cast::<pyo3::types::PyMapping>()
            .map_err(|_| wrong_type(&v, name, what))?;
        map.items()?
            .iter()
            .map(|kv| {
                kv.extract::<(String, String)>().map_err(|_| {
                    type_error(name, &format!("expected {what}: every key and value a str"))
                })
            })
            .collect::<PyResult<Vec<_>>>()
            .map(Some)
    }

    /// A list of `sosopay.Goods` (empty when absent).
    pub fn goods(&self, name: &str) -> PyResult<Vec<Goods>> {
        let Some(v) = self.get(name)? else {
            return Ok(Vec::new());
        };
        items(&v, name, "a list of sosopay.Goods")?
            .enumerate()
            .map(|(i, g)| goods_item(&g?, &format!("{name}[{i}]")))
            .collect()
    }
}

/// A `bool` (not an `int`), a `TypeError` naming `name` otherwise.
pub fn flag(v: &Bound<'_, PyAny>, name: &str) -> PyResult<bool> {
    v.cast::<PyBool>()
        .map(|b| b.is_true())
        .map_err(|_| wrong_type(v, name, "a bool"))
}

/// A list (or tuple, or other iterable but a `str`) of `str`s; an item is named `name[i]`.
pub fn texts(v: &Bound<'_, PyAny>, name: &str, what: &str) -> PyResult<Vec<String>> {
    items(v, name, what)?
        .enumerate()
        .map(|(i, item)| {
            let item = item?;
            item.extract::<String>()
                .map_err(|_| not_text(&item, &format!("{name}[{i}]"), "a str"))
        })
        .collect()
}

/// The items of a list argument: any iterable but a `str`, `bytes` or `dict` (whose iteration
/// gives characters, bytes or keys: a mistake), a `TypeError` saying it expected `what`
/// otherwise.
fn items<'py>(
    v: &Bound<'py, PyAny>,
    name: &str,
    what: &str,
) -> PyResult<Bound<'py, pyo3::types::PyIterator>> {
    let wrong = || wrong_type(v, name, what);
    if v.is_instance_of::<PyString>()
        || v.is_instance_of::<pyo3::types::PyBytes>()
        || v.is_instance_of::<PyDict>()
    {
        return Err(wrong());
    }
    v.try_iter().map_err(|_| wrong())
}

/// A number (`int` or `float`, not `bool`), a `TypeError` naming `name` otherwise.
pub fn number(v: &Bound<'_, PyAny>, name: &str) -> PyResult<f64> {
    if v.is_instance_of::<PyBool>() {
        return Err(type_error(name, "expected a number, got bool"));
    }
    v.extract::<f64>()
        .map_err(|_| wrong_type(v, name, "a number"))
}

/// An `int` (not `bool`), a `TypeError` naming `name` otherwise.
pub fn int(v: &Bound<'_, PyAny>, name: &str) -> PyResult<i64> {
    if v.is_instance_of::<PyBool>() || !v.is_instance_of::<PyInt>() {
        return Err(wrong_type(v, name, "an int"));
    }
    v.extract::<i64>()
        .map_err(|_| validation(v.py(), name, format!("{v} is out of range")))
}

/// A `str`, a `TypeError` naming `name` otherwise.
pub fn text(v: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    text_as(v, name, "a str")
}

/// A `str`; a wrong type is a `TypeError` naming `name` and saying it expected `what`.
fn text_as(v: &Bound<'_, PyAny>, name: &str, what: &str) -> PyResult<String> {
    v.extract::<String>().map_err(|_| not_text(v, name, what))
}

/// The text of a `str` named `name`.
pub fn text_of<'a>(s: &'a Bound<'_, PyString>, name: &str) -> PyResult<std::borrow::Cow<'a, str>> {
    s.to_cow().map_err(|_| not_text(s.as_any(), name, "a str"))
}

/// Why `v` is not text: a `str` holding a lone surrogate (no UTF-8 form) is a `ValidationError`
/// naming `name`; any other type a `TypeError` saying it expected `what`.
pub fn not_text(v: &Bound<'_, PyAny>, name: &str, what: &str) -> PyErr {
    if v.is_instance_of::<PyString>() {
        validation(
            v.py(),
            name,
            "is not valid text: it holds a lone surrogate (U+D800 to U+DFFF), which has no UTF-8 form",
        )
    } else {
        wrong_type(v, name, what)
    }
}

/// A `TypeError` naming `name`: "expected {what}, got {v's type}".
pub fn wrong_type(v: &Bound<'_, PyAny>, name: &str, what: &str) -> PyErr {
    type_error(name, &format!("expected {what}, got {}", type_name(v)))
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

/// A checked goods item: what a `sosopay.Goods` holds (its `_native`), read back as it is by
/// the requests that list it.
#[pyclass(frozen, module = "sosopay._native")]
pub struct NativeGoods(Goods);

/// Checks a `sosopay.Goods`'s arguments (a dict): the checked item, and its fields by their
/// Python names. Errors name the argument.
#[pyfunction]
pub fn goods<'py>(args: &Bound<'py, PyDict>) -> PyResult<(NativeGoods, Bound<'py, PyDict>)> {
    let g = crate::requests::goods(&Args(args))?;
    // Checked when built, as its docstring says; an item from a reply (`_checked()` marks it)
    // is checked by the request that sends it, which names it `goods[i]`.
    if args.get_item("_from_reply")?.is_none() {
        g.validate().map_err(|e| {
            crate::errors::to_py(args.py(), &e.renamed_fields(&[("class", "class_")]))
        })?;
    }
    let fields = crate::requests::goods_fields(args.py(), &g)?;
    Ok((NativeGoods(g), fields))
}

/// One `sosopay.Goods` of a list (the checked item it holds: `_checked()`).
fn goods_item(g: &Bound<'_, PyAny>, at: &str) -> PyResult<Goods> {
    let wrong = || wrong_type(g, at, "a sosopay.Goods");
    let checked = g
        .getattr(pyo3::intern!(g.py(), "_checked"))
        .map_err(|_| wrong())?
        .call0()?;
    let native = checked.cast::<NativeGoods>().map_err(|_| wrong())?;
    Ok(native.get().0.clone())
}

/// The Python name of a positional argument.
pub trait ArgName {
    /// As Python spells it.
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
    Body = "body",
    ChargeCode = "charge_code",
    BusiCode = "busi_code",
    Sign = "sign",
    Ciphertext = "ciphertext",
    Id = "id",
    PreviousKeys = "previous_keys",
    Rules = "rules",
    Value = "value",
    States = "states",
);

/// A list of `str`s named `N` (any iterable but a `str`, `bytes` or `dict`); an item's error
/// names it (`rules[1]`).
pub struct Texts<N>(Vec<String>, std::marker::PhantomData<N>);

impl<N> std::ops::Deref for Texts<N> {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.0
    }
}

impl<'a, 'py, N: ArgName> FromPyObject<'a, 'py> for Texts<N> {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        texts(&obj, N::NAME, "a list of str").map(|v| Texts(v, std::marker::PhantomData))
    }
}

/// A `str` argument named `N`: a wrong type is `TypeError("key: expected a str, got int")`
/// (pyo3's own message names no argument).
pub struct Text<N>(pyo3::pybacked::PyBackedStr, std::marker::PhantomData<N>);

impl<N> std::ops::Deref for Text<N> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'a, 'py, N: ArgName> FromPyObject<'a, 'py> for Text<N> {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let v: &Bound<'py, PyAny> = &obj;
        v.extract::<pyo3::pybacked::PyBackedStr>()
            .map(|s| Text(s, std::marker::PhantomData))
            .map_err(|_| not_text(v, N::NAME, "a str"))
    }
}
