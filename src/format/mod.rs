//! Every byte that reaches disk: the codec, log records, table files and the catalog.

pub(crate) mod backup;
pub(crate) mod catalog;
pub(crate) mod codec;
pub(crate) mod item;
pub(crate) mod log_segment;
pub(crate) mod mutation;
pub(crate) mod table_file;
