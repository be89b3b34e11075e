//! Table DDL: `CreateTable`, `DescribeTable`, `ListTables`, `UpdateTable`, `DeleteTable`.
//!
//! A schema change takes the table's gate exclusively, so it never interleaves with a write
//! in progress; `ddl` serialises them with each other. A restore holds `ddl` only to claim
//! its table's name and to commit, not while it copies (`NameClaim`).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::api::backups::BackupType;
use crate::api::policies::check_policy;
use crate::api::tables::*;
use crate::api::tags::checked_tags;
use crate::engine::live::Live;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::backup::BackupRecord;
use crate::format::catalog::DroppedTable;
use crate::format::mutation::Mutation;
use crate::model::clock::Timestamp;
use crate::model::settings::{ResourcePolicy, TableSettings};
use crate::state::apply::apply;
use crate::state::table::TableData;

/// A table name a running restore or import has claimed: no table of that name can be
/// created, restored or imported while it lives, though the claimant holds no lock while it
/// copies.
pub(crate) struct NameClaim<'a> {
    engine: &'a Engine,
    name: String,
}

impl Drop for NameClaim<'_> {
    fn drop(&mut self) {
        self.engine.restoring.lock().remove(&self.name);
    }
}

impl Engine {
    /// Claims `name` for a restore or an import until the returned claim drops (once the
    /// new table is in the table map, or the restore or import failed): `TableAlreadyExists`
    /// if a table or another claim has it. The caller holds the DDL lock.
    pub(crate) fn claim_table_name(&self, name: &str) -> Result<NameClaim<'_>> {
        if self.tables.read().contains_key(name) || !self.restoring.lock().insert(name.into()) {
            return Err(Error::TableAlreadyExists(format!(
                "Table already exists: {name}"
            )));
        }
        Ok(NameClaim {
            engine: self,
            name: name.to_owned(),
        })
    }

    /// `LimitExceeded` if a database holding `tables` tables may not have one more
    /// (`Options::max_tables`): every way a table comes to be checks it.
    pub(crate) fn check_table_limit(&self, tables: usize) -> Result<()> {
        if tables >= self.options.max_tables {
            return Err(Error::LimitExceeded(format!(
                "Subscriber limit exceeded: the database already holds {tables} tables, its limit"
            )));
        }
        Ok(())
    }

    /// The engine side of [`Database::create_table`](crate::Database::create_table).
    pub(crate) fn create_table(&self, input: CreateTableInput) -> Result<TableDescription> {
        let _ddl = self.ddl.lock();
        let now = self.options.clock.now();
        let mut schema = input.to_schema(now)?;
        // A stream's ARN is its table's name and its label (a time): one made within the
        // millisecond of a deleted table's (still readable) stream is given the next one.
        if let Some(stream) = schema.streams.first_mut() {
            let deleted = self.deleted_streams.lock();
            let last = (deleted.iter())
                .filter(|d| d.name == schema.name)
                .flat_map(|d| d.streams.iter())
                .filter_map(|s| Timestamp::from_iso8601(&s.label))
                .max();
            if let Some(last) = last.filter(|l| l.0 >= now.0) {
                let label = Timestamp(last.0 + 1).to_iso8601();
                stream.label.clone_from(&label);
                schema.stream_label = Some(label);
            }
        }
        let schema = Arc::new(schema);
        let tags = checked_tags(&input.tags)?;
        if let Some(policy) = &input.resource_policy {
            check_policy(policy)?;
        }
        {
            let tables = self.tables.read();
            if tables.contains_key(&schema.name) || self.restoring.lock().contains(&schema.name) {
                return Err(Error::ResourceInUse(format!(
                    "Table already exists: {}",
                    schema.name
                )));
            }
            self.check_table_limit(tables.len())?;
        }
        // The plain record unless there are tags or a policy: a log of tables created
        // without them stays readable by a build from before them.
        let mutation = if tags.is_empty() && input.resource_policy.is_none() {
            Mutation::CreateTable(Arc::clone(&schema))
        } else {
            let policy = input.resource_policy.map(|document| {
                let revision_id = self.new_policy_revision(None);
                (
                    String::new(),
                    ResourcePolicy {
                        document,
                        revision_id,
                    },
                )
            });
            let settings = TableSettings {
                tags,
                resource_policies: policy.into_iter().collect(),
                ..TableSettings::default()
            };
            Mutation::CreateTableWithSettings {
                schema: Arc::clone(&schema),
                settings: Arc::new(settings),
            }
        };
        let at = self.commit(&mutation, &[])?;
        apply(at, mutation, &mut Live::new(self))?;
        let data = TableData::new(schema, TableStatus::Active);
        Ok(self.describe(&data, TableStatus::Active))
    }

    /// The engine side of [`Database::describe_table`](crate::Database::describe_table).
    pub(crate) fn describe_table(&self, table_name: &str) -> Result<TableDescription> {
        let handle = self.table(table_name)?;
        let data = handle.data.read();
        Ok(self.describe(&data, data.status))
    }

    /// The engine side of [`Database::list_tables`](crate::Database::list_tables).
    pub(crate) fn list_tables(&self, input: ListTablesInput) -> Result<ListTablesOutput> {
        let limit = input.limit.unwrap_or(100);
        if !(1..=100).contains(&limit) {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
            )));
        }
        let tables = self.tables.read();
        let start = match &input.exclusive_start_table_name {
            Some(name) => std::ops::Bound::Excluded(name.clone()),
            None => std::ops::Bound::Unbounded,
        };
        let mut names = tables
            .range((start, std::ops::Bound::Unbounded))
            .map(|(n, _)| n.clone());
        let table_names: Vec<String> = names.by_ref().take(limit as usize).collect();
        let more = names.next().is_some();
        Ok(ListTablesOutput {
            last_evaluated_table_name: if more {
                table_names.last().cloned()
            } else {
                None
            },
            table_names,
        })
    }

    /// The engine side of [`Database::update_table`](crate::Database::update_table).
    pub(crate) fn update_table(&self, input: UpdateTableInput) -> Result<TableDescription> {
        let _ddl = self.ddl.lock();
        let handle = self.table(&input.table_name)?;
        let _gate = handle.gate.write();
        let current = Arc::clone(&handle.data.read().schema);
        let now = self.options.clock.now();
        let mut next = input.apply_to(&current, now)?;
        // A stream disabled longer ago than its records last is gone.
        let retention = self.options.stream_retention.as_millis() as u64;
        next.streams.retain(|s| {
            s.disabled
                .is_none_or(|(lsn, time)| lsn == 0 || time.0.saturating_add(retention) >= now.0)
        });
        if next == *current {
            // Nothing changes (the default encryption asked for, a setting as it is): there
            // is nothing to log.
            let data = handle.data.read();
            return Ok(self.describe(&data, data.status));
        }
        let next = Arc::new(next);
        // A new index is built from every item: every leaf must decode before the change
        // is logged.
        if next
            .indexes()
            .any(|index| current.index(&index.name).is_none())
        {
            handle.data.read().items.load_all()?;
        }
        let mutation = Mutation::UpdateTable(next);
        let at = self.commit(&mutation, &[&handle])?;
        apply(at, mutation, &mut Live::new(self).with_table(&handle))?;
        // A stream the update dropped takes its resource policy with it.
        self.drop_policies_of_gone_streams(&handle)?;
        let data = handle.data.read();
        Ok(self.describe(&data, data.status))
    }

    /// The engine side of [`Database::delete_table`](crate::Database::delete_table).
    pub(crate) fn delete_table(&self, table_name: &str) -> Result<TableDescription> {
        let _ddl = self.ddl.lock();
        let handle = self.table(table_name)?;
        // Exclusive: no backup of the table is being requested meanwhile.
        let _gate = handle.gate.write();
        let building = self
            .backups
            .lock()
            .values()
            .any(|b| b.built.is_none() && *b.record.schema.id == *handle.id);
        if building {
            return Err(Error::ResourceInUse(format!(
                "Table {table_name} cannot be deleted while a backup of it is being created"
            )));
        }
        let (description, schema, counts) = {
            let data = handle.data.read();
            if data.schema.deletion_protection {
                return Err(Error::validation(
                    "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
                ));
            }
            (
                self.describe(&data, TableStatus::Deleting),
                Arc::clone(&data.schema),
                (data.items.len(), data.size_bytes),
            )
        };
        let system_backup = match (&self.store, schema.pitr) {
            (Some(_), Some(_)) => Some(Arc::new(BackupRecord::new(
                BackupType::System,
                &format!("{}$DeletedTableBackup", schema.name),
                self.options.clock.now(),
                self.scope.table_arn(&schema.name),
                Arc::clone(&schema),
                counts,
            ))),
            _ => None,
        };
        let promises_backup = system_backup.is_some();
        // Counted until registered, as a requested backup is (`Backups`).
        let _request = promises_backup.then(|| self.backups.request());
        // A table that has or had a stream logs its schema with its deletion: its streams
        // stay readable (`streams/`).
        let mutation = match schema.streams.is_empty() {
            true => Mutation::DeleteTable {
                table_id: Arc::clone(&handle.id),
                system_backup,
            },
            false => Mutation::DeleteStreamedTable {
                schema: Arc::clone(&schema),
                system_backup,
            },
        };
        let at = self.commit(&mutation, &[])?;
        let (lsn, time) = (at.lsn, at.time);
        // The catalog retires the table below; and the backup the deletion promises must
        // survive a crash, as a requested one.
        self.durable_before_files(at)?;
        // Registers the SYSTEM backup and marks the table deleted: no snapshot of it is
        // installed from here on.
        apply(at, mutation, &mut Live::new(self).with_table(&handle))?;
        if let Some(store) = &self.store {
            // The deletion is durable in the log, so it has happened. Its state (and window)
            // go into the catalog before the table leaves `tables`: until then the table's
            // base holds the log a maintenance round would otherwise drop.
            let dropped = schema.pitr.map(|_| DroppedTable {
                schema: Arc::clone(&schema),
                deleted_lsn: lsn,
                deleted_time: time,
            });
            if let Err(e) =
                store.retire_table(&handle.id, handle.base_lsn.load(Ordering::SeqCst), dropped)
            {
                // Without the catalog's record of it, what the table's window and SYSTEM
                // backup need is known only to the next open's recovery: keep every file
                // until then.
                self.hold_retention.store(true, Ordering::SeqCst);
                *self.maintenance_error.lock() = Some(format!(
                    "retiring the files of deleted table {} (nothing is released until the database is reopened): {e}",
                    description.table_name
                ));
            }
        }
        self.tables.write().remove(&description.table_name);
        if let Some(store) = &self.store {
            // Remove the files at once unless a maintenance round, which will, runs.
            if let Some(_round) = self.maintaining.try_lock() {
                if let Err(e) = self.release_history(store) {
                    *self.maintenance_error.lock() = Some(format!(
                        "releasing the files of deleted table {}: {e}",
                        description.table_name
                    ));
                }
            }
            self.wake.notify();
        }
        Ok(description)
    }
}
