//! Settings of a database, fixed when it is opened.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};

/// How a write is made durable before it is acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Acknowledged once the log record is on stable storage; concurrent writers share one
    /// sync (group commit). The default.
    #[default]
    Sync,
    /// Acknowledged once the log record is written to the operating system; synced in the
    /// background. A crash of the machine (not of the process) may lose the last moments.
    Buffered,
    /// Nothing reaches disk: for tests and caches.
    InMemory,
}

/// Settings of a database.
#[derive(Clone, Debug)]
pub struct Options {
    /// How writes are made durable.
    pub durability: Durability,
    /// The region ARNs name (`us-east-1` by default).
    pub region: String,
    /// The account ARNs name (`000000000000` by default).
    pub account: String,
    /// Where time comes from; tests pass a [`crate::ManualClock`].
    pub clock: Arc<dyn Clock>,
    /// The most tables the database holds (DynamoDB's default quota is 2,500 per region).
    pub max_tables: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            durability: Durability::Sync,
            region: "us-east-1".into(),
            account: "000000000000".into(),
            clock: Arc::new(SystemClock),
            max_tables: 2500,
        }
    }
}

impl Options {
    /// Options for a database that never touches disk.
    pub fn in_memory() -> Options {
        Options {
            durability: Durability::InMemory,
            ..Options::default()
        }
    }

    /// Checks the settings before a database opens with them.
    pub(crate) fn validate(&self) -> Result<()> {
        let ok =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok(&self.region) {
            return Err(Error::validation(format!(
                "invalid region {:?}: expected letters, digits and '-'",
                self.region
            )));
        }
        if self.account.len() != 12 || !self.account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::validation(format!(
                "invalid account {:?}: expected 12 digits",
                self.account
            )));
        }
        Ok(())
    }
}
