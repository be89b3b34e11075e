//! Resource-based policies: `PutResourcePolicy`, `GetResourcePolicy` and
//! `DeleteResourcePolicy` (the rules are in `api/policies.rs`).
//!
//! A policy is one of the table's settings (`model/settings.rs`), so a change goes the way
//! of a tag's: it reads the table's settings under the DDL lock, makes the new ones and logs
//! them whole (`Engine::commit_settings`). Recovery, checkpoints and point-in-time replay
//! then see it where the log has it, a reopen finds it in the snapshot or the log, and a
//! deleted table's policies go with it. A stream's policy is kept with its table, by the
//! stream's label.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::api::policies::{
    check_policy, check_revision, next_revision, DeleteResourcePolicyInput,
    DeleteResourcePolicyOutput, GetResourcePolicyInput, GetResourcePolicyOutput,
    PutResourcePolicyInput, PutResourcePolicyOutput, NO_POLICY,
};
use crate::engine::{Engine, TableHandle};
use crate::error::{Error, Result};
use crate::model::names::{check_length, MAX_RESOURCE_ARN_LEN};
use crate::model::settings::ResourcePolicy;

/// The resource a policy request names: a table, or one of its streams.
struct Target<'a> {
    /// The request's ARN, as given (error messages quote it).
    arn: &'a str,
    /// The table's name.
    table: &'a str,
    /// The stream's label, for a stream's ARN.
    stream: Option<&'a str>,
}

impl Target<'_> {
    /// The key of the resource's policy among its table's (`TableSettings::resource_policies`).
    fn key(&self) -> String {
        self.stream
            .map_or_else(String::new, |label| format!("/stream/{label}"))
    }

    /// The resource as DynamoDB's `PolicyNotFoundException` messages name it.
    fn named(&self) -> String {
        match self.stream {
            None => format!("table {}", self.table),
            Some(_) => format!("stream {}", self.arn),
        }
    }

    /// `PolicyNotFoundException` for a resource with no policy, in DynamoDB's words.
    fn no_policy(&self) -> Error {
        Error::PolicyNotFound(format!(
            "Resource-based policy not found for the provided ResourceArn: {}",
            self.arn
        ))
    }

    /// `PolicyNotFoundException` for a request expecting revision `expected` of a policy
    /// that is at revision `attached`, in DynamoDB's words (moto's AWS-verified tests).
    fn other_revision(&self, expected: &str, attached: &str) -> Error {
        Error::PolicyNotFound(format!(
            "Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id {expected}, but the policy associated to target {} has revision id {attached}.",
            self.named()
        ))
    }
}

impl Engine {
    /// A new policy's revision, over the revision `previous` of the policy it replaces (if
    /// any), and above every revision given out since the database was opened
    /// (`next_revision`). The caller holds the DDL lock.
    pub(crate) fn new_policy_revision(&self, previous: Option<&str>) -> String {
        let issued = self.policy_revisions.load(Ordering::SeqCst);
        let revision = next_revision(self.options.clock.now().0, previous, issued);
        self.policy_revisions.fetch_max(revision, Ordering::SeqCst);
        revision.to_string()
    }

    /// Detaches the policies of `handle`'s streams that are gone from its schema (an
    /// `UpdateTable` drops a stream disabled longer ago than its records last): the stream no
    /// longer exists, so its policy can no longer be read or deleted, and would otherwise be
    /// kept in every snapshot of the table for good. The caller holds the DDL lock.
    pub(crate) fn drop_policies_of_gone_streams(&self, handle: &Arc<TableHandle>) -> Result<()> {
        let (schema, settings) = {
            let data = handle.data.read();
            (Arc::clone(&data.schema), Arc::clone(&data.settings))
        };
        let gone = |key: &str| {
            key.strip_prefix("/stream/")
                .is_some_and(|label| !schema.streams.iter().any(|s| s.label == label))
        };
        if !settings.resource_policies.keys().any(|key| gone(key)) {
            return Ok(());
        }
        let mut next = (*settings).clone();
        next.resource_policies.retain(|key, _| !gone(key));
        self.commit_settings(handle, next)
    }

    /// What a policy request's `ResourceArn` names, checked for its form only.
    fn policy_target<'a>(&self, arn: &'a str) -> Result<Target<'a>> {
        check_length(arn, "resourceArn", 1, MAX_RESOURCE_ARN_LEN)?;
        if let Some((table_arn, label)) = arn.rsplit_once("/stream/") {
            let table = self.scope.table_name_of_resource(table_arn)?;
            return Ok(Target {
                arn,
                table,
                stream: Some(label),
            });
        }
        Ok(Target {
            arn,
            table: self.scope.table_name_of_resource(arn)?,
            stream: None,
        })
    }

    /// The table holding `target`'s policy: `ResourceNotFound` in DynamoDB's words if there
    /// is no such table, or no such stream of it. A stream is one the table has had and can
    /// still be read (a put needs it enabled: DynamoDB attaches policies to existing
    /// streams only); a get or delete also reaches a disabled one's policy, so that it can
    /// be read and removed.
    fn policy_holder(&self, target: &Target<'_>, put: bool) -> Result<Arc<TableHandle>> {
        let handle = (self.tables.read().get(target.table).cloned())
            .ok_or_else(|| Error::table_not_found(target.table))?;
        if let Some(label) = target.stream {
            let data = handle.data.read();
            let known = (data.schema.streams.iter())
                .any(|s| s.label == label && (s.disabled.is_none() || !put));
            if !known {
                return Err(Error::ResourceNotFound(format!(
                    "Requested resource not found: Stream: {} not found",
                    target.arn
                )));
            }
        }
        Ok(handle)
    }

    /// The engine side of
    /// [`Database::put_resource_policy`](crate::Database::put_resource_policy).
    pub(crate) fn put_resource_policy(
        &self,
        input: PutResourcePolicyInput,
    ) -> Result<PutResourcePolicyOutput> {
        let target = self.policy_target(&input.resource_arn)?;
        check_revision(input.expected_revision_id.as_deref())?;
        check_policy(&input.policy)?;
        let _ddl = self.ddl.lock();
        let handle = self.policy_holder(&target, true)?;
        let current = Arc::clone(&handle.data.read().settings);
        let key = target.key();
        let attached = current.resource_policies.get(&key);
        match (input.expected_revision_id.as_deref(), attached) {
            (Some(NO_POLICY), Some(attached)) => {
                return Err(Error::PolicyNotFound(format!(
                    "Resource-based policy not found for the provided ResourceArn: Requested policy update expecting none to be present for {}, but a policy exists with revision id {}.",
                    target.named(),
                    attached.revision_id
                )))
            }
            (Some(NO_POLICY), None) | (None, _) => {}
            (Some(expected), Some(attached)) if expected != attached.revision_id => {
                return Err(target.other_revision(expected, &attached.revision_id))
            }
            (Some(_), Some(_)) => {}
            (Some(_), None) => return Err(target.no_policy()),
        }
        if let Some(attached) = attached.filter(|a| a.document == input.policy) {
            // The same document again: DynamoDB's put is idempotent, same revision.
            return Ok(PutResourcePolicyOutput {
                revision_id: Some(attached.revision_id.clone()),
            });
        }
        let revision_id = self.new_policy_revision(attached.map(|a| a.revision_id.as_str()));
        let mut next = (*current).clone();
        next.resource_policies.insert(
            key,
            ResourcePolicy {
                document: input.policy,
                revision_id: revision_id.clone(),
            },
        );
        self.commit_settings(&handle, next)?;
        Ok(PutResourcePolicyOutput {
            revision_id: Some(revision_id),
        })
    }

    /// The engine side of
    /// [`Database::get_resource_policy`](crate::Database::get_resource_policy).
    pub(crate) fn get_resource_policy(
        &self,
        input: GetResourcePolicyInput,
    ) -> Result<GetResourcePolicyOutput> {
        let target = self.policy_target(&input.resource_arn)?;
        let handle = self.policy_holder(&target, false)?;
        let settings = Arc::clone(&handle.data.read().settings);
        let policy =
            (settings.resource_policies.get(&target.key())).ok_or_else(|| target.no_policy())?;
        Ok(GetResourcePolicyOutput {
            policy: Some(policy.document.clone()),
            revision_id: Some(policy.revision_id.clone()),
        })
    }

    /// The engine side of
    /// [`Database::delete_resource_policy`](crate::Database::delete_resource_policy).
    pub(crate) fn delete_resource_policy(
        &self,
        input: DeleteResourcePolicyInput,
    ) -> Result<DeleteResourcePolicyOutput> {
        let target = self.policy_target(&input.resource_arn)?;
        check_revision(input.expected_revision_id.as_deref())?;
        let _ddl = self.ddl.lock();
        let handle = self.policy_holder(&target, false)?;
        let current = Arc::clone(&handle.data.read().settings);
        let key = target.key();
        let Some(attached) = current.resource_policies.get(&key) else {
            // Idempotent without a revision, as DynamoDB's delete is; a revision expects a
            // policy to be there.
            return match input.expected_revision_id {
                Some(_) => Err(target.no_policy()),
                None => Ok(DeleteResourcePolicyOutput { revision_id: None }),
            };
        };
        if let Some(expected) = input.expected_revision_id.as_deref() {
            if expected != attached.revision_id {
                return Err(target.other_revision(expected, &attached.revision_id));
            }
        }
        let revision_id = attached.revision_id.clone();
        let mut next = (*current).clone();
        next.resource_policies.remove(&key);
        self.commit_settings(&handle, next)?;
        Ok(DeleteResourcePolicyOutput {
            revision_id: Some(revision_id),
        })
    }
}
