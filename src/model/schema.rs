//! Table definitions: key schemas, attribute definitions, secondary indexes, billing and
//! streams — the parts of `CreateTable`'s input that DynamoDB keeps — and the validated
//! [`TableSchema`] a live table runs on.
//!
//! The public types mirror the API model's shapes and serialize with its field names, so a
//! `CreateTableInput` read from the AWS CLI's JSON is the same value as one built in Rust.
//! [`TableSchema`] is the internal, checked form: the key attributes resolved to their types,
//! the indexes with their projections, and everything that `describe_table` reports.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::clock::Timestamp;
use crate::model::names;
use crate::model::value::{AttributeValue, Item};
use crate::model::Lsn;

/// The most local secondary indexes a table can have.
pub const MAX_LOCAL_INDEXES: usize = 5;
/// The most global secondary indexes a table can have.
pub const MAX_GLOBAL_INDEXES: usize = 20;
/// The most non-key attributes all `INCLUDE` projections of a table may name together.
pub const MAX_PROJECTED_ATTRIBUTES: usize = 100;
/// The most non-key attributes one `INCLUDE` projection may name (`NonKeyAttributeNameList`).
pub const MAX_NON_KEY_ATTRIBUTES_PER_PROJECTION: usize = 20;

/// The role of a key attribute.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum KeyType {
    /// The partition key.
    Hash,
    /// The sort key.
    Range,
}

/// The type a key attribute must have.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
pub enum ScalarAttributeType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

impl ScalarAttributeType {
    /// Whether `value` has this type.
    pub fn matches(self, value: &AttributeValue) -> bool {
        matches!(
            (self, value),
            (ScalarAttributeType::S, AttributeValue::S(_))
                | (ScalarAttributeType::N, AttributeValue::N(_))
                | (ScalarAttributeType::B, AttributeValue::B(_))
        )
    }

    /// DynamoDB's name of the type.
    pub fn name(self) -> &'static str {
        match self {
            ScalarAttributeType::S => "S",
            ScalarAttributeType::N => "N",
            ScalarAttributeType::B => "B",
        }
    }
}

/// One element of a key schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct KeySchemaElement {
    /// The key attribute's name.
    pub attribute_name: String,
    /// Partition (`HASH`) or sort (`RANGE`) key.
    pub key_type: KeyType,
}

impl KeySchemaElement {
    /// A partition key element.
    pub fn hash(name: impl Into<String>) -> KeySchemaElement {
        KeySchemaElement {
            attribute_name: name.into(),
            key_type: KeyType::Hash,
        }
    }

    /// A sort key element.
    pub fn range(name: impl Into<String>) -> KeySchemaElement {
        KeySchemaElement {
            attribute_name: name.into(),
            key_type: KeyType::Range,
        }
    }
}

/// The type of an attribute used in a key of the table or of an index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct AttributeDefinition {
    /// The attribute's name.
    pub attribute_name: String,
    /// Its type: S, N or B.
    pub attribute_type: ScalarAttributeType,
}

impl AttributeDefinition {
    /// A definition of `name` with type `ty`.
    pub fn new(name: impl Into<String>, ty: ScalarAttributeType) -> AttributeDefinition {
        AttributeDefinition {
            attribute_name: name.into(),
            attribute_type: ty,
        }
    }
}

/// Which attributes an index copies from the table.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProjectionType {
    /// Every attribute.
    All,
    /// Only the table's and the index's key attributes.
    KeysOnly,
    /// The keys plus the named non-key attributes.
    Include,
}

/// The attributes an index projects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Projection {
    /// ALL, KEYS_ONLY or INCLUDE.
    pub projection_type: ProjectionType,
    /// The non-key attributes of an INCLUDE projection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub non_key_attributes: Vec<String>,
}

impl Projection {
    /// Project every attribute.
    pub fn all() -> Projection {
        Projection {
            projection_type: ProjectionType::All,
            non_key_attributes: Vec::new(),
        }
    }

    /// Project only the keys.
    pub fn keys_only() -> Projection {
        Projection {
            projection_type: ProjectionType::KeysOnly,
            non_key_attributes: Vec::new(),
        }
    }

    /// Project the keys and the named attributes.
    pub fn include<I: IntoIterator<Item = S>, S: Into<String>>(attributes: I) -> Projection {
        Projection {
            projection_type: ProjectionType::Include,
            non_key_attributes: attributes.into_iter().map(Into::into).collect(),
        }
    }
}

/// How the table is billed.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillingMode {
    /// Provisioned read and write capacity (DynamoDB's default).
    #[default]
    Provisioned,
    /// On-demand.
    PayPerRequest,
}

/// A table's class: what its storage and throughput cost (DynamoDB's `TableClass`).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TableClass {
    /// The default class.
    #[default]
    Standard,
    /// For tables whose data is read rarely: cheaper storage, dearer throughput.
    StandardInfrequentAccess,
}

/// A table's class as a request set it, and when an `UpdateTable` last changed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct TableClassSetting {
    pub class: TableClass,
    /// When an `UpdateTable` last changed the class (`None`: set by `CreateTable`).
    pub updated: Option<Timestamp>,
}

/// Provisioned read and write capacity units.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ProvisionedThroughput {
    /// Strongly consistent reads of up to 4 KB per second.
    pub read_capacity_units: u64,
    /// Writes of up to 1 KB per second.
    pub write_capacity_units: u64,
}

impl ProvisionedThroughput {
    /// `read` read and `write` write capacity units.
    pub fn new(read: u64, write: u64) -> ProvisionedThroughput {
        ProvisionedThroughput {
            read_capacity_units: read,
            write_capacity_units: write,
        }
    }
}

/// `OnDemandThroughput`: the most read and write request units per second an on-demand
/// (PAY_PER_REQUEST) table or global secondary index may use. A member left out leaves that
/// maximum as it was (none, for a new table); in an `UpdateTable` (or a restore's override),
/// -1 removes it. A maximum is at least 1, and PROVISIONED tables take none.
///
/// tidestore stores, logs, backs up, restores and describes these maximums, but does not
/// throttle requests above them: DynamoDB applies them on a best-effort basis (burst
/// capacity may exceed them), and tidestore throttles nothing yet.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct OnDemandThroughput {
    /// The most read request units per second (-1 in an update: no maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_read_request_units: Option<i64>,
    /// The most write request units per second (-1 in an update: no maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_write_request_units: Option<i64>,
}

impl OnDemandThroughput {
    /// No maximum given yet: set one with the setters.
    pub fn new() -> OnDemandThroughput {
        OnDemandThroughput::default()
    }

    /// Sets the read maximum (-1 removes one in an update).
    #[must_use]
    pub fn max_read_request_units(mut self, units: i64) -> OnDemandThroughput {
        self.max_read_request_units = Some(units);
        self
    }

    /// Sets the write maximum (-1 removes one in an update).
    #[must_use]
    pub fn max_write_request_units(mut self, units: i64) -> OnDemandThroughput {
        self.max_write_request_units = Some(units);
        self
    }

    /// The name of the first member given, if any.
    pub(crate) fn member_given(&self) -> Option<&'static str> {
        (self.members().into_iter()).find_map(|(member, units)| units.map(|_| member))
    }

    /// The name of the first member given that is neither a maximum (at least 1) nor -1.
    pub(crate) fn member_out_of_range(&self) -> Option<&'static str> {
        (self.members().into_iter())
            .find_map(|(member, units)| units.filter(|&u| u < 1 && u != -1).map(|_| member))
    }

    /// The members given, by their names in DynamoDB's model.
    fn members(&self) -> [(&'static str, Option<i64>); 2] {
        [
            ("MaxReadRequestUnits", self.max_read_request_units),
            ("MaxWriteRequestUnits", self.max_write_request_units),
        ]
    }

    /// `current` after this request: a member given replaces its maximum, -1 removes it, a
    /// member left out keeps it. `None` once no maximum is left.
    pub(crate) fn merged_into(&self, current: Option<OnDemandThroughput>) -> Option<Self> {
        let current = current.unwrap_or_default();
        let merge = |given: Option<i64>, now: Option<i64>| match given {
            Some(-1) => None,
            Some(units) => Some(units),
            None => now,
        };
        let merged = OnDemandThroughput {
            max_read_request_units: merge(
                self.max_read_request_units,
                current.max_read_request_units,
            ),
            max_write_request_units: merge(
                self.max_write_request_units,
                current.max_write_request_units,
            ),
        };
        (merged != OnDemandThroughput::default()).then_some(merged)
    }
}

/// `WarmThroughput`: the read and write units per second a table or global secondary index
/// is asked to sustain at once (pre-warming). Warm throughput only ever grows: a request
/// below what the table or index already has is refused.
///
/// tidestore has no partitions to warm: the values are stored, backed by the same rules as
/// DynamoDB's, and described, and change nothing else.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct WarmThroughput {
    /// Read units per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_units_per_second: Option<i64>,
    /// Write units per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_units_per_second: Option<i64>,
}

impl WarmThroughput {
    /// No value given yet: set them with the setters.
    pub fn new() -> WarmThroughput {
        WarmThroughput::default()
    }

    /// Sets the read units per second.
    #[must_use]
    pub fn read_units_per_second(mut self, units: i64) -> WarmThroughput {
        self.read_units_per_second = Some(units);
        self
    }

    /// Sets the write units per second.
    #[must_use]
    pub fn write_units_per_second(mut self, units: i64) -> WarmThroughput {
        self.write_units_per_second = Some(units);
        self
    }

    /// `current` (what a request set before) raised by this request's members.
    pub(crate) fn merged_into(&self, current: Option<WarmThroughput>) -> Option<Self> {
        let current = current.unwrap_or_default();
        let merged = WarmThroughput {
            read_units_per_second: self.read_units_per_second.or(current.read_units_per_second),
            write_units_per_second: self
                .write_units_per_second
                .or(current.write_units_per_second),
        };
        (merged != WarmThroughput::default()).then_some(merged)
    }
}

/// The warm throughput every on-demand table and index starts with, as DynamoDB's guide
/// ("Understanding DynamoDB warm throughput in different scenarios") gives it: 12,000 read
/// and 4,000 write units per second.
pub(crate) const ON_DEMAND_INITIAL_WARM: (u64, u64) = (12_000, 4_000);

/// The most warm throughput a table or index may ask for: the table-level throughput quota
/// `DescribeLimits` reports (DynamoDB pre-warms up to the account's table quota).
pub(crate) const MAX_WARM_UNITS: i64 = 40_000;

/// What a throughput setting applies to, for the messages that name it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target<'a> {
    Table,
    Index(&'a str),
}

/// Checks an `OnDemandThroughput` request for a table or index billed `mode`: none on a
/// PROVISIONED one, and each maximum at least 1, or -1 where `removal` allows removing one
/// (an update's). DynamoDB's messages.
pub(crate) fn validate_on_demand(
    mode: BillingMode,
    given: &OnDemandThroughput,
    target: Target<'_>,
    removal: bool,
) -> Result<()> {
    let members = given.members();
    let present = members.iter().find(|(_, units)| units.is_some());
    if let (BillingMode::Provisioned, Some((member, _))) = (mode, present) {
        let on = match target {
            Target::Table => String::new(),
            Target::Index(name) => format!(" for index : {name}"),
        };
        return Err(Error::validation(format!(
            "One or more parameter values were invalid: {member} for OnDemandThroughput{on} cannot be specified when the table BillingMode is PROVISIONED"
        )));
    }
    for (member, units) in members {
        let Some(units) = units else { continue };
        if units < 1 && !(removal && units == -1) {
            let of = match target {
                Target::Table => "table".to_owned(),
                Target::Index(name) => format!("index : {name}"),
            };
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: Requested {member} for OnDemandThroughput for {of} is outside of valid range"
            )));
        }
    }
    Ok(())
}

/// Refuses an update's `OnDemandThroughput` or `WarmThroughput` with no member: the model's
/// documentation requires one or both (DynamoDB itself fails such an update with an
/// internal error).
pub(crate) fn require_a_member(member: &str, empty: bool, names: (&str, &str)) -> Result<()> {
    match empty {
        true => Err(Error::validation(format!(
            "One or more parameter values were invalid: {member} must specify {}, {}, or both",
            names.0, names.1
        ))),
        false => Ok(()),
    }
}

/// What warm throughput a request must not go below, and why (for the message).
#[derive(Clone, Copy, Debug)]
pub(crate) enum WarmFloor {
    /// A new on-demand table's or index's initial throughput.
    OnDemandInitial,
    /// A new provisioned table's or index's capacity.
    Provisioned(ProvisionedThroughput),
    /// What the table or index has now (warm throughput never decreases).
    Current((u64, u64)),
}

/// Checks a `WarmThroughput` request against `floor` and the quota.
pub(crate) fn validate_warm(
    given: &WarmThroughput,
    floor: WarmFloor,
    target: Target<'_>,
) -> Result<()> {
    let of = match target {
        Target::Table => "table".to_owned(),
        Target::Index(name) => format!("index {name}"),
    };
    let members = [
        ("ReadUnitsPerSecond", given.read_units_per_second, 0usize),
        ("WriteUnitsPerSecond", given.write_units_per_second, 1usize),
    ];
    for (member, units, side) in members {
        let Some(units) = units else { continue };
        let (lowest, why) = match floor {
            WarmFloor::OnDemandInitial => (
                [ON_DEMAND_INITIAL_WARM.0, ON_DEMAND_INITIAL_WARM.1][side],
                "lower than initial throughput for OnDemand. See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput.html".to_owned(),
            ),
            WarmFloor::Provisioned(t) => {
                let (capacity, name) = match side {
                    0 => (t.read_capacity_units, "ReadCapacityUnits"),
                    _ => (t.write_capacity_units, "WriteCapacityUnits"),
                };
                (capacity, format!("lower than {name} of ProvisionedThroughput"))
            }
            WarmFloor::Current(now) => (
                [now.0, now.1][side],
                "lower than current WarmThroughput, decreasing WarmThroughput is not supported".to_owned(),
            ),
        };
        if units < 1 || (units as u64) < lowest {
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: Requested {member} for WarmThroughput for {of} is {why}"
            )));
        }
        if units > MAX_WARM_UNITS {
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: Requested {member} for WarmThroughput for {of} is higher than the per-table throughput quota of {MAX_WARM_UNITS}"
            )));
        }
    }
    Ok(())
}

/// The warm throughput (read, write units per second) of a table or index billed `mode`
/// with `throughput`, that asked for `warm`: DynamoDB's 12,000/4,000 for one that is or
/// ever was on-demand (`was_on_demand`), its provisioned capacity otherwise, raised by what
/// a request asked for. (DynamoDB also keeps the highest capacity ever provisioned; tidestore
/// keeps only the present one.)
pub(crate) fn warm_of(
    mode: BillingMode,
    was_on_demand: bool,
    throughput: Option<ProvisionedThroughput>,
    warm: Option<WarmThroughput>,
) -> (u64, u64) {
    let mut units = match mode == BillingMode::PayPerRequest || was_on_demand {
        true => ON_DEMAND_INITIAL_WARM,
        false => (0, 0),
    };
    if let Some(t) = throughput {
        units = (
            units.0.max(t.read_capacity_units),
            units.1.max(t.write_capacity_units),
        );
    }
    if let Some(w) = warm {
        let asked = |v: Option<i64>| v.map_or(0, |v| v.max(0) as u64);
        units = (
            units.0.max(asked(w.read_units_per_second)),
            units.1.max(asked(w.write_units_per_second)),
        );
    }
    units
}

/// What a table's stream records.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StreamViewType {
    /// The new image of each item.
    NewImage,
    /// The old image of each item.
    OldImage,
    /// Both images.
    NewAndOldImages,
    /// Only the key attributes.
    KeysOnly,
}

/// Whether the table has a stream, and of which kind.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct StreamSpecification {
    /// Whether the stream is on.
    pub stream_enabled: bool,
    /// What it records; required when enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_view_type: Option<StreamViewType>,
}

impl StreamSpecification {
    /// A stream on or off; an enabled one needs a [`stream_view_type`](Self::stream_view_type).
    pub fn new(stream_enabled: bool) -> StreamSpecification {
        StreamSpecification {
            stream_enabled,
            stream_view_type: None,
        }
    }

    /// Sets what the stream records.
    #[must_use]
    pub fn stream_view_type(mut self, view: StreamViewType) -> StreamSpecification {
        self.stream_view_type = Some(view);
        self
    }
}

/// A local secondary index in a `CreateTable` request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct LocalSecondaryIndex {
    /// The index's name.
    pub index_name: String,
    /// The table's partition key and another sort key.
    pub key_schema: Vec<KeySchemaElement>,
    /// What the index copies.
    pub projection: Projection,
}

impl LocalSecondaryIndex {
    /// An index named `index_name` with `key_schema` (the table's partition key and another
    /// sort key) copying `projection`.
    pub fn new(
        index_name: impl Into<String>,
        key_schema: Vec<KeySchemaElement>,
        projection: Projection,
    ) -> LocalSecondaryIndex {
        LocalSecondaryIndex {
            index_name: index_name.into(),
            key_schema,
            projection,
        }
    }
}

/// A global secondary index in a `CreateTable` or `UpdateTable` request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GlobalSecondaryIndex {
    /// The index's name.
    pub index_name: String,
    /// Its partition key and optional sort key: 1 to 4 `HASH` elements, then 0 to 4
    /// `RANGE` elements ([`MAX_INDEX_KEY_ATTRIBUTES`]; DynamoDB's multi-attribute keys). An
    /// item is in the index only when it has every one of them.
    pub key_schema: Vec<KeySchemaElement>,
    /// What the index copies.
    pub projection: Projection,
    /// Its capacity, for a provisioned table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_throughput: Option<ProvisionedThroughput>,
    /// Its maximum request units, for an on-demand table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput: Option<OnDemandThroughput>,
    /// The warm throughput it is asked to start with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_throughput: Option<WarmThroughput>,
}

impl GlobalSecondaryIndex {
    /// An index named `index_name` with `key_schema` copying `projection`; a provisioned
    /// table's index also needs a
    /// [`provisioned_throughput`](Self::provisioned_throughput).
    pub fn new(
        index_name: impl Into<String>,
        key_schema: Vec<KeySchemaElement>,
        projection: Projection,
    ) -> GlobalSecondaryIndex {
        GlobalSecondaryIndex {
            index_name: index_name.into(),
            key_schema,
            projection,
            provisioned_throughput: None,
            on_demand_throughput: None,
            warm_throughput: None,
        }
    }

    /// Sets the index's capacity.
    #[must_use]
    pub fn provisioned_throughput(mut self, throughput: ProvisionedThroughput) -> Self {
        self.provisioned_throughput = Some(throughput);
        self
    }

    /// Sets the index's on-demand maximums.
    #[must_use]
    pub fn on_demand_throughput(mut self, maximums: OnDemandThroughput) -> Self {
        self.on_demand_throughput = Some(maximums);
        self
    }

    /// Sets the warm throughput the index is asked to start with.
    #[must_use]
    pub fn warm_throughput(mut self, warm: WarmThroughput) -> Self {
        self.warm_throughput = Some(warm);
        self
    }
}

/// Where a restored table came from (`RestoreSummary`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct RestoreSummary {
    /// The backup it was restored from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_backup_arn: Option<String>,
    /// The table the backup was taken of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_table_arn: Option<String>,
    /// When the restore was requested.
    pub restore_date_time: crate::model::clock::Timestamp,
    /// Whether the restore is still running (never, once `restore_table_from_backup` returns).
    pub restore_in_progress: bool,
}

/// A key attribute resolved to its type.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct KeyAttribute {
    pub name: String,
    pub ty: ScalarAttributeType,
}

/// The most attributes a global secondary index's partition key, or its sort key, may
/// have (DynamoDB's multi-attribute keys: up to four `HASH` and up to four `RANGE`
/// elements). A table's key and a local index's key have one of each at most.
pub const MAX_INDEX_KEY_ATTRIBUTES: usize = 4;

/// A key's shape: its partition attributes, then its sort attributes, each in key-schema
/// order. A table key and a local index key have exactly one partition attribute and at
/// most one sort attribute; a global index may have up to [`MAX_INDEX_KEY_ATTRIBUTES`] of
/// each. A single-attribute key is the one-element case of the same shape: every encoder
/// and every query planner walks these lists, so there is no second path for it. `hash` is
/// never empty (validation and decoding refuse a key without one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyShape {
    pub hash: Vec<KeyAttribute>,
    pub range: Vec<KeyAttribute>,
}

impl KeyShape {
    /// A key of one partition attribute and at most one sort attribute, as every table key is.
    pub fn simple(hash: KeyAttribute, range: Option<KeyAttribute>) -> KeyShape {
        KeyShape {
            hash: vec![hash],
            range: range.into_iter().collect(),
        }
    }

    /// The (first) partition attribute: a table's only one.
    pub fn partition(&self) -> &KeyAttribute {
        // Every KeyShape has a partition attribute: resolve_key_shape and the decoder
        // build none without one.
        &self.hash[0]
    }

    /// The (first) sort attribute, if any: a table's only one.
    pub fn sort(&self) -> Option<&KeyAttribute> {
        self.range.first()
    }

    /// Whether the key has more than one partition or more than one sort attribute.
    pub fn is_multi_attribute(&self) -> bool {
        self.hash.len() > 1 || self.range.len() > 1
    }

    /// The key attributes, partition attributes first, each group in key-schema order.
    pub fn attributes(&self) -> impl Iterator<Item = &KeyAttribute> {
        self.hash.iter().chain(&self.range)
    }

    /// The key schema as DynamoDB describes it.
    pub fn key_schema(&self) -> Vec<KeySchemaElement> {
        let hash = self.hash.iter().map(|a| KeySchemaElement::hash(&a.name));
        hash.chain(self.range.iter().map(|a| KeySchemaElement::range(&a.name)))
            .collect()
    }

    /// The key attributes of `item` (those it has).
    pub fn extract(&self, item: &Item) -> Item {
        self.attributes()
            .filter_map(|a| item.get(&a.name).map(|v| (a.name.clone(), v.clone())))
            .collect()
    }
}

/// Local or global.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) enum IndexKind {
    Local,
    Global,
}

/// A secondary index, validated. Its bytes are `format/schema.rs`'s: the on-demand maximums
/// and warm throughput of a global index travel in the table schema's v4 layout, after the
/// fields every older layout has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IndexSchema {
    pub name: String,
    pub kind: IndexKind,
    pub key: KeyShape,
    pub projection: Projection,
    pub throughput: Option<ProvisionedThroughput>,
    /// Its on-demand maximums (only ever on a global index of an on-demand table; only
    /// members of at least 1).
    pub on_demand: Option<OnDemandThroughput>,
    /// The warm throughput a request asked for (a global index only).
    pub warm: Option<WarmThroughput>,
}

impl IndexSchema {
    /// The attributes of `item` this index stores, given the table's key: everything for
    /// ALL; otherwise the table's and the index's keys plus any INCLUDEd attributes.
    pub fn project(&self, table_key: &KeyShape, item: &Item) -> Item {
        match self.projection.projection_type {
            ProjectionType::All => item.clone(),
            ProjectionType::KeysOnly | ProjectionType::Include => item
                .iter()
                .filter(|(name, _)| self.projects(table_key, name))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// Whether the index holds attribute `name` of its items: every attribute for `ALL`,
    /// else the table's and the index's key attributes and the projection's `INCLUDE`s.
    pub fn projects(&self, table_key: &KeyShape, name: &str) -> bool {
        self.projection.projection_type == ProjectionType::All
            || (table_key.attributes().chain(self.key.attributes())).any(|a| a.name == name)
            || (self.projection.non_key_attributes.iter()).any(|n| n == name)
    }

    /// Whether `other` holds the same entries as this index: the same name, kind, key and
    /// projection. Its throughput, on-demand maximums and warm throughput change nothing it
    /// holds, so an `UpdateTable` of those keeps the index's entries instead of rebuilding
    /// them from every item.
    pub fn same_entries_as(&self, other: &IndexSchema) -> bool {
        self.name == other.name
            && self.kind == other.kind
            && self.key == other.key
            && self.projection == other.projection
    }
}

/// Everything DynamoDB keeps about a table's definition, validated. Its bytes on disk (the
/// layouts v0 to v5, each written only when a field it adds is set) are `format/schema.rs`'s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TableSchema {
    pub name: String,
    /// A UUID, DynamoDB's `TableId`. Tables are told apart by id, not name: a name can be
    /// reused after a delete, and log records must not apply to the wrong incarnation.
    pub id: String,
    pub created: Timestamp,
    pub key: KeyShape,
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub local_indexes: Vec<IndexSchema>,
    pub global_indexes: Vec<IndexSchema>,
    pub billing_mode: BillingMode,
    pub throughput: Option<ProvisionedThroughput>,
    pub stream: Option<StreamSpecification>,
    /// When the current stream was enabled: its label and ARN derive from it.
    pub stream_label: Option<String>,
    /// The streams the table has had, oldest first: the current one (if enabled) last, and
    /// before it those disabled within the retention period, still readable.
    pub streams: Vec<StreamEpoch>,
    /// Where the table came from, if it was restored from a backup.
    pub restored_from: Option<RestoreSummary>,
    /// Point-in-time recovery, when enabled.
    pub pitr: Option<PitrSettings>,
    /// The table class, once a request set it: DynamoDB reports `TableClassSummary` only
    /// then (STANDARD by default). Not carried over by a restore.
    pub table_class: Option<TableClassSetting>,
    /// `DeletionProtectionEnabled`: `DeleteTable` is refused while set. Not carried over by
    /// a restore.
    pub deletion_protection: bool,
    /// Set by an `UpdateTable` that changes the billing mode: when PAY_PER_REQUEST was last
    /// set (the update's time when it sets it; when it leaves it, the time it was set,
    /// which for a table created so is its creation). `None` while no update changed the
    /// mode. See [`TableSchema::last_pay_per_request`].
    pub pay_per_request_set: Option<Timestamp>,
    /// `OnDemandThroughput`: the table's on-demand maximums (only on an on-demand table;
    /// only members of at least 1). Carried over by a restore unless overridden.
    pub on_demand: Option<OnDemandThroughput>,
    /// `WarmThroughput` a request asked for (see [`warm_of`]). Not carried over by a
    /// restore: the new table starts warm as any new table does.
    pub warm: Option<WarmThroughput>,
}

/// One stream of a table. Enabling a table's stream makes a new stream, with its own label
/// and ARN, as DynamoDB does; a disabled one stays readable until its records age out.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct StreamEpoch {
    /// Its label (`StreamLabel`): when it was enabled, in ISO 8601.
    pub label: String,
    /// What its records show.
    pub view: StreamViewType,
    /// The LSN of the record that enabled it: its records are the table's item writes
    /// logged after this. (0 in a logged schema stands for that record's own LSN, which it
    /// cannot know: applying the record fills it in, see `state/apply.rs`.)
    pub enabled: Lsn,
    /// The LSN and commit time of the record that disabled it, once disabled (0 in a
    /// logged schema, likewise).
    pub disabled: Option<(Lsn, Timestamp)>,
}

impl StreamEpoch {
    /// Whether the stream can still be read at `now`: enabled, or disabled less than
    /// `retention` ago (its records are gone after that, and so is it).
    pub(crate) fn readable_at(&self, now: Timestamp, retention: std::time::Duration) -> bool {
        let retention = retention.as_millis() as u64;
        self.disabled
            .is_none_or(|(_, ended)| ended.0.saturating_add(retention) >= now.0)
    }
}

impl TableSchema {
    /// When PAY_PER_REQUEST was last set, as `DescribeTable`'s
    /// `BillingModeSummary.LastUpdateToPayPerRequestDateTime` reports it: at the creation
    /// of a table created so, at the last update that set it otherwise; `None` for a table
    /// that never was.
    pub(crate) fn last_pay_per_request(&self) -> Option<Timestamp> {
        self.pay_per_request_set
            .or((self.billing_mode == BillingMode::PayPerRequest).then_some(self.created))
    }

    /// The table's warm throughput (read, write units per second), as described.
    pub(crate) fn warm_units(&self) -> (u64, u64) {
        let was_on_demand = self.last_pay_per_request().is_some();
        warm_of(self.billing_mode, was_on_demand, self.throughput, self.warm)
    }

    /// The warm throughput of global index `index` of this table, as described.
    pub(crate) fn index_warm_units(&self, index: &IndexSchema) -> (u64, u64) {
        let was_on_demand = self.last_pay_per_request().is_some();
        warm_of(
            self.billing_mode,
            was_on_demand,
            index.throughput,
            index.warm,
        )
    }

    /// Whether anything needs the v4 layout: on-demand maximums or warm throughput, of the
    /// table or a global index.
    pub(crate) fn has_throughput_settings(&self) -> bool {
        self.on_demand.is_some()
            || self.warm.is_some()
            || (self.global_indexes.iter()).any(|i| i.on_demand.is_some() || i.warm.is_some())
    }

    /// The stream that records the table's writes now, if one is enabled.
    pub(crate) fn current_stream(&self) -> Option<&StreamEpoch> {
        self.streams.last().filter(|s| s.disabled.is_none())
    }

    /// Fills in the LSN and time of the record that logs this schema where a stream was
    /// enabled or disabled by it (see [`StreamEpoch::enabled`]). True if any was.
    pub(crate) fn resolve_streams(&mut self, lsn: Lsn, time: Timestamp) -> bool {
        let mut resolved = false;
        for stream in &mut self.streams {
            if stream.enabled == 0 {
                stream.enabled = lsn;
                resolved = true;
            }
            if let Some(disabled @ (0, _)) = &mut stream.disabled {
                *disabled = (lsn, time);
                resolved = true;
            }
        }
        resolved
    }
}

/// A table's point-in-time recovery settings while enabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct PitrSettings {
    /// `RecoveryPeriodInDays`, 1 to 35.
    pub period_days: u32,
    /// When recovery was enabled: no moment before it can be restored. Every record before
    /// the enabling one has a commit time at or before this.
    pub since: crate::model::clock::Timestamp,
}

impl PitrSettings {
    /// The earliest restorable moment of the window at `now`: `RecoveryPeriodInDays` back,
    /// but never before recovery was enabled.
    pub fn window_start(
        &self,
        now: crate::model::clock::Timestamp,
    ) -> crate::model::clock::Timestamp {
        const DAY_MS: u64 = 86_400_000;
        let period = u64::from(self.period_days) * DAY_MS;
        crate::model::clock::Timestamp(now.0.saturating_sub(period)).max(self.since)
    }
}

impl TableSchema {
    /// The index named `name`, local or global.
    pub fn index(&self, name: &str) -> Option<&IndexSchema> {
        self.local_indexes
            .iter()
            .chain(&self.global_indexes)
            .find(|i| i.name == name)
    }

    /// All indexes, local first.
    pub fn indexes(&self) -> impl Iterator<Item = &IndexSchema> {
        self.local_indexes.iter().chain(&self.global_indexes)
    }
}

/// Resolves a key schema against the attribute definitions. `max_per_role` is how many
/// partition (`HASH`) and how many sort (`RANGE`) elements it may have: 1 for a table or a
/// local index, [`MAX_INDEX_KEY_ATTRIBUTES`] for a global index (multi-attribute keys: the
/// `HASH` elements first, then the `RANGE` ones). Both kinds go through the same checks,
/// so a one-attribute global index key is refused exactly as a table key would be.
pub(crate) fn resolve_key_shape(
    key_schema: &[KeySchemaElement],
    definitions: &[AttributeDefinition],
    what: &str,
    max_per_role: usize,
) -> Result<KeyShape> {
    // DynamoDB checks the length of every defined name before it matches keys to definitions:
    // an over-long definition is refused as such, even when a key names something undefined.
    for d in definitions {
        names::validate_key_attribute_name(&d.attribute_name)?;
    }
    let invalid = |why: &str| Error::validation(format!("Invalid KeySchema of {what}: {why}"));
    match key_schema {
        [] => {
            return Err(Error::validation(format!(
                "1 validation error detected: Value null at 'keySchema' of {what} failed to satisfy constraint: Member must not be null"
            )))
        }
        [first, ..] if first.key_type != KeyType::Hash => {
            return Err(invalid("The first KeySchemaElement is not a HASH key type"))
        }
        _ => {}
    }
    let most = 2 * max_per_role;
    if key_schema.len() > most {
        return Err(Error::validation(format!(
            "1 validation error detected: Value at 'keySchema' of {what} failed to satisfy constraint: Member must have length less than or equal to {most}"
        )));
    }
    let hashes = key_schema
        .iter()
        .take_while(|e| e.key_type == KeyType::Hash)
        .count();
    let (hash, range) = key_schema.split_at(hashes);
    if hashes > max_per_role {
        return Err(match max_per_role {
            1 => invalid("The second KeySchemaElement is not a RANGE key type"),
            _ => invalid(&format!(
                "The number of HASH key elements exceeds the limit of {max_per_role}"
            )),
        });
    }
    if range.iter().any(|e| e.key_type != KeyType::Range) {
        return Err(invalid("A HASH key element follows a RANGE key element"));
    }
    if range.len() > max_per_role {
        return Err(invalid(&format!(
            "The number of RANGE key elements exceeds the limit of {max_per_role}"
        )));
    }
    for (i, element) in key_schema.iter().enumerate() {
        let Some(earlier) = key_schema[..i]
            .iter()
            .find(|e| e.attribute_name == element.attribute_name)
        else {
            continue;
        };
        return Err(match (key_schema.len(), earlier.key_type == element.key_type) {
            (2, false) => invalid(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ),
            _ => invalid(&format!(
                "Duplicate attribute name in the KeySchema: {}",
                element.attribute_name
            )),
        });
    }
    let resolve = |element: &KeySchemaElement| -> Result<KeyAttribute> {
        names::validate_key_attribute_name(&element.attribute_name)?;
        let def = definitions
            .iter()
            .find(|d| d.attribute_name == element.attribute_name)
            .ok_or_else(|| {
                Error::validation(format!(
                    "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                    element.attribute_name,
                    definitions.iter().map(|d| d.attribute_name.as_str()).collect::<Vec<_>>().join(", ")
                ))
            })?;
        Ok(KeyAttribute {
            name: element.attribute_name.clone(),
            ty: def.attribute_type,
        })
    };
    Ok(KeyShape {
        hash: hash.iter().map(resolve).collect::<Result<_>>()?,
        range: range.iter().map(resolve).collect::<Result<_>>()?,
    })
}

/// Checks a projection's shape; returns how many non-key attributes it names.
pub(crate) fn validate_projection(projection: &Projection, index: &str) -> Result<usize> {
    match projection.projection_type {
        ProjectionType::Include => {
            if projection.non_key_attributes.is_empty() {
                return Err(Error::validation(format!(
                    "One or more parameter values were invalid: NonKeyAttributes must be specified for INCLUDE projection type of index {index}"
                )));
            }
            if projection.non_key_attributes.len() > MAX_NON_KEY_ATTRIBUTES_PER_PROJECTION {
                return Err(Error::validation(format!(
                    "1 validation error detected: Value at 'projection.nonKeyAttributes' of index {index} failed to satisfy constraint: Member must have length less than or equal to {MAX_NON_KEY_ATTRIBUTES_PER_PROJECTION}"
                )));
            }
            let unique: BTreeSet<&String> = projection.non_key_attributes.iter().collect();
            if unique.len() != projection.non_key_attributes.len() {
                return Err(Error::validation(format!(
                    "One or more parameter values were invalid: Duplicate NonKeyAttributes in projection of index {index}"
                )));
            }
            for name in &projection.non_key_attributes {
                names::validate_key_attribute_name(name)?;
            }
            Ok(projection.non_key_attributes.len())
        }
        _ if !projection.non_key_attributes.is_empty() => Err(Error::validation(format!(
            "One or more parameter values were invalid: ProjectionType is {}, but NonKeyAttributes is specified for index {index}",
            match projection.projection_type {
                ProjectionType::All => "ALL",
                ProjectionType::KeysOnly => "KEYS_ONLY",
                ProjectionType::Include => "INCLUDE",
            }
        ))),
        _ => Ok(0),
    }
}

/// Checks that capacity is given exactly when the billing mode needs it.
pub(crate) fn validate_throughput(
    mode: BillingMode,
    throughput: Option<&ProvisionedThroughput>,
    what: &str,
) -> Result<()> {
    match (mode, throughput) {
        (BillingMode::Provisioned, None) => Err(Error::validation(format!(
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED ({what})"
        ))),
        (BillingMode::Provisioned, Some(t)) if t.read_capacity_units == 0 || t.write_capacity_units == 0 => {
            Err(Error::validation(format!(
                "One or more parameter values were invalid: Each of ReadCapacityUnits and WriteCapacityUnits must be at least 1 ({what})"
            )))
        }
        (BillingMode::PayPerRequest, Some(_)) => Err(Error::validation(format!(
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST ({what})"
        ))),
        _ => Ok(()),
    }
}

/// Checks a stream specification: a view type exactly when enabled.
pub(crate) fn validate_stream(spec: &StreamSpecification) -> Result<()> {
    match (spec.stream_enabled, spec.stream_view_type) {
        (true, None) => Err(Error::validation(
            "One or more parameter values were invalid: StreamViewType must be specified when StreamEnabled is true",
        )),
        (false, Some(_)) => Err(Error::validation(
            "One or more parameter values were invalid: StreamViewType cannot be specified when StreamEnabled is false",
        )),
        _ => Ok(()),
    }
}

/// Builds a global index schema from a request, checking its keys, projection and capacity.
pub(crate) fn global_index(
    gsi: &GlobalSecondaryIndex,
    definitions: &[AttributeDefinition],
    billing_mode: BillingMode,
) -> Result<IndexSchema> {
    names::validate_index_name(&gsi.index_name)?;
    let key = resolve_key_shape(
        &gsi.key_schema,
        definitions,
        &format!("index {}", gsi.index_name),
        MAX_INDEX_KEY_ATTRIBUTES,
    )?;
    validate_projection(&gsi.projection, &gsi.index_name)?;
    validate_throughput(
        billing_mode,
        gsi.provisioned_throughput.as_ref(),
        &format!("index {}", gsi.index_name),
    )?;
    let target = Target::Index(&gsi.index_name);
    if let Some(maximums) = &gsi.on_demand_throughput {
        validate_on_demand(billing_mode, maximums, target, false)?;
    }
    if let Some(warm) = &gsi.warm_throughput {
        let floor = match (billing_mode, gsi.provisioned_throughput) {
            (BillingMode::Provisioned, Some(t)) => WarmFloor::Provisioned(t),
            _ => WarmFloor::OnDemandInitial,
        };
        validate_warm(warm, floor, target)?;
    }
    Ok(IndexSchema {
        name: gsi.index_name.clone(),
        kind: IndexKind::Global,
        key,
        projection: gsi.projection.clone(),
        throughput: gsi.provisioned_throughput,
        on_demand: gsi.on_demand_throughput.and_then(|m| m.merged_into(None)),
        warm: gsi.warm_throughput.and_then(|w| w.merged_into(None)),
    })
}

/// Checks that the attribute definitions name exactly the key attributes in use.
pub(crate) fn validate_definitions_used(
    definitions: &[AttributeDefinition],
    key: &KeyShape,
    indexes: &[&IndexSchema],
) -> Result<()> {
    let mut defined = BTreeSet::new();
    for d in definitions {
        names::validate_key_attribute_name(&d.attribute_name)?;
        if !defined.insert(d.attribute_name.as_str()) {
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: Duplicate AttributeName in AttributeDefinitions: {}",
                d.attribute_name
            )));
        }
    }
    let used: BTreeSet<&str> = key
        .attributes()
        .chain(indexes.iter().flat_map(|i| i.key.attributes()))
        .map(|a| a.name.as_str())
        .collect();
    if used != defined {
        return Err(Error::validation(format!(
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions (key attributes: [{}]; defined: [{}])",
            used.into_iter().collect::<Vec<_>>().join(", "),
            defined.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(())
}

/// Checks the limits that span all indexes: unique names, counts, projected attributes.
/// Too many indexes in a request is a `ValidationException`, as `CreateTable` reports it
/// (`UpdateTable` checks its index count first, as a `LimitExceededException`).
pub(crate) fn validate_index_set(local: &[IndexSchema], global: &[IndexSchema]) -> Result<()> {
    if local.len() > MAX_LOCAL_INDEXES {
        return Err(Error::validation(format!(
            "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LOCAL_INDEXES}"
        )));
    }
    if global.len() > MAX_GLOBAL_INDEXES {
        return Err(Error::validation(format!(
            "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GLOBAL_INDEXES}"
        )));
    }
    let mut seen = BTreeSet::new();
    for index in local.iter().chain(global) {
        if !seen.insert(index.name.as_str()) {
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: Duplicate index name: {}",
                index.name
            )));
        }
    }
    let projected: usize = local
        .iter()
        .chain(global)
        .map(|i| i.projection.non_key_attributes.len())
        .sum();
    if projected > MAX_PROJECTED_ATTRIBUTES {
        return Err(Error::LimitExceeded(format!(
            "One or more parameter values were invalid: The sum of NonKeyAttributes across all secondary indexes ({projected}) exceeds the limit of {MAX_PROJECTED_ATTRIBUTES}"
        )));
    }
    Ok(())
}
