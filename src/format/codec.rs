//! The one place values become bytes: bincode 2 (standard configuration: little-endian,
//! variable-length integers) with a size limit on every decode, plus CRC-32C.
//!
//! Every on-disk format (log records, snapshots, the catalog, backups) encodes its payloads
//! through [`encode`] and decodes them through [`decode`], so the codec can be swapped by
//! changing this file. Decoding is total: hostile bytes give `Error::Corruption`, never a
//! panic, and never an allocation larger than [`MAX_DECODE_BYTES`] (bincode checks every
//! length prefix against the limit before it allocates, and [`decode_value`] bounds the
//! nesting depth so hostile lists cannot exhaust the stack).
//!
//! Attribute values are encoded by hand rather than derived, to bound recursion:
//!
//! ```text
//! value := tag:u8 body
//!   0 S     string            5 L   len:varint value*len
//!   1 N     bytes (ordered)   6 M   len:varint (string value)*len
//!   2 B     bytes             7 SS  len:varint string*len
//!   3 BOOL  u8                8 NS  len:varint bytes*len
//!   4 NULL  —                 9 BS  len:varint bytes*len
//! ```
//! Numbers travel as their order-preserving encoding (`Number::encode_ordered`), which
//! `Number::decode_ordered` validates.

use std::collections::{BTreeMap, BTreeSet};

use bincode::config::{self, Configuration, LittleEndian, Varint};
use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};

use crate::error::{Error, Result};
use crate::model::number::Number;
use crate::model::value::{AttributeValue, MAX_NESTING_DEPTH};

/// The largest payload any decode accepts: above the largest log record (a 16 MB batch
/// write) with room for framing.
pub const MAX_DECODE_BYTES: usize = 32 * 1024 * 1024;

pub(crate) type Config = Configuration<LittleEndian, Varint, config::Limit<MAX_DECODE_BYTES>>;

pub(crate) fn config() -> Config {
    config::standard().with_limit::<MAX_DECODE_BYTES>()
}

/// Appends the encoding of `value` to `out`.
pub(crate) fn encode_into<T: Encode>(value: &T, out: &mut Vec<u8>) {
    // Encoding into a Vec fails only if an Encode impl fails, and ours do not.
    if let Err(e) = bincode::encode_into_std_write(value, out, config::standard()) {
        unreachable!("encoding into memory cannot fail: {e}");
    }
}

/// Writes the encoding of `value` to `out` piece by piece, never whole in memory: a hash of
/// a request of megabytes costs no buffer of its size.
pub(crate) fn encode_to<T: Encode>(value: &T, out: &mut impl std::io::Write) {
    // Our writers (hashers) cannot fail, and neither do our Encode impls.
    if let Err(e) = bincode::encode_into_std_write(value, out, config::standard()) {
        unreachable!("encoding into a hasher cannot fail: {e}");
    }
}

/// The encoding of `value`.
pub(crate) fn encode<T: Encode>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(value, &mut out);
    out
}

/// Decodes a `T` that must fill `bytes` exactly; anything else is corruption of `what`.
/// (`what` is formatted only on failure: decodes in a replay loop name their record.)
pub(crate) fn decode<T: Decode<()>>(bytes: &[u8], what: impl std::fmt::Display) -> Result<T> {
    let (value, used) = bincode::decode_from_slice::<T, _>(bytes, config())
        .map_err(|e| Error::Corruption(format!("{what}: cannot decode: {e}")))?;
    if used != bytes.len() {
        return Err(Error::Corruption(format!(
            "{what}: {} trailing bytes after the encoded value",
            bytes.len() - used
        )));
    }
    Ok(value)
}

/// CRC-32C of `bytes`.
pub(crate) fn crc(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
}

/// CRC-32C of `bytes` continuing from `crc` (to checksum several pieces as one).
pub(crate) fn crc_append(crc: u32, bytes: &[u8]) -> u32 {
    crc32c::crc32c_append(crc, bytes)
}

pub(crate) const TAG_S: u8 = 0;
pub(crate) const TAG_N: u8 = 1;
pub(crate) const TAG_B: u8 = 2;
pub(crate) const TAG_BOOL: u8 = 3;
pub(crate) const TAG_NULL: u8 = 4;
pub(crate) const TAG_L: u8 = 5;
pub(crate) const TAG_M: u8 = 6;
pub(crate) const TAG_SS: u8 = 7;
pub(crate) const TAG_NS: u8 = 8;
pub(crate) const TAG_BS: u8 = 9;

fn number_bytes(n: &Number) -> Vec<u8> {
    let mut out = Vec::with_capacity(21);
    n.encode_ordered(&mut out);
    out
}

fn decode_number<D: Decoder>(decoder: &mut D) -> Result<Number, DecodeError> {
    let bytes: Vec<u8> = Decode::decode(decoder)?;
    match Number::decode_ordered(&bytes) {
        Ok((n, used)) if used == bytes.len() => Ok(n),
        _ => Err(DecodeError::Other("invalid number encoding")),
    }
}

impl Encode for AttributeValue {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        match self {
            AttributeValue::S(s) => (TAG_S, s).encode(e),
            AttributeValue::N(n) => (TAG_N, number_bytes(n)).encode(e),
            AttributeValue::B(b) => (TAG_B, b).encode(e),
            AttributeValue::Bool(b) => (TAG_BOOL, b).encode(e),
            AttributeValue::Null => TAG_NULL.encode(e),
            AttributeValue::L(l) => (TAG_L, l).encode(e),
            AttributeValue::M(m) => (TAG_M, m).encode(e),
            AttributeValue::Ss(s) => (TAG_SS, s).encode(e),
            AttributeValue::Ns(s) => {
                TAG_NS.encode(e)?;
                (s.len() as u64).encode(e)?;
                s.iter().try_for_each(|n| number_bytes(n).encode(e))
            }
            AttributeValue::Bs(s) => (TAG_BS, s).encode(e),
        }
    }
}

/// Decodes a length prefix, checking it against the decode limit before any allocation.
/// Each element read gives its part of the claim back (`unclaim_bytes_read`), as bincode's
/// own containers do, so the limit bounds the largest container, not a record's total.
fn decode_len<T, D: Decoder>(decoder: &mut D) -> Result<usize, DecodeError> {
    let len = u64::decode(decoder)?;
    let len = usize::try_from(len).map_err(|_| DecodeError::Other("length overflows usize"))?;
    decoder.claim_container_read::<T>(len)?;
    Ok(len)
}

/// Decodes one value at nesting `depth` (1 = an item's attribute).
fn decode_value<D: Decoder>(decoder: &mut D, depth: usize) -> Result<AttributeValue, DecodeError> {
    if depth > MAX_NESTING_DEPTH {
        return Err(DecodeError::Other(
            "attribute values nested deeper than 32 levels",
        ));
    }
    Ok(match u8::decode(decoder)? {
        TAG_S => AttributeValue::S(Decode::decode(decoder)?),
        TAG_N => AttributeValue::N(decode_number(decoder)?),
        TAG_B => AttributeValue::B(Decode::decode(decoder)?),
        TAG_BOOL => AttributeValue::Bool(Decode::decode(decoder)?),
        TAG_NULL => AttributeValue::Null,
        TAG_L => {
            let len = decode_len::<AttributeValue, _>(decoder)?;
            let mut list = Vec::with_capacity(len.min(1024));
            for _ in 0..len {
                list.push(decode_value(decoder, depth + 1)?);
                decoder.unclaim_bytes_read(std::mem::size_of::<AttributeValue>());
            }
            AttributeValue::L(list)
        }
        TAG_M => {
            let len = decode_len::<(String, AttributeValue), _>(decoder)?;
            let mut map = BTreeMap::new();
            for _ in 0..len {
                let name: String = Decode::decode(decoder)?;
                map.insert(name, decode_value(decoder, depth + 1)?);
                decoder.unclaim_bytes_read(std::mem::size_of::<(String, AttributeValue)>());
            }
            AttributeValue::M(map)
        }
        TAG_SS => AttributeValue::Ss(Decode::decode(decoder)?),
        TAG_NS => {
            let len = decode_len::<Number, _>(decoder)?;
            let mut set = BTreeSet::new();
            for _ in 0..len {
                set.insert(decode_number(decoder)?);
                decoder.unclaim_bytes_read(std::mem::size_of::<Number>());
            }
            AttributeValue::Ns(set)
        }
        TAG_BS => AttributeValue::Bs(Decode::decode(decoder)?),
        _ => return Err(DecodeError::Other("unknown attribute value tag")),
    })
}

impl<Context> Decode<Context> for AttributeValue {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        decode_value(decoder, 1)
    }
}

bincode::impl_borrow_decode!(AttributeValue);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::value::Item;

    fn sample() -> Item {
        serde_json::from_str(
            r#"{"s":{"S":"x"},"n":{"N":"-1.5e-3"},"b":{"B":"AAE="},"t":{"BOOL":true},"z":{"NULL":true},
                "l":{"L":[{"S":"a"},{"L":[]}]},"m":{"M":{"k":{"N":"7"}}},"ss":{"SS":["a","b"]},
                "ns":{"NS":["1","1e100"]},"bs":{"BS":["AA=="]}}"#,
        )
        .expect("valid sample")
    }

    #[test]
    fn every_value_type_roundtrips() {
        let item = sample();
        let bytes = encode(&item);
        assert_eq!(decode::<Item>(&bytes, "test").expect("decodes"), item);
    }

    #[test]
    fn truncated_or_trailing_bytes_are_corruption() {
        let bytes = encode(&sample());
        for cut in 0..bytes.len() {
            assert!(matches!(
                decode::<Item>(&bytes[..cut], "t"),
                Err(Error::Corruption(_))
            ));
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            decode::<Item>(&longer, "t"),
            Err(Error::Corruption(_))
        ));
    }

    #[test]
    fn hostile_lengths_are_refused_before_allocating() {
        // A list claiming 2^60 elements, and a string claiming 2^40 bytes.
        let mut list = vec![TAG_L];
        encode_into(&(1u64 << 60), &mut list);
        assert!(decode::<AttributeValue>(&list, "t").is_err());
        let mut string = vec![TAG_S];
        encode_into(&(1u64 << 40), &mut string);
        assert!(decode::<AttributeValue>(&string, "t").is_err());
    }

    #[test]
    fn nesting_deeper_than_dynamodb_allows_is_refused_without_recursing_further() {
        let mut bytes = Vec::new();
        for _ in 0..100_000 {
            bytes.push(TAG_L);
            encode_into(&1u64, &mut bytes);
        }
        bytes.push(TAG_NULL);
        assert!(decode::<AttributeValue>(&bytes, "t").is_err());
    }
}
