//! A table's settings: `TagResource`, `UntagResource`, `ListTagsOfResource`,
//! `UpdateTimeToLive` and `DescribeTimeToLive` (its resource policies are `policies.rs`'s,
//! through the same `commit_settings`).
//!
//! A change reads the table's settings, makes the new ones and logs them whole as one
//! `Mutation::UpdateTableSettings`, which the one apply (`state/apply.rs`) installs — live
//! here, at recovery, and in every replay that builds the table's next snapshot. Changes
//! hold the DDL lock, so two of them (or one and a deletion) never interleave; they take no
//! gate, since no item changes. A request that changes nothing logs nothing.

use std::sync::Arc;

use crate::api::tags::{
    check_tag_keys, checked_tags, too_many_tags, ListTagsOfResourceInput, ListTagsOfResourceOutput,
    Tag, TagResourceInput, UntagResourceInput, MAX_TAGS,
};
use crate::api::ttl::{
    DescribeTimeToLiveOutput, TimeToLiveDescription, TimeToLiveStatus, UpdateTimeToLiveInput,
    UpdateTimeToLiveOutput,
};
use crate::engine::live::Live;
use crate::engine::{Engine, TableHandle};
use crate::error::{Error, Result};
use crate::format::mutation::Mutation;
use crate::model::settings::TableSettings;
use crate::state::apply::apply;

/// The longest Time to Live attribute name, in characters (the service model's).
const MAX_TTL_ATTRIBUTE_CHARS: usize = 255;

impl Engine {
    /// The table a tagging request's `ResourceArn` names: `ResourceNotFound` in DynamoDB's
    /// words for a well-formed ARN of no table.
    fn tagged_table(&self, arn: &str) -> Result<Arc<TableHandle>> {
        let name = self.scope.table_name_of_resource(arn)?;
        self.tables.read().get(name).cloned().ok_or_else(|| {
            Error::ResourceNotFound(format!(
                "Requested resource not found: ResourceArn: {arn} not found"
            ))
        })
    }

    /// Logs `settings` as the table's from now on, and installs them. The caller holds the
    /// DDL lock.
    pub(crate) fn commit_settings(
        &self,
        handle: &Arc<TableHandle>,
        settings: TableSettings,
    ) -> Result<()> {
        let mutation = Mutation::UpdateTableSettings {
            table_id: Arc::clone(&handle.id),
            settings: Arc::new(settings),
        };
        let at = self.commit(&mutation, &[handle])?;
        apply(at, mutation, &mut Live::new(self).with_table(handle))
    }

    /// The engine side of [`Database::tag_resource`](crate::Database::tag_resource).
    pub(crate) fn tag_resource(&self, input: TagResourceInput) -> Result<()> {
        self.scope.table_name_of_resource(&input.resource_arn)?;
        if input.tags.is_empty() {
            return Err(Error::validation(
                "Atleast one Tag needs to be provided as Input.",
            ));
        }
        let tags = checked_tags(&input.tags)?;
        let _ddl = self.ddl.lock();
        let handle = self.tagged_table(&input.resource_arn)?;
        let current = Arc::clone(&handle.data.read().settings);
        let mut next = (*current).clone();
        next.tags.extend(tags);
        if next.tags.len() > MAX_TAGS {
            return Err(too_many_tags());
        }
        if next == *current {
            return Ok(());
        }
        self.commit_settings(&handle, next)
    }

    /// The engine side of [`Database::untag_resource`](crate::Database::untag_resource).
    pub(crate) fn untag_resource(&self, input: UntagResourceInput) -> Result<()> {
        self.scope.table_name_of_resource(&input.resource_arn)?;
        check_tag_keys(&input.tag_keys)?;
        let _ddl = self.ddl.lock();
        let handle = self.tagged_table(&input.resource_arn)?;
        let current = Arc::clone(&handle.data.read().settings);
        let mut next = (*current).clone();
        for key in &input.tag_keys {
            next.tags.remove(key);
        }
        if next == *current {
            return Ok(());
        }
        self.commit_settings(&handle, next)
    }

    /// The engine side of
    /// [`Database::list_tags_of_resource`](crate::Database::list_tags_of_resource).
    pub(crate) fn list_tags_of_resource(
        &self,
        input: ListTagsOfResourceInput,
    ) -> Result<ListTagsOfResourceOutput> {
        let handle = self.tagged_table(&input.resource_arn)?;
        let settings = Arc::clone(&handle.data.read().settings);
        let after = input.next_token.as_deref();
        let tags = settings
            .tags
            .iter()
            .filter(|(key, _)| after.is_none_or(|after| key.as_str() > after))
            .map(|(key, value)| Tag::new(key, value))
            .collect();
        Ok(ListTagsOfResourceOutput {
            tags,
            next_token: None,
        })
    }

    /// The engine side of [`Database::update_time_to_live`](crate::Database::update_time_to_live).
    pub(crate) fn update_time_to_live(
        &self,
        input: UpdateTimeToLiveInput,
    ) -> Result<UpdateTimeToLiveOutput> {
        let spec = input.time_to_live_specification;
        let name = &spec.attribute_name;
        let chars = name.chars().count();
        if !(1..=MAX_TTL_ATTRIBUTE_CHARS).contains(&chars) {
            let bound = if chars == 0 {
                "greater than or equal to 1".to_owned()
            } else {
                format!("less than or equal to {MAX_TTL_ATTRIBUTE_CHARS}")
            };
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{name}' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length {bound}"
            )));
        }
        let _ddl = self.ddl.lock();
        let handle = self.table(&input.table_name)?;
        let current = Arc::clone(&handle.data.read().settings);
        // What the request asks is checked before when (DynamoDB's order): a change that
        // would change nothing is refused as such even within the interval.
        match (&current.ttl_attribute, spec.enabled) {
            (Some(enabled), _) if enabled != name => {
                return Err(Error::validation(format!(
                    "TimeToLive is active on a different AttributeName: current AttributeName is {enabled}"
                )))
            }
            (Some(_), true) => return Err(Error::validation("TimeToLive is already enabled")),
            (None, false) => return Err(Error::validation("TimeToLive is already disabled")),
            _ => {}
        }
        let now = self.options.clock.now();
        let interval =
            u64::try_from(self.options.ttl_change_interval.as_millis()).unwrap_or(u64::MAX);
        if current
            .ttl_changed
            .is_some_and(|changed| now.0 < changed.0.saturating_add(interval))
        {
            return Err(Error::validation(
                "Time to live has been modified multiple times within a fixed interval",
            ));
        }
        let mut next = (*current).clone();
        next.ttl_attribute = spec.enabled.then(|| name.clone());
        next.ttl_changed = Some(now);
        self.commit_settings(&handle, next)?;
        Ok(UpdateTimeToLiveOutput {
            time_to_live_specification: spec,
        })
    }

    /// The engine side of
    /// [`Database::describe_time_to_live`](crate::Database::describe_time_to_live).
    pub(crate) fn describe_time_to_live(
        &self,
        table_name: &str,
    ) -> Result<DescribeTimeToLiveOutput> {
        let handle = self.table(table_name)?;
        let attribute_name = handle.data.read().settings.ttl_attribute.clone();
        let time_to_live_status = match attribute_name {
            Some(_) => TimeToLiveStatus::Enabled,
            None => TimeToLiveStatus::Disabled,
        };
        Ok(DescribeTimeToLiveOutput {
            time_to_live_description: TimeToLiveDescription {
                time_to_live_status,
                attribute_name,
            },
        })
    }
}
