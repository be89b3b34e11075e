//! [`Database`]: the handle applications hold. A thin facade: each operation is the
//! engine's (`engine/`) or a service's (`backup.rs`, `restore.rs`, `pitr.rs`), and its doc
//! here is the contract.

use std::path::Path as FsPath;
use std::sync::Arc;
use std::time::Duration;

use crate::api::backups::*;
use crate::api::imports::*;
use crate::api::items::*;
use crate::api::pitr::*;
use crate::api::policies::*;
use crate::api::streams::*;
use crate::api::tables::*;
use crate::api::tags::*;
use crate::api::ttl::*;
use crate::engine::failed_write::FailedWrite;
use crate::engine::maintenance::Worker;
use crate::engine::Engine;
use crate::error::Result;
use crate::model::value::Item;
use crate::model::Lsn;
use crate::options::{Durability, Options};
use crate::streams::Cursor;

/// An open database. Cheap to clone; every clone is the same database, and it can be shared
/// by any number of threads (`Send + Sync`).
#[derive(Clone, Debug)]
pub struct Database {
    /// The engine, and the close that runs when the last clone drops.
    open: Arc<Open>,
}

/// The open database as a whole: dropping it (with the last `Database` clone) stops the
/// background worker and closes cleanly.
#[derive(Debug)]
struct Open {
    engine: Arc<Engine>,
    worker: Worker,
    closed: bool,
}

impl Open {
    /// Stops the worker, then writes a snapshot of each table whose log has grown, so the
    /// next open reads snapshots instead of replaying the log.
    fn close(&mut self) -> Result<()> {
        if std::mem::replace(&mut self.closed, true) {
            return Ok(());
        }
        self.worker.stop();
        self.engine.close_cleanly()
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        // Nothing acknowledged depends on this: it only saves the next open a replay of the
        // log. `Database::close` reports its errors. While a panic unwinds, the live tables
        // may be half changed: leave the log to the next open.
        if std::thread::panicking() {
            self.worker.stop();
            return;
        }
        let _ = self.close();
    }
}

impl Database {
    /// Opens (creating if needed) the database in directory `path` with default options.
    pub fn open(path: impl AsRef<FsPath>) -> Result<Database> {
        Database::open_with(path, Options::default())
    }

    /// Opens (creating if needed) the database in directory `path` with `options`,
    /// recovering its tables from their snapshots and the write-ahead log. With
    /// `Durability::InMemory` the path is not touched.
    pub fn open_with(path: impl AsRef<FsPath>, options: Options) -> Result<Database> {
        options.validate()?;
        if options.durability == Durability::InMemory {
            return Database::in_memory_with(options);
        }
        Ok(Database::start(Engine::open(path.as_ref(), options)?))
    }

    /// A database that lives in memory only, with default options.
    pub fn in_memory() -> Database {
        // Default in-memory options always validate.
        Database::in_memory_with(Options::in_memory()).unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// A database that lives in memory only (whatever `options.durability` says).
    pub fn in_memory_with(options: Options) -> Result<Database> {
        options.validate()?;
        Ok(Database::start(Engine::in_memory(options)?))
    }

    fn start(engine: Arc<Engine>) -> Database {
        let worker = Worker::start(&engine);
        Database {
            open: Arc::new(Open {
                engine,
                worker,
                closed: false,
            }),
        }
    }

    /// The file system and directory the database lives in (`None` in memory): where the
    /// server keeps its import records (`server/imports/records.rs`), beside the engine's files and
    /// ignored by its recovery.
    #[cfg(feature = "server")]
    pub(crate) fn storage(&self) -> Option<(Arc<dyn crate::fs::Vfs>, std::path::PathBuf)> {
        let store = self.open.engine.store.as_ref()?;
        Some((Arc::clone(&store.fs), store.dir.clone()))
    }

    /// Closes the database: stops its background work and writes a snapshot of every table
    /// whose log has grown since its last one, so the next open reads snapshots instead of
    /// replaying the log. Dropping the last handle does the same and ignores its errors;
    /// this reports them. With other clones of this handle still alive, it only drops this
    /// one (the database closes with the last).
    pub fn close(self) -> Result<()> {
        match Arc::try_unwrap(self.open) {
            Ok(mut open) => open.close(),
            Err(_) => Ok(()),
        }
    }

    /// Makes every acknowledged write durable now (in `Buffered` mode, instead of waiting for
    /// the background sync); returns the durable LSN.
    pub fn sync(&self) -> Result<Lsn> {
        self.open.engine.wal.sync()
    }

    /// Snapshots every table whose log has grown since its last snapshot and drops the log
    /// no snapshot needs, now rather than when the background worker gets to it.
    pub fn checkpoint(&self) -> Result<()> {
        self.open.engine.maintain(true)
    }

    /// The last error the background worker met (a failed snapshot or log truncation), if
    /// any. Such errors lose nothing — the log is kept until a snapshot succeeds — but they
    /// mean the log keeps growing. A failed backup build is its backup's, not the worker's:
    /// [`Database::backup_progress`] and [`Database::wait_for_backup`] report it. Joined to
    /// it after a `"; "`: the tables the Time to Live sweeper's last pass failed on (their
    /// expired items stay until a pass succeeds), or that its thread did not start.
    pub fn maintenance_error(&self) -> Option<String> {
        let engine = &self.open.engine;
        let worker = engine.maintenance_error.lock().clone();
        let sweeper = engine.ttl_error.lock().clone();
        match (worker, sweeper) {
            (Some(worker), Some(sweeper)) => Some(format!("{worker}; {sweeper}")),
            (worker, sweeper) => worker.or(sweeper),
        }
    }

    /// The LSN of the last change committed.
    pub fn last_lsn(&self) -> Lsn {
        self.open.engine.wal.last_committed().0
    }

    /// `CreateTable`: a new, empty table. The table is usable as soon as this returns, so the
    /// description says ACTIVE.
    pub fn create_table(&self, input: CreateTableInput) -> Result<TableDescription> {
        self.open.engine.create_table(input)
    }

    /// `DescribeTable`.
    pub fn describe_table(&self, table_name: &str) -> Result<TableDescription> {
        self.open.engine.describe_table(table_name)
    }

    /// `ListTables`: table names in ascending order, a page at a time.
    pub fn list_tables(&self, input: ListTablesInput) -> Result<ListTablesOutput> {
        self.open.engine.list_tables(input)
    }

    /// `UpdateTable`: throughput, billing mode, on-demand maximums and warm throughput (of the
    /// table and its global indexes; stored and described, not enforced), stream, and global
    /// secondary indexes. A new index is backfilled from the existing items before this
    /// returns, so it is ACTIVE at once; writes to the table wait for the backfill.
    pub fn update_table(&self, input: UpdateTableInput) -> Result<TableDescription> {
        self.open.engine.update_table(input)
    }

    /// `DeleteTable`: the table and its items are gone once this returns; the description it
    /// returns is the table's last, with status DELETING as DynamoDB reports it. A table with
    /// point-in-time recovery leaves a SYSTEM backup of its last state
    /// (`{TableName}$DeletedTableBackup`, kept 35 days) and can still be restored to any
    /// moment of its window.
    pub fn delete_table(&self, table_name: &str) -> Result<TableDescription> {
        self.open.engine.delete_table(table_name)
    }

    /// `PutItem`: stores `item`, replacing any item with its key, if the condition holds.
    pub fn put_item(&self, input: PutItemInput) -> Result<PutItemOutput> {
        Ok(self.put_item_measuring_failure(input)?)
    }

    /// `PutItem`, whose error carries the capacity a failed condition consumed
    /// (`engine/failed_write.rs`: DynamoDB's response has no place for it, a batch's has).
    pub(crate) fn put_item_measuring_failure(
        &self,
        mut input: PutItemInput,
    ) -> Result<PutItemOutput, FailedWrite> {
        input.resolve()?;
        self.open.engine.put_item(input)
    }

    /// `DeleteItem`: removes the item with `key`, if the condition holds (deleting an item
    /// that does not exist succeeds).
    pub fn delete_item(&self, input: DeleteItemInput) -> Result<DeleteItemOutput> {
        Ok(self.delete_item_measuring_failure(input)?)
    }

    /// `DeleteItem`, whose error carries the capacity a failed condition consumed (as
    /// [`Database::put_item_measuring_failure`]).
    pub(crate) fn delete_item_measuring_failure(
        &self,
        mut input: DeleteItemInput,
    ) -> Result<DeleteItemOutput, FailedWrite> {
        input.resolve()?;
        self.open.engine.delete_item(input)
    }

    /// `UpdateItem`: applies the update actions to the item with `key` (creating it if it
    /// does not exist), if the condition holds.
    pub fn update_item(&self, input: UpdateItemInput) -> Result<UpdateItemOutput> {
        Ok(self.update_item_measuring_failure(input)?)
    }

    /// `UpdateItem`, whose error carries the capacity a failed condition consumed (as
    /// [`Database::put_item_measuring_failure`]).
    pub(crate) fn update_item_measuring_failure(
        &self,
        mut input: UpdateItemInput,
    ) -> Result<UpdateItemOutput, FailedWrite> {
        let legacy = input.legacy.attribute_updates.is_some();
        input.resolve()?;
        let output = self.open.engine.update_item(input);
        if legacy {
            return output.map_err(|mut failed| {
                failed.error = crate::api::legacy::attribute_updates_error(failed.error);
                failed
            });
        }
        output
    }

    /// `BatchWriteItem`: up to 25 puts and deletes over any tables, applied as one atomic,
    /// durable change (a superset of DynamoDB, which may apply part of a batch).
    pub fn batch_write_item(&self, input: BatchWriteItemInput) -> Result<BatchWriteItemOutput> {
        self.open.engine.batch_write_item(input)
    }

    /// `TransactWriteItems`: up to 100 actions on distinct items; if any condition fails or
    /// any action is invalid, none is applied and the error gives one reason per action.
    ///
    /// With a `client_request_token`, a retry of a committed transaction within 10 minutes
    /// answers success without writing again. The tokens are held in memory: they do not
    /// survive closing or reopening the database (after a crash or restart, a retry with the
    /// token runs the transaction again).
    pub fn transact_write_items(
        &self,
        mut input: TransactWriteItemsInput,
    ) -> Result<TransactWriteItemsOutput> {
        for action in &mut input.transact_items {
            action.resolve()?;
        }
        self.open.engine.transact_write_items(input)
    }

    /// `GetItem`.
    pub fn get_item(&self, mut input: GetItemInput) -> Result<GetItemOutput> {
        input.resolve()?;
        self.open.engine.get_item(input)
    }

    /// `Query`: one page of one partition, from the table or an index.
    pub fn query(&self, mut input: QueryInput) -> Result<QueryOutput> {
        input.resolve()?;
        self.open.engine.query(input)
    }

    /// `Scan`: one page of the whole table or index, or of one segment of it.
    pub fn scan(&self, mut input: ScanInput) -> Result<ScanOutput> {
        input.resolve()?;
        self.open.engine.scan(input)
    }

    /// Every page of a `Query`, each asked for with the previous page's `LastEvaluatedKey`
    /// as the AWS SDKs' paginators do (`Limit`, if set, is the page size); [`Pages::items`]
    /// gives the items alone. A page can be empty and not the last: the filter dropped all it
    /// read.
    ///
    /// ```
    /// use tidestore::{CreateTableInput, Database, Item, ItemExt, KeyCondition, QueryInput};
    /// use tidestore::ScalarAttributeType::{N, S};
    /// let db = Database::in_memory();
    /// db.create_table(CreateTableInput::new("Music").hash_key("Artist", S).range_key("Track", N).pay_per_request())?;
    /// for track in 1..=5 {
    ///     db.put_item(tidestore::PutItemInput::new("Music", Item::new().with("Artist", "A").with("Track", track)))?;
    /// }
    /// let input = QueryInput::new("Music", KeyCondition::partition("Artist", "A")).limit(2);
    /// assert_eq!(db.query_pages(input.clone()).count(), 3);
    /// let tracks: Vec<Item> = db.query_pages(input).items().collect::<Result<_, _>>()?;
    /// assert_eq!(tracks.len(), 5);
    /// # Ok::<(), tidestore::Error>(())
    /// ```
    pub fn query_pages(&self, input: QueryInput) -> Pages<'_, QueryInput, QueryOutput> {
        Pages::new(self, input, Database::query, |mut input, page| {
            input.exclusive_start_key = Some(page.last_evaluated_key.clone()?);
            Some(input)
        })
    }

    /// Every page of a `Scan`, following `LastEvaluatedKey` as [`Database::query_pages`]
    /// does.
    pub fn scan_pages(&self, input: ScanInput) -> Pages<'_, ScanInput, ScanOutput> {
        Pages::new(self, input, Database::scan, |mut input, page| {
            input.exclusive_start_key = Some(page.last_evaluated_key.clone()?);
            Some(input)
        })
    }

    /// `BatchGetItem`: up to 100 items by key over any tables. Items that do not exist are
    /// absent from the responses.
    pub fn batch_get_item(&self, mut input: BatchGetItemInput) -> Result<BatchGetItemOutput> {
        input.resolve()?;
        self.open.engine.batch_get_item(input)
    }

    /// `TransactGetItems`: up to 100 items read from one consistent state: no transaction is
    /// seen half applied.
    pub fn transact_get_items(
        &self,
        mut input: TransactGetItemsInput,
    ) -> Result<TransactGetItemsOutput> {
        for read in &mut input.transact_items {
            read.resolve()?;
        }
        self.open.engine.transact_get_items(input)
    }

    /// `CreateBackup`: records the backup's marker in the log and returns at once with the
    /// backup CREATING; the background worker builds it. The backup holds exactly the
    /// table's writes logged before the marker. `table_name` is a name or a table ARN.
    pub fn create_backup(&self, table_name: &str, backup_name: &str) -> Result<CreateBackupOutput> {
        crate::backup::create_backup(&self.open.engine, table_name, backup_name)
    }

    /// `DescribeBackup`. Like every operation that takes a backup ARN, it answers a
    /// malformed one (not 37–1024 characters, or not this database's backup ARN shape) with
    /// `ValidationException`, and a well-formed one of no backup with `BackupNotFound`.
    pub fn describe_backup(&self, backup_arn: &str) -> Result<BackupDescriptionOutput> {
        crate::backup::describe_backup(&self.open.engine, backup_arn)
    }

    /// The marker LSN of a backup and, while it builds, how far it has come, and its failed
    /// build attempts: the last error, when the build is retried, and whether it has failed
    /// for good ([`BackupProgress`] says what that means).
    pub fn backup_progress(&self, backup_arn: &str) -> Result<BackupProgress> {
        crate::backup::backup_progress(&self.open.engine, backup_arn)
    }

    /// Waits until the backup is AVAILABLE, at most `timeout`, and returns its description.
    /// It sleeps until the background worker reports the build done or failed; it does not
    /// poll.
    ///
    /// Errors, besides a malformed ARN's `Validation`:
    /// - `BackupInUse` when `timeout` passes with the backup still CREATING (its message
    ///   gives any failed attempts): wait again later.
    /// - `Io` or `Corruption` (the build's own error, its `io::ErrorKind` kept) when the
    ///   build has failed for good (see [`BackupProgress`]): it will not become AVAILABLE
    ///   before the database is reopened; delete it, or reopen to try again.
    /// - `BackupNotFound` if the backup does not exist or is deleted meanwhile.
    ///
    /// Without a background worker (`Options::background_worker` false) it runs the
    /// maintenance rounds itself, on the caller's thread, and a round's error is its error;
    /// so is a build attempt of this backup that fails, which is retried by a later call or
    /// `checkpoint` once its backoff has passed.
    pub fn wait_for_backup(
        &self,
        backup_arn: &str,
        timeout: Duration,
    ) -> Result<BackupDescription> {
        crate::backup::wait_for_backup(&self.open.engine, backup_arn, timeout)
    }

    /// `ListBackups`: backups in creation order, filtered by table, request time
    /// (`[lower, upper)`) and type, a page at a time.
    pub fn list_backups(&self, input: ListBackupsInput) -> Result<ListBackupsOutput> {
        crate::backup::list_backups(&self.open.engine, input)
    }

    /// Every page of `ListBackups`, each asked for with the previous page's
    /// `LastEvaluatedBackupArn`; [`Pages::backups`] gives the summaries alone.
    pub fn list_backups_pages(
        &self,
        input: ListBackupsInput,
    ) -> Pages<'_, ListBackupsInput, ListBackupsOutput> {
        Pages::new(self, input, Database::list_backups, |mut input, page| {
            input.exclusive_start_backup_arn = Some(page.last_evaluated_backup_arn.clone()?);
            Some(input)
        })
    }

    /// `DeleteBackup`: removes an AVAILABLE backup, or one whose build has failed for good,
    /// and returns its description with status DELETED. `BackupInUse` while the backup is
    /// CREATING (otherwise), being restored from or being deleted; meanwhile
    /// `describe_backup` shows it DELETED.
    pub fn delete_backup(&self, backup_arn: &str) -> Result<BackupDescriptionOutput> {
        crate::backup::delete_backup(&self.open.engine, backup_arn)
    }

    /// `RestoreTableFromBackup`: a new table with the backup's items and definition (and
    /// the overrides), every index rebuilt. Every checksum of the backup is verified before
    /// the table appears; a corrupt backup leaves no table. The restore runs before this
    /// returns; the answer is DynamoDB's (status CREATING, `RestoreInProgress`), and
    /// `describe_table` shows the table ACTIVE at once. While it copies, other tables can
    /// be created, updated and deleted; the target's name is taken (`create_table` of it is
    /// `ResourceInUse`, another restore to it `TableAlreadyExists`).
    pub fn restore_table_from_backup(
        &self,
        input: RestoreTableFromBackupInput,
    ) -> Result<RestoreTableFromBackupOutput> {
        crate::restore::restore_table_from_backup(&self.open.engine, input)
    }

    /// `ImportTable`: a new table holding `items`, DynamoDB's bulk load — many times faster
    /// than the same items written in batches or transactions, because they are sorted once
    /// and written once, as the table's first snapshot, not inserted one by one and logged.
    /// `input` defines the table as for `create_table` (no stream or tags: add them after).
    ///
    /// As in DynamoDB's imports, an item that is not valid in the table (one a `PutItem`
    /// would refuse) is left out and counted in `ErrorCount` (the first
    /// [`MAX_IMPORT_ITEM_ERRORS`](crate::MAX_IMPORT_ITEM_ERRORS) are listed with their
    /// reasons), and of items with the same key the last one handed over stays. A name
    /// already in use is `ResourceInUse`.
    ///
    /// The import runs before this returns; the table then exists, ACTIVE. One log record
    /// commits it: a crash or an error before that leaves no table; an I/O error after it
    /// (recording the table's snapshot in the catalog) is [`Error::Poisoned`](crate::Error::Poisoned),
    /// as when a write's log sync fails, and the reopened database has the table. The items
    /// are held in memory, encoded (about the size of the table's snapshot file), until the
    /// snapshot is written; the table is then loaded from that file, as an open loads it.
    pub fn import_table(
        &self,
        input: ImportTableInput,
        items: impl IntoIterator<Item = Item>,
    ) -> Result<ImportTableOutput> {
        crate::import::import_table(&self.open.engine, input, items)
    }

    /// [`import_table`](Database::import_table) from a file in DynamoDB JSON, the format
    /// DynamoDB's export to S3 writes and its import reads: one `{"Item": {…}}` a line
    /// (`\r\n` line ends and a byte order mark are taken; blank lines are skipped; a
    /// compressed export must be decompressed by the caller). A line that is not such an
    /// item (not JSON, not UTF-8, longer than
    /// [`MAX_IMPORT_LINE_BYTES`](crate::MAX_IMPORT_LINE_BYTES)), or whose item is not valid in
    /// the table, is an item in error, counted and listed with its line (from 0, blank lines
    /// not counted); a failure to read `source` fails the import, leaving no table.
    pub fn import_table_from_dynamodb_json(
        &self,
        input: ImportTableInput,
        source: impl std::io::BufRead,
    ) -> Result<ImportTableOutput> {
        crate::import::import_table_from_dynamodb_json(&self.open.engine, input, source)
    }

    /// [`import_table`](Database::import_table) from files in Amazon Ion text, the format
    /// DynamoDB's export to S3 writes with `ExportFormat` ION and its import reads with
    /// `InputFormat` ION: each item a struct `{Item:{…}}` (after the version marker
    /// `$ion_1_0`, as DynamoDB writes a line), or a list of them; numbers are Ion decimals or
    /// ints, binaries blobs, sets lists annotated `$dynamodb_SS`, `$dynamodb_NS` or
    /// `$dynamodb_BS` (`format/ion.rs` has the grammar read and the type mapping). Valid Ion
    /// that is not such an item (a float, a symbol, another annotation, a number past
    /// DynamoDB's range), or an item not valid in the table, is an item in error, counted
    /// and listed with its number (from 0 over all files); text that is not Ion of that
    /// subset (a string not closed, a bad escape, values nested deeper than
    /// [`MAX_ION_DEPTH`](crate::MAX_ION_DEPTH), an item's text longer than
    /// [`MAX_IMPORT_LINE_BYTES`](crate::MAX_IMPORT_LINE_BYTES)) is a `Validation` error naming
    /// its line, as is a failure to read a file: the import fails, leaving no table
    /// (decompressing is the caller's).
    pub fn import_table_from_ion<R: std::io::BufRead>(
        &self,
        input: ImportTableInput,
        files: impl IntoIterator<Item = R>,
    ) -> Result<ImportTableOutput> {
        crate::import::import_table_from_ion(&self.open.engine, input, files)
    }

    /// [`import_table`](Database::import_table) from files in CSV, as DynamoDB's import from
    /// S3 reads them (`InputFormat` CSV, `InputFormatOptions.Csv` in `options`): one item a
    /// line, its values separated by the delimiter; the first line of each file names the
    /// columns unless `options` names them (`HeaderList`); the columns of the keys of the
    /// table and its indexes take the types of their `AttributeDefinitions`, every other
    /// column is a string; a double quote in a value is doubled inside a quoted value (RFC
    /// 4180), which may also hold the delimiter and line breaks. An empty key value is no
    /// attribute, any other empty value the empty string; blank lines are skipped, `\r\n`
    /// line ends and a byte order mark are taken. A line that is not CSV or does not fit
    /// the header is an item in error, counted and listed with its number (from 0 over all
    /// files, headers and blank lines not counted); a header that cannot name the columns is
    /// one error (counted and numbered as an item in error), and the rest of its file is
    /// skipped. Options outside DynamoDB's rules are
    /// a validation error; a failure to read a file fails the import, leaving no table
    /// (decompressing is the caller's).
    pub fn import_table_from_csv<R: std::io::BufRead>(
        &self,
        input: ImportTableInput,
        options: CsvOptions,
        files: impl IntoIterator<Item = R>,
    ) -> Result<ImportTableOutput> {
        crate::import::import_table_from_csv(&self.open.engine, input, options, files)
    }

    /// `TagResource`: adds tags to the table whose ARN is `resource_arn`, or gives keys it
    /// has new values. The tags are logged like a write, so they survive a crash and a
    /// restart, and go with the table when it is deleted; a restore (from a backup or to a
    /// point in time) carries none over, as in DynamoDB. DynamoDB's rules apply (see
    /// [`Tag`]); a request breaking one, or taking the table past 50 tags, changes nothing.
    /// Unlike DynamoDB, whose tags appear seconds later, [`Database::list_tags_of_resource`]
    /// sees them at once.
    pub fn tag_resource(&self, input: TagResourceInput) -> Result<()> {
        self.open.engine.tag_resource(input)
    }

    /// `UntagResource`: removes the tags with these keys from the table (a key it does not
    /// have is no error).
    pub fn untag_resource(&self, input: UntagResourceInput) -> Result<()> {
        self.open.engine.untag_resource(input)
    }

    /// `PutResourcePolicy`: attaches a resource-based policy to a table or one of its
    /// streams (by ARN), replacing any, and answers its new `RevisionId`. The document must
    /// be a JSON object of at most 20 KB; an `ExpectedRevisionId` makes the put conditional
    /// (`NO_POLICY`: on there being none), and a mismatch is `Error::PolicyNotFound`.
    ///
    /// tidestore stores the policy and gives it back; it does **not** evaluate it: there is
    /// no IAM here, so a policy grants and denies nothing. Like tags, a policy is logged like a
    /// write (it survives a crash and a restart), goes with its table when the table is
    /// deleted, and is not carried over by a restore. Unlike DynamoDB, which applies a policy
    /// asynchronously, [`Database::get_resource_policy`] sees it at once.
    pub fn put_resource_policy(
        &self,
        input: PutResourcePolicyInput,
    ) -> Result<PutResourcePolicyOutput> {
        self.open.engine.put_resource_policy(input)
    }

    /// `GetResourcePolicy`: the policy attached to a table or stream, and its revision;
    /// `Error::PolicyNotFound` if it has none.
    pub fn get_resource_policy(
        &self,
        input: GetResourcePolicyInput,
    ) -> Result<GetResourcePolicyOutput> {
        self.open.engine.get_resource_policy(input)
    }

    /// `DeleteResourcePolicy`: detaches the policy of a table or stream, answering the
    /// revision deleted. Without an `ExpectedRevisionId` a resource without a policy is no
    /// error (`revision_id` is then `None`); with one, the policy attached must be at that
    /// revision (`Error::PolicyNotFound` otherwise).
    pub fn delete_resource_policy(
        &self,
        input: DeleteResourcePolicyInput,
    ) -> Result<DeleteResourcePolicyOutput> {
        self.open.engine.delete_resource_policy(input)
    }

    /// `ListTagsOfResource`: the table's tags, in key order, all in one page.
    pub fn list_tags_of_resource(
        &self,
        input: ListTagsOfResourceInput,
    ) -> Result<ListTagsOfResourceOutput> {
        self.open.engine.list_tags_of_resource(input)
    }

    /// `UpdateTimeToLive`: enables or disables Time to Live on a table, with DynamoDB's
    /// refusals: enabling when enabled (`TimeToLive is already enabled`), disabling when
    /// disabled, naming another attribute than the enabled one, and a change within
    /// [`Options::ttl_change_interval`] of the last (one hour by default). The setting is
    /// kept durably like the tags, and likewise not carried over by a restore.
    ///
    /// While it is enabled, a sweeper deletes the items whose attribute is a Number of epoch
    /// seconds in the past (see [`Database::delete_expired_items`]). As in DynamoDB, an
    /// item past its expiry time that is not swept yet is still returned by every read,
    /// query and scan, and is kept by a backup or a point-in-time restore taken meanwhile:
    /// filter on the attribute to leave such items out.
    pub fn update_time_to_live(
        &self,
        input: UpdateTimeToLiveInput,
    ) -> Result<UpdateTimeToLiveOutput> {
        self.open.engine.update_time_to_live(input)
    }

    /// Deletes now, on the caller's thread, every item expired by the engine's clock
    /// ([`Options::clock`]) in the tables with Time to Live enabled, and returns how many.
    /// The background sweeper does the same, at its own pace
    /// ([`Options::ttl_sweep_pause`]); without a background worker only this does. An item
    /// expires when its Time to Live attribute is a top-level Number of epoch seconds before
    /// the clock, and not more than five years before it (DynamoDB ignores those, as it
    /// ignores any other type). Each delete is logged as made by Time to Live, and checked
    /// again under the item's lock: a write that gives the item a later expiry time first
    /// keeps it. A table that fails (an item that does not decode, a failed commit) does
    /// not stop the others: they are swept, and then the first table's error is returned.
    pub fn delete_expired_items(&self) -> Result<u64> {
        let sweep = self.open.engine.delete_expired_items(None);
        match sweep.failed.into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(sweep.deleted),
        }
    }

    /// `DescribeTimeToLive`: ENABLED with the attribute, or DISABLED.
    pub fn describe_time_to_live(&self, table_name: &str) -> Result<DescribeTimeToLiveOutput> {
        self.open.engine.describe_time_to_live(table_name)
    }

    /// `ListStreams` (DynamoDB Streams): the streams of one table (`table_name`) or of all,
    /// each table's oldest first: the enabled one, and those disabled within
    /// [`Options::stream_retention`](crate::Options::stream_retention).
    pub fn list_streams(&self, input: ListStreamsInput) -> Result<ListStreamsOutput> {
        crate::streams::list_streams(&self.open.engine, input)
    }

    /// `DescribeStream`: a stream, its status and its one shard.
    pub fn describe_stream(&self, input: DescribeStreamInput) -> Result<DescribeStreamOutput> {
        crate::streams::describe_stream(&self.open.engine, input)
    }

    /// `GetShardIterator`: where to start reading a stream's shard, for
    /// [`Database::get_records`]. The iterator expires after 15 minutes.
    pub fn get_shard_iterator(
        &self,
        input: GetShardIteratorInput,
    ) -> Result<GetShardIteratorOutput> {
        crate::streams::get_shard_iterator(&self.open.engine, input)
    }

    /// `GetRecords`: up to 1,000 records (or 1 MB) of a shard from an iterator, in commit
    /// order, and the iterator to read on from. It returns at once, possibly with no
    /// records; [`Database::subscribe_to_stream`] waits for them instead.
    pub fn get_records(&self, input: GetRecordsInput) -> Result<GetRecordsOutput> {
        crate::streams::get_records(&self.open.engine, input)
    }

    /// A blocking reader of the stream `stream_arn`, starting where `kind` (and
    /// `sequence_number`, for the `*_SEQUENCE_NUMBER` kinds) says: an iterator of its
    /// records that waits for new commits. Its records are those `GetRecords` returns.
    pub fn subscribe_to_stream(
        &self,
        stream_arn: &str,
        kind: ShardIteratorType,
        sequence_number: Option<&str>,
    ) -> Result<StreamSubscription> {
        let cursor = Cursor::new(&self.open.engine, stream_arn, kind, sequence_number)?;
        Ok(StreamSubscription {
            db: self.clone(),
            cursor,
        })
    }

    /// `UpdateContinuousBackups`: turns point-in-time recovery on or off for a table.
    /// Enabling starts a window at this moment; changing the period of an enabled table
    /// keeps the window's present start (a longer period reaches further back only as time
    /// goes on, since what the shorter one released is gone); disabling drops the window
    /// (its retained files go at the next maintenance round).
    pub fn update_continuous_backups(
        &self,
        input: UpdateContinuousBackupsInput,
    ) -> Result<UpdateContinuousBackupsOutput> {
        crate::pitr::update_continuous_backups(&self.open.engine, input)
    }

    /// `DescribeContinuousBackups`: the table's point-in-time setting and, while enabled,
    /// its window.
    pub fn describe_continuous_backups(
        &self,
        table_name: &str,
    ) -> Result<DescribeContinuousBackupsOutput> {
        crate::pitr::describe_continuous_backups(&self.open.engine, table_name)
    }

    /// What a table's point-in-time window keeps on disk right now.
    pub fn recovery_window_usage(&self, table_name: &str) -> Result<RecoveryWindowUsage> {
        crate::pitr::recovery_window_usage(&self.open.engine, table_name)
    }

    /// `ExportTableToPointInTime`: the table as it was after exactly the writes committed
    /// at or before `ExportTime` (inside its point-in-time recovery window; now by default),
    /// written in DynamoDB's S3 export layout (FULL_EXPORT, DYNAMODB_JSON, gzip) under
    /// `bucket_dir`, the folder standing in for the bucket: `{bucket_dir}/{S3Prefix}/AWSDynamoDB/{ExportId}/`
    /// with `data/*.json.gz`, `manifest-files.json`, `manifest-summary.json` and `_started`
    /// (`export.rs` draws the layout). [`import_table_from_dynamodb_json`](Database::import_table_from_dynamodb_json)
    /// over the data files (gunzipped) makes the table again, as DynamoDB's ImportTable does.
    /// With `ExportFormat` ION the data files are `data/*.ion.gz`, one line of Amazon Ion text
    /// an item, which [`import_table_from_ion`](Database::import_table_from_ion) reads back.
    ///
    /// With `ExportType` INCREMENTAL_EXPORT ([`ExportTableToPointInTimeInput::incremental`])
    /// it writes instead each item changed in `[ExportFromTime, ExportToTime)` (15 minutes
    /// to 24 hours, inside the window) once: the time of its last write in the window, its
    /// keys, its item at `ExportToTime` (`NewImage`, absent if deleted) and, for
    /// NEW_AND_OLD_IMAGES, at `ExportFromTime` (`OldImage`, absent if it did not exist); its
    /// data files go to the shared `{S3Prefix}/AWSDynamoDB/data/`.
    ///
    /// [`ExportTableToPointInTimeInput::incremental`]: crate::ExportTableToPointInTimeInput::incremental
    ///
    /// Runs before it returns, on the caller's thread, and never holds up a writer: it
    /// replays the table's files and log (as a point-in-time restore does), never the live
    /// table, and holds one block of items at a time. Errors: `TableNotFound`,
    /// `PointInTimeRecoveryUnavailable` (recovery off, or an in-memory database),
    /// `InvalidExportTime` (outside the window), `ExportConflict` (the place already holds
    /// that export), `Validation` (a bad prefix or export id, an incremental window too
    /// short or too long, `ExportTime` beside one, a `FilterSpecification` Query's or Scan's
    /// rules refuse — checked before anything is read), `Io`. A failed export removes its
    /// folder and the data files it wrote.
    pub fn export_table_to_point_in_time(
        &self,
        input: crate::api::exports::ExportTableToPointInTimeInput,
        bucket_dir: &std::path::Path,
    ) -> Result<crate::api::exports::ExportTableToPointInTimeOutput> {
        crate::export::export_table_to_point_in_time(&self.open.engine, input, bucket_dir, None)
    }

    /// [`export_table_to_point_in_time`](Database::export_table_to_point_in_time), ended
    /// (failed, its files removed) once `stop` is set: for a server that stops.
    #[cfg(feature = "server")]
    pub(crate) fn export_table_until(
        &self,
        input: crate::api::exports::ExportTableToPointInTimeInput,
        bucket_dir: &std::path::Path,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<crate::api::exports::ExportTableToPointInTimeOutput> {
        crate::export::export_table_to_point_in_time(
            &self.open.engine,
            input,
            bucket_dir,
            Some(stop),
        )
    }

    /// Checks an export's `FilterSpecification` against the key of the table `table` (name
    /// or ARN), as the export will: for a server, which answers before the export runs.
    #[cfg(feature = "server")]
    pub(crate) fn check_export_filter(
        &self,
        table: &str,
        spec: &crate::api::exports::FilterSpecification,
    ) -> Result<()> {
        crate::export::check_filter(&self.open.engine, table, spec)
    }

    /// `RestoreTableToPointInTime`: a new table holding exactly the source's writes
    /// committed at or before `RestoreDateTime` (or the latest restorable moment), with the
    /// source's current indexes and settings and the overrides. The source may be a table
    /// deleted within its window. Runs before it returns, like `restore_table_from_backup`.
    pub fn restore_table_to_point_in_time(
        &self,
        input: RestoreTableToPointInTimeInput,
    ) -> Result<RestoreTableToPointInTimeOutput> {
        crate::pitr::restore_table_to_point_in_time(&self.open.engine, input)
    }

    /// A point-in-time restore to the state after exactly the records up to `lsn` (a
    /// tidestore extension; `restore_date_time` and `use_latest_restorable_time` must be
    /// unset). Any LSN whose record was committed inside the window can be restored while
    /// the log holds that record; the summary's `RestoreDateTime` is its commit time. (The
    /// table's own records always stay; a record of another table can leave the log once a
    /// snapshot of this table covers it unchanged — restore by time to reach that moment.)
    pub fn restore_table_to_lsn(
        &self,
        input: RestoreTableToPointInTimeInput,
        lsn: Lsn,
    ) -> Result<RestoreTableToPointInTimeOutput> {
        crate::pitr::restore_table_to_lsn(&self.open.engine, input, lsn)
    }
}

/// The pages of a paged operation, from [`Database::query_pages`], [`Database::scan_pages`]
/// or [`Database::list_backups_pages`]: each `next` asks for one page, starting where the
/// previous one ended. It ends after the last page, or after the first error.
#[derive(Debug)]
pub struct Pages<'a, I, O> {
    db: &'a Database,
    /// The request of the next page; `None` once the last page (or an error) is out.
    next: Option<I>,
    send: fn(&Database, I) -> Result<O>,
    /// The request of the page after `O`, if `O` says there is one.
    resume: fn(I, &O) -> Option<I>,
}

impl<'a, I: Clone, O> Pages<'a, I, O> {
    fn new(
        db: &'a Database,
        first: I,
        send: fn(&Database, I) -> Result<O>,
        resume: fn(I, &O) -> Option<I>,
    ) -> Self {
        Pages {
            db,
            next: Some(first),
            send,
            resume,
        }
    }
}

impl<I: Clone, O> Iterator for Pages<'_, I, O> {
    type Item = Result<O>;

    fn next(&mut self) -> Option<Result<O>> {
        let input = self.next.take()?;
        let page = (self.send)(self.db, input.clone());
        if let Ok(page) = &page {
            self.next = (self.resume)(input, page);
        }
        Some(page)
    }
}

impl<I: Clone, O> std::iter::FusedIterator for Pages<'_, I, O> {}

impl<'a, I: Clone + 'a> Pages<'a, I, QueryOutput> {
    /// The items of every page, in order; an error ends them.
    pub fn items(self) -> impl Iterator<Item = Result<Item>> + 'a {
        self.flat_map(|page| match page {
            Ok(page) => page.items.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    }
}

impl<'a> Pages<'a, ListBackupsInput, ListBackupsOutput> {
    /// The backups of every page, in order; an error ends them.
    pub fn backups(self) -> impl Iterator<Item = Result<BackupSummary>> + 'a {
        self.flat_map(|page| match page {
            Ok(page) => page
                .backup_summaries
                .into_iter()
                .map(Ok)
                .collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    }
}

/// A blocking reader of a stream, for Rust callers: an iterator of its records from a
/// starting point on, that waits for new commits. Made by
/// [`Database::subscribe_to_stream`]; its records are those `GetRecords` returns.
///
/// ```no_run
/// # use tidestore::*;
/// # fn main() -> Result<()> {
/// let db = Database::open("data")?;
/// let arn = db.describe_table("Music")?.latest_stream_arn.expect("a stream");
/// for record in db.subscribe_to_stream(&arn, ShardIteratorType::TrimHorizon, None)? {
///     let record = record?;
///     println!("{:?} {:?}", record.event_name, record.dynamodb.keys);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct StreamSubscription {
    db: Database,
    cursor: Cursor,
}

impl StreamSubscription {
    /// The next record, waiting up to `timeout` for one to be committed: `Ok(None)` if
    /// none came (or the stream was disabled and all of it read).
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Record>> {
        self.cursor.next_timeout(&self.db.open.engine, timeout)
    }

    /// The sequence number the next record will have at least: where a reader that stops
    /// now starts again (with `AT_SEQUENCE_NUMBER`) without missing or repeating one.
    pub fn position(&self) -> String {
        self.cursor.position()
    }
}

impl Iterator for StreamSubscription {
    type Item = Result<Record>;

    /// The next record, waiting as long as it takes; `None` once a disabled stream has
    /// been read to its end.
    fn next(&mut self) -> Option<Result<Record>> {
        loop {
            match self.next_timeout(Duration::from_secs(3600)) {
                Ok(Some(record)) => return Some(Ok(record)),
                Ok(None) if self.cursor.ended() => return None,
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
