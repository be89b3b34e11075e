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

impl Ord for ItemKey {
    fn cmp(&self, other: &ItemKey) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
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
    }
}
