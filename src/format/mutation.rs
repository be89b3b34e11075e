//! The commit path: every change to the database is one [`Mutation`], given a log sequence
//! number (LSN) and a commit time by the write-ahead log (`storage/wal.rs`), then applied
//! (`state/apply.rs`).
//!
//! The LSN order is the database's one total order. Two writes to the same item are ordered
//! by the item's lock, which the writer holds from before its LSN is assigned until its
//! change is applied, so applying changes in lock order and replaying them in LSN order give
//! the same state (invariant I3). Commit times are assigned with the LSN under one lock, so
//! they never go backwards along the LSN order, even when the clock does.
//!
//! # Payload layout
//!
//! A log record's payload (`log_segment.rs`) is the codec's encoding of a [`Mutation`]: the
//! variant's index as one byte, then its fields in order. The index is the record's kind on
//! disk, so a new kind is appended with the next index and no kind is ever renumbered: a
//! log written before a kind existed reads unchanged. (A build older than a kind refuses a
//! record of it as corruption of that record, naming its LSN.)
//!
//! ```text
//! payload := kind:u8 fields
//!   0 CreateTable          schema
//!   1 UpdateTable          schema
//!   2 DeleteTable          table_id:string  (0:u8 | 1:u8 BackupRecord)
//!   3 Write                count:varint ItemWrite*count   (see `Mutation::table_writes`)
//!   4 CreateBackup         BackupRecord
//!   5 DeleteBackup         arn:string
//!   6 RestoreTable         schema  snapshot:string
//!   7 UpdateTableSettingsV1  table_id:string  SettingsV1     (added with tags and TTL;
//!   8 CreateTableWithSettingsV1  schema  SettingsV1             read, no longer written)
//!   9 ExpireItems          table_id:string  count:varint key:bytes*count   (added with TTL expiry)
//!  10 TokenWrite           token:string  fingerprint:varint  count:varint ItemWrite*count
//!                                                           (added with ClientRequestToken)
//!  11 WithPrior            payload(3 | 9 | 10)  count:varint Prior*count  (added with streams)
//!  12 DeleteStreamedTable  schema  (0:u8 | 1:u8 BackupRecord)              (added with streams)
//!  13 UpdateTableSettings  table_id:string  TableSettings   (added with resource policies)
//!  14 CreateTableWithSettings  schema  TableSettings        (added with resource policies)
//! Prior := 0:u8 (Unstreamed) | 1:u8 (Absent) | 2:u8 (Present) | 3:u8 item (Image)
//!        | 4:u8 (Unchanged)
//! SettingsV1 := tags:(count:varint (key:string value:string)*count)
//!               ttl_attribute:(0:u8 | 1:u8 string)  ttl_changed:(0:u8 | 1:u8 ms:varint)
//! TableSettings := SettingsV1
//!                  resource_policies:(count:varint (resource:string document:string
//!                                                   revision_id:string)*count)
//! ```
//!
//! Resource policies made the table's settings longer, and a record's bytes must keep
//! reading as they were written: so the settings with policies are new kinds (13 and 14),
//! the old kinds (7 and 8) keep their layout, [`SettingsV1`], and read as settings without
//! policies — which is what they were, since no build before policies had any. This build
//! writes settings changes as kinds 13 and 14 only (a build before it refuses them as it
//! refuses any kind it does not know, naming the record's LSN); a table created without
//! tags or a policy is still kind 0.
//!
//! A delete made by Time to Live is its own kind (9), not a kind 3 `Write`, so that the log
//! says who made it (a stream reports it with DynamoDB's service identity) without a byte
//! more on every other write; it is deletes of one table only, so it carries the table once
//! and keys without an item marker. Logs written before it never hold it, and replay as
//! they did.
//!
//! A `TransactWriteItems` sent with a `ClientRequestToken` is logged as kind 10, not 3: its
//! writes as a `Write` holds them (none, for a transaction that changed nothing: the token
//! must outlive it all the same), after the token and the fingerprint of the request's
//! parameters (`engine/idempotency.rs`), first so that recovery reads them without the
//! writes. The record's commit time, in its frame (`log_segment.rs`), is the token's
//! completion time. Recovery rebuilds the tokens of the last 10 minutes of log time from
//! these records, so a retry after a crash or a reopen is not applied twice; the engine keeps
//! each remembered token's record in the log (it holds back the log's truncation) until the
//! token expires.

//! A write to a table with a stream is logged as kind 11: the write (kind 3, 9 or 10, whole,
//! as it would be logged without a stream) and then, for each of its item writes in order,
//! what the item was before it ([`Prior`]) — exactly what a stream record needs beyond the
//! write itself: whether it is an INSERT, a MODIFY or a REMOVE, the old image when the
//! stream's view type shows it, and whether the write changed nothing (DynamoDB writes no
//! stream record then). So a stream reads from the log alone, after a restart too
//! (`streams/`), and a table without a stream pays not a byte: its writes stay kind 3.
//! The write comes first so that every reader of writes (replay, recovery's tokens) reads
//! kind 11 as the write after one byte, and the priors after it only when it wants them.
//!
//! A table that has or had a stream is deleted by kind 12, not 2: its record carries the
//! table's schema, so that its streams stay readable for their retention — as DynamoDB
//! keeps a deleted table's stream, DISABLED, for 24 hours — after a reopen too, when
//! nothing else names the table any more: the log those streams keep holds the record.

use std::sync::Arc;

use crate::format::backup::BackupRecord;
use crate::format::item::{Scanned, Scanner, StoredItem};
use crate::model::key::EncodedKey;
use crate::model::schema::{StreamViewType, TableSchema};
use crate::model::settings::TableSettings;

/// A table's settings as record kinds 7 and 8 and version 3 snapshots hold them: tags and
/// Time to Live, from before resource policies (see the module docs). Read, never written.
#[derive(Clone, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct SettingsV1 {
    pub tags: std::collections::BTreeMap<String, String>,
    pub ttl_attribute: Option<String>,
    pub ttl_changed: Option<crate::model::clock::Timestamp>,
}

impl From<SettingsV1> for TableSettings {
    /// The same settings, without a policy: no table had one when they were written.
    fn from(old: SettingsV1) -> TableSettings {
        TableSettings {
            tags: old.tags,
            ttl_attribute: old.ttl_attribute,
            ttl_changed: old.ttl_changed,
            resource_policies: Default::default(),
        }
    }
}

/// How long a completed transaction's `ClientRequestToken` is remembered, by its commit time:
/// DynamoDB's 10 minutes (the `ClientRequestToken` member of `TransactWriteItems`).
pub(crate) const TOKEN_WINDOW_MS: u64 = 10 * 60 * 1000;

/// The most tokens remembered at once: beyond it the oldest are forgotten (a retry with one
/// of them then runs again). Every transaction sent by an AWS SDK carries a token (botocore
/// fills `idempotencyToken` members), so this bounds the memory the tokens take — about
/// 100 bytes each, 10 MB in all — and the log a reopen reads for them, whatever the rate of
/// transactions.
pub(crate) const MAX_TOKENS: usize = 100_000;

/// One item put (`Some`) or deleted (`None`) in a table.
#[derive(Clone, Debug, bincode::Encode, bincode::Decode)]
pub(crate) struct ItemWrite {
    pub table_id: Arc<str>,
    pub key: EncodedKey,
    pub item: Option<StoredItem>,
}

/// What an item was before one item write of a [`Mutation::WithPrior`], as its table's
/// stream needs it (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) enum Prior {
    /// The write's table had no stream: the write makes no stream record.
    Unstreamed,
    /// There was no item: an INSERT.
    Absent,
    /// There was an item, whose image the stream's view type does not show: a MODIFY, or
    /// a REMOVE.
    Present,
    /// There was this item (the view type shows old images): a MODIFY, or a REMOVE.
    Image(StoredItem),
    /// The write left the item exactly as it was: DynamoDB writes no stream record.
    Unchanged,
}

impl Prior {
    /// What `old` was before a write that leaves `new`, for a stream of `view` (`None`: the
    /// table has no stream).
    pub(crate) fn of(
        view: Option<StreamViewType>,
        old: Option<&StoredItem>,
        new: Option<&StoredItem>,
    ) -> Prior {
        let Some(view) = view else {
            return Prior::Unstreamed;
        };
        match old {
            None => Prior::Absent,
            Some(old) if Some(old) == new => Prior::Unchanged,
            Some(old) => match view {
                StreamViewType::OldImage | StreamViewType::NewAndOldImages => {
                    Prior::Image(old.clone())
                }
                StreamViewType::KeysOnly | StreamViewType::NewImage => Prior::Present,
            },
        }
    }
}

/// One atomic change to the database; the unit of logging and of replay.
#[derive(Clone, Debug, bincode::Encode, bincode::Decode)]
pub(crate) enum Mutation {
    /// A new, empty table.
    CreateTable(Arc<TableSchema>),
    /// A table's definition changed (indexes added or dropped, throughput, stream).
    UpdateTable(Arc<TableSchema>),
    /// A table and its items are gone. A table with point-in-time recovery leaves a SYSTEM
    /// backup of its last state, whose marker is this record's LSN.
    DeleteTable {
        table_id: Arc<str>,
        system_backup: Option<Arc<BackupRecord>>,
    },
    /// Item writes, all applied or none: one put or delete, a batch, or a transaction.
    Write(Vec<ItemWrite>),
    /// A backup was requested: its marker is this record's LSN (the backup holds exactly the
    /// writes logged before it).
    CreateBackup(Arc<BackupRecord>),
    /// A backup was deleted.
    DeleteBackup { arn: String },
    /// A table was restored: it starts as the contents of a snapshot file written (and
    /// synced) before this record.
    RestoreTable {
        schema: Arc<TableSchema>,
        snapshot: String,
    },
    /// [`Mutation::UpdateTableSettings`] as written before resource policies (kind 7).
    UpdateTableSettingsV1 {
        table_id: Arc<str>,
        settings: Arc<SettingsV1>,
    },
    /// [`Mutation::CreateTableWithSettings`] as written before resource policies (kind 8).
    CreateTableWithSettingsV1 {
        schema: Arc<TableSchema>,
        settings: Arc<SettingsV1>,
    },
    /// Items of one table deleted by the Time to Live sweeper (`engine/expiry.rs`), all at
    /// once: each was expired, by the commit's clock, when it was deleted.
    ExpireItems {
        table_id: Arc<str>,
        keys: Vec<EncodedKey>,
    },
    /// A transaction's item writes (as [`Mutation::Write`], possibly none) under a
    /// `ClientRequestToken`, with the fingerprint of the request's parameters: recovery
    /// remembers the token from it.
    TokenWrite {
        token: String,
        fingerprint: u64,
        writes: Vec<ItemWrite>,
    },
    /// A write ([`Mutation::Write`], [`Mutation::ExpireItems`] or [`Mutation::TokenWrite`])
    /// that touches a table with a stream, with what each of its items was before it, in
    /// the order of its item writes (see the module docs).
    WithPrior {
        mutation: PriorWrite,
        prior: Vec<Prior>,
    },
    /// A table that has or had a stream is gone ([`Mutation::DeleteTable`]), with its
    /// schema as it was: its streams end with this record and stay readable.
    DeleteStreamedTable {
        schema: Arc<TableSchema>,
        system_backup: Option<Arc<BackupRecord>>,
    },
    /// A table's tags, Time to Live setting or resource policies changed: these are its
    /// settings from here on, whole (so applying the record needs nothing but the record).
    UpdateTableSettings {
        table_id: Arc<str>,
        settings: Arc<TableSettings>,
    },
    /// A new, empty table with settings (`CreateTable` with `Tags` or a `ResourcePolicy`):
    /// one record, so that a crash leaves the table with its tags and policy or no table at
    /// all.
    CreateTableWithSettings {
        schema: Arc<TableSchema>,
        settings: Arc<TableSettings>,
    },
}

/// The write a [`Mutation::WithPrior`] wraps: kind 3, 9 or 10, encoded as [`Mutation`]
/// encodes it. Decoded by hand so that any other kind is refused before it is read: a
/// record of prior items inside another was never written, and a hostile payload of
/// thousands of kind-11 bytes would otherwise recurse once per byte past the stack.
#[derive(Clone, Debug)]
pub(crate) struct PriorWrite(pub(crate) Box<Mutation>);

impl bincode::Encode for PriorWrite {
    fn encode<E: bincode::enc::Encoder>(
        &self,
        encoder: &mut E,
    ) -> Result<(), bincode::error::EncodeError> {
        self.0.encode(encoder)
    }
}

impl<Context> bincode::Decode<Context> for PriorWrite {
    fn decode<D: bincode::de::Decoder<Context = Context>>(
        decoder: &mut D,
    ) -> Result<Self, bincode::error::DecodeError> {
        use bincode::Decode;
        // The kind, as the derived encoding of `Mutation` writes it (a varint u32), then
        // the variant's fields in their declared order.
        let kind = u32::decode(decoder)?;
        let write = match u8::try_from(kind) {
            Ok(WRITE_VARIANT) => Mutation::Write(Decode::decode(decoder)?),
            Ok(EXPIRE_VARIANT) => Mutation::ExpireItems {
                table_id: Decode::decode(decoder)?,
                keys: Decode::decode(decoder)?,
            },
            Ok(TOKEN_VARIANT) => Mutation::TokenWrite {
                token: Decode::decode(decoder)?,
                fingerprint: Decode::decode(decoder)?,
                writes: Decode::decode(decoder)?,
            },
            _ => {
                return Err(bincode::error::DecodeError::Other(
                    "a record of prior items wraps a change that is not a write",
                ))
            }
        };
        Ok(PriorWrite(Box::new(write)))
    }
}

bincode::impl_borrow_decode!(PriorWrite);

impl Mutation {
    /// `write` as logged: with `prior` (one per item write of it, in order) when a stream
    /// records any of them, as it is otherwise.
    pub(crate) fn with_prior(write: Mutation, prior: Vec<Prior>) -> Mutation {
        if prior.iter().all(|p| *p == Prior::Unstreamed) {
            return write;
        }
        Mutation::WithPrior {
            mutation: PriorWrite(Box::new(write)),
            prior,
        }
    }

    /// Whether a logged mutation's bytes are item writes only ([`Mutation::Write`] or
    /// [`Mutation::ExpireItems`]), without decoding them: the codec writes a variant's index
    /// first, as one byte below 251. Recovery skips the writes no table needs without paying
    /// for their decoding.
    pub(crate) fn is_write(payload: &[u8]) -> bool {
        matches!(
            Mutation::unwrapped(payload).first(),
            Some(&(WRITE_VARIANT | EXPIRE_VARIANT | TOKEN_VARIANT))
        )
    }

    /// Whether a writer's wait for this record's sync makes background builds give way
    /// (`fs/throttle.rs`). Not for the database's own bookkeeping: a backup's marker (whose
    /// build starts at once: paced by its own request, a backup of an idle database was
    /// written at the paced rate for its first 100 ms), a backup's deletion, and the Time to
    /// Live sweeper's deletes.
    pub(crate) fn paces_builds(&self) -> bool {
        match self {
            Mutation::CreateBackup(_) | Mutation::DeleteBackup { .. } => false,
            Mutation::ExpireItems { .. } => false,
            Mutation::WithPrior { mutation, .. } => mutation.0.paces_builds(),
            _ => true,
        }
    }

    /// Whether a logged mutation is a [`Mutation::WithPrior`], from its first byte.
    pub(crate) fn has_prior(payload: &[u8]) -> bool {
        payload.first() == Some(&PRIOR_VARIANT)
    }

    /// The bytes of a logged mutation from its write on: after the kind byte of a
    /// [`Mutation::WithPrior`], which its write follows (the priors come after the write).
    fn unwrapped(payload: &[u8]) -> &[u8] {
        match payload.first() {
            Some(&PRIOR_VARIANT) => &payload[1..],
            _ => payload,
        }
    }

    /// The token and fingerprint of a logged [`Mutation::TokenWrite`], read from the front
    /// of its bytes without the writes: `None` if the bytes are another kind, `Some(None)`
    /// if they do not read (the full decode then says what is wrong).
    pub(crate) fn token(payload: &[u8]) -> Option<Option<(&str, u64)>> {
        let mut bytes = Scanner::new(Mutation::unwrapped(payload));
        if bytes.byte()? != TOKEN_VARIANT {
            return None;
        }
        let token = bytes.string().and_then(|t| std::str::from_utf8(t).ok());
        Some(token.zip(bytes.varint()))
    }

    /// The writes to table `table_id` of a logged [`Mutation::Write`] (or the deletes of a
    /// [`Mutation::ExpireItems`]), read straight from its bytes: keys as they are, items checked by a scan (`item::scan`), the other
    /// tables' writes skipped. A build replays one table, and decoding whole records
    /// (allocating every table id, key and write list, and walking each item through the
    /// decoder) was most of its time. `None` if the bytes are not a write or do not read
    /// this way (`each` may have been called for some writes by then); the caller then
    /// decodes them as a `Mutation`, which says what is wrong.
    ///
    /// ```text
    /// Write := 3:u8  count:varint  ItemWrite*count
    /// ItemWrite := table_id:string  key:bytes  (0:u8 | 1:u8 item)
    /// ExpireItems := 9:u8  table_id:string  count:varint  key:bytes*count
    /// TokenWrite := 10:u8  token:string  fingerprint:varint  count:varint  ItemWrite*count
    /// WithPrior := 11:u8  (Write | ExpireItems | TokenWrite)  count:varint  Prior*count
    /// ```
    pub(crate) fn table_writes(
        payload: &[u8],
        table_id: &str,
        mut each: impl FnMut(&[u8], Option<Scanned>),
    ) -> Option<()> {
        let mut bytes = Scanner::new(payload);
        let mut kind = bytes.byte()?;
        let with_prior = kind == PRIOR_VARIANT;
        if with_prior {
            kind = bytes.byte()?;
        }
        if kind == TOKEN_VARIANT {
            // The token and fingerprint change no table.
            bytes.string()?;
            bytes.varint()?;
            kind = WRITE_VARIANT;
        }
        match kind {
            WRITE_VARIANT => {
                for _ in 0..bytes.container::<ItemWrite>()? {
                    let ours = bytes.string()? == table_id.as_bytes();
                    let key = bytes.bytes()?;
                    let item = match bytes.byte()? {
                        0 => None,
                        1 => Some(bytes.item()?),
                        _ => return None,
                    };
                    if ours {
                        each(key, item);
                    }
                }
            }
            EXPIRE_VARIANT => {
                let ours = bytes.string()? == table_id.as_bytes();
                for _ in 0..bytes.container::<EncodedKey>()? {
                    let key = bytes.bytes()?;
                    if ours {
                        each(key, None);
                    }
                }
            }
            _ => return None,
        }
        if with_prior {
            // Read, not trusted: the priors must scan as the full decode reads them.
            for _ in 0..bytes.container::<Prior>()? {
                match bytes.byte()? {
                    0..=2 | 4 => {}
                    3 => {
                        bytes.item()?;
                    }
                    _ => return None,
                }
            }
        }
        // As the item scan does: all claims at once within the decode limit, so what is
        // read here the full decode reads too (`item::scan`).
        let within =
            payload.len().saturating_add(bytes.claims) <= crate::format::codec::MAX_DECODE_BYTES;
        (bytes.is_done() && within).then_some(())
    }
}

/// The index of [`Mutation::Write`] among the variants.
const WRITE_VARIANT: u8 = 3;
/// The index of [`Mutation::ExpireItems`] among the variants.
const EXPIRE_VARIANT: u8 = 9;
/// The index of [`Mutation::TokenWrite`] among the variants.
const TOKEN_VARIANT: u8 = 10;
/// The index of [`Mutation::WithPrior`] among the variants.
const PRIOR_VARIANT: u8 = 11;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_write_tells_writes_from_every_other_mutation() {
        let write = Mutation::Write(Vec::new());
        assert!(Mutation::is_write(&crate::format::codec::encode(&write)));
        let others = [
            Mutation::DeleteTable {
                table_id: "t".into(),
                system_backup: None,
            },
            Mutation::DeleteBackup { arn: "a".into() },
        ];
        let expiry = Mutation::ExpireItems {
            table_id: "t".into(),
            keys: vec![vec![1]],
        };
        assert!(Mutation::is_write(&crate::format::codec::encode(&expiry)));
        for other in others {
            assert!(
                !Mutation::is_write(&crate::format::codec::encode(&other)),
                "{other:?}"
            );
        }
    }

    /// The variant index is the record's kind on disk: logs already written depend on every
    /// index staying what it is.
    #[test]
    fn every_kind_of_record_keeps_its_index_on_disk() {
        use crate::model::clock::Timestamp;
        let settings = SettingsV1 {
            tags: [("k".to_owned(), "v".to_owned())].into(),
            ttl_attribute: Some("ttl".into()),
            ttl_changed: Some(Timestamp(5)),
        };
        let schema = || {
            Arc::new(
                crate::api::tables::CreateTableInput::new("tbl")
                    .hash_key("pk", crate::model::schema::ScalarAttributeType::S)
                    .pay_per_request()
                    .to_schema(Timestamp(0))
                    .expect("schema"),
            )
        };
        let kinds = [
            (Mutation::Write(Vec::new()), 3),
            (Mutation::DeleteBackup { arn: "a".into() }, 5),
            (
                Mutation::UpdateTableSettingsV1 {
                    table_id: "t".into(),
                    settings: Arc::new(settings),
                },
                7,
            ),
            (
                Mutation::CreateTableWithSettingsV1 {
                    schema: schema(),
                    settings: Arc::default(),
                },
                8,
            ),
            (
                Mutation::UpdateTableSettings {
                    table_id: "t".into(),
                    settings: Arc::default(),
                },
                13,
            ),
            (
                Mutation::CreateTableWithSettings {
                    schema: schema(),
                    settings: Arc::default(),
                },
                14,
            ),
            (
                Mutation::ExpireItems {
                    table_id: "t".into(),
                    keys: Vec::new(),
                },
                9,
            ),
            (
                Mutation::WithPrior {
                    mutation: PriorWrite(Box::new(Mutation::Write(Vec::new()))),
                    prior: vec![Prior::Absent],
                },
                11,
            ),
            (
                Mutation::DeleteStreamedTable {
                    schema: schema(),
                    system_backup: None,
                },
                12,
            ),
        ];
        for (mutation, index) in kinds {
            let bytes = crate::format::codec::encode(&mutation);
            assert_eq!(bytes[0], index, "{mutation:?}");
        }
        let old = SettingsV1 {
            tags: [("k".to_owned(), "v".to_owned())].into(),
            ttl_attribute: Some("a".into()),
            ttl_changed: Some(Timestamp(5)),
        };
        let settings = crate::format::codec::encode(&Mutation::UpdateTableSettingsV1 {
            table_id: "t".into(),
            settings: Arc::new(old.clone()),
        });
        // As drawn in the module docs: what builds before resource policies wrote.
        let v1 = [7, 1, b't', 1, 1, b'k', 1, b'v', 1, 1, b'a', 1, 5];
        assert_eq!(settings, v1, "{settings:?}");
        // And those bytes still read, as the settings they were, with no policy.
        let Mutation::UpdateTableSettingsV1 { settings: read, .. } =
            crate::format::codec::decode(&v1, "kind 7").expect("kind 7 reads")
        else {
            panic!("kind 7 is not UpdateTableSettingsV1")
        };
        assert_eq!(*read, old);
        let mut with_policy = TableSettings::from(old);
        with_policy.resource_policies.insert(
            String::new(),
            crate::model::settings::ResourcePolicy {
                document: "{}".into(),
                revision_id: "9".into(),
            },
        );
        let settings = crate::format::codec::encode(&Mutation::UpdateTableSettings {
            table_id: "t".into(),
            settings: Arc::new(with_policy),
        });
        // Kind 13: kind 7's settings, then the policies by resource.
        let mut v2 = vec![13];
        v2.extend_from_slice(&v1[1..]);
        v2.extend_from_slice(&[1, 0, 2, b'{', b'}', 1, b'9']);
        assert_eq!(settings, v2, "{settings:?}");
        let expiry = crate::format::codec::encode(&Mutation::ExpireItems {
            table_id: "t".into(),
            keys: vec![vec![1, 2], vec![3]],
        });
        assert_eq!(expiry, [9, 1, b't', 2, 2, 1, 2, 1, 3], "{expiry:?}");
        let token = crate::format::codec::encode(&Mutation::TokenWrite {
            token: "tk".into(),
            fingerprint: 300,
            writes: vec![ItemWrite {
                table_id: "t".into(),
                key: vec![7],
                item: None,
            }],
        });
        assert_eq!(
            token,
            [10, 2, b't', b'k', 251, 44, 1, 1, 1, b't', 1, 7, 0],
            "{token:?}"
        );
        assert_eq!(Mutation::token(&token), Some(Some(("tk", 300))));
        assert_eq!(Mutation::token(&token[..4]), Some(None), "cut short");
        assert_eq!(Mutation::token(&expiry), None);
    }

    #[test]
    fn table_writes_are_the_decoded_writes_of_that_table_and_nothing_else_reads() {
        use crate::model::value::{AttributeValue, Item};
        let item = |i: u8| {
            let mut item = Item::new();
            item.insert("k".into(), AttributeValue::B(vec![i; 3]));
            item.insert(
                "s".into(),
                AttributeValue::Ss(["a".into(), "b".into()].into()),
            );
            StoredItem::new(&item)
        };
        let write = |table: &str, i: u8, put: bool| ItemWrite {
            table_id: table.into(),
            key: vec![i, 0, i],
            item: put.then(|| item(i)),
        };
        let mutation = Mutation::Write(vec![
            write("one", 1, true),
            write("another", 2, true),
            write("one", 3, false),
            write("one", 300u16 as u8, true),
        ]);
        let bytes = crate::format::codec::encode(&mutation);
        let Mutation::Write(decoded) =
            crate::format::codec::decode(&bytes, "write").expect("decodes")
        else {
            unreachable!("a write")
        };
        let expected: Vec<_> = decoded
            .into_iter()
            .filter(|w| &*w.table_id == "one")
            .map(|w| (w.key, w.item))
            .collect();
        let writes = |bytes: &[u8], table: &str| {
            let mut writes = Vec::new();
            Mutation::table_writes(bytes, table, |key, item| {
                writes.push((key.to_vec(), item.map(|i| StoredItem::from_scan(&i))))
            })
            .map(|()| writes)
        };
        assert_eq!(writes(&bytes, "one"), Some(expected));
        assert_eq!(writes(&bytes, "none"), Some(Vec::new()));
        // Anything else is left to the full decode: other mutations, a trailing byte, every
        // cut short, and an item that does not check.
        let other = crate::format::codec::encode(&Mutation::DeleteBackup { arn: "a".into() });
        assert_eq!(writes(&other, "one"), None);
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(writes(&trailing, "one"), None);
        for cut in 0..bytes.len() {
            assert_eq!(writes(&bytes[..cut], "one"), None, "cut at {cut}");
        }
        // A Time to Live delete reads as deletes of its table's keys, and of no other's.
        let expiry = crate::format::codec::encode(&Mutation::ExpireItems {
            table_id: "one".into(),
            keys: vec![vec![1, 0, 1], vec![3]],
        });
        let deleted = Some(vec![(vec![1, 0, 1], None), (vec![3], None)]);
        assert_eq!(writes(&expiry, "one"), deleted);
        assert_eq!(writes(&expiry, "another"), Some(Vec::new()));
        for cut in 0..expiry.len() {
            assert_eq!(writes(&expiry[..cut], "one"), None, "cut at {cut}");
        }
        // A transaction under a token reads as its writes.
        let Mutation::Write(decoded) = mutation else {
            unreachable!("a write")
        };
        let token = crate::format::codec::encode(&Mutation::TokenWrite {
            token: "tk".into(),
            fingerprint: u64::MAX,
            writes: decoded,
        });
        assert_eq!(writes(&token, "one"), writes(&bytes, "one"));
        assert!(Mutation::is_write(&token));
        for cut in 0..token.len() {
            assert_eq!(writes(&token[..cut], "one"), None, "cut at {cut}");
        }
        let set = bytes
            .windows(4)
            .rposition(|w| w == [1, b'a', 1, b'b'])
            .expect("the set's members");
        let mut unordered = bytes.clone();
        unordered.swap(set + 1, set + 3);
        assert_eq!(writes(&unordered, "one"), None);
    }

    /// A backup's marker and deletion and the Time to Live sweeper's deletes do not make
    /// builds give way; item writes and table changes do, with or without stream images.
    #[test]
    fn bookkeeping_records_do_not_pace_builds() {
        use crate::model::clock::Timestamp;
        let schema = crate::api::tables::CreateTableInput::new("tbl")
            .hash_key("pk", crate::model::schema::ScalarAttributeType::S)
            .pay_per_request()
            .to_schema(Timestamp(0))
            .expect("schema");
        let backup = Arc::new(BackupRecord::new(
            crate::api::backups::BackupType::User,
            "b",
            Timestamp(0),
            "arn".into(),
            Arc::new(schema),
            (0, 0),
        ));
        let expiry = Mutation::ExpireItems {
            table_id: "t".into(),
            keys: Vec::new(),
        };
        assert!(!Mutation::CreateBackup(Arc::clone(&backup)).paces_builds());
        assert!(!Mutation::DeleteBackup { arn: "a".into() }.paces_builds());
        assert!(!expiry.paces_builds());
        assert!(!Mutation::with_prior(expiry, vec![Prior::Absent]).paces_builds());
        let write = Mutation::Write(Vec::new());
        assert!(write.paces_builds());
        assert!(Mutation::with_prior(write, vec![Prior::Absent]).paces_builds());
    }

    /// A payload of kind-11 bytes is a record of prior items inside another, and so on:
    /// found by the `log_record_payload` fuzz target as a stack overflow (each byte one
    /// recursion), now refused at the second byte. The writes it may wrap still decode.
    #[test]
    fn nested_records_of_prior_items_are_corruption_not_a_stack_overflow() {
        use crate::format::codec;
        for len in [2, 3, 100_000] {
            let payload = vec![PRIOR_VARIANT; len];
            let decoded = codec::decode::<Mutation>(&payload, "test");
            assert!(
                matches!(decoded, Err(crate::error::Error::Corruption(_))),
                "{len} bytes: {decoded:?}"
            );
        }
        let inner = Mutation::with_prior(Mutation::Write(Vec::new()), vec![Prior::Absent]);
        let nested = Mutation::with_prior(inner, vec![Prior::Absent]);
        let decoded = codec::decode::<Mutation>(&codec::encode(&nested), "test");
        assert!(matches!(decoded, Err(crate::error::Error::Corruption(_))));
        for write in [
            Mutation::Write(Vec::new()),
            Mutation::ExpireItems {
                table_id: "t".into(),
                keys: Vec::new(),
            },
            Mutation::TokenWrite {
                token: "tok".into(),
                fingerprint: 7,
                writes: Vec::new(),
            },
        ] {
            let logged = Mutation::with_prior(write.clone(), vec![Prior::Absent]);
            let bytes = codec::encode(&logged);
            let Ok(Mutation::WithPrior { mutation, prior }) = codec::decode(&bytes, "test") else {
                panic!("{logged:?} must decode");
            };
            assert_eq!(prior, vec![Prior::Absent]);
            assert_eq!(format!("{:?}", mutation.0), format!("{write:?}"));
            assert!(bytes[1..].starts_with(&codec::encode(&*mutation.0)));
        }
    }
}
