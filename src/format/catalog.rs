//! The catalog: the root of a database directory. It names the database's identity, for
//! each table the snapshot file that holds its items up to some LSN, the older snapshots
//! kept for point-in-time windows and pending backups, the deleted tables whose window is
//! still open, and the built backups. Recovery starts from it, and every file not reachable
//! from it (or from the log) is garbage.
//!
//! It is replaced atomically (temp file, sync, rename, sync directory): a crash leaves
//! either the old catalog or the new one, never a mix.
//!
//! # Directory layout
//!
//! ```text
//! <dir>/LOCK                              exclusive lock of the open database
//! <dir>/CATALOG                           this file
//! <dir>/wal/<first lsn:020>.wal           log segments (see log_segment.rs)
//! <dir>/snapshots/<table id>-<lsn:020>.snap  table snapshots (see table_file.rs)
//! <dir>/backups/<ms:014>-<8 hex>.bkp      backup files (see backup.rs here)
//! ```
//!
//! # File layout (integers little-endian)
//!
//! ```text
//!  0  magic    [u8; 8]  b"TIDECAT\0"
//!  8  version  u32      FORMAT_VERSION (versions 2 and 3 are read too: see below)
//! 12  len      u32      payload length, at most MAX_PAYLOAD_LEN (so the file is at most
//!                       MAX_CATALOG_LEN bytes)
//! 16  crc      u32      CRC-32C of bytes 0..16 and the payload
//! 20  payload  [u8; len] the codec's encoding of `Catalog`
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{io_error, Error, Result};
use crate::format::codec;
use crate::fs::{self, Vfs};
use crate::model::clock::Timestamp;
use crate::model::schema::TableSchema;
use crate::model::Lsn;

const MAGIC: [u8; 8] = *b"TIDECAT\0";
/// Version 5 added `replay_start`, version 4 `log_start`; version 3 added the table states'
/// `prior_time`. The older versions are read, and the next catalog written is version 5.
const FORMAT_VERSION: u32 = 5;
const HEADER_LEN: usize = 20;
/// The largest catalog payload: the most any decode reads.
const MAX_PAYLOAD_LEN: usize = codec::MAX_DECODE_BYTES;
/// The largest catalog file the format allows: a longer one is corrupt, refused before it
/// is read, and a catalog that would be longer is never written.
const MAX_CATALOG_LEN: u64 = (HEADER_LEN + MAX_PAYLOAD_LEN) as u64;

/// The file name of the catalog.
pub(crate) const CATALOG_FILE: &str = "CATALOG";
/// The lock file's name.
pub(crate) const LOCK_FILE: &str = "LOCK";
/// The log directory's name.
pub(crate) const WAL_DIR: &str = "wal";
/// The snapshot directory's name.
pub(crate) const SNAPSHOT_DIR: &str = "snapshots";
/// The backup directory's name.
pub(crate) const BACKUP_DIR: &str = "backups";

/// A table's latest snapshot.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct SnapshotRef {
    /// The table's id.
    pub table_id: Arc<str>,
    /// The snapshot's file name in the snapshot directory.
    pub file: String,
    /// The table's state in the file is its state after every record up to this LSN. A
    /// catalog may advance this past the LSN the file was built at when the log in between
    /// holds nothing for the table.
    pub lsn: Lsn,
    /// The LSN the file was built at: the table's state is the same at every LSN from here
    /// to `lsn`.
    pub built_lsn: Lsn,
    /// The commit time of `built_lsn`: the file is a valid start for rebuilding the table at
    /// any moment from here on.
    pub built_time: Timestamp,
    /// The commit time of the record just before `built_lsn`, or `built_time` when the build
    /// did not read it. Equal to `built_time`, it says that records before the state were (or
    /// may have been) committed in the millisecond it was built in: see
    /// [`Retained::serves_window`].
    pub prior_time: Timestamp,
    /// The file's size in bytes (0 if unknown).
    pub size: u64,
    /// About how many bytes of the table's log lie between the state before this one and
    /// this one: what a rebuild saves by starting here rather than there.
    pub log_bytes: u64,
}

/// A table state kept after a newer snapshot replaced it (or the table was deleted), because
/// a point-in-time window, a pending backup or a running restore may start from it.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct Retained {
    pub table_id: Arc<str>,
    /// The snapshot file, or `None` for the empty table just before its creation record
    /// (the log from `lsn` on holds its whole history).
    pub file: Option<String>,
    /// The state is the table's after every record up to this LSN.
    pub lsn: Lsn,
    /// As [`SnapshotRef::built_lsn`].
    pub built_lsn: Lsn,
    /// As [`SnapshotRef::built_time`]; zero for a creation.
    pub built_time: Timestamp,
    /// As [`SnapshotRef::prior_time`]; zero for a creation.
    pub prior_time: Timestamp,
    /// As [`SnapshotRef::size`].
    pub size: u64,
    /// As [`SnapshotRef::log_bytes`].
    pub log_bytes: u64,
}

impl Retained {
    /// A valid start for rebuilding the table at LSN `lsn`, no later than `time`.
    pub fn serves(&self, lsn: Lsn, time: Option<Timestamp>) -> bool {
        self.built_lsn <= lsn && time.is_none_or(|t| self.built_time <= t)
    }

    /// A base for a point-in-time window starting at `start`: a valid start for rebuilding
    /// the table at every moment of the window *and* at every LSN a restore inside it may
    /// name, which is every record committed at or after `start`. So it must be built at or
    /// before `start`, and no record before it may have been committed at or after `start`.
    /// A state built in the very millisecond `start` after other records of that millisecond
    /// is no base: an LSN restore to one of those records starts from an older state.
    pub fn serves_window(&self, start: Timestamp) -> bool {
        self.built_time <= start && self.prior_time < start
    }

    /// Where the log replay onto this state starts, for a rebuild at `lsn`: the state
    /// already covers the log up to `self.lsn`.
    pub fn replay_after(&self, lsn: Lsn) -> Lsn {
        self.lsn.min(lsn)
    }
}

impl SnapshotRef {
    /// This snapshot as a retained state of its table.
    pub fn as_retained(&self) -> Retained {
        Retained {
            table_id: Arc::clone(&self.table_id),
            file: Some(self.file.clone()),
            lsn: self.lsn,
            built_lsn: self.built_lsn,
            built_time: self.built_time,
            prior_time: self.prior_time,
            size: self.size,
            log_bytes: self.log_bytes,
        }
    }
}

/// A deleted table whose point-in-time window is still open: it can be restored to any
/// moment from its window's start to its deletion.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct DroppedTable {
    /// Its last definition, with the point-in-time settings it had.
    pub schema: Arc<TableSchema>,
    /// The LSN of the deletion: the table's last state is the one just before it.
    pub deleted_lsn: Lsn,
    pub deleted_time: Timestamp,
}

/// The catalog's contents.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct Catalog {
    /// A random identity, inside every log record's checksum.
    pub db_id: u64,
    /// The latest snapshot of each table that has one.
    pub snapshots: Vec<SnapshotRef>,
    /// The backups that are built (AVAILABLE), in creation order. Pending ones live in the
    /// log until built.
    pub backups: Vec<crate::format::backup::BackupEntry>,
    /// Older table states still needed (see [`Retained`]), oldest first per table.
    pub retained: Vec<Retained>,
    /// Deleted tables with an open point-in-time window.
    pub dropped: Vec<DroppedTable>,
    /// No record ever committed has a later commit time than this and the log's last one:
    /// written before log segments are removed, so that commit times stay monotonic (and a
    /// moment a restore closed stays closed) even when no record is left in the log.
    pub last_time: Timestamp,
    /// The first LSN of the log's first segment: that segment must exist (older ones may
    /// linger after a truncation a crash cut short). Written before a truncation removes
    /// segments, and a new database's first segment exists before its first catalog. 0:
    /// not known (a catalog of version 3 or older), until the next open records it.
    pub log_start: Lsn,
    /// The first LSN of the segment recovery reads the log from: the log before it is kept
    /// only for streams (their records younger than their retention), which read it
    /// themselves, so an open does not (`storage/recovery.rs`). Where the log would start
    /// had no stream kept more; written, like `log_start`, before the segments it
    /// concerns can go. 0: `log_start` (a catalog of version 4 or older).
    pub replay_start: Lsn,
}

/// The file name of the snapshot of `table_id` at `lsn`.
pub(crate) fn snapshot_name(table_id: &str, lsn: Lsn) -> String {
    format!("{table_id}-{lsn:020}.snap")
}

impl Catalog {
    /// The catalog of a new, empty database.
    pub fn new() -> Catalog {
        Catalog {
            db_id: u64::from_le_bytes(
                uuid::Uuid::new_v4().as_bytes()[..8]
                    .try_into()
                    .unwrap_or([1; 8]),
            ),
            snapshots: Vec::new(),
            backups: Vec::new(),
            retained: Vec::new(),
            dropped: Vec::new(),
            last_time: Timestamp(0),
            log_start: 1,
            replay_start: 0,
        }
    }

    /// The first LSN of the segment recovery reads the log from (see `replay_start`).
    pub fn replay_from(&self) -> Lsn {
        self.replay_start.max(self.log_start)
    }

    /// Reads the catalog of `dir`, or `None` if there is none yet.
    pub fn load(fs: &dyn Vfs, dir: &Path) -> Result<Option<Catalog>> {
        let path = dir.join(CATALOG_FILE);
        if !fs
            .exists(&path)
            .map_err(io_error(format!("reading {}", path.display())))?
        {
            return Ok(None);
        }
        let bytes = super::read_file(fs, &path, MAX_CATALOG_LEN)?;
        Catalog::decode(&bytes).map(Some)
    }

    /// Decodes a catalog file's bytes.
    pub fn decode(bytes: &[u8]) -> Result<Catalog> {
        let corrupt = |why: &str| Error::Corruption(format!("catalog: {why}"));
        if bytes.len() < HEADER_LEN || bytes[..8] != MAGIC {
            return Err(corrupt("not a tidestore catalog (bad magic or too short)"));
        }
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if !(v2::VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(corrupt(&format!(
                "unknown format version {version} (this build reads versions {} to {FORMAT_VERSION})",
                v2::VERSION
            )));
        }
        let len = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
        if HEADER_LEN + len != bytes.len() {
            return Err(corrupt("length does not match the file"));
        }
        let crc = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        if codec::crc_append(codec::crc(&bytes[..16]), &bytes[HEADER_LEN..]) != crc {
            return Err(corrupt("checksum mismatch"));
        }
        let payload = &bytes[HEADER_LEN..];
        match version {
            v2::VERSION => {
                codec::decode::<v2::Catalog>(payload, "catalog").map(v2::Catalog::upgrade)
            }
            v3::VERSION => {
                codec::decode::<v3::Catalog>(payload, "catalog").map(v3::Catalog::upgrade)
            }
            v4::VERSION => {
                codec::decode::<v4::Catalog>(payload, "catalog").map(v4::Catalog::upgrade)
            }
            _ => codec::decode(payload, "catalog"),
        }
    }

    /// The catalog file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        frame(FORMAT_VERSION, &codec::encode(self))
    }

    /// Replaces the catalog of `dir` with this one, atomically and durably. A catalog over
    /// the format's limit is refused (and the one on disk kept): no reader would take it.
    pub fn store(&self, fs: &dyn Vfs, dir: &Path) -> Result<()> {
        let path: PathBuf = dir.join(CATALOG_FILE);
        let bytes = self.encode();
        if bytes.len() as u64 > MAX_CATALOG_LEN {
            return Err(Error::LimitExceeded(format!(
                "the catalog would be {} bytes, over its limit of {MAX_CATALOG_LEN}: delete backups or tables",
                bytes.len()
            )));
        }
        fs::write_atomically(fs, &path, &bytes)
            .map_err(io_error(format!("writing {}", path.display())))
    }

    /// The snapshot of `table_id`, if it has one.
    pub fn snapshot(&self, table_id: &str) -> Option<&SnapshotRef> {
        self.snapshots.iter().find(|s| &*s.table_id == table_id)
    }
}

/// A catalog file: the header drawn in the module docs, then `payload`.
fn frame(version: u32, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(&MAGIC); // magic
    bytes.extend_from_slice(&version.to_le_bytes()); // version
    bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes()); // len
    let crc = codec::crc_append(codec::crc(&bytes), payload);
    bytes.extend_from_slice(&crc.to_le_bytes()); // crc
    bytes.extend_from_slice(payload); // payload
    bytes
}

/// Version 4 of the catalog, read so that databases written before version 5 still open:
/// it lacks `replay_start` (0: recovery reads from `log_start`, as it did).
mod v4 {
    use super::*;

    pub(super) const VERSION: u32 = 4;

    #[derive(bincode::Encode, bincode::Decode)]
    pub(super) struct Catalog {
        pub(super) db_id: u64,
        pub(super) snapshots: Vec<SnapshotRef>,
        pub(super) backups: Vec<crate::format::backup::BackupEntry>,
        pub(super) retained: Vec<Retained>,
        pub(super) dropped: Vec<DroppedTable>,
        pub(super) last_time: Timestamp,
        pub(super) log_start: Lsn,
    }

    impl Catalog {
        pub(super) fn upgrade(self) -> super::Catalog {
            super::Catalog {
                db_id: self.db_id,
                snapshots: self.snapshots,
                backups: self.backups,
                retained: self.retained,
                dropped: self.dropped,
                last_time: self.last_time,
                log_start: self.log_start,
                replay_start: 0,
            }
        }
    }
}

/// Version 3 of the catalog, read so that databases written before version 4 still open:
/// it lacks `log_start`, which is 0 (not known) until the open records the first segment.
mod v3 {
    use super::*;

    pub(super) const VERSION: u32 = 3;

    #[derive(bincode::Encode, bincode::Decode)]
    pub(super) struct Catalog {
        pub(super) db_id: u64,
        pub(super) snapshots: Vec<SnapshotRef>,
        pub(super) backups: Vec<crate::format::backup::BackupEntry>,
        pub(super) retained: Vec<Retained>,
        pub(super) dropped: Vec<DroppedTable>,
        pub(super) last_time: Timestamp,
    }

    impl Catalog {
        pub(super) fn upgrade(self) -> super::Catalog {
            super::Catalog {
                db_id: self.db_id,
                snapshots: self.snapshots,
                backups: self.backups,
                retained: self.retained,
                dropped: self.dropped,
                last_time: self.last_time,
                log_start: 0,
                replay_start: 0,
            }
        }
    }
}

/// Version 2 of the catalog, read so that databases written before version 3 still open:
/// it lacks the table states' `prior_time`, which becomes their `built_time` — the value
/// a build that did not see the record before it records, and which only makes retention
/// keep more — and `log_start` (as version 3).
mod v2 {
    use super::*;

    pub(super) const VERSION: u32 = 2;

    /// A table state as version 2 wrote it: a snapshot's `file` is a `String`, a retained
    /// state's an `Option<String>`.
    #[derive(bincode::Encode, bincode::Decode)]
    pub(super) struct State<F> {
        pub(super) table_id: Arc<str>,
        pub(super) file: F,
        pub(super) lsn: Lsn,
        pub(super) built_lsn: Lsn,
        pub(super) built_time: Timestamp,
        pub(super) size: u64,
        pub(super) log_bytes: u64,
    }

    pub(super) type SnapshotRef = State<String>;
    pub(super) type Retained = State<Option<String>>;

    #[derive(bincode::Encode, bincode::Decode)]
    pub(super) struct Catalog {
        pub(super) db_id: u64,
        pub(super) snapshots: Vec<SnapshotRef>,
        pub(super) backups: Vec<crate::format::backup::BackupEntry>,
        pub(super) retained: Vec<Retained>,
        pub(super) dropped: Vec<DroppedTable>,
        pub(super) last_time: Timestamp,
    }

    impl Catalog {
        pub(super) fn upgrade(self) -> super::Catalog {
            super::Catalog {
                db_id: self.db_id,
                snapshots: self
                    .snapshots
                    .into_iter()
                    .map(|s| super::SnapshotRef {
                        table_id: s.table_id,
                        file: s.file,
                        lsn: s.lsn,
                        built_lsn: s.built_lsn,
                        built_time: s.built_time,
                        prior_time: s.built_time,
                        size: s.size,
                        log_bytes: s.log_bytes,
                    })
                    .collect(),
                backups: self.backups,
                retained: self
                    .retained
                    .into_iter()
                    .map(|r| super::Retained {
                        table_id: r.table_id,
                        file: r.file,
                        lsn: r.lsn,
                        built_lsn: r.built_lsn,
                        built_time: r.built_time,
                        prior_time: r.built_time,
                        size: r.size,
                        log_bytes: r.log_bytes,
                    })
                    .collect(),
                dropped: self.dropped,
                last_time: self.last_time,
                log_start: 0,
                replay_start: 0,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_2_catalog_opens_with_each_states_prior_time_at_its_built_time() {
        let v3 = sample();
        let (snapshot, retained) = (&v3.snapshots[0], &v3.retained[0]);
        let v2 = v2::Catalog {
            db_id: v3.db_id,
            snapshots: vec![v2::SnapshotRef {
                table_id: snapshot.table_id.clone(),
                file: snapshot.file.clone(),
                lsn: snapshot.lsn,
                built_lsn: snapshot.built_lsn,
                built_time: snapshot.built_time,
                size: snapshot.size,
                log_bytes: snapshot.log_bytes,
            }],
            backups: Vec::new(),
            retained: vec![v2::Retained {
                table_id: retained.table_id.clone(),
                file: retained.file.clone(),
                lsn: retained.lsn,
                built_lsn: retained.built_lsn,
                built_time: retained.built_time,
                size: retained.size,
                log_bytes: retained.log_bytes,
            }],
            dropped: Vec::new(),
            last_time: v3.last_time,
        };
        let read = Catalog::decode(&frame(v2::VERSION, &codec::encode(&v2))).expect("reads v2");
        let mut expected = v3.clone();
        expected.snapshots[0].prior_time = expected.snapshots[0].built_time;
        expected.log_start = 0;
        expected.replay_start = 0;
        assert_eq!(read, expected);
        // Written back, it is the current version.
        assert_eq!(read.encode()[8..12], FORMAT_VERSION.to_le_bytes());
    }

    #[test]
    fn a_version_3_catalog_opens_with_its_log_start_not_known() {
        let v4 = sample();
        let v3 = v3::Catalog {
            db_id: v4.db_id,
            snapshots: v4.snapshots.clone(),
            backups: Vec::new(),
            retained: v4.retained.clone(),
            dropped: Vec::new(),
            last_time: v4.last_time,
        };
        let read = Catalog::decode(&frame(v3::VERSION, &codec::encode(&v3))).expect("reads v3");
        let expected = Catalog {
            log_start: 0,
            replay_start: 0,
            ..v4
        };
        assert_eq!(read, expected);
        assert_eq!(read.encode()[8..12], FORMAT_VERSION.to_le_bytes());
    }

    #[test]
    fn a_version_4_catalog_opens_replaying_from_its_log_start() {
        let v5 = sample();
        let v4 = v4::Catalog {
            db_id: v5.db_id,
            snapshots: v5.snapshots.clone(),
            backups: Vec::new(),
            retained: v5.retained.clone(),
            dropped: Vec::new(),
            last_time: v5.last_time,
            log_start: v5.log_start,
        };
        let read = Catalog::decode(&frame(v4::VERSION, &codec::encode(&v4))).expect("reads v4");
        assert_eq!(read.replay_from(), v5.log_start);
        assert_eq!(
            read,
            Catalog {
                replay_start: 0,
                ..v5
            }
        );
        assert_eq!(read.encode()[8..12], FORMAT_VERSION.to_le_bytes());
    }

    fn sample() -> Catalog {
        Catalog {
            db_id: 42,
            backups: Vec::new(),
            snapshots: vec![SnapshotRef {
                table_id: "t".into(),
                file: snapshot_name("t", 9),
                lsn: 12,
                built_lsn: 9,
                built_time: Timestamp(1_000),
                prior_time: Timestamp(999),
                size: 4096,
                log_bytes: 777,
            }],
            retained: vec![Retained {
                table_id: "t".into(),
                file: None,
                lsn: 3,
                built_lsn: 3,
                built_time: Timestamp(0),
                prior_time: Timestamp(0),
                size: 0,
                log_bytes: 0,
            }],
            dropped: Vec::new(),
            last_time: Timestamp(1_234),
            log_start: 3,
            replay_start: 7,
        }
    }

    /// The writer keeps to the reader's limit: a catalog that would be longer than the
    /// format allows is refused and the one on disk kept; a file longer than that is
    /// corruption, refused before it is read.
    #[test]
    fn a_catalog_over_the_formats_limit_is_never_written_and_never_read() {
        use crate::fs::sim::SimFs;
        let fs = SimFs::new();
        let dir = Path::new("/db");
        fs.create_dir_all(dir).expect("dir");
        sample().store(&fs, dir).expect("stores");
        let mut huge = sample();
        let name = "x".repeat(4096);
        // Each snapshot's encoding is longer than its file name.
        huge.snapshots = (0..MAX_PAYLOAD_LEN / name.len() + 1)
            .map(|i| SnapshotRef {
                table_id: format!("{i}").into(),
                file: name.clone(),
                ..sample().snapshots[0].clone()
            })
            .collect();
        assert!(matches!(huge.store(&fs, dir), Err(Error::LimitExceeded(_))));
        assert_eq!(Catalog::load(&fs, dir).expect("loads"), Some(sample()));

        let mut long = sample().encode();
        long.resize(MAX_CATALOG_LEN as usize + 1, 0);
        fs.set_file_bytes(&dir.join(CATALOG_FILE), &long)
            .expect("plant");
        let refused = Catalog::load(&fs, dir);
        assert!(
            matches!(&refused, Err(Error::Corruption(m)) if m.contains("longer than its format allows")),
            "{refused:?}"
        );
    }

    #[test]
    fn catalog_roundtrips() {
        assert_eq!(
            Catalog::decode(&sample().encode()).expect("decodes"),
            sample()
        );
    }

    #[test]
    fn every_truncation_and_bit_flip_is_detected() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(Catalog::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[i] ^= 1 << bit;
                assert!(Catalog::decode(&flipped).is_err(), "byte {i} bit {bit}");
            }
        }
    }
}
