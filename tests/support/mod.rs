//! Shared by the durability tests: a deterministic mixed workload and a dump of a database's
//! whole visible state (tables, their definitions and items) to compare states with.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tidestore::fs::sim::{CrashPolicy, SimFs, SimRng};
use tidestore::*;

/// Options for a database on `fs` whose I/O sequence is a function of the workload alone:
/// tiny segments so rotation happens, and a background worker that never wakes on its own
/// (the workload checkpoints explicitly).
pub fn sim_options(fs: &SimFs) -> Options {
    Options::default()
        .fs(Arc::new(fs.clone()))
        .segment_bytes(4096)
        .checkpoint_min_log_bytes(u64::MAX / 2)
        .maintenance_interval(Duration::from_secs(3600))
        .background_worker(false)
        .clock(Arc::new(ManualClock::new(Timestamp(1_700_000_000_000))))
}

/// One step of the workload.
#[derive(Clone, Debug)]
pub enum Op {
    CreateTable(String),
    DeleteTable(String),
    AddIndex(String),
    Put(String, u64, u64),
    PutIfAbsent(String, u64, u64),
    Add(String, u64, i64),
    Delete(String, u64),
    Batch(String, Vec<(u64, Option<u64>)>),
    Transfer(String, String, u64, u64),
    Checkpoint,
    /// `create_backup` of a table; the backup's name records the step it was requested in.
    Backup(String, String),
}

fn key(k: u64) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), AttributeValue::s(format!("k{}", k % 7)));
    item.insert("sk".into(), AttributeValue::number(k as i64));
    item
}

fn item(k: u64, v: u64) -> Item {
    let mut item = key(k);
    item.insert("v".into(), AttributeValue::number(v as i64));
    item.insert("g".into(), AttributeValue::s(format!("g{}", v % 3)));
    item.insert(
        "pad".into(),
        AttributeValue::b(vec![v as u8; (v % 200) as usize]),
    );
    item
}

/// A workload of `len` steps over up to three tables, from `seed`.
pub fn workload(seed: u64, len: usize) -> Vec<Op> {
    let mut rng = SimRng::new(seed);
    let names = ["alpha", "beta", "gamma"];
    let mut ops = vec![
        Op::CreateTable("alpha".into()),
        Op::CreateTable("beta".into()),
    ];
    while ops.len() < len {
        let t = names[rng.below(2) as usize].to_string();
        let k = rng.below(40);
        let v = rng.below(1000);
        ops.push(match rng.below(100) {
            0..=29 => Op::Put(t, k, v),
            30..=39 => Op::PutIfAbsent(t, k, v),
            40..=54 => Op::Add(t, k, v as i64 - 500),
            55..=64 => Op::Delete(t, k),
            65..=74 => Op::Batch(
                t,
                (0..1 + rng.below(5))
                    .map(|i| (k + i, (rng.below(3) > 0).then_some(v + i)))
                    .collect(),
            ),
            75..=84 => Op::Transfer("alpha".into(), "beta".into(), k, rng.below(10)),
            85..=89 => Op::Checkpoint,
            90..=91 => Op::Backup(t.clone(), format!("b{}-{t}", ops.len())),
            92..=93 => Op::AddIndex(t),
            94 => Op::DeleteTable("gamma".into()),
            _ => Op::CreateTable("gamma".into()),
        });
    }
    ops
}

/// Runs one step. Errors that the data explains (a failed condition, a table that does not
/// exist yet) are part of the workload; only storage errors (I/O, a poisoned log,
/// corruption) stop it.
pub fn run(db: &Database, op: &Op) -> Result<()> {
    match try_run(db, op) {
        Err(e @ (Error::Io { .. } | Error::Poisoned { .. } | Error::Corruption(_))) => Err(e),
        _ => Ok(()),
    }
}

/// Runs one step and returns its result as the database gave it.
pub fn try_run(db: &Database, op: &Op) -> Result<()> {
    match op {
        Op::CreateTable(name) => {
            let mut input = CreateTableInput::new(name.as_str())
                .hash_key("pk", ScalarAttributeType::S)
                .range_key("sk", ScalarAttributeType::N)
                .local_index("by_g", "g", ScalarAttributeType::S, Projection::keys_only())
                .pay_per_request();
            // One table has a stream, so every durability test also logs, replays, backs
            // up and recovers the writes a stream records (log record kind 11), and its
            // dump holds the stream.
            if name == STREAMED_TABLE {
                let view = StreamViewType::NewAndOldImages;
                input = input
                    .stream_specification(StreamSpecification::new(true).stream_view_type(view));
            }
            db.create_table(input).map(drop)
        }
        Op::DeleteTable(name) => db.delete_table(name).map(drop),
        Op::AddIndex(name) => {
            let mut input = UpdateTableInput::new(name.as_str());
            input.attribute_definitions =
                vec![AttributeDefinition::new("v", ScalarAttributeType::N)];
            input.global_secondary_index_updates = vec![GlobalSecondaryIndexUpdate::Create(
                GlobalSecondaryIndex::new(
                    "by_v",
                    vec![KeySchemaElement::hash("v")],
                    Projection::all(),
                ),
            )];
            db.update_table(input).map(drop)
        }
        Op::Put(t, k, v) => db
            .put_item(PutItemInput::new(t.as_str(), item(*k, *v)))
            .map(drop),
        Op::PutIfAbsent(t, k, v) => db
            .put_item(
                PutItemInput::new(t.as_str(), item(*k, *v))
                    .condition(Condition::attribute_not_exists("pk")),
            )
            .map(drop),
        Op::Add(t, k, d) => db
            .update_item(UpdateItemInput::new(
                t.as_str(),
                key(*k),
                Update::new().add("v", AttributeValue::number(*d)),
            ))
            .map(drop),
        Op::Delete(t, k) => db
            .delete_item(DeleteItemInput::new(t.as_str(), key(*k)))
            .map(drop),
        Op::Batch(t, writes) => {
            let mut input = BatchWriteItemInput::default();
            let requests = writes
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => WriteRequest::Put { item: item(*k, *v) },
                    None => WriteRequest::Delete { key: key(*k) },
                })
                .collect();
            input.request_items.insert(t.clone(), requests);
            db.batch_write_item(input).map(drop)
        }
        Op::Transfer(from, to, k, amount) => {
            let take = UpdateItemInput::new(
                from.as_str(),
                key(*k),
                Update::new().add("v", AttributeValue::number(-(*amount as i64))),
            )
            .condition(Condition::attribute_exists("v"));
            let give = UpdateItemInput::new(
                to.as_str(),
                key(*k),
                Update::new().add("v", AttributeValue::number(*amount as i64)),
            );
            db.transact_write_items(TransactWriteItemsInput::new(vec![
                TransactWriteItem::Update(take),
                TransactWriteItem::Update(give),
            ]))
            .map(drop)
        }
        Op::Checkpoint => db.checkpoint(),
        Op::Backup(t, name) => db.create_backup(t, name).map(drop),
    }
}

/// The workload's table with a stream.
pub const STREAMED_TABLE: &str = "beta";

/// One stream record as the durability tests compare them: what changed, and how, not
/// where (sequence numbers and times are the run's).
pub type StreamChange = (OperationType, Item, Option<Item>, Option<Item>);

/// A table as the API shows it: its definition and its items, in key order, and its
/// stream's records, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDump {
    pub key_schema: Vec<KeySchemaElement>,
    pub indexes: Vec<String>,
    pub item_count: u64,
    pub size_bytes: u64,
    pub items: Vec<Item>,
    pub stream: Vec<StreamChange>,
}

/// Every record of the table's stream, if it has one enabled.
fn stream_of(db: &Database, d: &TableDescription) -> Result<Vec<StreamChange>> {
    let Some(arn) = d
        .latest_stream_arn
        .as_ref()
        .filter(|_| d.stream_specification.is_some())
    else {
        return Ok(Vec::new());
    };
    let shards = db.describe_stream(DescribeStreamInput::new(arn))?;
    let shard = shards.stream_description.shards[0].shard_id.clone();
    let input = GetShardIteratorInput::new(arn, shard, ShardIteratorType::TrimHorizon);
    let mut iterator = db.get_shard_iterator(input)?.shard_iterator;
    let mut changes = Vec::new();
    while let Some(it) = iterator {
        let page = db.get_records(GetRecordsInput::new(it))?;
        if page.records.is_empty() {
            break;
        }
        changes.extend(page.records.into_iter().map(|r| {
            let d = r.dynamodb;
            (r.event_name, d.keys, d.new_image, d.old_image)
        }));
        iterator = page.next_shard_iterator;
    }
    Ok(changes)
}

/// Everything a database shows, by table name.
pub type Dump = BTreeMap<String, TableDump>;

/// Every item of `table`, page by page, in scan order.
pub fn scan_all(db: &Database, table: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut input = ScanInput::new(table);
    loop {
        let page = db.scan(input.clone()).unwrap();
        items.extend(page.items);
        match page.last_evaluated_key {
            Some(k) => input.exclusive_start_key = Some(k),
            None => return items,
        }
    }
}

/// Every item of a query, in the order the query returns them, following its pages.
pub fn query_all(db: &Database, mut input: QueryInput) -> Vec<Item> {
    let mut items = Vec::new();
    loop {
        let page = db.query(input.clone()).unwrap();
        items.extend(page.items);
        match page.last_evaluated_key {
            Some(start) => input.exclusive_start_key = Some(start),
            None => return items,
        }
    }
}

/// Dumps every table of `db`.
pub fn dump(db: &Database) -> Dump {
    try_dump(db).unwrap()
}

/// [`dump`] without the streams' records (`stream` left empty): the tables alone, cheaper
/// to read for the many recoveries a crash loop compares.
pub fn dump_tables(db: &Database) -> Dump {
    dump_of(db, false).unwrap()
}

/// `dump` with every table's `stream` left empty.
pub fn without_streams(dump: &Dump) -> Dump {
    dump.iter()
        .map(|(name, table)| {
            let table = TableDump {
                stream: Vec::new(),
                ..table.clone()
            };
            (name.clone(), table)
        })
        .collect()
}

/// [`dump`], failing as reading a stream does (its log may be damaged: an open does not
/// read the log only a stream keeps).
pub fn try_dump(db: &Database) -> Result<Dump> {
    dump_of(db, true)
}

/// Every table of `db`, and with `streams` their streams' records.
fn dump_of(db: &Database, streams: bool) -> Result<Dump> {
    let mut out = Dump::new();
    let names = db
        .list_tables(ListTablesInput::default())
        .unwrap()
        .table_names;
    for name in names {
        let d = db.describe_table(&name).unwrap();
        let items = scan_all(db, &name);
        let stream = match streams {
            true => stream_of(db, &d)?,
            false => Vec::new(),
        };
        let mut indexes: Vec<String> = d
            .local_secondary_indexes
            .iter()
            .flatten()
            .map(|i| i.index_name.clone())
            .collect();
        indexes.extend(
            d.global_secondary_indexes
                .iter()
                .flatten()
                .map(|i| i.index_name.clone()),
        );
        out.insert(
            name,
            TableDump {
                key_schema: d.key_schema,
                indexes,
                item_count: d.item_count,
                size_bytes: d.table_size_bytes,
                items,
                stream,
            },
        );
    }
    Ok(out)
}

/// The state after each prefix of `ops`, computed in memory: `states[i]` is the state after
/// the first `i` steps.
pub fn reference_states(ops: &[Op]) -> Vec<Dump> {
    let db = Database::in_memory_with(
        Options::in_memory().clock(Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)))),
    )
    .unwrap();
    let mut states = vec![dump(&db)];
    for op in ops {
        run(&db, op).unwrap();
        states.push(dump(&db));
    }
    states
}

/// Invariant I4: every backup of `db` (named `b{step}-{table}` by the workload) becomes
/// AVAILABLE and restores to exactly the table as it was before step `step` — the state
/// `states[step]` shows. Returns how many backups were checked.
pub fn check_backups(db: &Database, states: &[Dump]) -> std::result::Result<usize, String> {
    let listed = db
        .list_backups(ListBackupsInput::new().backup_type(BackupTypeFilter::All))
        .map_err(|e| format!("list_backups: {e}"))?;
    for summary in &listed.backup_summaries {
        let name = &summary.backup_name;
        let (step, table) = name[1..]
            .split_once('-')
            .ok_or(format!("unexpected backup {name}"))?;
        let step: usize = step
            .parse()
            .map_err(|_| format!("unexpected backup {name}"))?;
        let built = db
            .wait_for_backup(&summary.backup_arn, Duration::from_secs(20))
            .map_err(|e| format!("waiting for {name}: {e}"))?;
        if built.backup_details.backup_status != BackupStatus::Available {
            return Err(format!("backup {name} did not become AVAILABLE"));
        }
        let target = format!("restored-{name}");
        db.restore_table_from_backup(RestoreTableFromBackupInput::new(
            &summary.backup_arn,
            &target,
        ))
        .map_err(|e| format!("restoring {name}: {e}"))?;
        let restored = dump(db)
            .remove(&target)
            .ok_or(format!("restored table of {name} missing"))?;
        db.delete_table(&target)
            .map_err(|e| format!("deleting the restore of {name}: {e}"))?;
        let expected = states[step]
            .get(table)
            .ok_or(format!("{table} did not exist at step {step}"))?;
        // A restore makes a table without a stream.
        let expected = TableDump {
            stream: Vec::new(),
            ..expected.clone()
        };
        if restored != expected {
            return Err(format!(
                "backup {name} is not the table at its marker: {} items restored, {} expected",
                restored.items.len(),
                expected.items.len()
            ));
        }
    }
    Ok(listed.backup_summaries.len())
}

/// A unique directory under the system temp dir, removed when dropped.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    /// A fresh directory path (not created) whose name starts with `tag`.
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        TempDir(std::env::temp_dir().join(format!(
            "tidestore-{tag}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        )))
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every item of `table`, sorted.
pub fn scan_sorted(db: &Database, table: &str) -> Vec<Item> {
    let mut items = scan_all(db, table);
    items.sort();
    items
}

/// Turns point-in-time recovery on for `table` with a window of `days` (35 when `None`).
pub fn enable_pitr(
    db: &Database,
    table: &str,
    days: Option<u32>,
) -> PointInTimeRecoveryDescription {
    let mut input = UpdateContinuousBackupsInput::new(table, true);
    input
        .point_in_time_recovery_specification
        .recovery_period_in_days = days;
    db.update_continuous_backups(input)
        .unwrap()
        .continuous_backups_description
        .point_in_time_recovery_description
}

/// `table`'s restorable window: (Earliest, Latest).
pub fn pitr_window(db: &Database, table: &str) -> (Timestamp, Timestamp) {
    let pitr = db
        .describe_continuous_backups(table)
        .unwrap()
        .continuous_backups_description
        .point_in_time_recovery_description;
    (
        pitr.earliest_restorable_date_time.unwrap(),
        pitr.latest_restorable_date_time.unwrap(),
    )
}

/// Restores `source` as `target` at moment `at` (milliseconds).
pub fn restore_at(db: &Database, source: &str, target: &str, at: u64) -> Result<TableDescription> {
    db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::at(
        source,
        target,
        Timestamp(at),
    ))
    .map(|out| out.table_description)
}

/// The state `observe` sees after each prefix of `steps` steps run on a fresh database from
/// `open`: entry `n` is the state after steps `0..n` (the reference a crash test compares
/// recovered databases with).
pub fn states_after_each_step<S>(
    steps: usize,
    open: impl Fn() -> Database,
    step: impl Fn(&Database, usize) -> Result<()>,
    observe: impl Fn(&Database) -> S,
) -> Vec<S> {
    (0..=steps)
        .map(|n| {
            let db = open();
            for i in 0..n {
                step(&db, i).unwrap();
            }
            observe(&db)
        })
        .collect()
}

/// I1 and I2 by simulation: runs `steps` steps (`step(db, i)`) on a simulated disk that
/// crashes at each of the run's I/O operations in turn, recovers every crash image under every
/// crash policy with `options`, and hands each recovered database to `check` with the number
/// of steps acknowledged before the crash and a context for its messages. Returns the number of
/// I/O operations and of recoveries.
pub fn crash_at_every_io_operation(
    dir: &str,
    steps: usize,
    options: impl Fn(&SimFs) -> Options,
    step: impl Fn(&Database, usize) -> Result<()>,
    mut check: impl FnMut(usize, &Database, &str),
) -> (u64, usize) {
    let run = |fs: &SimFs| {
        let Ok(db) = Database::open_with(dir, options(fs)) else {
            return 0;
        };
        (0..steps)
            .position(|i| step(&db, i).is_err())
            .unwrap_or(steps)
    };
    let total = {
        let fs = SimFs::new();
        assert_eq!(run(&fs), steps, "the fault-free run fails");
        fs.op_count()
    };
    let mut recoveries = 0;
    for crash_at in 1..=total {
        let fs = SimFs::new();
        fs.crash_at(crash_at);
        let acked = run(&fs);
        for (p, policy) in CrashPolicy::ALL.into_iter().enumerate() {
            let image = fs.after_crash(policy, crash_at ^ p as u64);
            let context = format!("crash at op {crash_at}/{total} (step {acked}) {policy:?}");
            let db = Database::open_with(dir, options(&image))
                .unwrap_or_else(|e| panic!("{context}: recovery failed: {e}"));
            check(acked, &db, &context);
            recoveries += 1;
        }
    }
    (total, recoveries)
}

/// The check of a crash test whose steps are each atomic: the state recovered is the one after
/// the acknowledged steps, or after the step in flight as well.
pub fn assert_acknowledged_or_in_flight<S: PartialEq + std::fmt::Debug>(
    states: &[S],
    acked: usize,
    recovered: &S,
    context: &str,
) {
    assert!(
        *recovered == states[acked] || states.get(acked + 1) == Some(recovered),
        "{context}: recovered {recovered:?}, expected {:?}",
        states[acked]
    );
}
