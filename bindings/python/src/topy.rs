//! Any serializable core value (a reply, a notification, a JSON document) straight into Python
//! objects: structs and maps → `dict` (order kept), sequences → `list`, integers → `int`, other
//! numbers → `decimal.Decimal` (never `float`), strings, booleans, `None`. One pass, with no
//! intermediate `serde_json::Value` (that copy was a tenth of a query's CPU in Python).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};
use pyo3::IntoPyObjectExt;
use serde::ser::{self, Impossible, Serialize};

/// `value` as Python objects.
pub fn to_py<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    value.serialize(ToPy(py)).map_err(|e| e.0)
}

/// How `serde_json` (with `arbitrary_precision`) serializes a `Number`: a struct of this name
/// with one field of this name, the number's text.
const NUMBER: &str = "$serde_json::private::Number";

/// A number's text as Python: an `int` when it is a whole number, else a `Decimal`.
fn number<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(i.into_pyobject(py)?.into_any());
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return py.import("builtins")?.getattr("int")?.call1((text,));
    }
    crate::convert::decimal_type(py)?.call1((text,))
}

/// A `PyErr` carried through serde.
#[derive(Debug)]
pub struct Error(PyErr);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        Error(PyValueError::new_err(format!(
            "sosopay: could not convert a value: {msg}"
        )))
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Error(e)
    }
}

type Result<T> = std::result::Result<T, Error>;

#[derive(Clone, Copy)]
struct ToPy<'py>(Python<'py>);

/// Integers of every width → `int`.
macro_rules! ints {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method(self, v: $ty) -> Result<Self::Ok> {
            Ok(v.into_bound_py_any(self.0)?)
        })*
    };
}

impl<'py> ser::Serializer for ToPy<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    type SerializeSeq = Seq<'py>;
    type SerializeTuple = Seq<'py>;
    type SerializeTupleStruct = Seq<'py>;
    type SerializeTupleVariant = Impossible<Self::Ok, Error>;
    type SerializeMap = Map<'py>;
    type SerializeStruct = Struct<'py>;
    type SerializeStructVariant = Impossible<Self::Ok, Error>;

    fn serialize_bool(self, v: bool) -> Result<Self::Ok> {
        Ok(PyBool::new(self.0, v).to_owned().into_any())
    }
    ints! {
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128
    }
    /// Never a `float`: the shortest text that reads back as `v`, as a `Decimal`.
    fn serialize_f32(self, v: f32) -> Result<Self::Ok> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Self::Ok> {
        if !v.is_finite() {
            return Ok(self.0.None().into_bound(self.0));
        }
        Ok(crate::convert::decimal_type(self.0)?.call1((v.to_string(),))?)
    }
    fn serialize_char(self, v: char) -> Result<Self::Ok> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<Self::Ok> {
        Ok(PyString::new(self.0, v).into_any())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Self::Ok> {
        Ok(pyo3::types::PyBytes::new(self.0, v).into_any())
    }
    fn serialize_none(self) -> Result<Self::Ok> {
        Ok(self.0.None().into_bound(self.0))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Self::Ok> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Self::Ok> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Self::Ok> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Self::Ok> {
        value.serialize(self)
    }
    /// `{variant: value}`, as serde_json writes an externally tagged variant.
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Self::Ok> {
        let d = PyDict::new(self.0);
        d.set_item(variant, value.serialize(self)?)?;
        Ok(d.into_any())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'py>> {
        Ok(Seq(self.0, PyList::empty(self.0)))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'py>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'py>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(ser::Error::custom(format!(
            "{name}::{variant}: tuple variants are not converted"
        )))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Map<'py>> {
        Ok(Map(self.0, PyDict::new(self.0), None))
    }
    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Struct<'py>> {
        Ok(if name == NUMBER {
            Struct::Number(self.0, None)
        } else {
            Struct::Dict(self.0, PyDict::new(self.0))
        })
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(ser::Error::custom(format!(
            "{name}::{variant}: struct variants are not converted"
        )))
    }
}

pub struct Seq<'py>(Python<'py>, Bound<'py, PyList>);

impl<'py> ser::SerializeSeq for Seq<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        Ok(self.1.append(value.serialize(ToPy(self.0))?)?)
    }
    fn end(self) -> Result<Self::Ok> {
        Ok(self.1.into_any())
    }
}

impl<'py> ser::SerializeTuple for Seq<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Self::Ok> {
        ser::SerializeSeq::end(self)
    }
}

impl<'py> ser::SerializeTupleStruct for Seq<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Self::Ok> {
        ser::SerializeSeq::end(self)
    }
}

pub struct Map<'py>(Python<'py>, Bound<'py, PyDict>, Option<Bound<'py, PyAny>>);

impl<'py> ser::SerializeMap for Map<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.2 = Some(key.serialize(ToPy(self.0))?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .2
            .take()
            .ok_or_else(|| <Error as ser::Error>::custom("a map value without its key"))?;
        Ok(self.1.set_item(key, value.serialize(ToPy(self.0))?)?)
    }
    fn end(self) -> Result<Self::Ok> {
        Ok(self.1.into_any())
    }
}

pub enum Struct<'py> {
    Dict(Python<'py>, Bound<'py, PyDict>),
    /// A `serde_json::Number`: its text, once given.
    Number(Python<'py>, Option<Bound<'py, PyAny>>),
}

impl<'py> ser::SerializeStruct for Struct<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        match self {
            Struct::Dict(py, d) => Ok(d.set_item(key, value.serialize(ToPy(*py))?)?),
            Struct::Number(py, text) => {
                let s = value.serialize(ToPy(*py))?;
                let s: String = s.extract()?;
                *text = Some(number(*py, &s)?);
                Ok(())
            }
        }
    }
    fn end(self) -> Result<Self::Ok> {
        match self {
            Struct::Dict(_, d) => Ok(d.into_any()),
            Struct::Number(_, Some(n)) => Ok(n),
            Struct::Number(..) => Err(ser::Error::custom("a number without its text")),
        }
    }
}
