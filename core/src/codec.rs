//! Lenient decoding of the gateway's JSON and XML documents into one tree, and encoding back.
//!
//! Both forms become a [`Node`]: JSON strings, numbers and booleans become [`Node::Text`] holding
//! their exact source text (numbers are never turned into floats), objects and XML elements with
//! children become [`Node::Map`], arrays and repeated XML elements become [`Node::List`].
//! Field look-ups are case-insensitive.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};

use crate::enums::ResultCode;
use crate::error::{Error, Result};

/// Most nesting accepted in a document (the gateway's documents nest 4 deep).
pub const MAX_DEPTH: usize = 64;
/// Largest document accepted (bytes).
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;

/// The wire format of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JSON (`_type=json`).
    Json,
    /// XML (the gateway's default when `_type` is absent).
    Xml,
}

impl Format {
    /// Every format, in the order errors list them.
    pub const ALL: [Format; 2] = [Format::Json, Format::Xml];

    /// The name a client setting gives it (`json`, `xml`), as [`crate::client::parse_format`]
    /// reads it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }

    /// Guesses from the first non-whitespace character: `<` is XML, anything else JSON.
    pub fn sniff(text: &str) -> Format {
        match text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .as_bytes()
            .first()
        {
            Some(b'<') => Format::Xml,
            _ => Format::Json,
        }
    }
}

/// Whether `text` is a plain document, JSON or XML (its first character after a byte order
/// mark and whitespace is `{` or `<`), not 3DES ciphertext (Base64).
pub(crate) fn looks_plain(text: &str) -> bool {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    t.starts_with('{') || t.starts_with('<')
}

/// A decoded document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Node {
    /// JSON `null`, or an absent value.
    #[default]
    Null,
    /// A scalar, as its exact text (JSON numbers keep their digits: `0.01`, not a float).
    Text(String),
    /// An array, or repeated XML elements.
    List(Vec<Node>),
    /// An object or an XML element with children, in document order.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The child field `name` of a map, matched case-insensitively (first match).
    pub fn get(&self, name: &str) -> Option<&Node> {
        let Node::Map(fields) = self else {
            return None;
        };
        field(fields.iter().map(|(k, v)| (k.as_str(), v)), name, is_empty)
    }

    /// The text of a scalar, `None` for null, maps and lists. An XML element that is empty
    /// reads as `Some("")`.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Node::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The text of field `name`, trimmed; `None` when absent, null or empty.
    pub fn text(&self, name: &str) -> Option<&str> {
        Tree::text(self, name)
    }

    /// The items of a list; a single non-list value counts as a one-item list; null as empty.
    pub fn items(&self) -> Vec<&Node> {
        match self {
            Node::List(items) => items.iter().collect(),
            Node::Null => Vec::new(),
            Node::Text(t) if t.trim().is_empty() => Vec::new(),
            other => vec![other],
        }
    }

    /// Is it a map?
    pub fn is_map(&self) -> bool {
        matches!(self, Node::Map(_))
    }

    /// To a JSON value: texts become strings (their exact text), except where `numbers`
    /// lists are wanted; kept simple: every scalar becomes a JSON string.
    pub fn to_json_value(&self) -> serde_json::Value {
        match self {
            Node::Null => serde_json::Value::Null,
            Node::Text(t) => serde_json::Value::String(t.clone()),
            Node::List(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json_value).collect())
            }
            Node::Map(fields) => {
                let mut m = serde_json::Map::new();
                for (k, v) in fields {
                    m.insert(k.clone(), v.to_json_value());
                }
                serde_json::Value::Object(m)
            }
        }
    }

    /// As JSON text: the same text as `self.to_json_value().to_string()`, written straight
    /// from the tree (no `serde_json::Value`: no copy of each name and text, no hashing). A map
    /// that gives a name twice keeps the value's rule (the name where it came first, with its
    /// last value), so such a tree goes the value's way.
    pub fn to_json_text(&self) -> String {
        if self.has_repeated_name() {
            return self.to_json_value().to_string();
        }
        // Writing strings to a `Vec` cannot fail; the names and texts are UTF-8.
        serde_json::to_string(&DirectJson(self))
            .unwrap_or_else(|_| self.to_json_value().to_string())
    }

    /// Does any map in the tree give a name twice (exactly: JSON names are case-sensitive)?
    fn has_repeated_name(&self) -> bool {
        match self {
            Node::Null | Node::Text(_) => false,
            Node::List(items) => items.iter().any(Node::has_repeated_name),
            Node::Map(fields) => {
                let repeated = if fields.len() <= 16 {
                    fields
                        .iter()
                        .enumerate()
                        .any(|(i, (k, _))| fields[..i].iter().any(|(j, _)| j == k))
                } else {
                    let mut names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
                    names.sort_unstable();
                    names.windows(2).any(|w| w[0] == w[1])
                };
                repeated || fields.iter().any(|(_, v)| v.has_repeated_name())
            }
        }
    }

    /// From a JSON value (numbers keep their source text).
    pub fn from_json_value(v: &serde_json::Value) -> Node {
        match v {
            serde_json::Value::Null => Node::Null,
            serde_json::Value::Bool(b) => Node::Text(b.to_string()),
            serde_json::Value::Number(n) => Node::Text(n.to_string()),
            serde_json::Value::String(s) => Node::Text(s.clone()),
            serde_json::Value::Array(a) => {
                Node::List(a.iter().map(Node::from_json_value).collect())
            }
            serde_json::Value::Object(o) => Node::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Node::from_json_value(v)))
                    .collect(),
            ),
        }
    }
}

/// A decoded document: the root element's name and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The format it came in.
    pub format: Format,
    /// The raw document as JSON: for JSON the value as parsed (numbers exact), for XML the
    /// tree converted (every scalar a string).
    pub raw: serde_json::Value,
    /// The root: for JSON, the whole object (e.g. `{"ORDER_RESP": {...}}`); for XML, a map
    /// with the root element as its one field, so both look alike.
    pub root: Node,
}

impl Document {
    /// Parses JSON or XML, chosen by sniffing.
    pub fn parse(text: &str) -> Result<Document> {
        let format = Format::sniff(text);
        Self::parse_as(text, format)
    }

    /// Parses in the given format.
    pub fn parse_as(text: &str, format: Format) -> Result<Document> {
        let (root, raw) = parse_in::<true>(text, format)?;
        Ok(Document { format, raw, root })
    }

    /// Parses like [`Document::parse`], and gives the format and the root only: the raw
    /// value is not built (for a reader that keeps only the tree, like the sandbox's request
    /// parser). The same tree, and the same errors, as `Document::parse`.
    pub fn parse_root(text: &str) -> Result<(Format, Node)> {
        let format = Format::sniff(text);
        Ok((format, parse_in::<false>(text, format)?.0))
    }

    /// Parses like [`Document::parse`], and refuses a document that gives a field twice, which
    /// a lenient parse would silently resolve one way (`serde_json::Value` keeps one of two
    /// equal keys, [`Node::get`] takes the first of two case-different ones):
    ///
    /// * two fields of one JSON object or XML element whose names are equal ignoring ASCII
    ///   case (`STATE` and `state`; in JSON also the exact same name twice), at any level;
    /// * an XML scalar element repeated in one parent (`<STATE>1</STATE><STATE>2</STATE>`),
    ///   or a repeated `FUND_BILL_LIST` or `RESULT`. Other repeated elements that have children
    ///   are list items (`TRADEFUNDBILL`, `GOODS_DETAIL`), not duplicates, and neither are JSON
    ///   arrays;
    /// * a field name containing whitespace (no gateway field has one).
    ///
    /// For payment notifications, where an ambiguous body must not be accepted.
    pub fn parse_strict(text: &str) -> Result<Document> {
        let doc = Self::parse(text)?;
        match doc.format {
            // Only after the lenient parse succeeded: its syntax errors are the better message.
            Format::Json => check_json_fields(text.trim_start_matches('\u{feff}'))?,
            Format::Xml => check_xml_fields(&doc.root)?,
        }
        Ok(doc)
    }

    /// The body under the root key `name` (case-insensitive); if the document has no such
    /// root but looks like a bare body (has `RESULT` or the given fields), the whole document.
    pub fn body(&self, name: &str) -> Result<&Node> {
        body_of(&self.root, name)
    }
}

/// [`Document::body`] of a root (a caller that has taken the document apart, e.g. to keep its
/// raw value without copying it), of either tree.
pub(crate) fn body_of<'a, T: Tree>(root: &'a T, name: &str) -> Result<&'a T> {
    if let Some(b) = root.get(name) {
        if b.is_map() {
            // Beside it, another answer (a RESULT, another operation's reply): which of the two
            // holds cannot be told.
            let other = root.fields().into_iter().find(|(k, _)| {
                !k.eq_ignore_ascii_case(name)
                    && (k.eq_ignore_ascii_case("RESULT") || is_reply_root(k))
            });
            if let Some((other, _)) = other {
                return Err(Error::decode(format!(
                    "the document gives a {other} beside its {name}: two answers, which proves neither"
                )));
            }
            return Ok(b);
        }
    }
    // A single-root document with another root name: accept it when it is a map, unless
    // the name is another operation's reply (a reply to something else, never this one).
    if root.is_map() {
        let fields = root.fields();
        if let [(other, only)] = fields.as_slice() {
            if only.is_map() && only.get("RESULT").is_some() {
                // A cancel's reply shows no order to check it by (no state, no charge code):
                // under a root that is not its own it is not taken as a confirmation.
                if is_reply_root(other) || name == "CANCELTRADE_RESP" {
                    return Err(Error::decode(format!(
                        "expected a {name} document, got a {other} document"
                    )));
                }
                return Ok(only);
            }
        }
        // A bare body: not for a cancel, whose reply shows no order to check it by (as under
        // another root), and never one beside another operation's root (which of the two
        // answers holds cannot be told).
        if root.get("RESULT").is_some() {
            if let Some((other, _)) = fields.iter().find(|(k, _)| is_reply_root(k)) {
                return Err(Error::decode(format!(
                    "expected a {name} document, got a RESULT beside a {other} document"
                )));
            }
            // A confirmation, that is: a refusal without its root is read as one.
            let code = root
                .get("RESULT")
                .and_then(|r| r.text("CODE"))
                .map(ResultCode::from_wire);
            if name == "CANCELTRADE_RESP"
                && code.is_some_and(|c| c.is_success() || c == ResultCode::AreadyRevoked)
            {
                return Err(Error::decode(
                    "expected a CANCELTRADE_RESP document, got a bare RESULT confirming it: a cancel's reply shows no order to check it by, so without its root it is not taken as a confirmation",
                ));
            }
            return Ok(root);
        }
    }
    Err(Error::decode(format!("expected a {name} document")))
}

/// What the typed readers (`models`) read a document through: the lenient [`Node`], or the
/// `Plain` tree of a JSON document in which no object gives a field twice
/// (`parse_plain_json`). For such a document the two trees are the same tree (a map's fields
/// in document order, a JSON number or boolean read as its text), so every reader sees the same
/// thing through either; the differential tests in `models` check it.
pub trait Tree: Sized {
    /// The child field `name` of a map, matched case-insensitively: of fields spelled
    /// differently, the first with a value, else the first.
    fn get(&self, name: &str) -> Option<&Self>;
    /// The text of a scalar (a JSON number's exact digits, `true`/`false`); `None` for null,
    /// maps and lists.
    fn as_text(&self) -> Option<&str>;
    /// Is it a map?
    fn is_map(&self) -> bool;
    /// Is it null (JSON `null`, or absent)?
    fn is_null(&self) -> bool;
    /// The fields of a map in document order (none for anything else).
    fn fields(&self) -> Vec<(&str, &Self)>;
    /// The items of a list; a single non-list value counts as a one-item list; null and blank
    /// text as empty.
    fn items(&self) -> Vec<&Self>;

    /// The text of field `name`, trimmed; `None` when absent, null or empty.
    fn text(&self, name: &str) -> Option<&str> {
        self.get(name)
            .and_then(Self::as_text)
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }
}

impl Tree for Node {
    fn get(&self, name: &str) -> Option<&Node> {
        Node::get(self, name)
    }
    fn as_text(&self) -> Option<&str> {
        Node::as_text(self)
    }
    fn is_map(&self) -> bool {
        Node::is_map(self)
    }
    fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }
    fn fields(&self) -> Vec<(&str, &Node)> {
        match self {
            Node::Map(f) => f.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            _ => Vec::new(),
        }
    }
    fn items(&self) -> Vec<&Node> {
        Node::items(self)
    }
}

/// The field `name` (matched ignoring ASCII case) of a map's `fields`: of fields spelled
/// differently (`STATE`, `state`), the first with a value; a blank one beside it adds nothing
/// (two different values are refused when parsing).
fn field<'a, T>(
    fields: impl Iterator<Item = (&'a str, &'a T)>,
    name: &str,
    is_empty: fn(&T) -> bool,
) -> Option<&'a T> {
    let mut blank = None;
    for (k, v) in fields {
        if k.eq_ignore_ascii_case(name) {
            if !is_empty(v) {
                return Some(v);
            }
            blank = blank.or(Some(v));
        }
    }
    blank
}

/// `text` read into a [`Plain`] tree when it is a JSON document [`Document::parse`] would
/// accept and no object in it gives a field twice (names equal ignoring ASCII case): then that
/// tree is all a typed reader needs (see [`Tree`]), and neither the lenient tree nor a
/// `serde_json::Value` is built. Also returns the text parsed (after a byte-order mark), from
/// which a reply's [`RawDocument`] is read when asked for. `None` for anything else (XML, a
/// field given twice, any error): [`Document::parse`] decides those, with its own rules and
/// messages.
pub(crate) fn parse_plain_json(text: &str) -> Option<(Plain<'_>, &str)> {
    if text.len() > MAX_DOCUMENT_BYTES || Format::sniff(text) != Format::Json {
        return None;
    }
    let text = text.trim_start_matches('\u{feff}');
    let mut de = serde_json::Deserializer::from_str(text);
    let tree = <Plain<'_> as serde::Deserialize>::deserialize(&mut de).ok()?;
    de.end().ok()?;
    matches!(tree, Plain::Map(_)).then_some((tree, text))
}

/// A JSON value as `serde_json::Value` would hold it (numbers exact, fields in document order),
/// borrowing its text from the document where it can: what a reply is read through when no
/// object in it gives a field twice (a repeat refuses the document, with an error nobody sees:
/// the lenient parse runs instead). Reading it is a few allocations, where a
/// `serde_json::Value` takes one or two per field.
#[derive(Debug)]
pub(crate) enum Plain<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as `serde_json::Value` keeps it.
    Number(serde_json::Number),
    /// A string.
    Text(Cow<'a, str>),
    /// An array.
    List(Vec<Plain<'a>>),
    /// An object's fields, in order.
    Map(Vec<(Cow<'a, str>, Plain<'a>)>),
}

impl<'de> serde::Deserialize<'de> for Plain<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(PlainVisitor)
    }
}

/// A string of the document, borrowed unless it had escapes.
struct Borrowed;

impl<'de> serde::de::DeserializeSeed<'de> for Borrowed {
    type Value = Cow<'de, str>;
    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Borrowed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(s))
    }
    fn visit_str<E>(self, s: &str) -> std::result::Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> std::result::Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s))
    }
}

struct PlainVisitor;

fn plain_number<'a, E: serde::de::Error>(text: &str) -> std::result::Result<Plain<'a>, E> {
    text.parse().map(Plain::Number).map_err(E::custom)
}

impl<'de> serde::de::Visitor<'de> for PlainVisitor {
    type Value = Plain<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> std::result::Result<Plain<'de>, E> {
        Ok(Plain::Bool(b))
    }
    // The same `Number` as `BothVisitor` parses from the integer's text (its digits).
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Plain<'de>, E> {
        Ok(Plain::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Plain<'de>, E> {
        Ok(Plain::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Plain<'de>, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Plain::Null, Plain::Number))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Plain<'de>, E> {
        Ok(Plain::Text(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> std::result::Result<Plain<'de>, E> {
        Ok(Plain::Text(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> std::result::Result<Plain<'de>, E> {
        Ok(Plain::Text(Cow::Owned(s)))
    }
    fn visit_unit<E>(self) -> std::result::Result<Plain<'de>, E> {
        Ok(Plain::Null)
    }
    fn visit_none<E>(self) -> std::result::Result<Plain<'de>, E> {
        Ok(Plain::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Plain<'de>, A::Error> {
        let mut values = Vec::new();
        while let Some(v) = seq.next_element::<Plain<'de>>()? {
            values.push(v);
        }
        Ok(Plain::List(values))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Plain<'de>, A::Error> {
        use serde::de::Error as _;
        let mut fields: Vec<(Cow<'de, str>, Plain<'de>)> = Vec::new();
        let mut index = FieldIndex::default();
        while let Some(key) = map.next_key_seed(Borrowed)? {
            if key == JSON_NUMBER && fields.is_empty() {
                return plain_number(&map.next_value_seed(Borrowed)?);
            }
            if index.find(&fields, &key).is_some() {
                return Err(A::Error::custom("a field given twice"));
            }
            index.add(&key, fields.len());
            let value = map.next_value::<Plain<'de>>()?;
            fields.push((key, value));
        }
        Ok(Plain::Map(fields))
    }
}

impl Tree for Plain<'_> {
    fn get(&self, name: &str) -> Option<&Self> {
        let Plain::Map(fields) = self else {
            return None;
        };
        field(
            fields.iter().map(|(k, v)| (k.as_ref(), v)),
            name,
            Plain::is_empty,
        )
    }
    fn as_text(&self) -> Option<&str> {
        match self {
            Plain::Text(s) => Some(s),
            Plain::Number(n) => Some(n.as_str()),
            Plain::Bool(true) => Some("true"),
            Plain::Bool(false) => Some("false"),
            _ => None,
        }
    }
    fn is_map(&self) -> bool {
        matches!(self, Plain::Map(_))
    }
    fn is_null(&self) -> bool {
        matches!(self, Plain::Null)
    }
    fn fields(&self) -> Vec<(&str, &Self)> {
        match self {
            Plain::Map(f) => f.iter().map(|(k, v)| (k.as_ref(), v)).collect(),
            _ => Vec::new(),
        }
    }
    fn items(&self) -> Vec<&Self> {
        match self {
            Plain::List(items) => items.iter().collect(),
            Plain::Null => Vec::new(),
            Plain::Text(t) if t.trim().is_empty() => Vec::new(),
            other => vec![other],
        }
    }
}

impl Plain<'_> {
    /// [`is_empty`] of the same value as a [`Plain`].
    fn is_empty(&self) -> bool {
        match self {
            Plain::Null => true,
            Plain::Text(t) => t.trim().is_empty(),
            Plain::Map(f) => f.is_empty(),
            Plain::List(i) => i.is_empty(),
            Plain::Number(_) | Plain::Bool(_) => false,
        }
    }
}

/// A reply's whole document, as JSON (`raw` of every reply): for a JSON reply, the text the
/// gateway sent, read into a `serde_json::Value` (numbers exact, fields in document order) the
/// first time anything asks for it; for an XML reply, its tree converted (every scalar a
/// string). It dereferences to that `serde_json::Value` (`reply.raw["ORDER_RESP"]["STATE"]`,
/// `reply.raw.get(...)`), compares, prints and serializes as it.
///
/// ```
/// use sosopay::models::{QueryReply, Reply};
///
/// let text = r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"STATE":"1","NEW_FIELD":"kept"}}"#;
/// let reply = QueryReply::decode(text)?;
/// // A field this SDK does not read yet is in the document.
/// assert_eq!(reply.raw["QUERY_RESP"]["NEW_FIELD"], "kept");
/// assert_eq!(reply.raw.json_text(), Some(text));
/// let value: serde_json::Value = reply.raw.into_value();
/// assert!(value.is_object());
/// # Ok::<(), sosopay::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct RawDocument {
    /// The JSON text, when the value has not been built from a tree.
    text: Option<Box<str>>,
    value: std::sync::OnceLock<serde_json::Value>,
}

impl RawDocument {
    /// The document of a JSON reply: `text`, which parsed as JSON (read again when asked for).
    pub(crate) fn json(text: &str) -> Self {
        RawDocument {
            text: Some(text.into()),
            value: std::sync::OnceLock::new(),
        }
    }

    /// The document as a `serde_json::Value`.
    pub fn value(&self) -> &serde_json::Value {
        self.value.get_or_init(|| match &self.text {
            // The text parsed as JSON when the reply was read, so it parses again.
            Some(t) => serde_json::from_str(t).unwrap_or(serde_json::Value::Null),
            None => serde_json::Value::Null,
        })
    }

    /// The JSON text as the gateway sent it (after a byte-order mark), for a JSON reply; `None`
    /// for an XML reply, whose document is [`RawDocument::value`] alone.
    pub fn json_text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The document as a `serde_json::Value`, taken out.
    pub fn into_value(mut self) -> serde_json::Value {
        self.value();
        self.value.take().unwrap_or_default()
    }
}

impl From<serde_json::Value> for RawDocument {
    fn from(value: serde_json::Value) -> Self {
        RawDocument {
            text: None,
            value: std::sync::OnceLock::from(value),
        }
    }
}

impl std::ops::Deref for RawDocument {
    type Target = serde_json::Value;
    fn deref(&self) -> &serde_json::Value {
        self.value()
    }
}

impl PartialEq for RawDocument {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl Eq for RawDocument {}

impl PartialEq<serde_json::Value> for RawDocument {
    fn eq(&self, other: &serde_json::Value) -> bool {
        self.value() == other
    }
}

impl std::fmt::Debug for RawDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value().fmt(f)
    }
}

impl serde::Serialize for RawDocument {
    /// The same calls as the `serde_json::Value`'s; for a JSON reply whose value was never
    /// asked for, made from its text as it is read (no `Value` is built), in a human-readable
    /// format (a binary one may need the lengths of lists and maps first: the `Value`'s).
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match (self.value.get(), &self.text) {
            (None, Some(text)) if s.is_human_readable() => {
                use serde::de::Deserializer as _;
                let mut de = serde_json::Deserializer::from_str(text);
                de.deserialize_any(Forward(s))
                    .map_err(<S::Error as serde::ser::Error>::custom)
            }
            _ => self.value().serialize(s),
        }
    }
}

/// A visitor that serializes what it visits, as the `serde_json::Value` of it would serialize
/// (numbers as `serde_json::Number`, `null` as a unit, arrays and objects as sequences and maps).
struct Forward<S>(S);

fn forwarded<S: serde::Serializer, E: serde::de::Error>(
    r: std::result::Result<S::Ok, S::Error>,
) -> std::result::Result<S::Ok, E> {
    r.map_err(E::custom)
}

/// A number's text as `serde_json::Value` serializes it (its `Number`).
fn forward_number<S: serde::Serializer, E: serde::de::Error>(
    s: S,
    text: &str,
) -> std::result::Result<S::Ok, E> {
    use serde::Serialize as _;
    let n: serde_json::Number = text.parse().map_err(E::custom)?;
    forwarded::<S, E>(n.serialize(s))
}

impl<'de, S: serde::Serializer> serde::de::Visitor<'de> for Forward<S> {
    type Value = S::Ok;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> std::result::Result<S::Ok, E> {
        forwarded::<S, E>(self.0.serialize_bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<S::Ok, E> {
        use serde::Serialize as _;
        forwarded::<S, E>(serde_json::Number::from(v).serialize(self.0))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<S::Ok, E> {
        use serde::Serialize as _;
        forwarded::<S, E>(serde_json::Number::from(v).serialize(self.0))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<S::Ok, E> {
        use serde::Serialize as _;
        forwarded::<S, E>(match serde_json::Number::from_f64(v) {
            Some(n) => n.serialize(self.0),
            None => self.0.serialize_unit(),
        })
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<S::Ok, E> {
        forwarded::<S, E>(self.0.serialize_str(v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<S::Ok, E> {
        forwarded::<S, E>(self.0.serialize_unit())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<S::Ok, A::Error> {
        use serde::ser::SerializeSeq as _;
        let mut out = self
            .0
            .serialize_seq(None)
            .map_err(serde::de::Error::custom)?;
        while seq.next_element_seed(Element(&mut out))?.is_some() {}
        out.end().map_err(serde::de::Error::custom)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<S::Ok, A::Error> {
        use serde::ser::SerializeMap as _;
        let Some(first) = map.next_key_seed(Borrowed)? else {
            let out = self.0.serialize_map(Some(0));
            return out.and_then(|m| m.end()).map_err(serde::de::Error::custom);
        };
        if first == JSON_NUMBER {
            return forward_number(self.0, &map.next_value_seed(Borrowed)?);
        }
        let mut out = self
            .0
            .serialize_map(None)
            .map_err(serde::de::Error::custom)?;
        let mut key = Some(first);
        while let Some(k) = key {
            out.serialize_key(&*k).map_err(serde::de::Error::custom)?;
            map.next_value_seed(Entry(&mut out))?;
            key = map.next_key_seed(Borrowed)?;
        }
        out.end().map_err(serde::de::Error::custom)
    }
}

/// The next element of a sequence being read, serialized into `.0`.
struct Element<'a, T>(&'a mut T);

impl<'de, T: serde::ser::SerializeSeq> serde::de::DeserializeSeed<'de> for Element<'_, T> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        self.0
            .serialize_element(&Pull(std::cell::Cell::new(Some(d))))
            .map_err(serde::de::Error::custom)
    }
}

/// The next value of a map being read, serialized into `.0`.
struct Entry<'a, T>(&'a mut T);

impl<'de, T: serde::ser::SerializeMap> serde::de::DeserializeSeed<'de> for Entry<'_, T> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        self.0
            .serialize_value(&Pull(std::cell::Cell::new(Some(d))))
            .map_err(serde::de::Error::custom)
    }
}

/// A value still to be read from a deserializer, which serializes by reading it (once).
struct Pull<D>(std::cell::Cell<Option<D>>);

impl<'de, D: serde::Deserializer<'de>> serde::Serialize for Pull<D> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0.take() {
            Some(d) => d
                .deserialize_any(Forward(s))
                .map_err(<S::Error as serde::ser::Error>::custom),
            None => Err(serde::ser::Error::custom("a value serialized twice")),
        }
    }
}

/// The root names of the gateway's documents: a document under one of these is never taken
/// for another.
const REPLY_ROOTS: &[&str] = &[
    "ORDER_RESP",
    "REFUND_RESP",
    "QUERY_RESP",
    "CANCELTRADE_RESP",
    "FLOWRECHARGE_RESP",
    "PAY_NODIFY",
    "ORDER_REQ",
    "REFUND_REQ",
];

/// Is `name` the root of one of the gateway's documents (any case)?
pub(crate) fn is_reply_root(name: &str) -> bool {
    REPLY_ROOTS.iter().any(|r| r.eq_ignore_ascii_case(name))
}

/// A document's tree and, with `RAW`, its raw value (else `Null`; the tree is the same).
fn parse_in<const RAW: bool>(text: &str, format: Format) -> Result<(Node, serde_json::Value)> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(Error::decode(format!(
            "the document is {} bytes, over the {MAX_DOCUMENT_BYTES}-byte limit",
            text.len()
        )));
    }
    let text = text.trim_start_matches('\u{feff}');
    match format {
        Format::Json => parse_json::<RAW>(text),
        Format::Xml => {
            let root = parse_xml(text)?;
            check_xml_conflicts(&root)?;
            let raw = if RAW {
                root.to_json_value()
            } else {
                serde_json::Value::Null
            };
            Ok((root, raw))
        }
    }
}

/// A JSON document's tree and, with `RAW`, its raw value (else `Null`).
fn parse_json<const RAW: bool>(text: &str) -> Result<(Node, serde_json::Value)> {
    // Depth is bounded by serde_json's recursion limit (128).
    let mut de = serde_json::Deserializer::from_str(text);
    let Both(node, raw) = serde::de::DeserializeSeed::deserialize(BothVisitor::<RAW>, &mut de)
        .and_then(|b| de.end().map(|()| b))
        .map_err(|e| Error::decode(format!("invalid JSON: {e}")))?;
    if !matches!(node, Node::Map(_)) {
        return Err(Error::decode("the JSON document is not an object"));
    }
    Ok((node, raw))
}

/// How `serde_json` (with `arbitrary_precision`) hands a number to a visitor: a map whose one
/// key is this, its value the number's text.
const JSON_NUMBER: &str = "$serde_json::private::Number";

/// A JSON value read once into both trees: the lenient [`Node`] and the raw
/// `serde_json::Value` (numbers exact; `Null` throughout when the visitor's `RAW` is false).
///
/// A field given twice in one object (names equal ignoring ASCII case) keeps its first
/// non-empty value; two *different* non-empty values are an error, since which one holds
/// would be a guess (a `STATE` of `0` and `1`: awaiting payment, or paid?). The raw value keeps
/// both spellings of a case-variant, and one entry of an exact repeat.
struct Both(Node, serde_json::Value);

/// Reads a [`Both`]; `RAW` says whether to build its raw value.
#[derive(Clone, Copy)]
struct BothVisitor<const RAW: bool>;

impl<'de, const RAW: bool> serde::de::DeserializeSeed<'de> for BothVisitor<RAW> {
    type Value = Both;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Both, D::Error> {
        d.deserialize_any(self)
    }
}

impl<const RAW: bool> BothVisitor<RAW> {
    fn number<E: serde::de::Error>(text: String) -> std::result::Result<Both, E> {
        let n: serde_json::Number = text.parse().map_err(E::custom)?;
        Ok(Both(
            Node::Text(text),
            Self::raw(|| serde_json::Value::Number(n)),
        ))
    }

    /// The raw value, when it is wanted.
    fn raw(v: impl FnOnce() -> serde_json::Value) -> serde_json::Value {
        if RAW {
            v()
        } else {
            serde_json::Value::Null
        }
    }
}

/// No information: null, blank text, an empty map or list.
fn is_empty(n: &Node) -> bool {
    match n {
        Node::Null => true,
        Node::Text(t) => t.trim().is_empty(),
        Node::Map(f) => f.is_empty(),
        Node::List(i) => i.is_empty(),
    }
}

/// A value in an error message: scalars as they are (cut at 40 characters), else its kind.
fn shown(n: &Node) -> String {
    match n {
        Node::Text(t) if t.chars().count() > 40 => {
            format!("{:?}…", t.chars().take(40).collect::<String>())
        }
        Node::Text(t) => format!("{t:?}"),
        Node::Null => "null".to_owned(),
        Node::Map(_) => "an object".to_owned(),
        Node::List(_) => "a list".to_owned(),
    }
}

impl<'de, const RAW: bool> serde::de::Visitor<'de> for BothVisitor<RAW> {
    type Value = Both;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> std::result::Result<Both, E> {
        Ok(Both(
            Node::Text(b.to_string()),
            Self::raw(|| serde_json::Value::Bool(b)),
        ))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Both, E> {
        Self::number(v.to_string())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Both, E> {
        Self::number(v.to_string())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Both, E> {
        match serde_json::Number::from_f64(v) {
            Some(n) => Ok(Both(
                Node::Text(n.to_string()),
                Self::raw(|| serde_json::Value::Number(n)),
            )),
            None => Ok(Both(Node::Null, serde_json::Value::Null)),
        }
    }
    fn visit_str<E>(self, s: &str) -> std::result::Result<Both, E> {
        Ok(Both(
            Node::Text(s.to_owned()),
            Self::raw(|| serde_json::Value::String(s.to_owned())),
        ))
    }
    fn visit_string<E>(self, s: String) -> std::result::Result<Both, E> {
        if RAW {
            Ok(Both(Node::Text(s.clone()), serde_json::Value::String(s)))
        } else {
            Ok(Both(Node::Text(s), serde_json::Value::Null))
        }
    }
    fn visit_unit<E>(self) -> std::result::Result<Both, E> {
        Ok(Both(Node::Null, serde_json::Value::Null))
    }
    fn visit_none<E>(self) -> std::result::Result<Both, E> {
        Ok(Both(Node::Null, serde_json::Value::Null))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Both, A::Error> {
        let (mut nodes, mut values) = (Vec::new(), Vec::new());
        while let Some(Both(n, v)) = seq.next_element_seed(self)? {
            nodes.push(n);
            if RAW {
                values.push(v);
            }
        }
        Ok(Both(
            Node::List(nodes),
            Self::raw(|| serde_json::Value::Array(values)),
        ))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Both, A::Error> {
        use serde::de::Error as _;
        let mut fields: Vec<(String, Node)> = Vec::new();
        let mut raw = serde_json::Map::new();
        let mut index = FieldIndex::default();
        while let Some(key) = map.next_key::<String>()? {
            if key == JSON_NUMBER && fields.is_empty() && raw.is_empty() {
                return Self::number(map.next_value::<String>()?);
            }
            let Both(node, value) = map.next_value_seed(self)?;
            match index.find(&fields, &key) {
                None => {
                    index.add(&key, fields.len());
                    if RAW {
                        raw.insert(key.clone(), value);
                    }
                    fields.push((key, node));
                }
                Some(i) => {
                    let first = &mut fields[i];
                    if is_empty(&node) || first.1 == node {
                        // Nothing new: the first one stands (an exact repeat keeps its first value).
                        if RAW && first.0 != key {
                            raw.insert(key, value);
                        }
                    } else if is_empty(&first.1) {
                        first.1 = node;
                        if RAW {
                            raw.insert(key, value);
                        }
                    } else {
                        return Err(A::Error::custom(format!(
                            "the field {key} is given twice with different values ({} and {}): which one holds cannot be told",
                            shown(&first.1),
                            shown(&node)
                        )));
                    }
                }
            }
        }
        Ok(Both(
            Node::Map(fields),
            Self::raw(|| serde_json::Value::Object(raw)),
        ))
    }
}

/// Finds a field of a JSON object being read by its name ignoring ASCII case: a scan of the
/// fields read so far while they are few, then a map of their lower-cased names.
#[derive(Default)]
struct FieldIndex(HashMap<String, usize>);

impl FieldIndex {
    /// The position in `fields` (those read so far, in order) of the first named like `key`.
    fn find<K: AsRef<str>, T>(&mut self, fields: &[(K, T)], key: &str) -> Option<usize> {
        if fields.len() < 16 {
            return fields
                .iter()
                .position(|(k, _)| k.as_ref().eq_ignore_ascii_case(key));
        }
        if self.0.is_empty() {
            for (i, (k, _)) in fields.iter().enumerate() {
                self.0.entry(k.as_ref().to_ascii_lowercase()).or_insert(i);
            }
        }
        self.0.get(&key.to_ascii_lowercase()).copied()
    }

    /// Notes the field `key`, added at position `at` (nothing to note while a scan serves).
    fn add(&mut self, key: &str, at: usize) {
        if !self.0.is_empty() {
            self.0.insert(key.to_ascii_lowercase(), at);
        }
    }
}

/// A field name, as the key of a JSON object.
struct FieldName(String);

impl<'de> serde::Deserialize<'de> for FieldName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = FieldName;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<FieldName, E> {
                Ok(FieldName(v.to_owned()))
            }
        }
        d.deserialize_str(V)
    }
}

/// Any JSON value, checked for repeated or blank-containing field names on the way (nothing is
/// kept). Nesting is bounded by `serde_json`'s recursion limit, as for the lenient parse.
struct UniqueFields;

impl<'de> serde::Deserialize<'de> for UniqueFields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(UniqueFieldsVisitor)
    }
}

struct UniqueFieldsVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueFieldsVisitor {
    type Value = UniqueFields;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> std::result::Result<UniqueFields, E> {
        Ok(UniqueFields)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<UniqueFields, E> {
        Ok(UniqueFields)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<UniqueFields, E> {
        Ok(UniqueFields)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<UniqueFields, E> {
        Ok(UniqueFields)
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<UniqueFields, E> {
        Ok(UniqueFields)
    }
    fn visit_unit<E>(self) -> std::result::Result<UniqueFields, E> {
        Ok(UniqueFields)
    }
    fn visit_none<E>(self) -> std::result::Result<UniqueFields, E> {
        Ok(UniqueFields)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<UniqueFields, A::Error> {
        while seq.next_element::<UniqueFields>()?.is_some() {}
        Ok(UniqueFields)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<UniqueFields, A::Error> {
        use serde::de::Error as _;
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(FieldName(name)) = map.next_key::<FieldName>()? {
            if name.bytes().any(crate::envelope::is_java_space) {
                return Err(A::Error::custom(format!(
                    "the field name {name:?} contains whitespace"
                )));
            }
            if !seen.insert(name.to_ascii_lowercase()) {
                return Err(A::Error::custom(format!(
                    "the field {name} is given twice (field names are case-insensitive)"
                )));
            }
            map.next_value::<UniqueFields>()?;
        }
        Ok(UniqueFields)
    }
}

fn check_json_fields(text: &str) -> Result<()> {
    let mut de = serde_json::Deserializer::from_str(text);
    <UniqueFields as serde::Deserialize>::deserialize(&mut de)
        .and_then(|_| de.end())
        .map_err(|e| Error::decode(format!("ambiguous JSON: {e}")))
}

/// Elements whose names differ only in case (`<STATE>` and `<state>`) with different non-empty
/// values: as for JSON (see [`Both`]), which one holds cannot be told. (A repeated element of
/// one name is a list, which no scalar field reads.)
fn check_xml_conflicts(node: &Node) -> Result<()> {
    match node {
        Node::Map(fields) => {
            // Names lower-cased -> the first non-empty value (linear in the fields: a document
            // of many distinct elements must not take quadratic time).
            let mut firsts: HashMap<String, &Node> = HashMap::new();
            for (name, value) in fields {
                if is_empty(value) {
                    check_xml_conflicts(value)?;
                    continue;
                }
                let other = match firsts.entry(name.to_ascii_lowercase()) {
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(value);
                        None
                    }
                    std::collections::hash_map::Entry::Occupied(e) => {
                        Some(*e.get()).filter(|first| *first != value)
                    }
                };
                if let Some(other) = other {
                    return Err(Error::decode(format!(
                        "invalid XML: the element <{name}> is given twice with different values ({} and {}): which one holds cannot be told",
                        shown(other),
                        shown(value)
                    )));
                }
                check_xml_conflicts(value)?;
            }
            Ok(())
        }
        Node::List(items) => items.iter().try_for_each(check_xml_conflicts),
        Node::Null | Node::Text(_) => Ok(()),
    }
}

fn check_xml_fields(node: &Node) -> Result<()> {
    match node {
        Node::Map(fields) => {
            let mut seen: HashSet<String> = HashSet::with_capacity(fields.len());
            for (name, value) in fields {
                // Repeated same-name elements were grouped into one field by the parser; names
                // differing in case were not.
                if !seen.insert(name.to_ascii_lowercase()) {
                    return Err(Error::decode(format!(
                        "ambiguous XML: the element <{name}> is given twice (element names are case-insensitive)"
                    )));
                }
                if let Node::List(items) = value {
                    // A list's items repeat (`TRADEFUNDBILL`, `GOODS_DETAIL`); the list itself,
                    // or a reply's `RESULT`, does not.
                    if ["FUND_BILL_LIST", "RESULT"]
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(name))
                    {
                        return Err(Error::decode(format!(
                            "ambiguous XML: the element <{name}> is given more than once"
                        )));
                    }
                    if items
                        .iter()
                        .any(|i| matches!(i, Node::Text(t) if !t.trim().is_empty()))
                    {
                        return Err(Error::decode(format!(
                            "ambiguous XML: the element <{name}> holds a value and is repeated"
                        )));
                    }
                }
                check_xml_fields(value)?;
            }
            Ok(())
        }
        Node::List(items) => items.iter().try_for_each(check_xml_fields),
        Node::Null | Node::Text(_) => Ok(()),
    }
}

struct Frame {
    name: String,
    fields: Vec<(String, Node)>,
    /// Position of each child name in `fields`, so that repeated-element grouping stays linear
    /// (a document of many distinct children was quadratic: minutes for 4 MB).
    index: HashMap<String, usize>,
    text: String,
    has_children: bool,
}

fn push_child(frame: &mut Frame, name: String, node: Node) {
    // Repeated elements become a list under one key.
    match frame.index.get(&name) {
        Some(&at) => {
            if let Some((_, existing)) = frame.fields.get_mut(at) {
                match existing {
                    Node::List(items) => items.push(node),
                    other => {
                        let first = std::mem::take(other);
                        *other = Node::List(vec![first, node]);
                    }
                }
            }
        }
        None => {
            frame.index.insert(name.clone(), frame.fields.len());
            frame.fields.push((name, node));
        }
    }
}

fn parse_xml(text: &str) -> Result<Node> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<(String, Node)> = None;
    let bad = |e: &dyn std::fmt::Display| Error::decode(format!("invalid XML: {e}"));
    loop {
        let ev = reader.read_event().map_err(|e| bad(&e))?;
        match ev {
            Event::Start(s) => {
                if root.is_some() {
                    return Err(Error::decode("invalid XML: content after the root element"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(Error::decode("invalid XML: nested too deeply"));
                }
                let name =
                    String::from_utf8(s.local_name().as_ref().to_vec()).map_err(|e| bad(&e))?;
                if let Some(parent) = stack.last_mut() {
                    parent.has_children = true;
                }
                stack.push(Frame {
                    name,
                    fields: Vec::new(),
                    index: HashMap::new(),
                    text: String::new(),
                    has_children: false,
                });
            }
            Event::End(_) => {
                let frame = stack
                    .pop()
                    .ok_or_else(|| Error::decode("invalid XML: unbalanced end tag"))?;
                let node = if frame.has_children {
                    Node::Map(frame.fields)
                } else {
                    Node::Text(frame.text)
                };
                match stack.last_mut() {
                    Some(parent) => push_child(parent, frame.name, node),
                    None => root = Some((frame.name, node)),
                }
            }
            Event::Text(t) => {
                let s = t.unescape().map_err(|e| bad(&e))?;
                match stack.last_mut() {
                    Some(f) => f.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => {
                        return Err(Error::decode("invalid XML: text outside the root element"))
                    }
                }
            }
            Event::CData(c) => {
                let s = String::from_utf8(c.into_inner().to_vec()).map_err(|e| bad(&e))?;
                if let Some(f) = stack.last_mut() {
                    f.text.push_str(&s);
                }
            }
            Event::DocType(_) => {
                return Err(Error::decode("invalid XML: DTDs are not accepted"));
            }
            Event::Empty(_) => {
                // expand_empty_elements turns these into Start + End.
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(Error::decode(
            "invalid XML: the document ends inside an element",
        ));
    }
    let (name, node) = root.ok_or_else(|| Error::decode("invalid XML: no root element"))?;
    Ok(Node::Map(vec![(name, node)]))
}

/// Encodes `body` as JSON `{"ROOT": body}`; every scalar as a JSON string.
pub fn to_json(root: &str, body: &Node) -> String {
    let text = body.to_json_text();
    let mut out = String::with_capacity(root.len() + text.len() + 8);
    out.push('{');
    out.push_str(&serde_json::Value::from(root).to_string());
    out.push(':');
    out.push_str(&text);
    out.push('}');
    out
}

/// A tree with no repeated names, serialized as `Node::to_json_value` would be: maps as
/// objects in their order, lists as arrays, texts as strings, null as null.
struct DirectJson<'a>(&'a Node);

impl serde::Serialize for DirectJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap as _, SerializeSeq as _};
        match self.0 {
            Node::Null => s.serialize_unit(),
            Node::Text(t) => s.serialize_str(t),
            Node::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&DirectJson(item))?;
                }
                seq.end()
            }
            Node::Map(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, &DirectJson(v))?;
                }
                map.end()
            }
        }
    }
}

/// Encodes `body` as XML `<ROOT>…</ROOT>` with a UTF-8 declaration. Lists become repeated
/// elements named after their field (items of `FUND_BILL_LIST` are `TRADEFUNDBILL`). A list
/// as the whole body (which XML cannot have as its one root) is written as repeated `ROOT`
/// elements inside the `ROOT` element.
pub fn to_xml(root: &str, body: &Node) -> String {
    let mut w = Writer::new(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    match body {
        Node::List(_) => {
            let wrapper = Node::Map(vec![(root.to_owned(), body.clone())]);
            write_xml(&mut w, root, &wrapper);
        }
        _ => write_xml(&mut w, root, body),
    }
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

/// `name` as a well-formed XML element name: characters other than letters, digits, `_`, `-`
/// and `.` become `_`, and a name that is empty or starts with a digit, `-` or `.` gets a
/// leading `_`. The gateway's own names are unchanged; this only keeps odd keys (from a JSON
/// document being re-encoded) from producing ill-formed XML.
pub fn xml_element_name(name: &str) -> std::borrow::Cow<'_, str> {
    let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
    let ok_first = |c: char| c.is_alphabetic() || c == '_';
    match name.chars().next() {
        Some(first) if ok_first(first) && name.chars().all(ok_char) => {
            std::borrow::Cow::Borrowed(name)
        }
        first => {
            let mut out = String::with_capacity(name.len() + 1);
            if !first.is_some_and(ok_first) {
                out.push('_');
            }
            out.extend(name.chars().map(|c| if ok_char(c) { c } else { '_' }));
            std::borrow::Cow::Owned(out)
        }
    }
}

fn write_xml(w: &mut Writer<Vec<u8>>, name: &str, node: &Node) {
    let name = &*xml_element_name(name);
    match node {
        Node::List(items) => {
            for item in items {
                write_xml(w, name, item);
            }
        }
        Node::Null => {
            let _ = w.write_event(Event::Start(BytesStart::new(name)));
            let _ = w.write_event(Event::End(BytesEnd::new(name)));
        }
        Node::Text(t) => {
            let _ = w.write_event(Event::Start(BytesStart::new(name)));
            let _ = w.write_event(Event::Text(BytesText::new(t)));
            let _ = w.write_event(Event::End(BytesEnd::new(name)));
        }
        Node::Map(fields) => {
            let _ = w.write_event(Event::Start(BytesStart::new(name)));
            for (k, v) in fields {
                write_xml(w, k, v);
            }
            let _ = w.write_event(Event::End(BytesEnd::new(name)));
        }
    }
}

/// Encodes in the given format.
pub fn encode(format: Format, root: &str, body: &Node) -> String {
    match format {
        Format::Json => to_json(root, body),
        Format::Xml => to_xml(root, body),
    }
}

/// Builds a map node from pairs, skipping `None` values.
#[derive(Debug, Default, Clone)]
pub struct MapBuilder(Vec<(String, Node)>);

impl MapBuilder {
    /// A new empty map.
    pub fn new() -> Self {
        MapBuilder(Vec::new())
    }
    /// Adds a text field.
    pub fn text(mut self, k: &str, v: impl Into<String>) -> Self {
        self.0.push((k.to_owned(), Node::Text(v.into())));
        self
    }
    /// Adds a text field when present.
    pub fn opt(mut self, k: &str, v: Option<impl Into<String>>) -> Self {
        if let Some(v) = v {
            self.0.push((k.to_owned(), Node::Text(v.into())));
        }
        self
    }
    /// Adds any node.
    pub fn node(mut self, k: &str, v: Node) -> Self {
        self.0.push((k.to_owned(), v));
        self
    }
    /// Finishes.
    pub fn build(self) -> Node {
        Node::Map(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_keep_text() {
        let d = Document::parse(r#"{"R":{"AMOUNT":0.01,"AMT":15800,"X":null}}"#).expect("json");
        let b = d.root.get("r").expect("root");
        assert_eq!(b.text("amount"), Some("0.01"));
        assert_eq!(b.text("AMT"), Some("15800"));
        assert_eq!(b.text("X"), None);
    }

    #[test]
    fn xml_single_and_repeated() {
        let x = "<?xml version=\"1.0\"?><R><L><I><A>1</A></I></L><G><N>a</N></G><G><N>b</N></G><E/></R>";
        let d = Document::parse(x).expect("xml");
        let r = d.root.get("R").expect("R");
        assert_eq!(
            r.get("L").and_then(|l| l.get("I")).map(|i| i.items().len()),
            Some(1)
        );
        assert_eq!(r.get("G").map(|g| g.items().len()), Some(2));
        assert_eq!(r.text("E"), None);
    }

    #[test]
    fn xml_rejects_dtd() {
        let x = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";
        assert!(Document::parse(x).is_err());
    }

    #[test]
    fn strict_parse_refuses_repeated_fields() {
        let dup = |t: &str| match Document::parse_strict(t) {
            Err(Error::Decode { reason, .. }) => reason,
            other => panic!("{t}: {other:?}"),
        };
        // JSON: the exact same key (serde_json would keep one), a case variant, at any level,
        // a name with whitespace; escapes are decoded before comparing.
        assert!(dup(r#"{"R":{"STATE":"1","AMT":1,"STATE":"3"}}"#).contains("STATE"));
        assert!(dup(r#"{"R":{"STATE":"1","state":"3"}}"#).contains("state"));
        assert!(dup(r#"{"R":{"L":{"T":[{"AMOUNT":"0.01","Amount":"9"}]}}}"#).contains("Amount"));
        assert!(dup(r#"{"R":{"A":1},"r":{"A":2}}"#).contains('r'));
        assert!(dup(r#"{"R":{"STATE":"1","ST\u0041TE":"3"}}"#).contains("STATE"));
        assert!(dup(r#"{"R":{"BUSI _ID":"1"}}"#).contains("whitespace"));
        // XML: a repeated scalar (even next to an empty one), case variants.
        assert!(dup("<R><STATE>1</STATE><STATE>3</STATE></R>").contains("<STATE>"));
        assert!(dup("<R><AMT>1</AMT><AMT/></R>").contains("<AMT>"));
        assert!(dup("<R><STATE>1</STATE><state>3</state></R>").contains("<state>"));
        assert!(dup("<R><L><T><A>1</A><a>2</a></T><T><A>3</A></T></L></R>").contains("<a>"));
        // Lists are not duplicates: JSON arrays of scalars, repeated XML elements with children,
        // and the lenient parse still takes what the strict one refuses.
        for ok in [
            r#"{"R":{"L":["1","1"],"T":[{"A":1},{"A":1}],"N":1.50}}"#,
            "<R><L><T><A>1</A></T><T><A>2</A></T></L><G><N>a</N></G><G><N>b</N></G></R>",
            "<R><G/><G/></R>",
        ] {
            assert!(Document::parse_strict(ok).is_ok(), "{ok}");
        }
        assert!(Document::parse(r#"{"R":{"STATE":"1","STATE":"1","state":"1"}}"#).is_ok());
        // Syntax errors keep their own message.
        assert!(dup(r#"{"R":"#).starts_with("invalid JSON"));
    }

    #[test]
    fn lenient_parse_refuses_a_field_given_twice_with_different_values() {
        let conflict = |t: &str| match Document::parse(t) {
            Err(Error::Decode { reason, .. }) => reason,
            other => panic!("{t}: {other:?}"),
        };
        // Which STATE holds (awaiting payment, or paid?) cannot be told: refused, at any level,
        // exact repeats and case variants, JSON and XML.
        for (t, field) in [
            (r#"{"R":{"STATE":"0","STATE":"1"}}"#, "STATE"),
            (r#"{"R":{"state":"0","STATE":"1"}}"#, "STATE"),
            (r#"{"R":{"AMT":"100","amt":1}}"#, "amt"),
            (
                r#"{"R":{"L":{"T":[{"AMOUNT":"0.01","Amount":"9"}]}}}"#,
                "Amount",
            ),
            ("<R><STATE>0</STATE><state>1</state></R>", "<state>"),
        ] {
            let reason = conflict(t);
            assert!(
                reason.contains(field) && reason.contains("different values"),
                "{t}: {reason}"
            );
        }
        // No conflict: the same value again, or an empty one (which adds nothing): the first
        // non-empty value holds; the raw document keeps what was sent.
        let d = Document::parse(
            r#"{"R":{"STATE":"1","state":"1","AMT":"","AMT":"100","X":null,"x":"7"}}"#,
        )
        .expect("no conflict");
        let r = d.root.get("R").expect("R");
        assert_eq!(r.get("STATE").and_then(Node::as_text), Some("1"));
        assert_eq!(r.get("AMT").and_then(Node::as_text), Some("100"));
        assert_eq!(r.get("x").and_then(Node::as_text), Some("7"));
        assert_eq!(d.raw["R"]["AMT"], "100");
        assert_eq!(d.raw["R"]["state"], "1");
        assert_eq!(d.raw["R"]["x"], "7");
        // Many distinct fields stay linear (an index past 16 fields), and still find repeats of
        // any of them, early or late, with the index built or not yet.
        let many: Vec<String> = (0..5000).map(|i| format!(r#""F{i}":"{i}""#)).collect();
        for n in [15, 16, 17, 5000] {
            for at in [0, 14, 15, n - 1] {
                if at < n {
                    let big = format!(r#"{{"R":{{{},"f{at}":"x"}}}}"#, many[..n].join(","));
                    assert!(
                        conflict(&big).contains(&format!("f{at}")),
                        "{n} fields, repeat of {at}"
                    );
                }
            }
        }
        let big_ok = format!(r#"{{"R":{{{},"f4999":"4999"}}}}"#, many.join(","));
        assert!(Document::parse(&big_ok).is_ok());
        // Numbers keep their exact text in both trees.
        let d = Document::parse(r#"{"R":{"AMT":15800,"A":0.10,"B":12345678901234567890123}}"#)
            .expect("numbers");
        let r = d.root.get("R").expect("R");
        assert_eq!(r.get("A").and_then(Node::as_text), Some("0.10"));
        assert_eq!(d.raw["R"]["B"].to_string(), "12345678901234567890123");
        assert_eq!(d.raw["R"]["AMT"], 15800);
    }

    #[test]
    fn roundtrip_xml() {
        let n = MapBuilder::new()
            .text("A", "1 & <2>")
            .node(
                "L",
                Node::List(vec![Node::Text("x".into()), Node::Text("y".into())]),
            )
            .build();
        let x = to_xml("ROOT", &n);
        let d = Document::parse(&x).expect("parse");
        assert_eq!(d.root.get("ROOT"), Some(&n));
    }

    #[test]
    fn a_plain_tree_borrows_its_text_and_reads_like_the_lenient_one() {
        let text =
            "\u{feff} {\"R\":{\"A\":\"x\",\"E\":\"a\\nb\",\"N\":1.50,\"T\":true,\"L\":[1,\" \"]}} ";
        let (tree, json) = parse_plain_json(text).expect("plain");
        assert!(
            json.starts_with(" {"),
            "the mark goes, the rest stays: {json:?}"
        );
        let r = tree.get("r").expect("R");
        assert!(matches!(r.get("A"), Some(Plain::Text(Cow::Borrowed("x")))));
        assert!(
            matches!(r.get("E"), Some(Plain::Text(Cow::Owned(_)))),
            "an escape is copied"
        );
        let lenient = Document::parse(text).expect("lenient");
        let l = lenient.root.get("R").expect("R");
        for name in ["A", "E", "N", "T", "missing"] {
            assert_eq!(r.text(name), l.text(name), "{name}");
        }
        assert_eq!(r.get("L").map(|v| v.items().len()), Some(2));
        // The raw document read from the text is the value the lenient parse keeps.
        let raw = RawDocument::json(json);
        assert_eq!(raw, lenient.raw);
        assert_eq!(raw.json_text(), Some(json));
        assert_eq!(raw["R"]["N"].to_string(), "1.50");
        assert_eq!(format!("{raw:?}"), format!("{:?}", lenient.raw));
        assert_eq!(
            serde_json::to_string(&raw).expect("json"),
            serde_json::to_string(&lenient.raw).expect("json")
        );
        assert_eq!(raw.clone().into_value(), lenient.raw);
        // Serialized from the text (no value built yet), it is the value serialized.
        for text in [
            json,
            r#"{"A":[],"B":{},"C":[1,-2,3.5e3,18446744073709551616,-0,0.1],"D":[{"E":null}],"F":"\u00e9\"","G":false}"#,
            "[]",
            "\"x\"",
            "-12.50",
        ] {
            let fresh = RawDocument::json(text);
            let value: serde_json::Value = serde_json::from_str(text).expect("json");
            let want = serde_json::to_string(&value).expect("value");
            assert_eq!(serde_json::to_string(&fresh).expect("raw"), want, "{text}");
            assert_eq!(
                fresh.value.get(),
                None,
                "serializing built no value: {text}"
            );
            assert_eq!(serde_json::to_value(&fresh).expect("raw"), value, "{text}");
        }
        // Built from a tree (XML), it is that value, with no text.
        let from_value = RawDocument::from(lenient.raw.clone());
        assert_eq!(from_value.json_text(), None);
        assert_eq!(from_value, raw);
        assert!(RawDocument::default().is_null());
        // Not plain: a field given twice, in any spelling; not an object; XML.
        for text in [r#"{"R":{"A":"1","a":"2"}}"#, "[1]", "<R><A>1</A></R>"] {
            assert!(parse_plain_json(text).is_none(), "{text}");
        }
    }

    mod json_text {
        use super::super::*;
        use proptest::prelude::*;

        fn name() -> impl Strategy<Value = String> {
            // Few names, so that maps often give one twice; and names that need escaping.
            prop_oneof![
                Just("A".to_owned()),
                Just("a".to_owned()),
                Just("AMT".to_owned()),
                Just("B\"\\\n".to_owned()),
                "[A-Cé中\u{1}\u{7f}]{0,3}",
            ]
        }

        fn node() -> impl Strategy<Value = Node> {
            let leaf = prop_oneof![
                Just(Node::Null),
                any::<String>().prop_map(Node::Text),
                "[ -~\t\r\n\u{0}-\u{1f}é中😀\u{2028}]{0,12}".prop_map(Node::Text),
            ];
            leaf.prop_recursive(4, 48, 8, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(Node::List),
                    prop::collection::vec((name(), inner), 0..24).prop_map(Node::Map),
                ]
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(3000))]

            /// The text written straight from the tree is the value's text, byte for byte,
            /// also for maps that repeat a name and for names and texts that need escaping.
            #[test]
            fn is_the_values_text(n in node(), root in name()) {
                prop_assert_eq!(n.to_json_text(), n.to_json_value().to_string());
                let mut m = serde_json::Map::new();
                m.insert(root.clone(), n.to_json_value());
                prop_assert_eq!(to_json(&root, &n), serde_json::Value::Object(m).to_string());
            }
        }

        /// JSON text with few names (so that objects repeat them, in other cases too) and
        /// every kind of value.
        fn json_text() -> impl Strategy<Value = String> {
            let key = prop_oneof![
                Just("STATE"),
                Just("state"),
                Just("AMT"),
                Just("A"),
                Just("$x")
            ];
            let leaf = prop_oneof![
                Just("null".to_owned()),
                Just("true".to_owned()),
                Just("false".to_owned()),
                Just("\"\"".to_owned()),
                Just("\" \"".to_owned()),
                Just("0.10".to_owned()),
                Just("-1e400".to_owned()),
                Just("18446744073709551616".to_owned()),
                Just("[]".to_owned()),
                Just("{}".to_owned()),
                "[0-9a-z\u{e9}\\\\\"]{0,4}".prop_map(|s| format!("{:?}", s)),
                (0u8..3).prop_map(|i| i.to_string()),
            ];
            let value = leaf.prop_recursive(3, 24, 5, move |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4)
                        .prop_map(|v| format!("[{}]", v.join(","))),
                    prop::collection::vec((key.clone(), inner), 0..6).prop_map(|v| {
                        let fields: Vec<String> =
                            v.iter().map(|(k, x)| format!("{k:?}:{x}")).collect();
                        format!("{{{}}}", fields.join(","))
                    }),
                ]
            });
            prop_oneof![
                4 => value.clone().prop_map(|v| format!("{{\"R\":{v}}}")),
                1 => value,
                1 => "[ -~]{0,16}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(3000))]

            /// The root without the raw value is the document's root (and format), and an
            /// error is the same error.
            #[test]
            fn parse_root_is_parse_without_the_raw(t in json_text()) {
                match (Document::parse(&t), Document::parse_root(&t)) {
                    (Ok(doc), Ok((format, root))) => {
                        prop_assert_eq!(doc.format, format);
                        prop_assert_eq!(doc.root, root);
                    }
                    (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                    (a, b) => prop_assert!(false, "{:?} / {:?}", a, b),
                }
            }
        }

        #[test]
        fn a_repeated_name_keeps_its_first_place_and_last_value() {
            let n = Node::Map(vec![
                ("A".into(), Node::Text("1".into())),
                ("B".into(), Node::Null),
                ("A".into(), Node::Text("2".into())),
            ]);
            assert_eq!(n.to_json_text(), r#"{"A":"2","B":null}"#);
            let many: Vec<(String, Node)> = (0..20)
                .map(|i| (format!("K{}", i % 19), Node::Text(i.to_string())))
                .collect();
            let n = Node::List(vec![Node::Map(many)]);
            assert_eq!(n.to_json_text(), n.to_json_value().to_string());
            assert!(n.to_json_text().contains(r#""K0":"19""#));
        }
    }
}
