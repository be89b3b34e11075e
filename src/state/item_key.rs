//! The key of a live table's map: an encoded table key, kept inside the map's node when it
//! is short.
//!
//! A `Vec<u8>` key costs an allocation per item and, worse, a pointer to follow at every
//! comparison of a search: on a table of a million items the searches of a load were
//! spent mostly waiting for those keys (`memcmp` on cold memory, half of a load's CPU in
//! `perf`). Most encoded keys are short (a 4-byte hash, the partition key's bytes and a
//! 2-byte terminator: 22 bytes for a 16-byte binary key), so they are stored inline, in
//! the 24 bytes a `Vec` would take; longer ones get a boxed slice.

use std::borrow::Borrow;
use std::cmp::Ordering;

/// Bytes stored inline: what fits beside the length and the variant's tag in 24 bytes.
const INLINE: usize = 22;

/// An encoded table key, inline when at most [`INLINE`] bytes long.
#[derive(Clone)]
pub(crate) enum ItemKey {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl ItemKey {
    /// The empty key, a placeholder that allocates nothing.
    pub const EMPTY: ItemKey = ItemKey::Inline {
        len: 0,
        bytes: [0; INLINE],
    };

    /// `key` as an inline key, if it is short enough to be one: a probe to search a map of
    /// keys by, so that the search compares with [`ItemKey::cmp`]'s fast path.
    pub fn inline(key: &[u8]) -> Option<ItemKey> {
        (key.len() <= INLINE).then(|| ItemKey::from(key))
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            ItemKey::Inline { len, bytes } => &bytes[..usize::from(*len)],
            ItemKey::Heap(bytes) => bytes,
        }
    }
}

impl From<&[u8]> for ItemKey {
    fn from(key: &[u8]) -> ItemKey {
        if key.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..key.len()].copy_from_slice(key);
            ItemKey::Inline {
                len: key.len() as u8,
                bytes,
            }
        } else {
            ItemKey::Heap(key.into())
        }
    }
}

impl From<Vec<u8>> for ItemKey {
    fn from(key: Vec<u8>) -> ItemKey {
        match key.len() <= INLINE {
            true => ItemKey::from(key.as_slice()),
            false => ItemKey::Heap(key.into_boxed_slice()),
        }
    }
}

// Equality and order are the bytes', so that the map can be searched by `[u8]`.
impl Borrow<[u8]> for ItemKey {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for ItemKey {
    fn eq(&self, other: &ItemKey) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ItemKey {}

impl PartialOrd for ItemKey {
    fn partial_cmp(&self, other: &ItemKey) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

// Keys compare by their first [`INLINE`] bytes as two integers, and only when those are
// equal by their lengths or the rest of their bytes: a search of a million-item table
// makes about twenty comparisons per key, and `memcmp`'s call and byte loop were a tenth
// of a load's CPU. This gives the bytes' order because an inline key's bytes after its
// length are zeros (`From<&[u8]>`) and a heap key is longer than `INLINE`: where two heads
// first differ at a position within both keys, that is where the keys differ; at a
// position past one key's end, that key is a proper prefix of the other (whose byte there
// is not zero), so less. Equal heads leave one key a prefix of the other when either is
// inline, ordered by length.
impl Ord for ItemKey {
    fn cmp(&self, other: &ItemKey) -> Ordering {
        self.head()
            .cmp(&other.head())
            .then_with(|| match (self, other) {
                (ItemKey::Inline { len, .. }, ItemKey::Inline { len: other_len, .. }) => {
                    len.cmp(other_len)
                }
                _ => self.as_bytes().cmp(other.as_bytes()),
            })
    }
}

impl ItemKey {
    /// The key's first [`INLINE`] bytes (zeros past an inline key's end) as two big-endian
    /// integers, which order as the bytes do.
    fn head(&self) -> (u128, u64) {
        let bytes = match self {
            ItemKey::Inline { bytes, .. } => &bytes[..],
            ItemKey::Heap(bytes) => &bytes[..INLINE],
        };
        let mut head = [0; 16];
        let mut tail = [0; 8];
        head.copy_from_slice(&bytes[..16]);
        tail[..INLINE - 16].copy_from_slice(&bytes[16..INLINE]);
        (u128::from_be_bytes(head), u64::from_be_bytes(tail))
    }
}

impl std::fmt::Debug for ItemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02x?}", self.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_key_takes_no_more_room_than_a_vec() {
        assert_eq!(
            std::mem::size_of::<ItemKey>(),
            std::mem::size_of::<Vec<u8>>()
        );
    }

    proptest! {
        #[test]
        fn keys_keep_their_bytes_and_order_by_them(
            a in proptest::collection::vec(any::<u8>(), 0..40),
            b in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let (ka, kb) = (ItemKey::from(a.clone()), ItemKey::from(b.as_slice()));
            prop_assert_eq!(ka.as_bytes(), a.as_slice());
            prop_assert_eq!(kb.as_bytes(), b.as_slice());
            prop_assert_eq!(ka.cmp(&kb), a.cmp(&b));
            prop_assert_eq!(ka == kb, a == b);
        }

        // Keys of zeros, ones and twos, around the inline length: prefixes of each other
        // and keys ending in zeros (the padding's value) come up all the time.
        #[test]
        fn keys_that_are_prefixes_or_end_in_zeros_order_by_their_bytes(
            a in proptest::collection::vec(0u8..3, 0..26),
            b in proptest::collection::vec(0u8..3, 0..26),
            zeros in 0usize..4,
        ) {
            let mut padded_a = a.clone();
            padded_a.extend(std::iter::repeat_n(0, zeros));
            for (x, y) in [(&a, &b), (&a, &padded_a), (&padded_a, &a)] {
                let (kx, ky) = (ItemKey::from(x.as_slice()), ItemKey::from(y.as_slice()));
                prop_assert_eq!(kx.cmp(&ky), x.cmp(y), "{:?} against {:?}", x, y);
            }
        }
    }
}
