//! The live state: tables and their indexes.

pub(crate) mod apply;
pub(crate) mod item_key;
pub(crate) mod items;
pub(crate) mod prefetch;
pub(crate) mod table;
