//! Request and response shapes, by area, with DynamoDB's field names.

pub(crate) mod backups;
pub(crate) mod expressions;
pub(crate) mod items;
pub(crate) mod legacy;
pub(crate) mod pitr;
pub(crate) mod tables;
