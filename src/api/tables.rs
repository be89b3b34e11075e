//! Requests and responses of the table operations: `CreateTable`, `DescribeTable`,
//! `UpdateTable`, `DeleteTable` and `ListTables`, and the rules that turn a request into a
//! validated [`TableSchema`].
//!
//! All of these types serialize with the API model's field names; `TableDescription` prints
//! as `aws dynamodb describe-table` prints it.

use serde::{Deserialize, Serialize};

use crate::api::setters;
use crate::api::tags::Tag;
use crate::error::{Error, Result};
use crate::model::clock::Timestamp;
use crate::model::key::KeyRole;
use crate::model::names::{self, ArnScope};
use crate::model::schema::require_a_member;
use crate::model::schema::{
    global_index, resolve_key_shape, validate_definitions_used, validate_index_set,
    validate_on_demand, validate_projection, validate_stream, validate_throughput, validate_warm,
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexKind, IndexSchema,
    KeySchemaElement, LocalSecondaryIndex, OnDemandThroughput, Projection, ProvisionedThroughput,
    ScalarAttributeType, StreamEpoch, StreamSpecification, TableClass, TableClassSetting,
    TableSchema, Target, WarmFloor, WarmThroughput, MAX_GLOBAL_INDEXES,
};
use crate::model::value::Item;

/// `CreateTable`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct CreateTableInput {
    /// The new table's name (3–255 characters of `[a-zA-Z0-9_.-]`).
    pub table_name: String,
    /// Partition key, and optional sort key.
    pub key_schema: Vec<KeySchemaElement>,
    /// The type of every key attribute of the table and its indexes, and nothing else.
    pub attribute_definitions: Vec<AttributeDefinition>,
    /// Up to 5; only on a table with a sort key; cannot be added later.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub local_secondary_indexes: Vec<LocalSecondaryIndex>,
    /// Up to 20.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    /// PROVISIONED (DynamoDB's default) or PAY_PER_REQUEST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_mode: Option<BillingMode>,
    /// Required for PROVISIONED, forbidden for PAY_PER_REQUEST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_throughput: Option<ProvisionedThroughput>,
    /// The table's stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_specification: Option<StreamSpecification>,
    /// Up to 50 tags for the table, by DynamoDB's rules (see [`Tag`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// A resource-based policy to attach to the table as it is made: a JSON document of at
    /// most 20 KB, stored and not evaluated (see
    /// [`Database::put_resource_policy`](crate::Database::put_resource_policy)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<String>,
    /// The table class (STANDARD when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_class: Option<TableClass>,
    /// Refuse `DeleteTable` until an `UpdateTable` turns this off (off when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_protection_enabled: Option<bool>,
    /// Encryption at rest: only the default (a key AWS owns) is accepted, see
    /// [`SseSpecification`].
    #[serde(
        default,
        rename = "SSESpecification",
        skip_serializing_if = "Option::is_none"
    )]
    pub sse_specification: Option<SseSpecification>,
    /// The most request units per second the on-demand table may use (see
    /// [`OnDemandThroughput`]; stored and described, not enforced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput: Option<OnDemandThroughput>,
    /// The warm throughput the table is asked to start with: at least an on-demand table's
    /// initial 12,000/4,000, or a provisioned table's capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_throughput: Option<WarmThroughput>,
}

impl CreateTableInput {
    /// A table named `name` with no keys yet: add them with [`Self::hash_key`] and
    /// [`Self::range_key`].
    pub fn new(name: impl Into<String>) -> CreateTableInput {
        CreateTableInput {
            table_name: name.into(),
            ..Default::default()
        }
    }

    fn define(&mut self, name: &str, ty: ScalarAttributeType) {
        if !self
            .attribute_definitions
            .iter()
            .any(|d| d.attribute_name == name)
        {
            self.attribute_definitions
                .push(AttributeDefinition::new(name, ty));
        }
    }

    /// Adds the partition key and its attribute definition.
    pub fn hash_key(mut self, name: &str, ty: ScalarAttributeType) -> CreateTableInput {
        self.key_schema.insert(0, KeySchemaElement::hash(name));
        self.define(name, ty);
        self
    }

    /// Adds the sort key and its attribute definition.
    pub fn range_key(mut self, name: &str, ty: ScalarAttributeType) -> CreateTableInput {
        self.key_schema.push(KeySchemaElement::range(name));
        self.define(name, ty);
        self
    }

    /// Provisioned billing with `read` and `write` capacity units.
    pub fn provisioned(mut self, read: u64, write: u64) -> CreateTableInput {
        self.billing_mode = Some(BillingMode::Provisioned);
        self.provisioned_throughput = Some(ProvisionedThroughput::new(read, write));
        self
    }

    /// On-demand billing.
    pub fn pay_per_request(mut self) -> CreateTableInput {
        self.billing_mode = Some(BillingMode::PayPerRequest);
        self.provisioned_throughput = None;
        self
    }

    /// Adds a local secondary index on sort key `range` (defined with type `ty`).
    pub fn local_index(
        mut self,
        name: &str,
        range: &str,
        ty: ScalarAttributeType,
        projection: Projection,
    ) -> CreateTableInput {
        let hash = self
            .key_schema
            .iter()
            .find(|k| k.key_type == crate::model::schema::KeyType::Hash)
            .map(|k| k.attribute_name.clone())
            .unwrap_or_default();
        self.define(range, ty);
        self.local_secondary_indexes.push(LocalSecondaryIndex {
            index_name: name.into(),
            key_schema: vec![KeySchemaElement::hash(hash), KeySchemaElement::range(range)],
            projection,
        });
        self
    }

    /// Adds a global secondary index with partition key `hash` and optional sort key
    /// `range`, each with its type. On a provisioned table it gets the table's throughput.
    pub fn global_index(
        self,
        name: &str,
        hash: (&str, ScalarAttributeType),
        range: Option<(&str, ScalarAttributeType)>,
        projection: Projection,
    ) -> CreateTableInput {
        let range: &[(&str, ScalarAttributeType)] = match &range {
            Some(range) => std::slice::from_ref(range),
            None => &[],
        };
        self.global_index_with_keys(name, &[hash], range, projection)
    }

    /// Adds a global secondary index with a multi-attribute key: partition attributes
    /// `hash` (1 to 4) and sort attributes `range` (0 to 4), each with its type, in key
    /// order. Items are in the index only when they have every one of them; a `Query` of
    /// it gives an equality on every partition attribute and conditions on a prefix of the
    /// sort attributes, left to right (see [`KeyCondition`](crate::api::items::KeyCondition)).
    /// On a provisioned table it gets the table's throughput.
    pub fn global_index_with_keys(
        mut self,
        name: &str,
        hash: &[(&str, ScalarAttributeType)],
        range: &[(&str, ScalarAttributeType)],
        projection: Projection,
    ) -> CreateTableInput {
        let mut key_schema = Vec::with_capacity(hash.len() + range.len());
        for &(attribute, ty) in hash {
            key_schema.push(KeySchemaElement::hash(attribute));
            self.define(attribute, ty);
        }
        for &(attribute, ty) in range {
            key_schema.push(KeySchemaElement::range(attribute));
            self.define(attribute, ty);
        }
        self.global_secondary_indexes.push(GlobalSecondaryIndex {
            index_name: name.into(),
            key_schema,
            projection,
            provisioned_throughput: self.provisioned_throughput,
            on_demand_throughput: None,
            warm_throughput: None,
        });
        self
    }

    /// Turns the request into a schema, checking everything `CreateTable` checks.
    pub(crate) fn to_schema(&self, created: Timestamp) -> Result<TableSchema> {
        names::validate_table_name(&self.table_name)?;
        let defs = &self.attribute_definitions;
        let key = resolve_key_shape(&self.key_schema, defs, "table", 1)?;
        let billing_mode = self.billing_mode.unwrap_or_default();
        validate_throughput(billing_mode, self.provisioned_throughput.as_ref(), "table")?;
        if let Some(sse) = &self.sse_specification {
            sse.check_default("SSESpecification")?;
        }
        if let Some(maximums) = &self.on_demand_throughput {
            validate_on_demand(billing_mode, maximums, Target::Table, false)?;
        }
        if let Some(warm) = &self.warm_throughput {
            let floor = match (billing_mode, self.provisioned_throughput) {
                (BillingMode::Provisioned, Some(t)) => WarmFloor::Provisioned(t),
                _ => WarmFloor::OnDemandInitial,
            };
            validate_warm(warm, floor, Target::Table)?;
        }

        let mut local_indexes = Vec::new();
        for lsi in &self.local_secondary_indexes {
            names::validate_index_name(&lsi.index_name)?;
            let what = format!("index {}", lsi.index_name);
            let index_key = resolve_key_shape(&lsi.key_schema, defs, &what, 1)?;
            if key.range.is_empty() {
                return Err(Error::validation(
                    "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
                ));
            }
            if index_key.hash != key.hash || index_key.range.is_empty() {
                return Err(Error::validation(format!(
                    "One or more parameter values were invalid: Index KeySchema of {} must have the table's hash key {} and a range key",
                    lsi.index_name,
                    key.partition().name
                )));
            }
            validate_projection(&lsi.projection, &lsi.index_name)?;
            local_indexes.push(IndexSchema {
                name: lsi.index_name.clone(),
                kind: IndexKind::Local,
                key: index_key,
                projection: lsi.projection.clone(),
                throughput: None,
                on_demand: None,
                warm: None,
            });
        }
        let global_indexes = self
            .global_secondary_indexes
            .iter()
            .map(|gsi| global_index(gsi, defs, billing_mode))
            .collect::<Result<Vec<_>>>()?;
        validate_index_set(&local_indexes, &global_indexes)?;
        let all: Vec<&IndexSchema> = local_indexes.iter().chain(&global_indexes).collect();
        validate_definitions_used(defs, &key, &all)?;

        let stream = match &self.stream_specification {
            Some(spec) => {
                validate_stream(spec)?;
                spec.stream_enabled.then_some(*spec)
            }
            None => None,
        };
        Ok(TableSchema {
            name: self.table_name.clone(),
            id: uuid::Uuid::new_v4().to_string(),
            created,
            key,
            attribute_definitions: defs.clone(),
            local_indexes,
            global_indexes,
            billing_mode,
            throughput: self.provisioned_throughput,
            stream_label: stream.map(|_| created.to_iso8601()),
            streams: stream
                .and_then(|s| s.stream_view_type)
                .map(|view| StreamEpoch {
                    label: created.to_iso8601(),
                    view,
                    enabled: 0,
                    disabled: None,
                })
                .into_iter()
                .collect(),
            restored_from: None,
            pitr: None,
            stream,
            table_class: (self.table_class).map(|class| TableClassSetting {
                class,
                updated: None,
            }),
            deletion_protection: self.deletion_protection_enabled.unwrap_or(false),
            pay_per_request_set: None,
            on_demand: self.on_demand_throughput.and_then(|m| m.merged_into(None)),
            warm: self.warm_throughput.and_then(|w| w.merged_into(None)),
        })
    }
}

setters!(CreateTableInput {
    key_schema: Vec<KeySchemaElement> => key_schema,
    attribute_definitions: Vec<AttributeDefinition> => attribute_definitions,
    local_secondary_indexes: Vec<LocalSecondaryIndex> => local_secondary_indexes,
    global_secondary_indexes: Vec<GlobalSecondaryIndex> => global_secondary_indexes,
    billing_mode: BillingMode => Some(billing_mode),
    provisioned_throughput: ProvisionedThroughput => Some(provisioned_throughput),
    stream_specification: StreamSpecification => Some(stream_specification),
    tags: impl IntoIterator<Item = Tag> => tags.into_iter().collect(),
    resource_policy: impl Into<String> => Some(resource_policy.into()),
    table_class: TableClass => Some(table_class),
    deletion_protection_enabled: bool => Some(deletion_protection_enabled),
    sse_specification: SseSpecification => Some(sse_specification),
    on_demand_throughput: OnDemandThroughput => Some(on_demand_throughput),
    warm_throughput: WarmThroughput => Some(warm_throughput),
});

/// Create, update or delete one global secondary index in an `UpdateTable`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum GlobalSecondaryIndexUpdate {
    /// Add an index and backfill it from the table's items.
    Create(GlobalSecondaryIndex),
    /// Change an index's provisioned throughput (on a provisioned table), its on-demand
    /// maximums (on an on-demand table) or its warm throughput: at least one of them.
    Update {
        /// The index.
        #[serde(rename = "IndexName")]
        index_name: String,
        /// Its new throughput.
        #[serde(
            rename = "ProvisionedThroughput",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        provisioned_throughput: Option<ProvisionedThroughput>,
        /// Its new on-demand maximums (-1 removes one).
        #[serde(
            rename = "OnDemandThroughput",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        on_demand_throughput: Option<OnDemandThroughput>,
        /// Its new warm throughput (never lower than the current).
        #[serde(
            rename = "WarmThroughput",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        warm_throughput: Option<WarmThroughput>,
    },
    /// Remove an index.
    Delete {
        /// The index.
        #[serde(rename = "IndexName")]
        index_name: String,
    },
}

impl GlobalSecondaryIndexUpdate {
    /// An [`Update`](Self::Update) of index `index_name`'s provisioned throughput.
    pub fn throughput(
        index_name: impl Into<String>,
        throughput: ProvisionedThroughput,
    ) -> GlobalSecondaryIndexUpdate {
        GlobalSecondaryIndexUpdate::Update {
            index_name: index_name.into(),
            provisioned_throughput: Some(throughput),
            on_demand_throughput: None,
            warm_throughput: None,
        }
    }

    /// An [`Update`](Self::Update) of index `index_name`'s on-demand maximums.
    pub fn on_demand(
        index_name: impl Into<String>,
        maximums: OnDemandThroughput,
    ) -> GlobalSecondaryIndexUpdate {
        GlobalSecondaryIndexUpdate::Update {
            index_name: index_name.into(),
            provisioned_throughput: None,
            on_demand_throughput: Some(maximums),
            warm_throughput: None,
        }
    }

    /// An [`Update`](Self::Update) of index `index_name`'s warm throughput.
    pub fn warm(index_name: impl Into<String>, warm: WarmThroughput) -> GlobalSecondaryIndexUpdate {
        GlobalSecondaryIndexUpdate::Update {
            index_name: index_name.into(),
            provisioned_throughput: None,
            on_demand_throughput: None,
            warm_throughput: Some(warm),
        }
    }
}

/// `UpdateTable`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct UpdateTableInput {
    /// Table name or ARN.
    pub table_name: String,
    /// Definitions of the key attributes of indexes being created: a
    /// [`GlobalSecondaryIndexUpdate::Create`] without any is refused, as DynamoDB refuses it,
    /// even when the table already defines the new index's key attributes (those given are
    /// merged with the table's, so they need not repeat them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attribute_definitions: Vec<AttributeDefinition>,
    /// A new billing mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_mode: Option<BillingMode>,
    /// New table throughput.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_throughput: Option<ProvisionedThroughput>,
    /// Index changes (one create or delete per call, as in DynamoDB).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub global_secondary_index_updates: Vec<GlobalSecondaryIndexUpdate>,
    /// Turn the stream on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_specification: Option<StreamSpecification>,
    /// A new table class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_class: Option<TableClass>,
    /// Turn deletion protection on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_protection_enabled: Option<bool>,
    /// Encryption at rest: only the default (a key AWS owns), which every table already
    /// has, is accepted, see [`SseSpecification`].
    #[serde(
        default,
        rename = "SSESpecification",
        skip_serializing_if = "Option::is_none"
    )]
    pub sse_specification: Option<SseSpecification>,
    /// New on-demand maximums: a member given replaces its maximum, -1 removes it, one
    /// left out keeps it (see [`OnDemandThroughput`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput: Option<OnDemandThroughput>,
    /// A higher warm throughput (never lower than the table's current one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_throughput: Option<WarmThroughput>,
}

impl UpdateTableInput {
    /// An update of `table_name` that changes nothing yet.
    pub fn new(table_name: impl Into<String>) -> UpdateTableInput {
        UpdateTableInput {
            table_name: table_name.into(),
            ..Default::default()
        }
    }

    /// Applies the request to `current`, checking everything `UpdateTable` checks.
    pub(crate) fn apply_to(&self, current: &TableSchema, now: Timestamp) -> Result<TableSchema> {
        if self.billing_mode.is_none()
            && self.provisioned_throughput.is_none()
            && self.global_secondary_index_updates.is_empty()
            && self.stream_specification.is_none()
            && self.table_class.is_none()
            && self.deletion_protection_enabled.is_none()
            && self.sse_specification.is_none()
            && self.on_demand_throughput.is_none()
            && self.warm_throughput.is_none()
        {
            return Err(Error::validation(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
            ));
        }
        if let Some(sse) = &self.sse_specification {
            sse.check_default("SSESpecification")?;
        }
        let mut next = current.clone();
        if let Some(enabled) = self.deletion_protection_enabled {
            next.deletion_protection = enabled;
        }
        // The time reported is of the last change of class, not of every request; a table
        // that never set a class is STANDARD, so asking for STANDARD changes nothing.
        let current_class = current.table_class.map(|c| c.class).unwrap_or_default();
        if let Some(class) = self.table_class.filter(|&c| c != current_class) {
            next.table_class = Some(TableClassSetting {
                class,
                updated: Some(now),
            });
        }
        next.billing_mode = self.billing_mode.unwrap_or(current.billing_mode);
        if next.billing_mode != current.billing_mode {
            next.pay_per_request_set = match next.billing_mode {
                BillingMode::PayPerRequest => Some(now),
                BillingMode::Provisioned => current.last_pay_per_request(),
            };
        }
        if let Some(throughput) = self.provisioned_throughput {
            if next.billing_mode == BillingMode::Provisioned
                && Some(throughput) == current.throughput
            {
                return Err(Error::validation(format!(
                    "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {}. Requested ReadCapacityUnits: {}. Current WriteCapacityUnits provisioned for the table: {}. Requested WriteCapacityUnits: {}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
                    throughput.read_capacity_units, throughput.read_capacity_units,
                    throughput.write_capacity_units, throughput.write_capacity_units
                )));
            }
            next.throughput = Some(throughput);
        } else if next.billing_mode == BillingMode::PayPerRequest {
            next.throughput = None;
        }
        validate_throughput(next.billing_mode, next.throughput.as_ref(), "table")?;
        if let Some(maximums) = &self.on_demand_throughput {
            let empty = *maximums == OnDemandThroughput::default();
            let names = ("MaxReadRequestUnits", "MaxWriteRequestUnits");
            require_a_member("OnDemandThroughput", empty, names)?;
            validate_on_demand(next.billing_mode, maximums, Target::Table, true)?;
            next.on_demand = maximums.merged_into(current.on_demand);
        }
        if let Some(warm) = &self.warm_throughput {
            let empty = *warm == WarmThroughput::default();
            let names = ("ReadUnitsPerSecond", "WriteUnitsPerSecond");
            require_a_member("WarmThroughput", empty, names)?;
            validate_warm(
                warm,
                WarmFloor::Current(current.warm_units()),
                Target::Table,
            )?;
            next.warm = warm.merged_into(current.warm);
        }

        let structural = self
            .global_secondary_index_updates
            .iter()
            .filter(|u| !matches!(u, GlobalSecondaryIndexUpdate::Update { .. }))
            .count();
        if structural > 1 {
            return Err(Error::LimitExceeded(
                "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table".into(),
            ));
        }
        for update in &self.global_secondary_index_updates {
            match update {
                GlobalSecondaryIndexUpdate::Create(gsi) => {
                    // The new index's key attributes are defined in the request, even those
                    // the table already defines.
                    if self.attribute_definitions.is_empty() {
                        return Err(Error::validation(format!(
                            "One or more parameter values were invalid: AttributeDefinitions is not specified for index: {}",
                            gsi.index_name
                        )));
                    }
                    if next.index(&gsi.index_name).is_some() {
                        return Err(Error::validation(format!(
                            "One or more parameter values were invalid: Index with name {} already exists",
                            gsi.index_name
                        )));
                    }
                    let mut defs = next.attribute_definitions.clone();
                    for def in &self.attribute_definitions {
                        match defs.iter().find(|d| d.attribute_name == def.attribute_name) {
                            // DynamoDB goes on to show the existing and the new key schema
                            // ("Existing schema: Schema:[SchemaElement: key{x:S:HASH}] New
                            // schema: ..."); only its fixed sentences are repeated here.
                            Some(existing) if existing.attribute_type != def.attribute_type => {
                                return Err(Error::validation(
                                    "One or more parameter values were invalid: Attributes cannot be redefined. Please check that your attribute has the same type as previously defined.",
                                ));
                            }
                            Some(_) => {}
                            None => defs.push(def.clone()),
                        }
                    }
                    let index = global_index(gsi, &defs, next.billing_mode)?;
                    next.global_indexes.push(index);
                    // Keep only definitions some key uses, as DynamoDB does.
                    defs.retain(|d| {
                        next.key
                            .attributes()
                            .chain(next.indexes().flat_map(|i| i.key.attributes()))
                            .any(|a| a.name == d.attribute_name)
                    });
                    next.attribute_definitions = defs;
                }
                GlobalSecondaryIndexUpdate::Delete { index_name } => {
                    let before = next.global_indexes.len();
                    next.global_indexes.retain(|i| &i.name != index_name);
                    if next.global_indexes.len() == before {
                        return Err(Error::ResourceNotFound(format!(
                            "Requested resource not found: Index: {index_name} not found on table {}",
                            current.name
                        )));
                    }
                    let keys: Vec<String> = next
                        .key
                        .attributes()
                        .chain(next.indexes().flat_map(|i| i.key.attributes()))
                        .map(|a| a.name.clone())
                        .collect();
                    next.attribute_definitions
                        .retain(|d| keys.contains(&d.attribute_name));
                }
                GlobalSecondaryIndexUpdate::Update {
                    index_name,
                    provisioned_throughput,
                    on_demand_throughput,
                    warm_throughput,
                } => {
                    let on_demand = next.billing_mode == BillingMode::PayPerRequest;
                    if on_demand && provisioned_throughput.is_some() {
                        return Err(Error::validation(format!(
                            "One or more parameter values were invalid: The only Updates for index: {index_name} when TableThroughputMode is PAY_PER_REQUEST can be to OnDemandThroughput, WarmThroughput"
                        )));
                    }
                    if !on_demand && provisioned_throughput.is_none() && warm_throughput.is_none() {
                        return Err(Error::validation(format!(
                            "One or more parameter values were invalid: ProvisionedThroughput must be specified for index: {index_name}"
                        )));
                    }
                    if on_demand && on_demand_throughput.is_none() && warm_throughput.is_none() {
                        return Err(Error::validation(format!(
                            "One or more parameter values were invalid: The only Updates for index: {index_name} when TableThroughputMode is PAY_PER_REQUEST can be to OnDemandThroughput, WarmThroughput"
                        )));
                    }
                    let was_warm = current
                        .global_indexes
                        .iter()
                        .find(|i| &i.name == index_name)
                        .map(|i| current.index_warm_units(i));
                    let index = next
                        .global_indexes
                        .iter_mut()
                        .find(|i| &i.name == index_name)
                        .ok_or_else(|| {
                            Error::ResourceNotFound(format!(
                                "Requested resource not found: Index: {index_name} not found on table {}",
                                current.name
                            ))
                        })?;
                    let target = Target::Index(index_name);
                    if let Some(throughput) = provisioned_throughput {
                        validate_throughput(
                            BillingMode::Provisioned,
                            Some(throughput),
                            index_name,
                        )?;
                        index.throughput = Some(*throughput);
                    }
                    if let Some(maximums) = on_demand_throughput {
                        let empty = *maximums == OnDemandThroughput::default();
                        let names = ("MaxReadRequestUnits", "MaxWriteRequestUnits");
                        require_a_member("OnDemandThroughput", empty, names)?;
                        validate_on_demand(next.billing_mode, maximums, target, true)?;
                        index.on_demand = maximums.merged_into(index.on_demand);
                    }
                    if let Some(warm) = warm_throughput {
                        let empty = *warm == WarmThroughput::default();
                        let names = ("ReadUnitsPerSecond", "WriteUnitsPerSecond");
                        require_a_member("WarmThroughput", empty, names)?;
                        let floor = WarmFloor::Current(was_warm.unwrap_or_default());
                        validate_warm(warm, floor, target)?;
                        index.warm = warm.merged_into(index.warm);
                    }
                }
            }
        }
        // A switch of billing mode carries over to the indexes. On-demand maximums mean
        // nothing to a provisioned table or index: a switch to PROVISIONED drops them.
        if next.billing_mode == BillingMode::Provisioned {
            next.on_demand = None;
        }
        for index in &mut next.global_indexes {
            match next.billing_mode {
                BillingMode::PayPerRequest => index.throughput = None,
                BillingMode::Provisioned if index.throughput.is_none() => {
                    index.throughput = next.throughput
                }
                BillingMode::Provisioned => {}
            }
            if next.billing_mode == BillingMode::Provisioned {
                index.on_demand = None;
            }
        }
        if next.global_indexes.len() > MAX_GLOBAL_INDEXES {
            return Err(Error::LimitExceeded(format!(
                "Subscriber limit exceeded: the table would have more than {MAX_GLOBAL_INDEXES} global secondary indexes"
            )));
        }
        validate_index_set(&next.local_indexes, &next.global_indexes)?;

        if let Some(spec) = &self.stream_specification {
            validate_stream(spec)?;
            match (spec.stream_enabled, current.stream.is_some()) {
                (true, true) => {
                    return Err(Error::validation(format!(
                        "Table already has an enabled stream: {}",
                        current.name
                    )))
                }
                (false, false) => {
                    return Err(Error::validation(format!(
                        "Table does not have a stream to disable: {}",
                        current.name
                    )))
                }
                (true, false) => {
                    // A new stream has a new label (its ARN): later than the last one's,
                    // even within its millisecond.
                    let after_last = (next.streams.last())
                        .and_then(|s| Timestamp::from_iso8601(&s.label))
                        .map_or(now, |last| Timestamp(last.0 + 1));
                    let label = now.max(after_last).to_iso8601();
                    next.stream = Some(*spec);
                    next.stream_label = Some(label.clone());
                    if let Some(view) = spec.stream_view_type {
                        next.streams.push(StreamEpoch {
                            label,
                            view,
                            enabled: 0,
                            disabled: None,
                        });
                    }
                }
                (false, true) => {
                    next.stream = None;
                    next.stream_label = None;
                    if let Some(stream) = next.streams.last_mut() {
                        stream.disabled.get_or_insert((0, Timestamp(0)));
                    }
                }
            }
        }
        Ok(next)
    }
}

setters!(UpdateTableInput {
    attribute_definitions: Vec<AttributeDefinition> => attribute_definitions,
    billing_mode: BillingMode => Some(billing_mode),
    provisioned_throughput: ProvisionedThroughput => Some(provisioned_throughput),
    global_secondary_index_updates: Vec<GlobalSecondaryIndexUpdate> => global_secondary_index_updates,
    stream_specification: StreamSpecification => Some(stream_specification),
    table_class: TableClass => Some(table_class),
    deletion_protection_enabled: bool => Some(deletion_protection_enabled),
    sse_specification: SseSpecification => Some(sse_specification),
    on_demand_throughput: OnDemandThroughput => Some(on_demand_throughput),
    warm_throughput: WarmThroughput => Some(warm_throughput),
});

/// `ListTables`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ListTablesInput {
    /// Start after this name (the previous page's `LastEvaluatedTableName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_start_table_name: Option<String>,
    /// At most this many names (1–100; 100 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl ListTablesInput {
    /// The first page of every table's name.
    pub fn new() -> ListTablesInput {
        ListTablesInput::default()
    }
}

setters!(ListTablesInput {
    exclusive_start_table_name: impl Into<String> => Some(exclusive_start_table_name.into()),
    limit: u32 => Some(limit),
});

/// `ListTables`' output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ListTablesOutput {
    /// Table names in ascending order.
    pub table_names: Vec<String>,
    /// Where the next page starts; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluated_table_name: Option<String>,
}

/// A table's lifecycle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum TableStatus {
    /// Being created (a restore in progress).
    Creating,
    /// Being updated.
    Updating,
    /// Being deleted.
    Deleting,
    /// Ready.
    Active,
}

/// An index's lifecycle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum IndexStatus {
    /// Being created.
    Creating,
    /// Being updated.
    Updating,
    /// Being deleted.
    Deleting,
    /// Ready.
    Active,
}

/// Provisioned throughput as `DescribeTable` reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ProvisionedThroughputDescription {
    /// Read capacity units (0 for an on-demand table).
    pub read_capacity_units: u64,
    /// Write capacity units (0 for an on-demand table).
    pub write_capacity_units: u64,
    /// How many times the throughput was decreased today.
    pub number_of_decreases_today: u64,
}

/// The billing mode as `DescribeTable` reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct BillingModeSummary {
    /// PROVISIONED or PAY_PER_REQUEST.
    pub billing_mode: BillingMode,
    /// When PAY_PER_REQUEST was last set: the creation of a table created so, or the
    /// `UpdateTable` that last set it. Absent for a table that never was.
    #[serde(
        rename = "LastUpdateToPayPerRequestDateTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_update_to_pay_per_request_date_time: Option<Timestamp>,
}

/// A local secondary index as `DescribeTable` reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct LocalSecondaryIndexDescription {
    /// Its name.
    pub index_name: String,
    /// Its key schema.
    pub key_schema: Vec<KeySchemaElement>,
    /// What it projects.
    pub projection: Projection,
    /// Bytes of projected items.
    pub index_size_bytes: u64,
    /// Items in the index.
    pub item_count: u64,
    /// Its ARN.
    pub index_arn: String,
}

/// A global secondary index as `DescribeTable` reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GlobalSecondaryIndexDescription {
    /// Its name.
    pub index_name: String,
    /// Its key schema.
    pub key_schema: Vec<KeySchemaElement>,
    /// What it projects.
    pub projection: Projection,
    /// ACTIVE once backfilled.
    pub index_status: IndexStatus,
    /// Whether a backfill is running (never, once `UpdateTable` returns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backfilling: Option<bool>,
    /// Its throughput.
    pub provisioned_throughput: ProvisionedThroughputDescription,
    /// Bytes of projected items.
    pub index_size_bytes: u64,
    /// Items in the index.
    pub item_count: u64,
    /// Its ARN.
    pub index_arn: String,
    /// Its on-demand maximums, while it has any (stored and described, not enforced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput: Option<OnDemandThroughput>,
    /// Its warm throughput.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_throughput: Option<GlobalSecondaryIndexWarmThroughputDescription>,
}

/// A table's warm throughput as `DescribeTable` reports it (`TableWarmThroughputDescription`):
/// 12,000 read and 4,000 write units per second for a table that is or was on-demand, its
/// provisioned capacity otherwise, or what a request raised it to. ACTIVE at once: tidestore
/// has nothing to warm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct TableWarmThroughputDescription {
    /// Read units per second.
    pub read_units_per_second: u64,
    /// Write units per second.
    pub write_units_per_second: u64,
    /// ACTIVE.
    pub status: TableStatus,
}

/// A global index's warm throughput as `DescribeTable` reports it
/// (`GlobalSecondaryIndexWarmThroughputDescription`), by the table's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GlobalSecondaryIndexWarmThroughputDescription {
    /// Read units per second.
    pub read_units_per_second: u64,
    /// Write units per second.
    pub write_units_per_second: u64,
    /// ACTIVE.
    pub status: IndexStatus,
}

/// Everything `DescribeTable` tells about a table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct TableDescription {
    /// The key attributes' types.
    pub attribute_definitions: Vec<AttributeDefinition>,
    /// The table's name.
    pub table_name: String,
    /// Partition key and optional sort key.
    pub key_schema: Vec<KeySchemaElement>,
    /// CREATING, ACTIVE, …
    pub table_status: TableStatus,
    /// When the table was created.
    pub creation_date_time: Timestamp,
    /// Its throughput (zeros for an on-demand table).
    pub provisioned_throughput: ProvisionedThroughputDescription,
    /// Sum of the items' sizes.
    pub table_size_bytes: u64,
    /// Number of items.
    pub item_count: u64,
    /// `arn:aws:dynamodb:{region}:{account}:table/{name}`.
    pub table_arn: String,
    /// A UUID, different for each incarnation of a name.
    pub table_id: String,
    /// The billing mode.
    pub billing_mode_summary: BillingModeSummary,
    /// Local secondary indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_secondary_indexes: Option<Vec<LocalSecondaryIndexDescription>>,
    /// Global secondary indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_secondary_indexes: Option<Vec<GlobalSecondaryIndexDescription>>,
    /// The stream, when one is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_specification: Option<StreamSpecification>,
    /// The stream's label (its creation time), when one is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_stream_label: Option<String>,
    /// The stream's ARN, when one is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_stream_arn: Option<String>,
    /// The table class, once a request set it (a table without one is STANDARD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_class_summary: Option<TableClassSummary>,
    /// Whether `DeleteTable` is refused.
    pub deletion_protection_enabled: bool,
    /// Where the table was restored from, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_summary: Option<crate::model::schema::RestoreSummary>,
    /// The on-demand maximums, while the table has any (absent for a table that never set
    /// them, as DynamoDB describes it). Stored and described, not enforced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput: Option<OnDemandThroughput>,
    /// The warm throughput (always described, as DynamoDB's `DescribeTable` does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_throughput: Option<TableWarmThroughputDescription>,
}

/// A table's class in its description.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct TableClassSummary {
    /// STANDARD or STANDARD_INFREQUENT_ACCESS.
    pub table_class: TableClass,
    /// When an `UpdateTable` last changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_date_time: Option<Timestamp>,
}

/// Counts of a table or index for its description.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counts {
    pub items: u64,
    pub bytes: u64,
}

fn throughput_description(t: Option<ProvisionedThroughput>) -> ProvisionedThroughputDescription {
    let t = t.unwrap_or(ProvisionedThroughput::new(0, 0));
    ProvisionedThroughputDescription {
        read_capacity_units: t.read_capacity_units,
        write_capacity_units: t.write_capacity_units,
        number_of_decreases_today: 0,
    }
}

impl TableDescription {
    /// The primary key of `item` for this table: its key attributes and nothing else, what
    /// `get_item`, `delete_item` and `update_item` take. An item that lacks a key attribute,
    /// or holds one of the wrong type, empty or too long, is the `ValidationException` a
    /// write of it would get.
    ///
    /// ```
    /// use tidestore::{CreateTableInput, Database, Item, ItemExt, ScalarAttributeType::S};
    /// let db = Database::in_memory();
    /// let table = db.create_table(
    ///     CreateTableInput::new("Music").hash_key("Artist", S).range_key("SongTitle", S).pay_per_request(),
    /// )?;
    /// let song = Item::new()
    ///     .with("Artist", "No One You Know")
    ///     .with("SongTitle", "Call Me Today")
    ///     .with("Year", 2015);
    /// let key = table.key_of(&song)?;
    /// assert_eq!(key, Item::from_pairs([("Artist", "No One You Know"), ("SongTitle", "Call Me Today")]));
    /// assert!(table.key_of(&Item::new().with("Artist", "x")).is_err());
    /// # Ok::<(), tidestore::Error>(())
    /// ```
    pub fn key_of(&self, item: &Item) -> Result<Item> {
        let shape = resolve_key_shape(&self.key_schema, &self.attribute_definitions, "table", 1)?;
        shape.encode(item, KeyRole::Table)?;
        Ok(shape.extract(item))
    }

    /// Describes `schema` with the given counts (table first, then one per index in
    /// `schema.indexes()` order).
    pub(crate) fn new(
        schema: &TableSchema,
        status: TableStatus,
        table: Counts,
        indexes: &[Counts],
        scope: &ArnScope,
    ) -> TableDescription {
        let count_of = |i: usize| indexes.get(i).copied().unwrap_or_default();
        let local: Vec<_> = schema
            .local_indexes
            .iter()
            .enumerate()
            .map(|(i, index)| LocalSecondaryIndexDescription {
                index_name: index.name.clone(),
                key_schema: index.key.key_schema(),
                projection: index.projection.clone(),
                index_size_bytes: count_of(i).bytes,
                item_count: count_of(i).items,
                index_arn: scope.index_arn(&schema.name, &index.name),
            })
            .collect();
        let offset = schema.local_indexes.len();
        let global: Vec<_> = schema
            .global_indexes
            .iter()
            .enumerate()
            .map(|(i, index)| GlobalSecondaryIndexDescription {
                index_name: index.name.clone(),
                key_schema: index.key.key_schema(),
                projection: index.projection.clone(),
                index_status: IndexStatus::Active,
                backfilling: None,
                provisioned_throughput: throughput_description(index.throughput),
                index_size_bytes: count_of(offset + i).bytes,
                item_count: count_of(offset + i).items,
                index_arn: scope.index_arn(&schema.name, &index.name),
                on_demand_throughput: index.on_demand,
                warm_throughput: Some({
                    let (read, write) = schema.index_warm_units(index);
                    GlobalSecondaryIndexWarmThroughputDescription {
                        read_units_per_second: read,
                        write_units_per_second: write,
                        status: IndexStatus::Active,
                    }
                }),
            })
            .collect();
        TableDescription {
            attribute_definitions: schema.attribute_definitions.clone(),
            table_name: schema.name.clone(),
            key_schema: schema.key.key_schema(),
            table_status: status,
            creation_date_time: schema.created,
            provisioned_throughput: throughput_description(schema.throughput),
            table_size_bytes: table.bytes,
            item_count: table.items,
            table_arn: scope.table_arn(&schema.name),
            table_id: schema.id.clone(),
            billing_mode_summary: BillingModeSummary {
                billing_mode: schema.billing_mode,
                last_update_to_pay_per_request_date_time: schema.last_pay_per_request(),
            },
            local_secondary_indexes: (!local.is_empty()).then_some(local),
            global_secondary_indexes: (!global.is_empty()).then_some(global),
            stream_specification: schema.stream,
            // The latest stream, enabled or not: a disabled one is readable for a while.
            latest_stream_label: schema.streams.last().map(|s| s.label.clone()),
            latest_stream_arn: schema
                .streams
                .last()
                .map(|s| scope.stream_arn(&schema.name, &s.label)),
            table_class_summary: schema.table_class.map(|c| TableClassSummary {
                table_class: c.class,
                last_update_date_time: c.updated,
            }),
            deletion_protection_enabled: schema.deletion_protection,
            restore_summary: schema.restored_from.clone(),
            on_demand_throughput: schema.on_demand,
            warm_throughput: Some({
                let (read, write) = schema.warm_units();
                TableWarmThroughputDescription {
                    read_units_per_second: read,
                    write_units_per_second: write,
                    status: TableStatus::Active,
                }
            }),
        }
    }
}

/// `SSESpecification`: how a table's data is encrypted at rest. DynamoDB encrypts every
/// table, by default with a key AWS owns (`Enabled` false or absent), or with a KMS key
/// (`Enabled` true, `SSEType` `KMS`, `KMSMasterKeyId`). tidestore encrypts nothing and has
/// no key management service: `CreateTable`, `UpdateTable` and the restores accept the
/// default, which changes nothing a reader can see, and refuse anything naming KMS with a
/// ValidationException.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct SseSpecification {
    /// Whether encryption at rest is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// AES256 or KMS.
    #[serde(default, rename = "SSEType", skip_serializing_if = "Option::is_none")]
    pub sse_type: Option<String>,
    /// The KMS key.
    #[serde(
        default,
        rename = "KMSMasterKeyId",
        skip_serializing_if = "Option::is_none"
    )]
    pub kms_master_key_id: Option<String>,
}

impl SseSpecification {
    /// No setting given.
    pub fn new() -> SseSpecification {
        SseSpecification::default()
    }
}

impl SseSpecification {
    /// Refuses a setting other than the default; `member` is where it was given.
    pub(crate) fn check_default(&self, member: &str) -> Result<()> {
        if self.enabled != Some(true) && self.sse_type.is_none() && self.kms_master_key_id.is_none()
        {
            return Ok(());
        }
        Err(Error::validation(format!(
            "tidestore has no key management service: {member} may only ask for the default encryption at rest (Enabled false or absent, with no SSEType or KMSMasterKeyId)"
        )))
    }
}

setters!(SseSpecification {
    enabled: bool => Some(enabled),
    sse_type: impl Into<String> => Some(sse_type.into()),
    kms_master_key_id: impl Into<String> => Some(kms_master_key_id.into()),
});
