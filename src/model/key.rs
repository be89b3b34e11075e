//! Primary and index keys, encoded as byte strings whose order is the order DynamoDB
//! defines.
//!
//! A live table is an ordered map from encoded key to item; an index is an ordered map from
//! encoded index key to the item's table key. The encoding:
//!
//! ```text
//! table key:  [ hash(pk) : u32 BE ][ enc(pk) ][ enc(sk) ]?
//! index key:  [ hash(enc(ipk1)..enc(ipkN)) : u32 BE ][ enc(ipk1) ]..[ enc(ipkN) ]
//!             [ enc(isk1) ]..[ enc(iskM) ][ table key ]        (1 ≤ N ≤ 4, 0 ≤ M ≤ 4)
//!
//! enc(S) / enc(B):  the bytes with 0x00 escaped as 0x00 0xFF, then the terminator 0x00 0x00
//! enc(N):           Number::encode_ordered (sign, exponent and digits; order-preserving)
//! ```
//!
//! Every `enc` is order-preserving and prefix-free, so concatenations compare field by field,
//! and a partition's items are one contiguous range. That is what makes a global index's
//! multi-attribute key (up to four partition and four sort attributes) one byte string:
//! its partition is every partition value, hashed together; its items sort by the first
//! sort value, then the second, and so on; and an equality on a prefix of the sort values is
//! a prefix of the bytes. A one-attribute key is the N = 1, M ≤ 1 case: the same bytes as
//! ever. Leading with a hash of the partition key
//! puts partitions in hash order, as DynamoDB does: a `Scan` segment is then one contiguous
//! hash range, and parallel scans split the work without reading each other's items.
//! The escape scheme also keeps prefixes: every string starting with `p` encodes to bytes
//! starting with the escaped `p` (without terminator), which is how `begins_with` becomes a
//! range.

use std::ops::Bound;

use crate::error::{Error, Result};
use crate::model::schema::{KeyAttribute, KeyShape};
use crate::model::value::{AttributeValue, Item, MAX_PARTITION_KEY_SIZE, MAX_SORT_KEY_SIZE};

/// An encoded table or index key.
pub(crate) type EncodedKey = Vec<u8>;

/// FNV-1a, 32 bits: a stable, dependency-free hash that spreads partitions over the key
/// space. Stability matters more than quality: scan order and segment membership derive
/// from it.
fn partition_hash(encoded_partition: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for &byte in encoded_partition {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// Appends the escaped bytes of a string or binary, without terminator.
fn escape_into(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
}

/// Appends the order-preserving, prefix-free encoding of a key value.
pub(crate) fn encode_value(value: &AttributeValue, out: &mut Vec<u8>) {
    match value {
        AttributeValue::S(s) => {
            escape_into(s.as_bytes(), out);
            out.extend_from_slice(&[0, 0]);
        }
        AttributeValue::B(b) => {
            escape_into(b, out);
            out.extend_from_slice(&[0, 0]);
        }
        AttributeValue::N(n) => n.encode_ordered(out),
        // Key values are checked to be S, N or B before they are encoded.
        other => unreachable!("key value of type {} passed validation", other.value_type()),
    }
}

/// The bytes every encoding of a string or binary that starts with `prefix` starts with.
pub(crate) fn encode_prefix(prefix: &AttributeValue, out: &mut Vec<u8>) {
    match prefix {
        AttributeValue::S(s) => escape_into(s.as_bytes(), out),
        AttributeValue::B(b) => escape_into(b, out),
        other => encode_value(other, out),
    }
}

/// The encoded partition: hash, then the partition key values in key-schema order (one for
/// a table). Every key of the partition starts with these bytes.
pub(crate) fn partition_prefix(partition_values: &[&AttributeValue]) -> EncodedKey {
    // One allocation, sized for the hash, the values with their terminators and a little
    // escaping, and a sort key after them: every write encodes its key through here, and a
    // buffer for the value alone, grown and then copied, was an allocation, a reallocation
    // and a free per write.
    let values_len: usize = (partition_values.iter())
        .map(|value| match value {
            AttributeValue::S(s) => s.len() + 8,
            AttributeValue::B(b) => b.len() + 8,
            _ => 24,
        })
        .sum();
    let mut out = Vec::with_capacity(4 + values_len + 24);
    out.extend_from_slice(&[0; 4]); // the partition's hash, once the values are encoded
    for value in partition_values {
        encode_value(value, &mut out);
    }
    let hash = partition_hash(&out[4..]);
    out[..4].copy_from_slice(&hash.to_be_bytes());
    out
}

/// The smallest byte string greater than every string that starts with `prefix`, or `None`
/// when there is none (the prefix is all 0xFF).
pub(crate) fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let end = prefix.iter().rposition(|&b| b != 0xFF)?;
    let mut successor = prefix[..=end].to_vec();
    successor[end] += 1;
    Some(successor)
}

/// The range of keys that start with `prefix`.
pub(crate) fn prefix_range(prefix: Vec<u8>) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let end = match prefix_successor(&prefix) {
        Some(successor) => Bound::Excluded(successor),
        None => Bound::Unbounded,
    };
    (Bound::Included(prefix), end)
}

/// The range of table keys in scan segment `segment` of `total`: a slice of hash space.
pub(crate) fn segment_range(segment: u32, total: u32) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let boundary = |s: u32| -> u64 { (u64::from(s) << 32) / u64::from(total) };
    let start = Bound::Included((boundary(segment) as u32).to_be_bytes().to_vec());
    let end = if segment + 1 >= total {
        Bound::Unbounded
    } else {
        Bound::Excluded((boundary(segment + 1) as u32).to_be_bytes().to_vec())
    };
    (start, end)
}

/// Which key of a shape a value is for, in error messages.
#[derive(Clone, Copy)]
pub(crate) enum KeyRole<'a> {
    Table,
    Index(&'a str),
}

/// Checks one key value: present, of the defined type, not empty, within its size limit.
fn check_key_value<'v>(
    attribute: &KeyAttribute,
    value: Option<&'v AttributeValue>,
    is_partition: bool,
    role: KeyRole,
) -> Result<&'v AttributeValue> {
    let name = &attribute.name;
    let value = value.ok_or_else(|| {
        Error::validation(format!(
            "One or more parameter values were invalid: Missing the key {name} in the item"
        ))
    })?;
    if !attribute.ty.matches(value) {
        return Err(Error::validation(match role {
            KeyRole::Table => format!(
                "One or more parameter values were invalid: Type mismatch for key {name} expected: {} actual: {}",
                attribute.ty.name(),
                value.value_type()
            ),
            KeyRole::Index(index) => format!(
                "One or more parameter values were invalid: Type mismatch for Index Key {name} Expected: {} Actual: {} IndexName: {index}",
                attribute.ty.name(),
                value.value_type()
            ),
        }));
    }
    let empty = match value {
        AttributeValue::S(s) => s.is_empty(),
        AttributeValue::B(b) => b.is_empty(),
        _ => false,
    };
    if empty {
        return Err(Error::validation(match role {
            KeyRole::Table => format!(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: {name}"
            ),
            KeyRole::Index(index) => format!(
                "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: {index}, IndexKey: {name}"
            ),
        }));
    }
    let limit = match is_partition {
        true => MAX_PARTITION_KEY_SIZE,
        false => MAX_SORT_KEY_SIZE,
    };
    let size = value.size();
    if size > limit {
        // DynamoDB's words, seen in its answers (the missing space in "of2048" is its own).
        return Err(Error::validation(match (role, is_partition) {
            (KeyRole::Table, true) => format!(
                "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of{limit} bytes"
            ),
            (KeyRole::Table, false) => format!(
                "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of {limit} bytes"
            ),
            (KeyRole::Index(index), _) => format!(
                "One or more parameter values were invalid: Size limit exceeded for Index Key {name} Actual Size: {size} bytes Max Size: {limit} bytes IndexName: {index}"
            ),
        }));
    }
    Ok(value)
}

/// A key attribute's value as a stored item's bytes hold it (`format/item.rs`): a string's
/// or binary's bytes, or a number's ordered encoding, which is also its key encoding.
#[derive(Clone, Copy, Debug)]
pub(crate) enum StoredKeyValue<'a> {
    S(&'a [u8]),
    N(&'a [u8]),
    B(&'a [u8]),
}

/// Appends the key encoding of a stored key value of `attribute`'s type; false if it is
/// missing, of another type, empty or longer than a key value may be (as
/// `check_key_value`; a number's size is far below either limit).
fn encode_stored(
    attribute: &KeyAttribute,
    value: Option<StoredKeyValue>,
    is_partition: bool,
    out: &mut Vec<u8>,
) -> bool {
    use crate::model::schema::ScalarAttributeType as T;
    let limit = match is_partition {
        true => MAX_PARTITION_KEY_SIZE,
        false => MAX_SORT_KEY_SIZE,
    };
    match (&attribute.ty, value) {
        (T::S, Some(StoredKeyValue::S(bytes))) | (T::B, Some(StoredKeyValue::B(bytes)))
            if !bytes.is_empty() && bytes.len() <= limit =>
        {
            escape_into(bytes, out);
            out.extend_from_slice(&[0, 0]);
            true
        }
        (T::N, Some(StoredKeyValue::N(ordered))) => {
            out.extend_from_slice(ordered);
            true
        }
        _ => false,
    }
}

impl KeyShape {
    /// Encodes a table key into `out` from its values as a stored item holds them, without
    /// decoding them: what [`KeyShape::encode_values`] makes of the decoded values, for a
    /// merge that copies items as they are. False if a value is missing, of the wrong type
    /// or empty (the caller then decodes the item, which says what is wrong).
    pub(crate) fn encode_stored_into(
        &self,
        hash: Option<StoredKeyValue>,
        range: Option<StoredKeyValue>,
        out: &mut Vec<u8>,
    ) -> bool {
        let start = out.len();
        out.extend_from_slice(&[0; 4]); // the partition's hash, once it is encoded
        if !encode_stored(self.partition(), hash, true, out) {
            return false;
        }
        let hash = partition_hash(&out[start + 4..]);
        out[start..start + 4].copy_from_slice(&hash.to_be_bytes());
        match self.sort() {
            Some(attribute) => encode_stored(attribute, range, false, out),
            None => true,
        }
    }

    /// The key attributes a table key encodes: the inverse of [`KeyShape::encode`], for a
    /// stream record's `Keys` (a delete logs its key, not its item). Bytes from the log
    /// are untrusted: anything `encode` cannot produce is `Error::Corruption`.
    pub(crate) fn decode(&self, key: &[u8]) -> Result<Item> {
        use crate::model::schema::ScalarAttributeType as T;
        let bad = || Error::Corruption(format!("a logged item key does not read: {key:02x?}"));
        let mut rest = key.get(4..).ok_or_else(bad)?;
        let mut item = Item::new();
        for attribute in self.attributes() {
            let value = match attribute.ty {
                T::N => {
                    let (n, used) =
                        crate::model::number::Number::decode_ordered(rest).map_err(|_| bad())?;
                    rest = &rest[used..];
                    AttributeValue::N(n)
                }
                T::S | T::B => {
                    let mut bytes = Vec::new();
                    loop {
                        match rest {
                            [0, 0, tail @ ..] => {
                                rest = tail;
                                break;
                            }
                            [0, 0xFF, tail @ ..] => {
                                bytes.push(0);
                                rest = tail;
                            }
                            [b, tail @ ..] if *b != 0 => {
                                bytes.push(*b);
                                rest = tail;
                            }
                            _ => return Err(bad()),
                        }
                    }
                    match attribute.ty {
                        T::S => AttributeValue::S(String::from_utf8(bytes).map_err(|_| bad())?),
                        _ => AttributeValue::B(bytes),
                    }
                }
            };
            item.insert(attribute.name.clone(), value);
        }
        if !rest.is_empty() || self.encode(&item, KeyRole::Table).ok().as_deref() != Some(key) {
            return Err(bad());
        }
        Ok(item)
    }

    /// Encodes the key of `item` (a whole item or a key-only map), checking each key value.
    pub(crate) fn encode(&self, item: &Item, role: KeyRole) -> Result<EncodedKey> {
        // As `partition_prefix` lays it out, without collecting the values first: every
        // write encodes its keys through here.
        let mut key = Vec::with_capacity(64);
        key.extend_from_slice(&[0; 4]); // the partition's hash, once the values are encoded
        for attribute in &self.hash {
            let value = check_key_value(attribute, item.get(&attribute.name), true, role)?;
            encode_value(value, &mut key);
        }
        let hash = partition_hash(&key[4..]);
        key[..4].copy_from_slice(&hash.to_be_bytes());
        for attribute in &self.range {
            let value = check_key_value(attribute, item.get(&attribute.name), false, role)?;
            encode_value(value, &mut key);
        }
        Ok(key)
    }

    /// Encodes a table key from its attributes' values (`None` where the item lacks one):
    /// [`KeyShape::encode`] for a one-attribute partition and sort key, without a map.
    pub(crate) fn encode_values(
        &self,
        hash: Option<&AttributeValue>,
        range: Option<&AttributeValue>,
        role: KeyRole,
    ) -> Result<EncodedKey> {
        let mut key = partition_prefix(&[check_key_value(self.partition(), hash, true, role)?]);
        if let Some(attribute) = self.sort() {
            encode_value(check_key_value(attribute, range, false, role)?, &mut key);
        }
        Ok(key)
    }

    /// The error for an empty string or binary value of a key attribute of `item`, if it
    /// has one: what a transaction refuses as a whole, before it looks at each action's
    /// key (see `Engine::transact_write_items`).
    pub(crate) fn reject_empty_values(&self, item: &Item) -> Result<()> {
        for attribute in self.attributes() {
            if let Some(value @ (AttributeValue::S(_) | AttributeValue::B(_))) =
                item.get(&attribute.name)
            {
                let is_partition = self.hash.iter().any(|a| a.name == attribute.name);
                if value.size() == 0 {
                    check_key_value(attribute, Some(value), is_partition, KeyRole::Table)?;
                }
            }
        }
        Ok(())
    }

    /// Encodes a `Key` parameter: exactly the key attributes, nothing else, as DynamoDB
    /// requires of `GetItem`, `DeleteItem` and `UpdateItem`.
    pub(crate) fn encode_exact(&self, key: &Item) -> Result<EncodedKey> {
        let expected = self.hash.len() + self.range.len();
        if key.len() != expected || self.attributes().any(|a| !key.contains_key(&a.name)) {
            return Err(Error::validation(
                "The provided key element does not match the schema",
            ));
        }
        self.encode(key, KeyRole::Table)
    }

    /// The index key of `item` followed by its table key, or `None` when the item lacks an
    /// index key attribute (indexes are sparse). A present index key attribute of the wrong
    /// type, or empty, is an error: DynamoDB rejects such writes.
    pub(crate) fn encode_index_entry(
        &self,
        index_name: &str,
        item: &Item,
        table_key: &[u8],
    ) -> Result<Option<EncodedKey>> {
        if self.attributes().any(|a| !item.contains_key(&a.name)) {
            // Not indexed, but the index key attributes the item does have must be valid.
            let partition = self.hash.iter().map(|a| (a, true));
            for (attribute, is_partition) in partition.chain(self.range.iter().map(|a| (a, false)))
            {
                if let Some(value) = item.get(&attribute.name) {
                    check_key_value(
                        attribute,
                        Some(value),
                        is_partition,
                        KeyRole::Index(index_name),
                    )?;
                }
            }
            return Ok(None);
        }
        let mut key = self.encode(item, KeyRole::Index(index_name))?;
        key.extend_from_slice(table_key);
        Ok(Some(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::schema::ScalarAttributeType;

    fn shape(ty: ScalarAttributeType) -> KeyShape {
        KeyShape::simple(
            KeyAttribute {
                name: "pk".into(),
                ty: ScalarAttributeType::S,
            },
            Some(KeyAttribute {
                name: "sk".into(),
                ty,
            }),
        )
    }

    fn key(shape: &KeyShape, pk: &str, sk: AttributeValue) -> Vec<u8> {
        let item: Item = [
            ("pk".to_string(), AttributeValue::s(pk)),
            ("sk".to_string(), sk),
        ]
        .into();
        shape.encode(&item, KeyRole::Table).expect("valid key")
    }

    /// A stream record's `Keys` come from the logged key: decoding gives back exactly the
    /// key attributes encoded, and bytes no encoding makes are corruption, not a panic.
    #[test]
    fn a_table_key_decodes_to_its_attributes_and_anything_else_is_refused() {
        let number = |n: &str| AttributeValue::N(n.parse().expect("number"));
        let cases = [
            (ScalarAttributeType::S, AttributeValue::s("a\0b\u{ff}")),
            (ScalarAttributeType::N, number("-1.5e-10")),
            (ScalarAttributeType::N, number("0")),
            (
                ScalarAttributeType::N,
                number("123456789012345678901234567890123456.78"),
            ),
            (
                ScalarAttributeType::B,
                AttributeValue::b(vec![0, 0, 255, 0, 1]),
            ),
        ];
        for (ty, sk) in cases {
            let shape = shape(ty);
            for pk in ["p", "\0", "ü\0\0x"] {
                let encoded = key(&shape, pk, sk.clone());
                let decoded = shape.decode(&encoded).expect("decodes");
                let expected: Item = [
                    ("pk".to_string(), AttributeValue::s(pk)),
                    ("sk".to_string(), sk.clone()),
                ]
                .into();
                assert_eq!(decoded, expected);
                for cut in 0..encoded.len() {
                    assert!(shape.decode(&encoded[..cut]).is_err(), "cut at {cut}");
                }
                let mut longer = encoded.clone();
                longer.push(1);
                assert!(shape.decode(&longer).is_err());
                let mut rehashed = encoded.clone();
                rehashed[0] ^= 1;
                assert!(shape.decode(&rehashed).is_err(), "a wrong partition hash");
            }
        }
    }

    #[test]
    fn sort_keys_of_a_partition_encode_in_dynamodb_order() {
        let s = shape(ScalarAttributeType::S);
        let strings = ["", "\0", "\0\0", "a", "a\0", "a\0b", "ab", "b", "\u{ff}"];
        let keys: Vec<_> = strings[1..]
            .iter()
            .map(|x| key(&s, "p", AttributeValue::s(*x)))
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));

        let n = shape(ScalarAttributeType::N);
        let numbers = [
            "-1e10", "-2", "-1.5", "0", "1e-5", "1", "1.5", "10", "1e100",
        ];
        let keys: Vec<_> = numbers
            .iter()
            .map(|x| key(&n, "p", AttributeValue::n(x).expect("number")))
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_partition_is_one_contiguous_prefix() {
        let s = shape(ScalarAttributeType::S);
        let prefix = partition_prefix(&[&AttributeValue::s("p")]);
        assert!(key(&s, "p", AttributeValue::s("x")).starts_with(&prefix));
        assert!(!key(&s, "p\0", AttributeValue::s("x")).starts_with(&prefix));
        assert!(!key(&s, "pq", AttributeValue::s("x")).starts_with(&prefix));
    }

    #[test]
    fn segments_tile_the_hash_space() {
        for total in [1u32, 2, 3, 7, 1000] {
            let mut previous_end: Option<Bound<Vec<u8>>> = None;
            for segment in 0..total {
                let (start, end) = segment_range(segment, total);
                if let Some(Bound::Excluded(e)) = &previous_end {
                    assert_eq!(start, Bound::Included(e.clone()));
                }
                previous_end = Some(end);
            }
            assert_eq!(previous_end, Some(Bound::Unbounded));
        }
    }

    #[test]
    fn prefix_successor_skips_trailing_ff() {
        assert_eq!(prefix_successor(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_successor(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xFF, 0xFF]), None);
    }

    #[test]
    fn key_values_are_checked_against_the_schema() {
        let s = shape(ScalarAttributeType::S);
        let missing: Item = [("pk".to_string(), AttributeValue::s("p"))].into();
        assert!(s.encode(&missing, KeyRole::Table).is_err());
        let wrong: Item = [
            ("pk".to_string(), AttributeValue::s("p")),
            ("sk".to_string(), AttributeValue::number(1)),
        ]
        .into();
        assert!(s.encode(&wrong, KeyRole::Table).is_err());
        let empty: Item = [
            ("pk".to_string(), AttributeValue::s("")),
            ("sk".to_string(), AttributeValue::s("x")),
        ]
        .into();
        assert!(s.encode(&empty, KeyRole::Table).is_err());
        let at_limit: Item = [
            (
                "pk".to_string(),
                AttributeValue::s("p".repeat(MAX_PARTITION_KEY_SIZE)),
            ),
            (
                "sk".to_string(),
                AttributeValue::s("s".repeat(MAX_SORT_KEY_SIZE)),
            ),
        ]
        .into();
        assert!(s.encode(&at_limit, KeyRole::Table).is_ok());
        let over: Item = [
            (
                "pk".to_string(),
                AttributeValue::s("p".repeat(MAX_PARTITION_KEY_SIZE + 1)),
            ),
            ("sk".to_string(), AttributeValue::s("s")),
        ]
        .into();
        assert!(s.encode(&over, KeyRole::Table).is_err());
        let over: Item = [
            ("pk".to_string(), AttributeValue::s("p")),
            (
                "sk".to_string(),
                AttributeValue::s("s".repeat(MAX_SORT_KEY_SIZE + 1)),
            ),
        ]
        .into();
        assert!(s.encode(&over, KeyRole::Table).is_err());
    }

    /// A multi-attribute index key: (g, c) partition, (t, r) sort.
    fn multi_shape() -> KeyShape {
        let attribute = |name: &str, ty| KeyAttribute {
            name: name.into(),
            ty,
        };
        KeyShape {
            hash: vec![
                attribute("g", ScalarAttributeType::S),
                attribute("c", ScalarAttributeType::S),
            ],
            range: vec![
                attribute("t", ScalarAttributeType::S),
                attribute("r", ScalarAttributeType::N),
            ],
        }
    }

    fn multi_key(g: &str, c: &str, t: &str, r: &str) -> Vec<u8> {
        let item: Item = [
            ("g".to_string(), AttributeValue::s(g)),
            ("c".to_string(), AttributeValue::s(c)),
            ("t".to_string(), AttributeValue::s(t)),
            ("r".to_string(), AttributeValue::n(r).expect("number")),
        ]
        .into();
        multi_shape()
            .encode(&item, KeyRole::Index("i"))
            .expect("valid key")
    }

    /// Within a partition, multi-attribute keys sort by the first sort attribute, then the
    /// second; a partition is every partition value, and its keys share one prefix that no
    /// other partition's keys start with — whatever bytes the values hold.
    #[test]
    fn multi_attribute_keys_sort_by_each_sort_attribute_in_turn_within_one_partition() {
        let tags = ["\0", "a", "a\0", "ab", "b"];
        let ranks = ["-10", "-1.5", "0", "2", "1e3"];
        let mut keys = Vec::new();
        for t in tags {
            for r in ranks {
                keys.push(multi_key("g", "c", t, r));
            }
        }
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "(t, r) order");
        let partition = partition_prefix(&[&AttributeValue::s("g"), &AttributeValue::s("c")]);
        assert!(keys.iter().all(|k| k.starts_with(&partition)));
        // The same bytes split otherwise between the partition values is another partition.
        for (g, c) in [("g\0", "c"), ("gc", "x"), ("g", "c\0"), ("c", "g")] {
            let other = multi_key(g, c, "a", "0");
            assert!(!other.starts_with(&partition), "({g:?}, {c:?})");
        }
        // An equality on the first sort attribute is a prefix of its keys.
        let mut with_a = partition.clone();
        encode_value(&AttributeValue::s("a"), &mut with_a);
        let under_a = keys.iter().filter(|k| k.starts_with(&with_a)).count();
        assert_eq!(under_a, ranks.len());
        let decoded = multi_shape().decode(&multi_key("g", "c", "a\0", "-1.5"));
        assert_eq!(decoded.expect("decodes").len(), 4);
    }

    /// A one-attribute key is the one-element case: the same bytes as the table-key path.
    #[test]
    fn a_one_attribute_key_encodes_as_the_table_key_values_do() {
        let s = shape(ScalarAttributeType::N);
        let (pk, sk) = (AttributeValue::s("p\0q"), AttributeValue::number(7));
        let item: Item = [
            ("pk".to_string(), pk.clone()),
            ("sk".to_string(), sk.clone()),
        ]
        .into();
        let by_values = s.encode_values(Some(&pk), Some(&sk), KeyRole::Table);
        assert_eq!(s.encode(&item, KeyRole::Table).ok(), by_values.ok());
    }
}
