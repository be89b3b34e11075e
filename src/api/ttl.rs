//! The shapes of Time to Live: `UpdateTimeToLive` and `DescribeTimeToLive`, with the API
//! model's names.
//!
//! While Time to Live is enabled, a background sweeper deletes the items whose attribute
//! is a Number of epoch seconds in the past (`Database::delete_expired_items` says which).
//! Until it gets to them, expired items are still returned by reads, queries and scans, and
//! kept by backups and point-in-time restores, as DynamoDB does with the expired items it
//! has not deleted yet: filter on the attribute to leave them out.

use serde::{Deserialize, Serialize};

/// `TimeToLiveSpecification`: Time to Live on or off, and the attribute holding each item's
/// expiry time (a Number of epoch seconds).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct TimeToLiveSpecification {
    /// Whether Time to Live is to be enabled (`true`) or disabled.
    pub enabled: bool,
    /// 1 to 255 characters: the attribute to enable, or the enabled one, to disable.
    pub attribute_name: String,
}

impl TimeToLiveSpecification {
    /// Time to Live on `attribute_name` enabled (`true`) or disabled.
    pub fn new(attribute_name: impl Into<String>, enabled: bool) -> TimeToLiveSpecification {
        TimeToLiveSpecification {
            enabled,
            attribute_name: attribute_name.into(),
        }
    }
}

/// `UpdateTimeToLive`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct UpdateTimeToLiveInput {
    /// The table, by name or ARN.
    pub table_name: String,
    /// The setting to make.
    pub time_to_live_specification: TimeToLiveSpecification,
}

impl UpdateTimeToLiveInput {
    /// Enables Time to Live on `table_name` with the expiry times in `attribute_name`.
    pub fn enable(table_name: impl Into<String>, attribute_name: impl Into<String>) -> Self {
        UpdateTimeToLiveInput {
            table_name: table_name.into(),
            time_to_live_specification: TimeToLiveSpecification::new(attribute_name, true),
        }
    }

    /// Disables Time to Live on `table_name`, enabled on `attribute_name` (DynamoDB wants the
    /// enabled attribute named).
    pub fn disable(table_name: impl Into<String>, attribute_name: impl Into<String>) -> Self {
        UpdateTimeToLiveInput {
            table_name: table_name.into(),
            time_to_live_specification: TimeToLiveSpecification::new(attribute_name, false),
        }
    }
}

/// `UpdateTimeToLive`'s output: the specification as made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct UpdateTimeToLiveOutput {
    /// The request's specification.
    pub time_to_live_specification: TimeToLiveSpecification,
}

/// `TimeToLiveStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum TimeToLiveStatus {
    /// Being enabled. DynamoDB's model names this state (its change can take up to an
    /// hour to process), but tidestore's sweeper follows a change at once, so it reports
    /// the settled state and never this.
    Enabling,
    /// Being disabled; never reported, as `Enabling`.
    Disabling,
    /// The sweeper deletes the items expired by the attribute named.
    Enabled,
    /// Off (also for a table whose setting never changed).
    Disabled,
}

/// `TimeToLiveDescription`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct TimeToLiveDescription {
    /// ENABLED or DISABLED.
    pub time_to_live_status: TimeToLiveStatus,
    /// The attribute, while enabled (DynamoDB names none once disabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_name: Option<String>,
}

/// `DescribeTimeToLive`'s output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DescribeTimeToLiveOutput {
    /// The table's setting.
    pub time_to_live_description: TimeToLiveDescription,
}
