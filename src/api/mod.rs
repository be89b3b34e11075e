//! Request and response shapes, by area, with DynamoDB's field names.
//!
//! Every struct here is `#[non_exhaustive]`, so that a field DynamoDB adds to a request or
//! response is not a breaking change: an input is built with its constructor (`new`, or a
//! named one such as [`RestoreTableToPointInTimeInput::at`](crate::RestoreTableToPointInTimeInput::at))
//! and a chainable setter per optional field, and its public fields stay readable and
//! assignable through a binding.
//!
//! ```
//! use tidestore::{Condition, Item, ItemExt, PutItemInput, ReturnValue};
//!
//! let mut put = PutItemInput::new("Music", Item::new().with("Artist", "Acme"))
//!     .condition(Condition::attribute_not_exists("Artist"));
//! put.return_values = ReturnValue::AllOld;
//! assert_eq!(put.table_name, "Music");
//! ```
//!
//! A struct literal does not compile outside the crate:
//!
//! ```compile_fail,E0639
//! let put = tidestore::PutItemInput {
//!     table_name: "Music".into(),
//!     item: tidestore::Item::new(),
//!     ..Default::default()
//! };
//! ```
//!
//! Enums follow one rule: a state or kind DynamoDB reports (`TableStatus`, `BackupStatus`,
//! `BackupType` and its filter, the continuous-backup and Time to Live statuses) is `#[non_exhaustive]`,
//! because DynamoDB has added values to those (`TableStatus` has gained `ARCHIVED` and more)
//! and a match on one needs a wildcard arm, while an enum of a request's parameters or actions
//! (`ReturnValue`, `Select`, `SortKeyOp`, `TransactWriteItem`, `BillingMode`, …) is fixed by
//! the request's meaning and stays exhaustive.

pub(crate) mod backups;
pub(crate) mod capacity;
pub(crate) mod exports;
pub(crate) mod expressions;
pub(crate) mod imports;
pub(crate) mod items;
pub(crate) mod legacy;
pub(crate) mod pitr;
pub(crate) mod policies;
pub(crate) mod streams;
pub(crate) mod tables;
pub(crate) mod tags;
pub(crate) mod ttl;

/// Generates a chainable setter per listed field: `field: Argument => value stored`.
macro_rules! setters {
    ($ty:ident { $($field:ident : $arg:ty => $value:expr),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Sets `", stringify!($field), "`.")]
                #[must_use]
                pub fn $field(mut self, $field: $arg) -> Self {
                    self.$field = $value;
                    self
                }
            )*
        }
    };
}
pub(crate) use setters;
