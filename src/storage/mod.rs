//! The database directory: the write-ahead log, recovery, replay and retention.

pub(crate) mod digest;
pub(crate) mod follow;
pub(crate) mod last_writes;
pub(crate) mod recovery;
pub(crate) mod replay;
pub(crate) mod retention;
pub(crate) mod store;
pub(crate) mod tail;
pub(crate) mod wal;
