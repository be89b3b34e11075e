//! Request and response shapes, by area, with DynamoDB's field names.

pub(crate) mod backups;
pub(crate) mod expressions;
pub(crate) mod items;
pub(crate) mod pitr;
pub(crate) mod tables;

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
