//! `Query` and `Scan`: turning a request into a range of encoded keys, then reading one page
//! of it.
//!
//! A page follows DynamoDB's rules: it reads items in key order (or reverse key order for a
//! backward query) until it has read `Limit` items or 1 MB of data, whichever comes first;
//! the filter runs on the items read, so a page can hold fewer items than it read; and when
//! it stops early it returns the key of the last item read as `LastEvaluatedKey`. Unlike
//! DynamoDB, a page that stops exactly at the end of the range returns no
//! `LastEvaluatedKey`, which saves the caller one empty round trip.

use std::ops::Bound;

use crate::api::items::{KeyCondition, QueryInput, QueryOutput, ScanInput, Select, SortKeyOp};
use crate::api::legacy::LegacyParameters;
use crate::engine::capacity::{self, Usage};
use crate::error::{Error, Result};
use crate::expr::{self, Condition, Path};
use crate::format::item::StoredItem;
use crate::model::key::{self, EncodedKey, KeyRole};
use crate::model::schema::{
    IndexKind, IndexSchema, KeyAttribute, KeyShape, ProjectionType, ScalarAttributeType,
    TableSchema,
};
use crate::model::value::{item_size, AttributeValue, Item};
use crate::state::table::{IndexData, TableData};

/// A page stops once it has read this many bytes of items.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;
/// The most segments a parallel scan may have.
pub const MAX_TOTAL_SEGMENTS: u32 = 1_000_000;

/// A range of encoded keys: where a read starts and ends.
pub(crate) type KeyRange = (Bound<EncodedKey>, Bound<EncodedKey>);

/// A validated read: where to read, in which direction, and what to return.
#[derive(Debug)]
pub(crate) struct ReadPlan {
    /// Position of the index in `schema.indexes()`, or `None` for the table.
    index: Option<usize>,
    range: KeyRange,
    forward: bool,
    limit: Option<u32>,
    filter: Option<Condition>,
    projection: Option<Vec<Path>>,
    count_only: bool,
    /// Read the table's whole item even through a non-ALL index (a local index with
    /// `Select::AllAttributes` fetches from the table, as DynamoDB does).
    fetch_table_item: bool,
    /// Whether the request asked for a strongly consistent read, which costs twice what an
    /// eventually consistent one does (tidestore's reads are all strongly consistent).
    consistent_read: bool,
}

/// Finds the index a request names.
fn find_index<'s>(schema: &'s TableSchema, name: &str) -> Result<(usize, &'s IndexSchema)> {
    schema
        .indexes()
        .enumerate()
        .find(|(_, i)| i.name == name)
        .ok_or_else(|| {
            Error::validation(format!(
                "The table does not have the specified index: {name}"
            ))
        })
}

/// The parameter a read's projection came from, for the refusals that name it.
fn projected_by(legacy: &LegacyParameters) -> &'static str {
    if legacy.attributes_to_get.is_some() {
        "AttributesToGet"
    } else {
        "ProjectionExpression"
    }
}

/// Checks the projection and resolves `Select` with it into (count only, fetch the table's
/// item). A refusal names the parameter the projection came from (`ProjectionExpression`
/// or the legacy `AttributesToGet`, as `legacy` says), the one the caller sent.
fn resolve_select(
    select: Option<Select>,
    projection: &Option<Vec<Path>>,
    legacy: &LegacyParameters,
    index: Option<&IndexSchema>,
) -> Result<(bool, bool)> {
    if let Some(paths) = projection {
        expr::validate_projection(paths)?;
    }
    let projected_by = projected_by(legacy);
    let select = match (select, projection) {
        (None, Some(_)) => Select::SpecificAttributes,
        (None, None) if index.is_some() => Select::AllProjectedAttributes,
        (None, None) => Select::AllAttributes,
        (Some(Select::SpecificAttributes), None) => {
            return Err(Error::validation(
                "One or more parameter values were invalid: Select type SPECIFIC_ATTRIBUTES requires a ProjectionExpression",
            ))
        }
        (Some(s), Some(_)) if s != Select::SpecificAttributes => {
            // DynamoDB's reference gives only the rule; this wording is the one its replies
            // are quoted with by other implementations' tests against it.
            let choice = match s {
                Select::Count => "only the Count".to_owned(),
                other => serde_json::to_string(&other)
                    .unwrap_or_default()
                    .trim_matches('"')
                    .to_owned(),
            };
            return Err(Error::validation(format!(
                "Cannot specify the {projected_by} when choosing to get {choice}"
            )));
        }
        (Some(s), _) => s,
    };
    if select == Select::AllProjectedAttributes && index.is_none() {
        return Err(Error::validation(
            "One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is supported only when querying an index",
        ));
    }
    let non_all = index.filter(|i| i.projection.projection_type != ProjectionType::All);
    let fetch = match (select, non_all) {
        (Select::AllAttributes, Some(i)) if i.kind == IndexKind::Global => {
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
                i.name
            )))
        }
        (Select::AllAttributes, Some(_)) => true,
        // A local index can fetch any attribute from the table; a global one returns only
        // what it projects.
        (Select::SpecificAttributes, Some(i)) => i.kind == IndexKind::Local,
        _ => false,
    };
    Ok((select == Select::Count, fetch))
}

fn check_limit(limit: Option<u32>) -> Result<()> {
    if limit == Some(0) {
        return Err(Error::validation(
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
        ));
    }
    Ok(())
}

fn check_consistent_read(consistent: bool, index: Option<&IndexSchema>) -> Result<()> {
    if consistent && index.is_some_and(|i| i.kind == IndexKind::Global) {
        return Err(Error::validation(
            "Consistent reads are not supported on global secondary indexes",
        ));
    }
    Ok(())
}

/// The encoded position of an `ExclusiveStartKey`: the table key, or for an index the index
/// key followed by the table key.
fn start_position(
    schema: &TableSchema,
    index: Option<&IndexSchema>,
    start: &Item,
) -> Result<EncodedKey> {
    let invalid =
        |why: &str| Error::validation(format!("The provided starting key is invalid: {why}"));
    let mut expected: Vec<&str> = schema.key.attributes().map(|a| a.name.as_str()).collect();
    if let Some(index) = index {
        expected.extend(index.key.attributes().map(|a| a.name.as_str()));
    }
    if start.keys().any(|k| !expected.contains(&k.as_str())) {
        return Err(invalid(
            "The provided key element does not match the schema",
        ));
    }
    // The reason is the refusal's message: its `Display` would repeat the exception's name.
    let table_key = schema
        .key
        .encode(start, KeyRole::Table)
        .map_err(|e| invalid(&e.message()))?;
    match index {
        None => Ok(table_key),
        Some(index) => {
            let mut position = index
                .key
                .encode(start, KeyRole::Index(&index.name))
                .map_err(|e| invalid(&e.message()))?;
            position.extend_from_slice(&table_key);
            Ok(position)
        }
    }
}

/// Refuses a filter that reads an attribute of the key `shape`: beside a key condition, the
/// key is the key condition's (a Query's, or an export's `FilterSpecification`).
pub(crate) fn check_filter_on_non_keys(filter: &Condition, shape: &KeyShape) -> Result<()> {
    for path in filter.paths() {
        let top = path.top_level();
        if shape.attributes().any(|a| a.name == top) {
            return Err(Error::validation(format!(
                "Filter Expression can only contain non-primary key attributes: Primary key attribute: {top}"
            )));
        }
    }
    Ok(())
}

/// Narrows `range` to what comes after `position` in the reading direction: the part of
/// `range` past `position`, never more. A start key need not lie in the range (a caller
/// may make one, or bring one from another query): one before a forward range's start,
/// or after a backward range's end, leaves that bound as it is, so a read never leaves
/// the key condition (say, into another value of an earlier sort attribute).
fn continue_after(range: KeyRange, position: EncodedKey, forward: bool) -> KeyRange {
    let (start, end) = range;
    if forward {
        let keep = match &start {
            Bound::Included(s) => s.as_slice() > position.as_slice(),
            Bound::Excluded(s) => s.as_slice() >= position.as_slice(),
            Bound::Unbounded => false,
        };
        (
            if keep {
                start
            } else {
                Bound::Excluded(position)
            },
            end,
        )
    } else {
        let keep = match &end {
            Bound::Included(e) => e.as_slice() < position.as_slice(),
            Bound::Excluded(e) => e.as_slice() <= position.as_slice(),
            Bound::Unbounded => false,
        };
        (start, if keep { end } else { Bound::Excluded(position) })
    }
}

/// Whether `position` lies within `range`.
pub(crate) fn contains(range: &KeyRange, position: &[u8]) -> bool {
    let after_start = match &range.0 {
        Bound::Included(s) => position >= s.as_slice(),
        Bound::Excluded(s) => position > s.as_slice(),
        Bound::Unbounded => true,
    };
    let before_end = match &range.1 {
        Bound::Included(e) => position <= e.as_slice(),
        Bound::Excluded(e) => position < e.as_slice(),
        Bound::Unbounded => true,
    };
    after_start && before_end
}

/// The key range a key condition selects within `shape` (the table's or an index's key), and
/// the encoded partition it lies in: an equality on every partition attribute, then
/// conditions on a prefix of the sort attributes, left to right — equalities, and any sort
/// key condition on the last one given (DynamoDB's rules for multi-attribute keys, of which
/// a one-attribute key is the one-element case). An export's `KeyConditionExpression` is
/// checked and turned into its range here too, as Query's rules are its rules.
pub(crate) fn key_condition_range(
    shape: &KeyShape,
    condition: &KeyCondition,
) -> Result<(KeyRange, EncodedKey)> {
    let invalid = |why: String| {
        Error::validation(format!("Query condition missed key schema element: {why}"))
    };
    let type_error = |name: &str, value: &AttributeValue, expected: &str| {
        Error::validation(format!(
            "One or more parameter values were invalid: Condition parameter type does not match schema type (key {name} is {expected}, the condition gives {})",
            value.value_type()
        ))
    };
    // Key values are never empty, so a condition on an empty one is rejected, not empty.
    let empty_error = |name: &str, value: &AttributeValue| {
        match value {
        AttributeValue::S(s) if s.is_empty() => Some(Error::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: {name}"
        ))),
        AttributeValue::B(b) if b.is_empty() => Some(Error::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: {name}"
        ))),
        _ => None,
    }
    };
    if condition.conditions.is_empty() {
        return Err(Error::validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
        ));
    }
    // One condition per key attribute, each on an attribute of this key.
    for (i, (name, _)) in condition.conditions.iter().enumerate() {
        if condition.conditions[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::validation(
                "KeyConditionExpressions must only contain one condition per key",
            ));
        }
    }
    let on = |name: &str| {
        let found = condition.conditions.iter().find(|(n, _)| n == name);
        found.map(|(_, op)| op)
    };
    let check_operand = |attribute: &KeyAttribute, value: &AttributeValue| {
        if !attribute.ty.matches(value) {
            return Err(type_error(&attribute.name, value, attribute.ty.name()));
        }
        empty_error(&attribute.name, value).map_or(Ok(()), Err)
    };
    // Every partition attribute, in key-schema order, with an equality.
    let mut partition_values = Vec::with_capacity(shape.hash.len());
    for attribute in &shape.hash {
        let value = match on(&attribute.name) {
            Some(SortKeyOp::Eq(v)) => v,
            Some(_) => return Err(Error::validation("Query key condition not supported")),
            None => return Err(invalid(attribute.name.clone())),
        };
        check_operand(attribute, value)?;
        partition_values.push(value);
    }
    let partition = key::partition_prefix(&partition_values);
    let is_partition = |name: &str| shape.hash.iter().any(|a| a.name == name);
    let is_sort = |name: &str| shape.range.iter().any(|a| a.name == name);
    let others: Vec<&str> = (condition.conditions.iter())
        .map(|(n, _)| n.as_str())
        .filter(|n| !is_partition(n))
        .collect();
    let Some(name) = others.first() else {
        return Ok((key::prefix_range(partition.clone()), partition));
    };
    let Some(first_sort) = shape.range.first() else {
        return Err(Error::validation(format!(
            "Query key condition not supported: {name} is not a sort key of this table or index"
        )));
    };
    if others.iter().any(|n| !is_sort(n)) {
        // A condition on an attribute outside the key: DynamoDB names the first sort
        // attribute the condition misses (the sort key, for a one-attribute one).
        let missed = shape.range.iter().find(|a| on(&a.name).is_none());
        return Err(invalid(missed.unwrap_or(first_sort).name.clone()));
    }
    // The sort attributes given are a prefix of the key's, left to right, no gaps: items
    // sort by the first, then the second, so only a prefix is one range of keys.
    let given = (shape.range.iter())
        .take_while(|a| on(&a.name).is_some())
        .count();
    if let Some(later) = shape.range[given..].iter().find(|a| on(&a.name).is_some()) {
        return Err(Error::validation(format!(
            "RANGE key attributes {} must have equality conditions specified in the query because a condition is present on key attribute {}",
            shape.range[given].name, later.name
        )));
    }
    // Equality on all but the last given; the last one may be any sort key condition.
    let Some((range_attr, earlier)) = shape.range[..given].split_last() else {
        return Ok((key::prefix_range(partition.clone()), partition));
    };
    let mut prefix = partition.clone();
    for attribute in earlier {
        match on(&attribute.name) {
            Some(SortKeyOp::Eq(v)) => {
                check_operand(attribute, v)?;
                key::encode_value(v, &mut prefix);
            }
            _ => return Err(Error::validation("Query key condition not supported")),
        }
    }
    let name = &range_attr.name;
    let Some(op) = on(name) else {
        return Ok((key::prefix_range(partition.clone()), partition));
    };
    let operands: Vec<&AttributeValue> = match op {
        SortKeyOp::Between(low, high) => vec![low, high],
        SortKeyOp::Eq(v)
        | SortKeyOp::Lt(v)
        | SortKeyOp::Le(v)
        | SortKeyOp::Gt(v)
        | SortKeyOp::Ge(v)
        | SortKeyOp::BeginsWith(v) => vec![v],
    };
    // begins_with of a number attribute is refused as such before its operand's type is
    // looked at: the operand's type is beside the point when no number has a prefix.
    if matches!(op, SortKeyOp::BeginsWith(_)) && range_attr.ty == ScalarAttributeType::N {
        return Err(Error::validation(
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
        ));
    }
    for v in &operands {
        check_operand(range_attr, v)?;
    }
    let with = |v: &AttributeValue| {
        let mut k = prefix.clone();
        key::encode_value(v, &mut k);
        k
    };
    let after = |prefix: Vec<u8>| match key::prefix_successor(&prefix) {
        Some(s) => Bound::Excluded(s),
        None => Bound::Unbounded,
    };
    let prefix_end = after(prefix.clone());
    let range = match op {
        SortKeyOp::Eq(v) => key::prefix_range(with(v)),
        SortKeyOp::Lt(v) => (Bound::Included(prefix.clone()), Bound::Excluded(with(v))),
        SortKeyOp::Le(v) => (Bound::Included(prefix.clone()), after(with(v))),
        SortKeyOp::Gt(v) => (after(with(v)), prefix_end),
        SortKeyOp::Ge(v) => (Bound::Included(with(v)), prefix_end),
        SortKeyOp::Between(low, high) => {
            if low > high {
                return Err(Error::validation(format!(
                    "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: {}, upper bound operand: {}",
                    serde_json::to_string(low).unwrap_or_default(),
                    serde_json::to_string(high).unwrap_or_default()
                )));
            }
            (Bound::Included(with(low)), after(with(high)))
        }
        SortKeyOp::BeginsWith(begins) => {
            // (A number operand of a string or binary attribute failed its type check.)
            let mut k = prefix.clone();
            key::encode_prefix(begins, &mut k);
            key::prefix_range(k)
        }
    };
    Ok((range, partition))
}

impl ReadPlan {
    /// Plans a `Query` against `schema`.
    pub fn query(schema: &TableSchema, input: &QueryInput) -> Result<ReadPlan> {
        check_limit(input.limit)?;
        let index = input
            .index_name
            .as_deref()
            .map(|n| find_index(schema, n))
            .transpose()?;
        let index_schema = index.map(|(_, i)| i);
        check_consistent_read(input.consistent_read, index_schema)?;
        let shape = index_schema.map_or(&schema.key, |i| &i.key);
        let (mut range, partition) = key_condition_range(shape, &input.key_condition)?;
        if let Some(filter) = &input.filter {
            filter.validate()?;
            check_filter_on_non_keys(filter, shape)?;
        }
        let (count_only, fetch_table_item) =
            resolve_select(input.select, &input.projection, &input.legacy, index_schema)?;
        if let Some(start) = &input.exclusive_start_key {
            let position = start_position(schema, index_schema, start)?;
            if !contains(&key::prefix_range(partition), &position) {
                return Err(Error::validation(
                    "The provided starting key is invalid: The provided starting key is outside query boundaries based on provided conditions",
                ));
            }
            range = continue_after(range, position, input.scan_index_forward);
        }
        Ok(ReadPlan {
            index: index.map(|(i, _)| i),
            range,
            forward: input.scan_index_forward,
            limit: input.limit,
            filter: input.filter.clone(),
            projection: input.projection.clone(),
            count_only,
            fetch_table_item,
            consistent_read: input.consistent_read,
        })
    }

    /// Plans a `Scan` against `schema`.
    pub fn scan(schema: &TableSchema, input: &ScanInput) -> Result<ReadPlan> {
        check_limit(input.limit)?;
        let index = input
            .index_name
            .as_deref()
            .map(|n| find_index(schema, n))
            .transpose()?;
        let index_schema = index.map(|(_, i)| i);
        check_consistent_read(input.consistent_read, index_schema)?;
        if let Some(filter) = &input.filter {
            filter.validate()?;
        }
        let mut range = match input.segment {
            None => (Bound::Unbounded, Bound::Unbounded),
            Some((segment, total)) => {
                if !(1..=MAX_TOTAL_SEGMENTS).contains(&total) {
                    return Err(Error::validation(format!(
                        "1 validation error detected: Value '{total}' at 'totalSegments' failed to satisfy constraint: Member must have value between 1 and {MAX_TOTAL_SEGMENTS}"
                    )));
                }
                if segment >= total {
                    return Err(Error::validation(format!(
                        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {segment} is not less than TotalSegments: {total}"
                    )));
                }
                key::segment_range(segment, total)
            }
        };
        let (count_only, fetch_table_item) =
            resolve_select(input.select, &input.projection, &input.legacy, index_schema)?;
        if let Some(start) = &input.exclusive_start_key {
            let position = start_position(schema, index_schema, start)?;
            if !contains(&range, &position) {
                // DynamoDB's reference gives only the rule; this wording is the one its
                // replies are quoted with by other implementations.
                return Err(Error::validation(
                    "The provided Exclusive start key does not map to the provided Segment and TotalSegments values.",
                ));
            }
            range = continue_after(range, position, true);
        }
        Ok(ReadPlan {
            index: index.map(|(i, _)| i),
            range,
            forward: true,
            limit: input.limit,
            filter: input.filter.clone(),
            projection: input.projection.clone(),
            count_only,
            fetch_table_item,
            consistent_read: input.consistent_read,
        })
    }

    /// Reads one page from `data`; returns it with the capacity it consumed: the bytes read,
    /// summed and rounded up once, on the table or index read, and for each item fetched
    /// from the table through a local index, that item's read.
    pub fn read_page(&self, data: &TableData) -> Result<(QueryOutput, Usage)> {
        let schema = &data.schema;
        let index = self.index.and_then(|i| schema.indexes().nth(i));
        let range = (
            self.range.0.as_ref().map(Vec::as_slice),
            self.range.1.as_ref().map(Vec::as_slice),
        );
        // Table items in reading order.
        let rows: Box<dyn Iterator<Item = Result<&StoredItem>>> = match self.index {
            None => {
                let r = data
                    .items
                    .range(range.0, range.1)
                    .map(|entry| entry.map(|(_, item)| item));
                if self.forward {
                    Box::new(r)
                } else {
                    Box::new(r.rev())
                }
            }
            Some(i) => {
                let entries = &data.indexes[i].entries;
                let items = &data.items;
                let r = entries
                    .range::<[u8], _>(range)
                    .filter_map(move |(entry, &len)| {
                        items.get(IndexData::table_key(entry, len)).transpose()
                    });
                if self.forward {
                    Box::new(r)
                } else {
                    Box::new(r.rev())
                }
            }
        };
        let projected = index.filter(|i| i.projection.projection_type != ProjectionType::All);
        // A count with no filter over whole items needs only their sizes, not the items.
        let sizes_only = self.count_only && self.filter.is_none() && projected.is_none();
        let mut rows = rows.peekable();
        let mut page = QueryOutput::default();
        let mut bytes = 0usize;
        let mut fetched = 0.0;
        while let Some(stored) = rows.next() {
            let stored = stored?;
            page.scanned_count += 1;
            // The page ends after this row if it is full and more rows follow; the row's key
            // is then the page's LastEvaluatedKey.
            let ends_page = |bytes: usize, rows: &mut std::iter::Peekable<_>| {
                (self.limit.is_some_and(|l| page.scanned_count >= l) || bytes >= MAX_PAGE_BYTES)
                    && rows.peek().is_some()
            };
            let last_key = |item: &Item| {
                let mut last = schema.key.extract(item);
                if let Some(index) = index {
                    last.extend(index.key.extract(item));
                }
                last
            };
            if sizes_only {
                bytes += stored.size();
                page.count += 1;
                if ends_page(bytes, &mut rows) {
                    page.last_evaluated_key = Some(last_key(&stored.decode()));
                    break;
                }
                continue;
            }
            let item = stored.decode();
            // What the index holds of the item, when it holds less than all of it.
            let projected_item = projected.map(|index| index.project(&schema.key, &item));
            let view = projected_item.as_ref().unwrap_or(&item);
            bytes += match projected_item {
                Some(_) => item_size(view),
                None => stored.size(),
            };
            if self.fetch_table_item && projected_item.is_some() {
                fetched += capacity::read_units(Some(stored.size()));
            }
            let passes = match &self.filter {
                Some(filter) => filter.evaluate(Some(view))?,
                None => true,
            };
            let ends = ends_page(bytes, &mut rows);
            let last = ends.then(|| last_key(&item));
            if passes {
                page.count += 1;
                if !self.count_only {
                    let source = match projected_item {
                        Some(view) if !self.fetch_table_item => view,
                        _ => item,
                    };
                    page.items.push(match &self.projection {
                        Some(paths) => expr::project(&source, paths),
                        None => source,
                    });
                }
            }
            if let Some(last) = last {
                page.last_evaluated_key = Some(last);
                break;
            }
        }
        let read = capacity::read_units(Some(bytes));
        let usage = match index {
            None => Usage::on_table(read),
            Some(index) => {
                let mut usage = Usage::on_table(fetched);
                usage.on_index(index, read);
                usage
            }
        };
        Ok((
            page,
            usage.scaled(capacity::consistency(self.consistent_read)),
        ))
    }
}
