//! Attribute values and items: DynamoDB's data model.
//!
//! An [`Item`] is a map from attribute names to [`AttributeValue`]s; it is a `BTreeMap` rather
//! than a `HashMap` so that every item has one canonical order, which makes encodings (the log,
//! snapshots, backups) byte-identical for identical states.
//!
//! Values serialize with serde to DynamoDB JSON, the wire format of the service and the AWS CLI:
//!
//! ```
//! use tidestore::{AttributeValue, Item};
//! let item: Item = serde_json::from_str(r#"{"Artist": {"S": "No One You Know"}, "Year": {"N": "1985"}}"#).unwrap();
//! assert_eq!(item["Year"], AttributeValue::number(1985));
//! assert_eq!(serde_json::to_string(&item["Artist"]).unwrap(), r#"{"S":"No One You Know"}"#);
//! ```
//!
//! Sets are `BTreeSet`s: duplicates cannot be represented. Every constructor of a set
//! ([`AttributeValue::ss`], [`AttributeValue::ns`], [`AttributeValue::bs`]) and every parse of
//! DynamoDB JSON ([`AttributeValue::from_json`], [`ItemExt::from_json`], serde) refuses an
//! empty set or a member given twice with DynamoDB's `ValidationException`. An empty set built
//! through the enum's variants is refused by [`validate_item`] before any write.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
pub use crate::model::number::Number;

/// An item: attribute names mapped to values, in name order.
pub type Item = BTreeMap<String, AttributeValue>;

/// The largest item DynamoDB stores: 400 KB, counted as 409,600 bytes of names and values.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;
/// The longest partition key value, in bytes.
pub const MAX_PARTITION_KEY_SIZE: usize = 2048;

/// The longest attribute name DynamoDB takes, in UTF-8 bytes: 64 KB less one.
pub const MAX_ATTRIBUTE_NAME_BYTES: usize = 65535;
/// The longest sort key value, in bytes.
pub const MAX_SORT_KEY_SIZE: usize = 1024;
/// The deepest nesting of lists and maps DynamoDB accepts.
pub const MAX_NESTING_DEPTH: usize = 32;

/// One DynamoDB attribute value, of one of the ten data types.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttributeValue {
    /// String (`S`): UTF-8 text.
    S(String),
    /// Number (`N`): up to 38 significant digits, compared numerically.
    N(Number),
    /// Binary (`B`): raw bytes (base64 in DynamoDB JSON).
    B(Vec<u8>),
    /// Boolean (`BOOL`).
    Bool(bool),
    /// Null (`NULL`).
    Null,
    /// List (`L`): an ordered list of values of any types.
    L(Vec<AttributeValue>),
    /// Map (`M`): named values of any types.
    M(BTreeMap<String, AttributeValue>),
    /// String set (`SS`).
    Ss(BTreeSet<String>),
    /// Number set (`NS`).
    Ns(BTreeSet<Number>),
    /// Binary set (`BS`).
    Bs(BTreeSet<Vec<u8>>),
}

/// The data type of a value, as DynamoDB names it (`attribute_type` takes one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ValueType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
    /// Boolean.
    #[serde(rename = "BOOL")]
    Bool,
    /// Null.
    #[serde(rename = "NULL")]
    Null,
    /// List.
    L,
    /// Map.
    M,
    /// String set.
    #[serde(rename = "SS")]
    Ss,
    /// Number set.
    #[serde(rename = "NS")]
    Ns,
    /// Binary set.
    #[serde(rename = "BS")]
    Bs,
}

impl ValueType {
    /// DynamoDB's name of the type: `"S"`, `"N"`, `"BOOL"`, `"SS"`, …
    pub fn name(self) -> &'static str {
        match self {
            ValueType::S => "S",
            ValueType::N => "N",
            ValueType::B => "B",
            ValueType::Bool => "BOOL",
            ValueType::Null => "NULL",
            ValueType::L => "L",
            ValueType::M => "M",
            ValueType::Ss => "SS",
            ValueType::Ns => "NS",
            ValueType::Bs => "BS",
        }
    }

    /// Parses DynamoDB's name of a type (the argument of `attribute_type`).
    pub fn from_name(name: &str) -> Option<ValueType> {
        Some(match name {
            "S" => ValueType::S,
            "N" => ValueType::N,
            "B" => ValueType::B,
            "BOOL" => ValueType::Bool,
            "NULL" => ValueType::Null,
            "L" => ValueType::L,
            "M" => ValueType::M,
            "SS" => ValueType::Ss,
            "NS" => ValueType::Ns,
            "BS" => ValueType::Bs,
            _ => return None,
        })
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl AttributeValue {
    /// A string value.
    pub fn s(s: impl Into<String>) -> AttributeValue {
        AttributeValue::S(s.into())
    }

    /// A number value from an integer.
    pub fn number(n: i64) -> AttributeValue {
        AttributeValue::N(Number::from(n))
    }

    /// A number value parsed from DynamoDB's decimal text (`"1.5"`, `"-2e10"`); malformed or
    /// out-of-range text is a `ValidationException`.
    pub fn n(text: &str) -> Result<AttributeValue> {
        Ok(AttributeValue::N(parse_number(text)?))
    }

    /// A binary value.
    pub fn b(bytes: impl Into<Vec<u8>>) -> AttributeValue {
        AttributeValue::B(bytes.into())
    }

    /// A string set. No members, or a member given twice, is DynamoDB's
    /// `ValidationException`, as the service answers such a set.
    ///
    /// ```
    /// use tidestore::AttributeValue;
    /// assert!(AttributeValue::ss(["Rock", "Jazz"]).is_ok());
    /// let twice = AttributeValue::ss(["Rock", "Rock"]).unwrap_err();
    /// assert_eq!(twice.exception_name(), "ValidationException");
    /// ```
    pub fn ss<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Result<AttributeValue> {
        let members = items.into_iter().map(Into::into).collect();
        collect_set(ValueType::Ss, members, String::clone).map(AttributeValue::Ss)
    }

    /// A number set, with the errors of [`AttributeValue::ss`] (`1` and `1.0` are the same
    /// number).
    pub fn ns<I: IntoIterator<Item = N>, N: Into<Number>>(items: I) -> Result<AttributeValue> {
        let members = items.into_iter().map(Into::into).collect();
        collect_set(ValueType::Ns, members, Number::to_string).map(AttributeValue::Ns)
    }

    /// A binary set, with the errors of [`AttributeValue::ss`].
    pub fn bs<I: IntoIterator<Item = B>, B: Into<Vec<u8>>>(items: I) -> Result<AttributeValue> {
        let members = items.into_iter().map(Into::into).collect();
        let base64 = |b: &Vec<u8>| base64_engine().encode(b);
        collect_set(ValueType::Bs, members, base64).map(AttributeValue::Bs)
    }

    /// Parses one value of DynamoDB JSON (`{"SS": ["a", "b"]}`), refusing what DynamoDB
    /// refuses with its `ValidationException` and message (an empty set, a set member given
    /// twice, a malformed number, …), where serde would give a `serde_json::Error`.
    ///
    /// ```
    /// use tidestore::AttributeValue;
    /// let tags = AttributeValue::from_json(r#"{"SS": ["Rock", "Jazz"]}"#)?;
    /// assert_eq!(tags, AttributeValue::ss(["Jazz", "Rock"])?);
    /// let twice = AttributeValue::from_json(r#"{"SS": ["Rock", "Rock"]}"#).unwrap_err();
    /// assert_eq!(
    ///     twice.to_string(),
    ///     "ValidationException: One or more parameter values were invalid: Input collection [Rock, Rock] contains duplicates."
    /// );
    /// # Ok::<(), tidestore::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<AttributeValue> {
        parse_json(text)
    }

    /// The value's data type.
    pub fn value_type(&self) -> ValueType {
        match self {
            AttributeValue::S(_) => ValueType::S,
            AttributeValue::N(_) => ValueType::N,
            AttributeValue::B(_) => ValueType::B,
            AttributeValue::Bool(_) => ValueType::Bool,
            AttributeValue::Null => ValueType::Null,
            AttributeValue::L(_) => ValueType::L,
            AttributeValue::M(_) => ValueType::M,
            AttributeValue::Ss(_) => ValueType::Ss,
            AttributeValue::Ns(_) => ValueType::Ns,
            AttributeValue::Bs(_) => ValueType::Bs,
        }
    }

    /// The string, if this is an `S`.
    pub fn as_s(&self) -> Option<&str> {
        match self {
            AttributeValue::S(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is an `N`.
    pub fn as_n(&self) -> Option<&Number> {
        match self {
            AttributeValue::N(n) => Some(n),
            _ => None,
        }
    }

    /// The bytes, if this is a `B`.
    pub fn as_b(&self) -> Option<&[u8]> {
        match self {
            AttributeValue::B(b) => Some(b),
            _ => None,
        }
    }

    /// The value's size as DynamoDB counts it toward the 400 KB item limit (without the
    /// attribute name): strings and binaries by their bytes, numbers about one byte per two
    /// significant digits plus one, booleans and nulls one byte, lists and maps three bytes
    /// plus one byte per element plus the elements (and, for maps, their names), sets the
    /// sum of their elements.
    pub fn size(&self) -> usize {
        match self {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => n.size_bytes(),
            AttributeValue::B(b) => b.len(),
            AttributeValue::Bool(_) | AttributeValue::Null => 1,
            AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + v.size()).sum::<usize>(),
            AttributeValue::M(map) => {
                3 + map
                    .iter()
                    .map(|(k, v)| 1 + k.len() + v.size())
                    .sum::<usize>()
            }
            AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
            AttributeValue::Ns(set) => set.iter().map(Number::size_bytes).sum(),
            AttributeValue::Bs(set) => set.iter().map(Vec::len).sum(),
        }
    }
}

impl From<&str> for AttributeValue {
    fn from(s: &str) -> AttributeValue {
        AttributeValue::S(s.to_owned())
    }
}

impl From<String> for AttributeValue {
    fn from(s: String) -> AttributeValue {
        AttributeValue::S(s)
    }
}

impl From<Number> for AttributeValue {
    fn from(n: Number) -> AttributeValue {
        AttributeValue::N(n)
    }
}

impl From<bool> for AttributeValue {
    fn from(b: bool) -> AttributeValue {
        AttributeValue::Bool(b)
    }
}

/// `From` for the integer types [`Number`] holds exactly: each is an `N`, so
/// `Condition::eq("Year", 1985)` and `item.with("Plays", 0u64)` need no
/// `AttributeValue::number`.
macro_rules! integers {
    ($($int:ty),*) => {$(
        impl From<$int> for AttributeValue {
            fn from(v: $int) -> AttributeValue {
                AttributeValue::N(Number::from(v))
            }
        }
    )*};
}
integers!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

/// An `N` holding the float's shortest decimal, or DynamoDB's `ValidationException` for NaN,
/// the infinities and magnitudes out of DynamoDB's range (see [`Number`]'s `TryFrom<f64>`).
///
/// ```
/// use tidestore::AttributeValue;
/// assert_eq!(AttributeValue::try_from(2.5)?, AttributeValue::n("2.5")?);
/// let error = AttributeValue::try_from(f64::INFINITY).unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "ValidationException: The parameter cannot be converted to a numeric value: Infinity"
/// );
/// # Ok::<(), tidestore::Error>(())
/// ```
impl TryFrom<f64> for AttributeValue {
    type Error = Error;
    fn try_from(v: f64) -> Result<AttributeValue> {
        Number::try_from(v)
            .map(AttributeValue::N)
            .map_err(Error::validation)
    }
}

impl TryFrom<f32> for AttributeValue {
    type Error = Error;
    fn try_from(v: f32) -> Result<AttributeValue> {
        Number::try_from(v)
            .map(AttributeValue::N)
            .map_err(Error::validation)
    }
}

/// Parses a number, turning a malformed or out-of-range one into a `ValidationException`.
pub(crate) fn parse_number(text: &str) -> Result<Number> {
    Number::parse(text).map_err(Error::validation)
}

/// What [`Item`] can do beyond its `BTreeMap`: build one from names and values, and parse
/// DynamoDB JSON into `tidestore::Error`s. `Item` is a type alias, so these are a trait's;
/// `use tidestore::ItemExt` brings them in.
pub trait ItemExt: Sized {
    /// An item (or key) from `(name, value)` pairs; a name given twice keeps its last value.
    ///
    /// ```
    /// use tidestore::{AttributeValue, Item, ItemExt};
    /// let key = Item::from_pairs([("Artist", "No One You Know"), ("SongTitle", "Call Me Today")]);
    /// assert_eq!(key["Artist"], AttributeValue::s("No One You Know"));
    /// ```
    fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<AttributeValue>;

    /// The item with attribute `name` set to `value`: a builder for items whose values are of
    /// different types.
    ///
    /// ```
    /// use tidestore::{AttributeValue, Item, ItemExt};
    /// let song = Item::new()
    ///     .with("Artist", "No One You Know")
    ///     .with("Year", 2015)
    ///     .with("Genres", AttributeValue::ss(["Country", "Pop"])?);
    /// assert_eq!(song["Year"], AttributeValue::n("2015")?);
    /// # Ok::<(), tidestore::Error>(())
    /// ```
    #[must_use]
    fn with(self, name: impl Into<String>, value: impl Into<AttributeValue>) -> Self;

    /// Parses an item (or key) of DynamoDB JSON, refusing what DynamoDB refuses with its
    /// `ValidationException` and message, as [`AttributeValue::from_json`] does.
    ///
    /// ```
    /// use tidestore::{Item, ItemExt};
    /// let song = Item::from_json(r#"{"Artist": {"S": "No One You Know"}, "Tags": {"NS": []}}"#);
    /// assert_eq!(
    ///     song.unwrap_err().to_string(),
    ///     "ValidationException: One or more parameter values were invalid: An number set  may not be empty"
    /// );
    /// ```
    fn from_json(text: &str) -> Result<Self>;
}

impl ItemExt for Item {
    fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Item
    where
        K: Into<String>,
        V: Into<AttributeValue>,
    {
        pairs
            .into_iter()
            .map(|(name, value)| (name.into(), value.into()))
            .collect()
    }

    fn with(mut self, name: impl Into<String>, value: impl Into<AttributeValue>) -> Item {
        self.insert(name.into(), value.into());
        self
    }

    fn from_json(text: &str) -> Result<Item> {
        parse_json(text)
    }
}

/// Parses DynamoDB JSON through a `serde_json::Value`: what a `Value` fails to deserialize
/// carries no line and column, so the message is DynamoDB's alone.
fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(Error::validation)?;
    serde_json::from_value(value).map_err(Error::validation)
}

/// DynamoDB's `ValidationException` for an empty set of type `ty` (the double space is the
/// service's).
fn empty_set(ty: ValueType) -> Error {
    Error::validation(match ty {
        ValueType::Ss => {
            "One or more parameter values were invalid: An string set  may not be empty"
        }
        ValueType::Ns => {
            "One or more parameter values were invalid: An number set  may not be empty"
        }
        _ => "One or more parameter values were invalid: Binary sets should not be empty",
    })
}

/// A set of type `ty` from its members as given, refused as DynamoDB refuses it: with no
/// members, or with a member twice (worded per type as the service words it, listing the
/// members as given, shown by `show`). Every way of making a set goes through here.
pub(crate) fn collect_set<T: Ord>(
    ty: ValueType,
    members: Vec<T>,
    show: impl Fn(&T) -> String,
) -> Result<BTreeSet<T>> {
    if members.is_empty() {
        return Err(empty_set(ty));
    }
    let mut seen = BTreeSet::new();
    if members.iter().all(|m| seen.insert(m)) {
        return Ok(members.into_iter().collect());
    }
    let listed = members.iter().map(show).collect::<Vec<_>>().join(", ");
    let invalid = "One or more parameter values were invalid";
    Err(Error::validation(match ty {
        ValueType::Ss => format!("{invalid}: Input collection [{listed}] contains duplicates."),
        ValueType::Ns => "Input collection contains duplicates".to_owned(),
        _ => format!("{invalid}: Input collection [{listed}]of type BS contains duplicates."),
    }))
}

/// The size of an item as DynamoDB counts it: the sum over attributes of the name's UTF-8
/// bytes plus the value's [`AttributeValue::size`].
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value.size())
        .sum()
}

/// Checks what DynamoDB checks of every item it stores: attribute names are not empty and
/// at most 64 KB, sets are not empty, nesting is at most 32 deep and the item is at most
/// 400 KB. Key attributes are checked by the table's schema, not here.
pub fn validate_item(item: &Item) -> Result<()> {
    for (name, value) in item {
        validate_name_and_value(name, value, 1)?;
    }
    let size = item_size(item);
    if size > MAX_ITEM_SIZE {
        return Err(Error::validation(format!(
            "Item size has exceeded the maximum allowed size of {MAX_ITEM_SIZE} bytes (this item is {size} bytes)"
        )));
    }
    Ok(())
}

/// Checks one value (and its name when it is in a map) at nesting `depth` (1 = top level).
pub(crate) fn validate_name_and_value(
    name: &str,
    value: &AttributeValue,
    depth: usize,
) -> Result<()> {
    if name.is_empty() {
        return Err(Error::validation(
            "One or more parameter values were invalid: An attribute name cannot be empty",
        ));
    }
    check_attribute_name_size(name)?;
    validate_value(value, depth)
}

/// Refuses an attribute name longer than [`MAX_ATTRIBUTE_NAME_BYTES`], wherever a request names
/// one: in an item, an `ExpressionAttributeNames` value or `AttributesToGet`. DynamoDB checks
/// this before it reads any expression, so a condition on such a name fails as invalid rather
/// than as false, and a projection of it fails rather than returning nothing.
pub(crate) fn check_attribute_name_size(name: &str) -> Result<()> {
    if name.len() > MAX_ATTRIBUTE_NAME_BYTES {
        // DynamoDB's wording: it names the first length refused, not the last one allowed.
        return Err(Error::validation(
            "1 validation error detected: Attribute name is too large, must be less than 65536 bytes",
        ));
    }
    Ok(())
}

/// Checks one value at nesting `depth`: sets not empty, nesting within the limit.
pub(crate) fn validate_value(value: &AttributeValue, depth: usize) -> Result<()> {
    if depth > MAX_NESTING_DEPTH {
        // DynamoDB's wording, whatever the depth: clients match on it.
        return Err(Error::validation(
            "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit",
        ));
    }
    let empty = match value {
        AttributeValue::Ss(s) => s.is_empty(),
        AttributeValue::Ns(s) => s.is_empty(),
        AttributeValue::Bs(s) => s.is_empty(),
        AttributeValue::L(list) => {
            for v in list {
                validate_value(v, depth + 1)?;
            }
            false
        }
        AttributeValue::M(map) => {
            for (k, v) in map {
                validate_name_and_value(k, v, depth + 1)?;
            }
            false
        }
        _ => false,
    };
    match empty {
        true => Err(empty_set(value.value_type())),
        false => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// DynamoDB JSON
// ---------------------------------------------------------------------------------------------

fn base64_engine() -> &'static base64::engine::GeneralPurpose {
    &base64::engine::general_purpose::STANDARD
}

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        struct Base64<'a>(&'a [u8]);
        impl Serialize for Base64<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(&base64_engine().encode(self.0))
            }
        }
        struct Strings<'a, T: fmt::Display>(&'a BTreeSet<T>);
        impl<T: fmt::Display> Serialize for Strings<'_, T> {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter().map(|n| n.to_string()))
            }
        }
        struct Binaries<'a>(&'a BTreeSet<Vec<u8>>);
        impl Serialize for Binaries<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter().map(|b| Base64(b)))
            }
        }

        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            AttributeValue::S(s) => map.serialize_entry("S", s)?,
            AttributeValue::N(n) => map.serialize_entry("N", &n.to_string())?,
            AttributeValue::B(b) => map.serialize_entry("B", &Base64(b))?,
            AttributeValue::Bool(b) => map.serialize_entry("BOOL", b)?,
            AttributeValue::Null => map.serialize_entry("NULL", &true)?,
            AttributeValue::L(l) => map.serialize_entry("L", l)?,
            AttributeValue::M(m) => map.serialize_entry("M", m)?,
            AttributeValue::Ss(s) => map.serialize_entry("SS", s)?,
            AttributeValue::Ns(s) => map.serialize_entry("NS", &Strings(s))?,
            AttributeValue::Bs(s) => map.serialize_entry("BS", &Binaries(s))?,
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_map(AttributeValueVisitor)
    }
}

struct AttributeValueVisitor;

impl<'de> Visitor<'de> for AttributeValueVisitor {
    type Value = AttributeValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a DynamoDB AttributeValue: an object with exactly one of S, N, B, BOOL, NULL, L, M, SS, NS, BS")
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<AttributeValue, A::Error> {
        let Some(tag) = map.next_key::<String>()? else {
            return Err(de::Error::custom(
                "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
            ));
        };
        let value = match tag.as_str() {
            "S" => AttributeValue::S(map.next_value()?),
            "N" => {
                let text: String = map.next_value()?;
                AttributeValue::N(Number::parse(&text).map_err(de::Error::custom)?)
            }
            "B" => AttributeValue::B(decode_base64(&map.next_value::<String>()?)?),
            "BOOL" => AttributeValue::Bool(map.next_value()?),
            "NULL" => {
                if !map.next_value::<bool>()? {
                    return Err(de::Error::custom(
                        "One or more parameter values were invalid: Null attribute value types must have the value of true",
                    ));
                }
                AttributeValue::Null
            }
            "L" => AttributeValue::L(map.next_value()?),
            "M" => AttributeValue::M(map.next_value()?),
            "SS" => AttributeValue::ss(map.next_value::<Vec<String>>()?).map_err(de_error)?,
            "NS" => {
                let texts: Vec<String> = map.next_value()?;
                let numbers = texts
                    .iter()
                    .map(|t| Number::parse(t).map_err(de::Error::custom))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                AttributeValue::ns(numbers).map_err(de_error)?
            }
            "BS" => {
                let texts: Vec<String> = map.next_value()?;
                let bytes = texts
                    .iter()
                    .map(|t| decode_base64(t))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                AttributeValue::bs(bytes).map_err(de_error)?
            }
            other => {
                return Err(de::Error::custom(format!(
                    "Supplied AttributeValue has an unknown data type {other:?}; expected one of S, N, B, BOOL, NULL, L, M, SS, NS, BS"
                )))
            }
        };
        if map.next_key::<String>()?.is_some() {
            return Err(de::Error::custom(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
            ));
        }
        Ok(value)
    }
}

fn decode_base64<E: de::Error>(text: &str) -> std::result::Result<Vec<u8>, E> {
    base64_engine()
        .decode(text)
        .map_err(|e| E::custom(format!("Invalid base64 in binary value: {e}")))
}

/// A serde error with the message of a `ValidationException` (without its name, which the
/// error's `Display` adds).
fn de_error<E: de::Error>(error: Error) -> E {
    match error {
        Error::Validation(message) => E::custom(message),
        other => E::custom(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(json: &str) -> Item {
        serde_json::from_str(json).expect("valid DynamoDB JSON")
    }

    #[test]
    fn dynamodb_json_roundtrips_every_type() {
        let json = r#"{"b":{"B":"AAEC"},"bool":{"BOOL":true},"bs":{"BS":["AA==","AQ=="]},"l":{"L":[{"S":"x"},{"N":"1"}]},"m":{"M":{"k":{"NULL":true}}},"n":{"N":"-1.5"},"ns":{"NS":["1","2.5"]},"null":{"NULL":true},"s":{"S":"text"},"ss":{"SS":["a","b"]}}"#;
        let parsed = item(json);
        assert_eq!(parsed["b"], AttributeValue::B(vec![0, 1, 2]));
        assert_eq!(serde_json::to_string(&parsed).expect("serializes"), json);
    }

    #[test]
    fn dynamodb_json_rejects_malformed_values() {
        for bad in [
            r#"{}"#,
            r#"{"S":"a","N":"1"}"#,
            r#"{"X":"a"}"#,
            r#"{"NULL":false}"#,
            r#"{"N":"abc"}"#,
            r#"{"SS":["a","a"]}"#,
            r#"{"NS":["1","1.0"]}"#,
            r#"{"B":"***"}"#,
        ] {
            assert!(
                serde_json::from_str::<AttributeValue>(bad).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn item_size_counts_names_and_values_as_dynamodb_does() {
        let it =
            item(r#"{"ab":{"S":"xyz"},"c":{"BOOL":true},"l":{"L":[{"S":"a"},{"NULL":true}]}}"#);
        // "ab"+"xyz" = 5; "c"+1 = 2; "l" + 3 + (1+1) + (1+1) = 8
        assert_eq!(item_size(&it), 15);
    }

    #[test]
    fn empty_sets_and_deep_nesting_are_rejected() {
        let mut it = Item::new();
        it.insert("s".into(), AttributeValue::Ss(BTreeSet::new()));
        assert!(matches!(validate_item(&it), Err(Error::Validation(_))));

        let mut deep = AttributeValue::Null;
        for _ in 0..MAX_NESTING_DEPTH {
            deep = AttributeValue::L(vec![deep]);
        }
        let mut it = Item::new();
        it.insert("d".into(), deep);
        assert!(matches!(validate_item(&it), Err(Error::Validation(_))));
    }

    #[test]
    fn item_at_the_size_limit_is_accepted_and_one_byte_more_is_rejected() {
        let mut it = Item::new();
        it.insert("a".into(), AttributeValue::S("x".repeat(MAX_ITEM_SIZE - 1)));
        assert!(validate_item(&it).is_ok());
        it.insert("a".into(), AttributeValue::S("x".repeat(MAX_ITEM_SIZE)));
        assert!(matches!(validate_item(&it), Err(Error::Validation(_))));
    }
}
