//! The data model: attribute values and numbers, key encoding, names and ARNs, table schemas
//! and settings, and time. No I/O happens here.

pub(crate) mod clock;
pub(crate) mod key;
pub(crate) mod names;
pub(crate) mod number;
pub(crate) mod schema;
pub(crate) mod settings;
pub(crate) mod value;

/// A log sequence number: the position of a change in the database's total order.
pub type Lsn = u64;
