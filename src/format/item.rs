//! Items as the engine keeps them: encoded once, when the item is written, and shared from
//! then on by the live table, the log and every table file.
//!
//! A [`StoredItem`] is one allocation holding the item's DynamoDB size and its canonical
//! encoding — the codec's encoding of an `Item` (`codec.rs`), so log records and table
//! files keep the byte layout they had when items were decoded into maps:
//!
//! ```text
//! 0  size  u32 LE   the item's DynamoDB size (names and values, `item_size`)
//! 4  item           count:varint (name:string value)*count, names strictly increasing
//!
//! string / bytes := len:varint [u8; len]
//! value          := tag:u8 body (codec.rs draws the bodies)
//! ```
//!
//! Why bytes and not a map: a map per item costs about ten times the item's size in
//! allocations (a B-tree node for two attributes), every load decodes and every snapshot or
//! backup re-encodes. Kept as bytes, an item costs its encoding plus a pointer, a load
//! checks the bytes instead of building maps, and a table file is written by copying them.
//! Reads decode the items they return, which they cloned before.
//!
//! Bytes from disk are untrusted: [`StoredItem`]'s `Decode` checks everything the codec's
//! `Item` decode checks (tags, lengths against the decode limit, UTF-8, numbers, nesting)
//! and also that names and set members are strictly increasing, so a stored item's bytes
//! are exactly the encoding of the item they decode to and its size is that item's size.
//! That is what lets [`StoredItem::decode`] trust them.

use std::ops::Range;
use std::sync::Arc;

use bincode::de::read::Reader;
use bincode::de::Decoder;
use bincode::enc::write::Writer;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};

use crate::error::{Error, Result};
use crate::format::codec;
use crate::model::key::{EncodedKey, KeyRole, StoredKeyValue};
use crate::model::number::Number;
use crate::model::schema::KeyShape;
use crate::model::value::{item_size, AttributeValue, Item, MAX_NESTING_DEPTH};

/// Bytes before the encoding: the size.
const SIZE_LEN: usize = 4;

/// The most a thread's encoding buffer keeps between items ([`StoredItem::new`]).
const SCRATCH_KEPT: usize = 16 * 1024;

/// Where the values of up to two named top-level attributes are in a stored item's bytes.
type ValueSpans = [Option<Range<usize>>; 2];

/// An item as stored: its size and canonical encoding in one shared allocation.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct StoredItem(Arc<[u8]>);

impl StoredItem {
    /// Encodes `item` (which the write path has validated).
    pub fn new(item: &Item) -> StoredItem {
        // Encoded into a buffer the thread keeps, then copied into the one allocation the
        // item keeps: a `Vec` of its own would be grown while encoding and then copied into
        // the `Arc` anyway, three allocator calls per item instead of one.
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        SCRATCH.with_borrow_mut(|bytes| {
            bytes.clear();
            bytes.extend_from_slice(&(item_size(item) as u32).to_le_bytes()); // size
            codec::encode_into(item, bytes); // item
            let stored = StoredItem(Arc::from(&bytes[..]));
            // (An item of up to 400 KB leaves no buffer of its size behind.)
            bytes.shrink_to(SCRATCH_KEPT);
            stored
        })
    }

    /// The stored item of `encoding`, what `codec::encode_into` made of a validated item
    /// of DynamoDB size `size` (an import encodes its items before it sorts them).
    pub fn encoded(size: u32, encoding: &[u8]) -> StoredItem {
        let mut bytes = Vec::with_capacity(SIZE_LEN + encoding.len());
        bytes.extend_from_slice(&size.to_le_bytes()); // size
        bytes.extend_from_slice(encoding); // item
        StoredItem(bytes.into())
    }

    /// The item's DynamoDB size.
    pub fn size(&self) -> usize {
        u32::from_le_bytes([self.0[0], self.0[1], self.0[2], self.0[3]]) as usize
    }

    /// The item's encoding (what the log and table files hold).
    pub fn encoding(&self) -> &[u8] {
        &self.0[SIZE_LEN..]
    }

    /// The item.
    pub fn decode(&self) -> Item {
        match codec::decode::<Item>(self.encoding(), "stored item") {
            Ok(item) => item,
            // Every StoredItem is made by `new` from an item or by `Decode`, which checks
            // what the codec's decode checks (the tests below hold the two to that).
            Err(e) => unreachable!("a stored item's bytes were checked when stored: {e}"),
        }
    }

    /// The item [`scan`] found: its bytes are exactly a checked item's encoding.
    #[cfg(test)]
    pub fn from_scan(scanned: &Scanned) -> StoredItem {
        StoredItem::encoded(scanned.size, scanned.encoding)
    }

    /// Reads one item from the front of untrusted `bytes` (a table file's items) and encodes
    /// its key with `key`. Returns the item, its key and the bytes it took.
    pub fn read_keyed(bytes: &[u8], key: &KeyShape) -> Result<(StoredItem, EncodedKey, usize)> {
        let corrupt = |e: DecodeError| Error::Corruption(format!("cannot decode item: {e}"));
        let mut decoder =
            bincode::de::DecoderImpl::new(Cursor { bytes, at: 0 }, codec::config(), ());
        let names = [
            Some(key.partition().name.as_str()),
            key.sort().map(|r| r.name.as_str()),
        ];
        let (item, spans) = StoredItem::transcode(&mut decoder, names).map_err(corrupt)?;
        let used = decoder.reader().at;
        let value = |span: &Option<Range<usize>>| -> Result<Option<AttributeValue>> {
            span.clone()
                .map(|span| codec::decode(&item.0[span], "key attribute"))
                .transpose()
        };
        let encoded = key.encode_values(
            value(&spans[0])?.as_ref(),
            value(&spans[1])?.as_ref(),
            KeyRole::Table,
        )?;
        Ok((item, encoded, used))
    }

    /// Reads an item from `decoder`, checking it, into its canonical bytes; also returns
    /// where the values of the top-level attributes `names` are in them.
    fn transcode<D: Decoder>(
        decoder: &mut D,
        names: [Option<&str>; 2],
    ) -> std::result::Result<(StoredItem, ValueSpans), DecodeError> {
        thread_local! {
            // NB: the walk's output is copied into the item's own allocation once its length
            // is known; reusing this buffer saves an allocation per item on every load.
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        SCRATCH.with_borrow_mut(|out| {
            let item = StoredItem::walk_item(decoder, names, out);
            if out.capacity() > 1 << 20 {
                // Do not keep a large (or hostile) item's buffer for the thread's life.
                *out = Vec::new();
            }
            item
        })
    }

    /// The body of [`StoredItem::transcode`], writing into `out`.
    fn walk_item<D: Decoder>(
        decoder: &mut D,
        names: [Option<&str>; 2],
        out: &mut Vec<u8>,
    ) -> std::result::Result<(StoredItem, ValueSpans), DecodeError> {
        {
            out.clear();
            out.extend_from_slice(&[0; SIZE_LEN]);
            let mut walk = Walk { decoder, out };
            let mut spans = [None, None];
            let count = walk.len::<(String, AttributeValue)>()?;
            let mut size = 0;
            let mut previous: Option<Range<usize>> = None;
            for _ in 0..count {
                let name = walk.bytes(true)?;
                walk.check_increasing(&mut previous, name.clone())?;
                let start = walk.out.len();
                size += name.len() + walk.value(1)?;
                for (span, wanted) in spans.iter_mut().zip(names) {
                    if wanted.is_some_and(|w| w.as_bytes() == &walk.out[name.clone()]) {
                        *span = Some(start..walk.out.len());
                    }
                }
                walk.element_read::<(String, AttributeValue)>();
            }
            let size =
                u32::try_from(size).map_err(|_| DecodeError::Other("item size overflows"))?;
            out[..SIZE_LEN].copy_from_slice(&size.to_le_bytes());
            Ok((StoredItem(Arc::from(&out[..])), spans))
        }
    }
}

/// What [`scan`] finds of an item.
#[derive(Debug)]
pub(crate) struct Scanned<'a> {
    /// The item's encoding.
    pub encoding: &'a [u8],
    /// Its DynamoDB size.
    pub size: u32,
    /// The values of the top-level attributes asked for.
    pub values: [Option<StoredKeyValue<'a>>; 2],
    /// What its containers would claim of the decode limit, all at once (see [`scan`]).
    pub claims: usize,
}

/// Finds the extent, DynamoDB size and the values of the top-level attributes `names` of
/// the item at the front of `bytes`, without copying or allocating: for a build that copies
/// items as they are (`storage/replay.rs`), where the full read costs an allocation and a
/// copy per item. It checks everything the full read checks (tags, lengths, UTF-8, numbers,
/// nesting, strictly increasing names and set members) and also that every length is
/// written canonically, so the bytes it accepts are exactly the encoding the full read
/// would store (its size and these bytes). `None` for anything else, canonical or not;
/// the caller then reads the bytes fully, which says what is wrong (or stores them
/// canonically).
pub(crate) fn scan<'a>(bytes: &'a [u8], names: [Option<&str>; 2]) -> Option<Scanned<'a>> {
    let mut scanner = Scanner::new(bytes);
    let mut values = [None, None];
    let mut size = 0usize;
    let mut previous: Option<&[u8]> = None;
    for _ in 0..scanner.container::<(String, AttributeValue)>()? {
        let name = scanner.string()?;
        increasing(&mut previous, name)?;
        let start = scanner.at;
        size += name.len() + scanner.value(1)?;
        for (value, wanted) in values.iter_mut().zip(names) {
            if wanted.is_some_and(|w| w.as_bytes() == name) {
                let mut at = Scanner::new(bytes);
                at.at = start;
                *value = at.key_value();
            }
        }
    }
    // NB: the full read checks each container's length against the decode limit and gives
    // an element's share back once it is read; the scan asks more, that the item's bytes
    // and every container's claim fit at once, so what it accepts the full read accepts
    // (an item DynamoDB allows is far below it; anything else is left to the full read).
    if scanner.at.saturating_add(scanner.claims) > codec::MAX_DECODE_BYTES {
        return None;
    }
    Some(Scanned {
        encoding: &bytes[..scanner.at],
        size: u32::try_from(size).ok()?,
        values,
        claims: scanner.claims,
    })
}

/// Names in a map and members of a set must be strictly increasing (see `Walk`).
fn increasing<'a>(previous: &mut Option<&'a [u8]>, current: &'a [u8]) -> Option<()> {
    match previous.replace(current) {
        Some(previous) if previous >= current => None,
        _ => Some(()),
    }
}

/// A position in bytes laid out by the codec, read without copying: [`scan`]'s, and a log
/// record's for a build that reads only its table's writes (`format/mutation.rs`).
pub(crate) struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The decode limit the containers read so far would claim, all at once.
    pub claims: usize,
}

impl<'a> Scanner<'a> {
    /// At the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Scanner<'a> {
        Scanner {
            bytes,
            at: 0,
            claims: 0,
        }
    }

    /// A container's length, counting its claim on the decode limit as `T`s.
    pub fn container<T>(&mut self) -> Option<usize> {
        let len = self.len()?;
        let claim = len.checked_mul(std::mem::size_of::<T>())?;
        self.claims = self.claims.checked_add(claim)?;
        Some(len)
    }

    /// Whether every byte has been read.
    pub fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// A checked item ([`scan`]) at the position.
    pub fn item(&mut self) -> Option<Scanned<'a>> {
        let scanned = scan(&self.bytes[self.at..], [None, None])?;
        self.at += scanned.encoding.len();
        self.claims = self.claims.checked_add(scanned.claims)?;
        Some(scanned)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let taken = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(taken)
    }

    /// One byte.
    pub fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    /// A length, written as the codec writes it (see [`put_varint`]) and in no longer form.
    pub fn len(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok()
    }

    /// An unsigned integer, written as the codec writes it (see [`put_varint`]) and in no
    /// longer form.
    pub fn varint(&mut self) -> Option<u64> {
        let (n, least) = match self.byte()? {
            small @ 0..=250 => (u64::from(small), 0),
            251 => (
                u64::from(u16::from_le_bytes(self.take(2)?.try_into().ok()?)),
                251,
            ),
            252 => (
                u64::from(u32::from_le_bytes(self.take(4)?.try_into().ok()?)),
                1 << 16,
            ),
            253 => (u64::from_le_bytes(self.take(8)?.try_into().ok()?), 1 << 32),
            _ => return None,
        };
        if n < least {
            return None;
        }
        Some(n)
    }

    /// A length-prefixed byte string.
    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.len()?;
        self.take(len)
    }

    /// A length-prefixed UTF-8 string's bytes.
    pub fn string(&mut self) -> Option<&'a [u8]> {
        self.bytes().filter(|b| std::str::from_utf8(b).is_ok())
    }

    /// A number's ordered encoding and its DynamoDB size.
    fn number(&mut self) -> Option<(&'a [u8], usize)> {
        let bytes = self.bytes()?;
        match Number::decode_ordered(bytes) {
            Ok((n, used)) if used == bytes.len() => Some((bytes, n.size_bytes())),
            _ => None,
        }
    }

    /// A scalar value that can be a key's, as a key encodes it.
    fn key_value(&mut self) -> Option<StoredKeyValue<'a>> {
        match self.byte()? {
            codec::TAG_S => self.string().map(StoredKeyValue::S),
            codec::TAG_N => self.number().map(|(n, _)| StoredKeyValue::N(n)),
            codec::TAG_B => self.bytes().map(StoredKeyValue::B),
            _ => None,
        }
    }

    /// Checks and skips one value at nesting `depth`; returns its size (as `Walk::value`).
    fn value(&mut self, depth: usize) -> Option<usize> {
        if depth > MAX_NESTING_DEPTH {
            return None;
        }
        let tag = self.byte()?;
        let mut previous = None;
        Some(match tag {
            codec::TAG_S => self.string()?.len(),
            codec::TAG_B => self.bytes()?.len(),
            codec::TAG_N => self.number()?.1,
            codec::TAG_BOOL => match self.byte()? {
                0 | 1 => 1,
                _ => return None,
            },
            codec::TAG_NULL => 1,
            codec::TAG_L => {
                let mut size = 3;
                for _ in 0..self.container::<AttributeValue>()? {
                    size += 1 + self.value(depth + 1)?;
                }
                size
            }
            codec::TAG_M => {
                let mut size = 3;
                for _ in 0..self.container::<(String, AttributeValue)>()? {
                    let name = self.string()?;
                    increasing(&mut previous, name)?;
                    size += 1 + name.len() + self.value(depth + 1)?;
                }
                size
            }
            codec::TAG_SS | codec::TAG_BS => {
                let mut size = 0;
                for _ in 0..self.container::<Vec<u8>>()? {
                    let member = match tag {
                        codec::TAG_SS => self.string()?,
                        _ => self.bytes()?,
                    };
                    increasing(&mut previous, member)?;
                    size += member.len();
                }
                size
            }
            codec::TAG_NS => {
                let mut size = 0;
                for _ in 0..self.container::<Number>()? {
                    let (member, member_size) = self.number()?;
                    increasing(&mut previous, member)?;
                    size += member_size;
                }
                size
            }
            _ => return None,
        })
    }
}

/// Writes the encoding as it is: the same bytes an `Item` encodes to.
impl Encode for StoredItem {
    fn encode<E: Encoder>(&self, encoder: &mut E) -> std::result::Result<(), EncodeError> {
        encoder.writer().write(self.encoding())
    }
}

/// Reads an `Item`'s encoding, checked, without building the item.
impl<Context> Decode<Context> for StoredItem {
    fn decode<D: Decoder<Context = Context>>(
        decoder: &mut D,
    ) -> std::result::Result<Self, DecodeError> {
        StoredItem::transcode(decoder, [None, None]).map(|(item, _)| item)
    }
}

bincode::impl_borrow_decode!(StoredItem);

impl std::fmt::Debug for StoredItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.decode().fmt(f)
    }
}

/// One pass over an encoded item: checks each part as it reads it and copies it to `out`.
struct Walk<'d, D> {
    decoder: &'d mut D,
    out: &'d mut Vec<u8>,
}

impl<D: Decoder> Walk<'_, D> {
    /// A length prefix, checked against the decode limit as `T`s before anything is read.
    fn len<T>(&mut self) -> std::result::Result<usize, DecodeError> {
        let len = u64::decode(self.decoder)?;
        let len = usize::try_from(len).map_err(|_| DecodeError::Other("length overflows"))?;
        self.decoder.claim_container_read::<T>(len)?;
        put_varint(self.out, len as u64);
        Ok(len)
    }

    /// Gives back the claim `len` made for one element once it is read, as the codec's
    /// container decodes do: the limit bounds what is held at once, not what a whole log
    /// record's items add up to (else an acknowledged batch of wide items could not be
    /// read back).
    fn element_read<T>(&mut self) {
        self.decoder.unclaim_bytes_read(std::mem::size_of::<T>());
    }

    /// A string (`utf8`) or byte string; returns where its bytes are in `out`.
    fn bytes(&mut self, utf8: bool) -> std::result::Result<Range<usize>, DecodeError> {
        let len = self.len::<u8>()?;
        let start = self.out.len();
        self.out.resize(start + len, 0);
        self.decoder.reader().read(&mut self.out[start..])?;
        if utf8 && std::str::from_utf8(&self.out[start..]).is_err() {
            return Err(DecodeError::Other("string is not UTF-8"));
        }
        Ok(start..start + len)
    }

    /// A number's ordered encoding; returns its DynamoDB size.
    fn number(&mut self) -> std::result::Result<(Range<usize>, usize), DecodeError> {
        let span = self.bytes(false)?;
        match Number::decode_ordered(&self.out[span.clone()]) {
            Ok((n, used)) if used == span.len() => Ok((span, n.size_bytes())),
            _ => Err(DecodeError::Other("invalid number encoding")),
        }
    }

    /// Names in a map and members of a set must be strictly increasing (as a map or set
    /// writes them), so the bytes are the one encoding of what they decode to.
    fn check_increasing(
        &self,
        previous: &mut Option<Range<usize>>,
        current: Range<usize>,
    ) -> std::result::Result<(), DecodeError> {
        if let Some(previous) = previous.replace(current.clone()) {
            if self.out[previous] >= self.out[current] {
                return Err(DecodeError::Other(
                    "map names or set members out of order or repeated",
                ));
            }
        }
        Ok(())
    }

    /// One value at nesting `depth` (1 = an attribute of the item); returns its size.
    fn value(&mut self, depth: usize) -> std::result::Result<usize, DecodeError> {
        if depth > MAX_NESTING_DEPTH {
            return Err(DecodeError::Other(
                "attribute values nested deeper than 32 levels",
            ));
        }
        let tag = u8::decode(self.decoder)?;
        self.out.push(tag);
        let mut previous = None;
        Ok(match tag {
            codec::TAG_S => self.bytes(true)?.len(),
            codec::TAG_N => self.number()?.1,
            codec::TAG_B => self.bytes(false)?.len(),
            codec::TAG_BOOL => {
                let b = u8::decode(self.decoder)?;
                if b > 1 {
                    return Err(DecodeError::Other("invalid boolean"));
                }
                self.out.push(b);
                1
            }
            codec::TAG_NULL => 1,
            codec::TAG_L => {
                let mut size = 3;
                for _ in 0..self.len::<AttributeValue>()? {
                    size += 1 + self.value(depth + 1)?;
                    self.element_read::<AttributeValue>();
                }
                size
            }
            codec::TAG_M => {
                let mut size = 3;
                for _ in 0..self.len::<(String, AttributeValue)>()? {
                    let name = self.bytes(true)?;
                    self.check_increasing(&mut previous, name.clone())?;
                    size += 1 + name.len() + self.value(depth + 1)?;
                    self.element_read::<(String, AttributeValue)>();
                }
                size
            }
            codec::TAG_SS | codec::TAG_BS => {
                let mut size = 0;
                for _ in 0..self.len::<Vec<u8>>()? {
                    let member = self.bytes(tag == codec::TAG_SS)?;
                    self.check_increasing(&mut previous, member.clone())?;
                    size += member.len();
                    self.element_read::<Vec<u8>>();
                }
                size
            }
            codec::TAG_NS => {
                let mut size = 0;
                for _ in 0..self.len::<Number>()? {
                    let (member, member_size) = self.number()?;
                    self.check_increasing(&mut previous, member)?;
                    size += member_size;
                    self.element_read::<Number>();
                }
                size
            }
            _ => return Err(DecodeError::Other("unknown attribute value tag")),
        })
    }
}

/// A reader over a slice that knows how far it has read (bincode's own does not say).
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader for Cursor<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::result::Result<(), DecodeError> {
        let end = self.at + out.len();
        let bytes = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| DecodeError::UnexpectedEnd {
                additional: end.saturating_sub(self.bytes.len()),
            })?;
        out.copy_from_slice(bytes);
        self.at = end;
        Ok(())
    }
}

/// Appends `n` as the codec writes a length: one byte below 251, else a marker byte and
/// 2, 4 or 8 bytes little-endian.
fn put_varint(out: &mut Vec<u8>, n: u64) {
    if n < 251 {
        out.push(n as u8);
    } else if let Ok(n) = u16::try_from(n) {
        out.push(251);
        out.extend_from_slice(&n.to_le_bytes());
    } else if let Ok(n) = u32::try_from(n) {
        out.push(252);
        out.extend_from_slice(&n.to_le_bytes());
    } else {
        out.push(253);
        out.extend_from_slice(&n.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::schema::{KeyAttribute, ScalarAttributeType};
    use proptest::prelude::*;

    fn sample() -> Item {
        serde_json::from_str(
            r#"{"s":{"S":"x"},"n":{"N":"-1.5e-3"},"b":{"B":"AAE="},"t":{"BOOL":true},"z":{"NULL":true},
                "l":{"L":[{"S":"a"},{"L":[]}]},"m":{"M":{"k":{"N":"7"},"j":{"S":"é"}}},"ss":{"SS":["a","b"]},
                "ns":{"NS":["1","-2","1e100"]},"bs":{"BS":["AA==","AQ=="]}}"#,
        )
        .expect("valid sample")
    }

    fn read(bytes: &[u8]) -> Result<StoredItem> {
        codec::decode::<StoredItem>(bytes, "test")
    }

    #[test]
    fn varints_are_written_as_the_codec_writes_them() {
        for n in [
            0u64,
            250,
            251,
            255,
            65_535,
            65_536,
            u32::MAX as u64,
            1 << 40,
        ] {
            let mut ours = Vec::new();
            put_varint(&mut ours, n);
            assert_eq!(ours, codec::encode(&n), "{n}");
        }
    }

    #[test]
    fn a_stored_item_is_the_codec_encoding_of_its_item_and_knows_its_size() {
        let item = sample();
        let stored = StoredItem::new(&item);
        assert_eq!(stored.encoding(), codec::encode(&item).as_slice());
        assert_eq!(stored.size(), item_size(&item));
        assert_eq!(stored.decode(), item);
        let read = read(stored.encoding()).expect("reads back");
        assert_eq!(read, stored);
        assert_eq!(codec::encode(&read), codec::encode(&item));
    }

    #[test]
    fn repeated_or_unordered_names_and_members_are_corruption() {
        // A map with "a" twice, as a hostile file could hold it.
        let mut twice = Vec::new();
        put_varint(&mut twice, 2);
        for _ in 0..2 {
            codec::encode_into(&"a".to_owned(), &mut twice);
            codec::encode_into(&AttributeValue::Null, &mut twice);
        }
        assert!(
            codec::decode::<Item>(&twice, "t").is_ok(),
            "the map decode dedups"
        );
        assert!(matches!(read(&twice), Err(Error::Corruption(_))));
        // A string set whose members are out of order.
        let mut set = Vec::new();
        put_varint(&mut set, 1);
        codec::encode_into(&"s".to_owned(), &mut set);
        set.push(codec::TAG_SS);
        put_varint(&mut set, 2);
        codec::encode_into(&"b".to_owned(), &mut set);
        codec::encode_into(&"a".to_owned(), &mut set);
        assert!(matches!(read(&set), Err(Error::Corruption(_))));
    }

    #[test]
    fn truncated_or_corrupted_encodings_are_refused_or_read_exactly() {
        let bytes = codec::encode(&sample());
        for cut in 0..bytes.len() {
            assert!(read(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        // Every single-byte change is refused or gives an item that encodes to those bytes.
        for at in 0..bytes.len() {
            for flip in [1u8, 0x80, 0xFF] {
                let mut bad = bytes.clone();
                bad[at] ^= flip;
                let codec_item = codec::decode::<Item>(&bad, "t");
                if let Ok(stored) = read(&bad) {
                    let item = codec_item.expect("the codec reads what the walk reads");
                    assert_eq!(stored.encoding(), codec::encode(&item).as_slice());
                    assert_eq!(stored.size(), item_size(&item));
                }
            }
        }
    }

    #[test]
    fn read_keyed_finds_the_key_and_checks_it() {
        let shape = KeyShape::simple(
            KeyAttribute {
                name: "s".into(),
                ty: ScalarAttributeType::S,
            },
            Some(KeyAttribute {
                name: "n".into(),
                ty: ScalarAttributeType::N,
            }),
        );
        let item = sample();
        let mut bytes = codec::encode(&item);
        let len = bytes.len();
        bytes.extend_from_slice(b"next");
        let (stored, key, used) = StoredItem::read_keyed(&bytes, &shape).expect("reads");
        assert_eq!(used, len);
        assert_eq!(stored.decode(), item);
        assert_eq!(key, shape.encode(&item, KeyRole::Table).expect("key"));
        let wrong_type = KeyShape::simple(
            KeyAttribute {
                name: "n".into(),
                ty: ScalarAttributeType::S,
            },
            None,
        );
        assert!(StoredItem::read_keyed(&bytes, &wrong_type).is_err());
    }

    /// One log record holding `count` items of 400 KB made of the smallest parts `shape`
    /// gives, encoded and read back as recovery reads it.
    fn batch_of_wide_items_reads_back(count: usize, shape: fn(usize) -> Item) {
        use crate::format::mutation::{ItemWrite, Mutation};
        let writes = (0..count)
            .map(|i| ItemWrite {
                table_id: "t".into(),
                key: vec![i as u8],
                item: Some(StoredItem::new(&shape(i))),
            })
            .collect();
        let bytes = codec::encode(&Mutation::Write(writes));
        let read = codec::decode::<Mutation>(&bytes, "record");
        assert!(read.is_ok(), "{count} wide items: {:?}", read.err());
    }

    #[test]
    fn a_batch_of_items_with_the_most_attributes_dynamodb_allows_reads_back() {
        // Short names with empty strings: about 133k attributes per 400 KB item. The
        // decode limit once added up every attribute's claim over the whole record, so a
        // few such items (acknowledged in one batch) made the log unreadable.
        batch_of_wide_items_reads_back(6, |_| {
            (0..133_000u32)
                .map(|a| (format!("{a:x}"), AttributeValue::S(String::new())))
                .collect()
        });
    }

    #[test]
    fn a_batch_of_items_with_the_longest_lists_reads_back() {
        batch_of_wide_items_reads_back(4, |_| {
            let list = vec![AttributeValue::S(String::new()); 300_000];
            Item::from([("l".to_string(), AttributeValue::L(list))])
        });
    }

    fn number() -> impl Strategy<Value = Number> {
        (any::<i64>(), -140i32..140)
            .prop_filter_map("in range", |(m, e)| Number::parse(&format!("{m}e{e}")).ok())
    }

    /// Values of every type, nested up to four deep, small enough to be edited byte by byte.
    fn value() -> impl Strategy<Value = AttributeValue> {
        use proptest::collection::{btree_map, btree_set, vec};
        let leaf = prop_oneof![
            "[a-c\u{e9}]{0,3}".prop_map(AttributeValue::S),
            number().prop_map(AttributeValue::N),
            vec(any::<u8>(), 0..3).prop_map(AttributeValue::B),
            any::<bool>().prop_map(AttributeValue::Bool),
            Just(AttributeValue::Null),
            btree_set("[a-c]{0,2}", 0..3).prop_map(AttributeValue::Ss),
            btree_set(number(), 0..3).prop_map(AttributeValue::Ns),
            btree_set(vec(any::<u8>(), 0..2), 0..3).prop_map(AttributeValue::Bs),
        ];
        leaf.prop_recursive(4, 16, 3, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..3).prop_map(AttributeValue::L),
                btree_map("[a-c]{0,2}", inner, 0..3).prop_map(AttributeValue::M),
            ]
        })
    }

    /// What the walk accepts, the codec reads to the item whose encoding and size it kept.
    fn walk_agrees_with_the_codec(bytes: &[u8]) -> std::result::Result<(), TestCaseError> {
        if let Ok(stored) = read(bytes) {
            let item = codec::decode::<Item>(bytes, "t")
                .map_err(|e| TestCaseError::fail(format!("walk ok, codec {e}: {bytes:02x?}")))?;
            let encoded = codec::encode(&item);
            prop_assert_eq!(stored.encoding(), encoded.as_slice());
            prop_assert_eq!(stored.size(), item_size(&item));
            prop_assert_eq!(stored.decode(), item);
        }
        Ok(())
    }

    #[test]
    fn a_non_canonical_length_is_read_and_stored_canonically() {
        // A count of 1 written in the two-byte form.
        let mut bytes = vec![251, 1, 0];
        codec::encode_into(&"a".to_owned(), &mut bytes);
        bytes.push(codec::TAG_NULL);
        let stored = read(&bytes).expect("walk");
        let item = codec::decode::<Item>(&bytes, "t").expect("codec");
        assert_eq!(stored.encoding(), codec::encode(&item).as_slice());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn any_edit_of_an_encoded_item_is_refused_or_read_as_the_codec_reads_it(
            item in proptest::collection::btree_map("[a-c]{0,2}", value(), 0..4),
            edits in proptest::collection::vec(
                (any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 0..4),
        ) {
            let mut bytes = codec::encode(&item);
            walk_agrees_with_the_codec(&bytes)?;
            for (at, byte, edit) in edits {
                if bytes.is_empty() {
                    break;
                }
                let i = at.index(bytes.len());
                match edit {
                    0 => bytes[i] = byte,
                    1 => bytes[i] ^= 1 << (byte % 8),
                    2 => {
                        bytes.remove(i);
                    }
                    _ => bytes.insert(i, byte),
                }
                walk_agrees_with_the_codec(&bytes)?;
                // The scan a build copies items by reads anything without panicking, and
                // accepts only what the full read stores as the very same bytes.
                let scanned = scan(&bytes, [Some("h"), None]);
                match (scanned, read_one(&bytes)) {
                    (Some(scanned), Ok((read, used))) => {
                        prop_assert_eq!(scanned.encoding.len(), used);
                        prop_assert_eq!(StoredItem::from_scan(&scanned), read);
                    }
                    // What the scan accepts, the full read accepts as the same bytes.
                    (Some(_), Err(e)) => prop_assert!(false, "scanned, but the read says {}", e),
                    _ => {}
                }
            }
        }

        /// The scan finds what the full read finds: the item's extent, its size and its
        /// key, for keys of every type.
        #[test]
        fn scanning_an_item_finds_its_extent_size_and_key_as_reading_it_does(
            item in proptest::collection::btree_map("[a-c]{0,2}", value(), 0..4),
            hash in key_value(),
            range in proptest::option::of(key_value()),
            trailing in proptest::collection::vec(any::<u8>(), 0..4),
        ) {
            let mut item = item;
            let shape = KeyShape::simple(KeyAttribute { name: "h".into(), ty: type_of(&hash) }, range.as_ref().map(|r| KeyAttribute { name: "r".into(), ty: type_of(r) }));
            item.insert("h".into(), hash);
            if let Some(range) = range {
                item.insert("r".into(), range);
            }
            let mut bytes = codec::encode(&item);
            let len = bytes.len();
            bytes.extend(trailing);
            let scanned = scan(&bytes, [Some("h"), Some("r")]).expect("scans");
            prop_assert_eq!(scanned.encoding, &bytes[..len]);
            prop_assert_eq!(scanned.size as usize, item_size(&item));
            let mut key = vec![7];
            prop_assert!(shape.encode_stored_into(scanned.values[0], scanned.values[1], &mut key));
            let (_, expected, used) = StoredItem::read_keyed(&bytes, &shape).expect("reads");
            prop_assert_eq!(used, len);
            prop_assert_eq!(&key[1..], expected.as_slice());
        }
    }

    #[test]
    fn the_scan_refuses_what_the_decode_limit_refuses() {
        let mut item = Item::new();
        item.insert("pk".into(), AttributeValue::s("a"));
        item.insert(
            "l".into(),
            AttributeValue::L(vec![AttributeValue::Null; 2_000_000]),
        );
        let bytes = codec::encode(&item);
        let shape = KeyShape::simple(
            KeyAttribute {
                name: "pk".into(),
                ty: ScalarAttributeType::S,
            },
            None,
        );
        assert!(StoredItem::read_keyed(&bytes, &shape).is_err());
        assert!(scan(&bytes, [Some("pk"), None]).is_none());
    }

    fn key_value() -> impl Strategy<Value = AttributeValue> {
        prop_oneof![
            "[a\\x00\u{e9}]{1,4}".prop_map(AttributeValue::S),
            number().prop_map(AttributeValue::N),
            proptest::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 1..4)
                .prop_map(AttributeValue::B),
        ]
    }

    fn type_of(value: &AttributeValue) -> ScalarAttributeType {
        match value {
            AttributeValue::S(_) => ScalarAttributeType::S,
            AttributeValue::N(_) => ScalarAttributeType::N,
            _ => ScalarAttributeType::B,
        }
    }

    /// The item at the front of `bytes`, read fully, and the bytes it took.
    fn read_one(bytes: &[u8]) -> Result<(StoredItem, usize)> {
        let mut decoder =
            bincode::de::DecoderImpl::new(Cursor { bytes, at: 0 }, codec::config(), ());
        let (item, _) = StoredItem::transcode(&mut decoder, [None, None])
            .map_err(|e| Error::Corruption(e.to_string()))?;
        Ok((item, decoder.reader().at))
    }
}
