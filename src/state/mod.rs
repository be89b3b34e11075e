//! The live state: tables and their indexes.

pub(crate) mod apply;
pub(crate) mod table;
