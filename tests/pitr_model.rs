//! Point-in-time recovery against a model: every restore, by time or by LSN, gives exactly
//! the table the model says it had at that point, inside the window; outside it the restore
//! is `InvalidRestoreTime`. Also across checkpoints (which retain the states they replace),
//! the window moving on (which releases them), reopens, crashes at every I/O operation, and a
//! backup still pending while all that happens.
//!
//! How the model knows the table at a moment without reading commit times: a write's commit
//! time is at least the clock when it is made, and every record up to the last one has a
//! commit time at most `LatestRestorableDateTime` (which is `max(now, last commit time)`). So
//! when the clock moves from `now` to `now'` and `P` was the latest restorable moment before
//! the move, every record so far is at or before `P` and every later one at or after `now'`:
//! the table at any moment of `[P, now' − 1]` is the model's state at that step (a *time
//! point*; empty when `now' <= P`). A restore to the latest moment fences it, so the moment
//! restored to is a time point as well. Each write's LSN is a point too (an *LSN point*), its
//! commit time known to lie in `[clock at the write, latest after it]`.
//!
//! The tests:
//! - `every_restore_by_time_or_lsn_…`: random histories (puts, deletes, batches over this
//!   table and one without recovery, clock moves, checkpoints, reopens, crashes, restores
//!   along the way) with 1, 2, 3 or 35-day windows; then every time point, LSN points and the
//!   window's edges restore as the model says, before and after a checkpoint and reopen, or
//!   after the table's deletion (and its SYSTEM backup holds its last state).
//! - `restores_at_exactly_earliest_and_latest_…`: the edges, right after enabling and once
//!   the clock has passed the period, across checkpoints and a reopen.
//! - `retained_states_and_pending_backups_survive_a_crash_…`: a crash at every I/O
//!   operation of a workload whose 1-day window moves on, under every crash policy; after
//!   each, the table is the acknowledged prefix, every point of the window restores, and
//!   every backup (some pending across the crash) is built and holds its table. Each image is
//!   also opened two days later, when only the pending backups still need the old states.
//! - Three deterministic regression tests for what the model found (see each).
//!
//! `TIDESTORE_LONG=1` runs more proptest cases and a longer crash workload over more seeds;
//! `TIDESTORE_SEED` picks the crash workload's seed; `PROPTEST_CASES` sets the case count.

#![allow(clippy::unwrap_used)] // a test: an unexpected error is a failure

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use support::{scan_all, sim_options};
use tidestore::fs::sim::{CrashPolicy, SimFs, SimRng};
use tidestore::{
    AttributeValue, BackupStatus, BackupTypeFilter, BatchWriteItemInput, CreateTableInput,
    Database, DeleteItemInput, Error, Item, ListBackupsInput, Lsn, ManualClock, Options,
    PointInTimeRecoveryStatus, PutItemInput, RestoreTableFromBackupInput,
    RestoreTableToPointInTimeInput, ScalarAttributeType, Timestamp, UpdateContinuousBackupsInput,
    WriteRequest,
};

const DIR: &str = "/db";
/// The clock's start (as `sim_options` has it).
const T0: u64 = 1_700_000_000_000;
const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;
/// The table with point-in-time recovery.
const PITR: &str = "pitr";
/// A table without it, whose writes interleave with the other's in the log.
const PLAIN: &str = "plain";

fn long() -> bool {
    std::env::var("TIDESTORE_LONG").is_ok_and(|v| v == "1")
}

// ---------------------------------------------------------------------------------------------
// Items, writes and the model
// ---------------------------------------------------------------------------------------------

/// The model of the point-in-time table: item number to value.
type State = BTreeMap<u64, u64>;

fn key(k: u64) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), AttributeValue::s(format!("p{}", k % 5)));
    item.insert("sk".into(), AttributeValue::number(k as i64));
    item
}

fn item(k: u64, v: u64) -> Item {
    let mut item = key(k);
    item.insert("v".into(), AttributeValue::number(v as i64));
    // Up to 300 bytes, so that the 4 KiB log segments of `sim_options` rotate every few writes.
    item.insert(
        "pad".into(),
        AttributeValue::b(vec![(v % 251) as u8; (v % 300) as usize]),
    );
    item
}

/// Items as sorted DynamoDB JSON: comparable whatever the scan order.
fn rendered(items: &[Item]) -> Vec<String> {
    let mut out: Vec<String> = items
        .iter()
        .map(|i| serde_json::to_string(i).unwrap())
        .collect();
    out.sort();
    out
}

fn expected(state: &State) -> Vec<String> {
    let items: Vec<Item> = state.iter().map(|(&k, &v)| item(k, v)).collect();
    rendered(&items)
}

/// A write; `true` targets the point-in-time table, `false` the plain one.
#[derive(Clone, Debug)]
enum Write {
    Put(bool, u64, u64),
    Delete(bool, u64),
    /// One atomic batch, possibly over both tables.
    Batch(Vec<(bool, u64, Option<u64>)>),
}

fn table_of(pitr: bool) -> &'static str {
    if pitr {
        PITR
    } else {
        PLAIN
    }
}

impl Write {
    /// A batch without duplicate keys (which `BatchWriteItem` refuses).
    fn normalized(self) -> Write {
        match self {
            Write::Batch(writes) => {
                let mut seen = std::collections::BTreeSet::new();
                Write::Batch(
                    writes
                        .into_iter()
                        .filter(|(p, k, _)| seen.insert((*p, *k)))
                        .collect(),
                )
            }
            other => other,
        }
    }

    /// Whether its log record changes the point-in-time table, which held `before`: a put
    /// always does (even of the same item), a delete only of an item that is there — the
    /// engine logs only the writes that change something, so a batch whose delete in this
    /// table finds nothing logs a record of the other table alone.
    fn logs_a_change_of_pitr(&self, before: &State) -> bool {
        let one = |p: bool, k: u64, v: Option<u64>| p && (v.is_some() || before.contains_key(&k));
        match self {
            Write::Put(p, k, v) => one(*p, *k, Some(*v)),
            Write::Delete(p, k) => one(*p, *k, None),
            Write::Batch(writes) => writes.iter().any(|&(p, k, v)| one(p, k, v)),
        }
    }

    fn run(&self, db: &Database) -> tidestore::Result<()> {
        match self {
            Write::Put(p, k, v) => db
                .put_item(PutItemInput::new(table_of(*p), item(*k, *v)))
                .map(drop),
            Write::Delete(p, k) => db
                .delete_item(DeleteItemInput::new(table_of(*p), key(*k)))
                .map(drop),
            Write::Batch(writes) => {
                let mut input = BatchWriteItemInput::default();
                for (p, k, v) in writes {
                    input
                        .request_items
                        .entry(table_of(*p).to_string())
                        .or_default()
                        .push(match v {
                            Some(v) => WriteRequest::Put { item: item(*k, *v) },
                            None => WriteRequest::Delete { key: key(*k) },
                        });
                }
                db.batch_write_item(input).map(drop)
            }
        }
    }

    fn apply(&self, state: &mut State) {
        let mut one = |p: bool, k: u64, v: Option<u64>| {
            if p {
                match v {
                    Some(v) => state.insert(k, v),
                    None => state.remove(&k),
                };
            }
        };
        match self {
            Write::Put(p, k, v) => one(*p, *k, Some(*v)),
            Write::Delete(p, k) => one(*p, *k, None),
            Write::Batch(writes) => {
                for (p, k, v) in writes {
                    one(*p, *k, *v);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The database
// ---------------------------------------------------------------------------------------------

/// `sim_options` with a clock the test keeps (and carries across reopens).
fn options(fs: &SimFs, clock: &Arc<ManualClock>) -> Options {
    sim_options(fs).clock(Arc::clone(clock) as Arc<dyn tidestore::Clock>)
}

fn open(fs: &SimFs, clock: &Arc<ManualClock>) -> tidestore::Result<Database> {
    Database::open_with(DIR, options(fs, clock))
}

fn create_table(db: &Database, name: &str) -> tidestore::Result<()> {
    db.create_table(
        CreateTableInput::new(name)
            .hash_key("pk", ScalarAttributeType::S)
            .range_key("sk", ScalarAttributeType::N)
            .pay_per_request(),
    )
    .map(drop)
}

fn enable_pitr(db: &Database, name: &str, days: u32) -> tidestore::Result<()> {
    let mut input = UpdateContinuousBackupsInput::new(name, true);
    input
        .point_in_time_recovery_specification
        .recovery_period_in_days = Some(days);
    db.update_continuous_backups(input).map(drop)
}

/// The window `[Earliest, Latest]` as `DescribeContinuousBackups` gives it, in ms.
fn window(db: &Database, name: &str) -> Result<(u64, u64), String> {
    let pitr = db
        .describe_continuous_backups(name)
        .map_err(|e| format!("describe_continuous_backups: {e}"))?
        .continuous_backups_description
        .point_in_time_recovery_description;
    if pitr.point_in_time_recovery_status != PointInTimeRecoveryStatus::Enabled {
        return Err(format!("point-in-time recovery of {name} is not enabled"));
    }
    match (
        pitr.earliest_restorable_date_time,
        pitr.latest_restorable_date_time,
    ) {
        (Some(e), Some(l)) => Ok((e.0, l.0)),
        other => Err(format!("an enabled window without both ends: {other:?}")),
    }
}

fn now(clock: &ManualClock) -> u64 {
    tidestore::Clock::now(clock).0
}

// ---------------------------------------------------------------------------------------------
// Points of the history, and restoring to them
// ---------------------------------------------------------------------------------------------

/// The table at every moment of `[from, to]` is `state`.
#[derive(Clone, Debug)]
struct TimePoint {
    from: u64,
    to: u64,
    state: Arc<State>,
}

/// The table after exactly the records up to `lsn` is `state`; record `lsn` was committed
/// at a moment in `[lo, hi]`.
#[derive(Clone, Debug)]
struct LsnPoint {
    lsn: Lsn,
    lo: u64,
    hi: u64,
    state: Arc<State>,
    /// The record changed the point-in-time table (not only the other one).
    own: bool,
}

/// The model of one table's history.
#[derive(Debug, Default)]
struct History {
    state: State,
    times: Vec<TimePoint>,
    lsns: Vec<LsnPoint>,
}

impl History {
    /// After a write that started with the clock at `lo` and the log at `lsn_before`: if it
    /// logged a record, its LSN is a point.
    fn wrote(&mut self, db: &Database, lo: u64, lsn_before: Lsn, own: bool) -> Result<(), String> {
        let lsn = db.last_lsn();
        let state = Arc::new(self.state.clone());
        if lsn == lsn_before {
            // A write that changed nothing (a delete of nothing) logs no record.
            if self.lsns.last().is_some_and(|last| *last.state != *state) {
                return Err(format!(
                    "a write changed the model but logged no record after LSN {lsn}"
                ));
            }
            return Ok(());
        }
        let (_, hi) = window(db, PITR)?;
        self.lsns.push(LsnPoint {
            lsn,
            lo,
            hi,
            state,
            own,
        });
        Ok(())
    }

    /// Moves the clock by `ms`; if it passes the latest restorable moment, the moments in
    /// between are a time point.
    fn advance(&mut self, db: &Database, clock: &ManualClock, ms: u64) -> Result<(), String> {
        let (_, latest) = window(db, PITR)?;
        clock.advance(ms);
        let next = now(clock);
        if next > latest {
            self.times.push(TimePoint {
                from: latest,
                to: next - 1,
                state: Arc::new(self.state.clone()),
            });
        }
        Ok(())
    }

    /// The table at moment `t`, if a time point covers it.
    fn at(&self, t: u64) -> Option<&TimePoint> {
        self.times.iter().find(|p| p.from <= t && t <= p.to)
    }
}

/// Where a restore goes.
#[derive(Clone, Copy, Debug)]
enum At {
    Time(u64),
    Lsn(Lsn),
    Latest,
}

/// What a restore must give.
#[derive(Clone, Debug)]
enum Expect {
    /// Exactly this table.
    Table(Arc<State>),
    /// Some table (the model does not know which).
    AnyTable,
    /// `InvalidRestoreTime`.
    Invalid,
    /// This table, or `InvalidRestoreTime` (an LSN whose commit time may equal the window's
    /// start: see `lsn_expectation`).
    TableOrInvalid(Arc<State>),
}

/// What a restore to a moment `t` must give in the window `[earliest, latest]`.
fn time_expectation(t: u64, state: &Arc<State>, (earliest, latest): (u64, u64)) -> Expect {
    if t < earliest || t > latest {
        Expect::Invalid
    } else {
        Expect::Table(Arc::clone(state))
    }
}

/// What a restore to an LSN point must give in the window `[earliest, latest]`. A record
/// committed at or after the window's start can be restored — also one committed in the very
/// millisecond of the start, when a state of the table was built later in that millisecond —
/// and one committed before it cannot. (The model knows the commit time only to lie in
/// `[lo, hi]`: when that straddles the start, either outcome is right.)
///
/// A record of the other table only may be refused too: a checkpoint that finds nothing new
/// for the point-in-time table moves its snapshot's LSN past such records, the log below can
/// go, and with it the record's commit time (the restore says so rather than guess it).
fn lsn_expectation(point: &LsnPoint, (earliest, _): (u64, u64)) -> Expect {
    if !point.own && point.hi >= earliest {
        Expect::TableOrInvalid(Arc::clone(&point.state))
    } else if point.lo >= earliest {
        Expect::Table(Arc::clone(&point.state))
    } else if point.hi < earliest {
        Expect::Invalid
    } else {
        Expect::TableOrInvalid(Arc::clone(&point.state))
    }
}

/// Numbers the restores' target tables.
static NEXT_TARGET: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs restores of one source table to fresh targets and checks them.
struct Restorer<'a> {
    db: &'a Database,
    source: &'a str,
    /// How many restores it ran.
    count: usize,
}

impl<'a> Restorer<'a> {
    fn new(db: &'a Database, source: &'a str) -> Restorer<'a> {
        Restorer {
            db,
            source,
            count: 0,
        }
    }

    /// Restores to `at`; returns the restored items (the target is deleted again) and the
    /// moment its `RestoreSummary` says it was restored to.
    fn restore(&mut self, at: At) -> tidestore::Result<(Vec<String>, u64)> {
        self.count += 1;
        let n = NEXT_TARGET.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let target = format!("restored-{n}");
        let db = self.db;
        let output = match at {
            At::Time(t) => db.restore_table_to_point_in_time(
                RestoreTableToPointInTimeInput::at(self.source, target.as_str(), Timestamp(t)),
            )?,
            At::Lsn(lsn) => db.restore_table_to_lsn(
                RestoreTableToPointInTimeInput::new(target.clone()).source_table_name(self.source),
                lsn,
            )?,
            At::Latest => db.restore_table_to_point_in_time(
                RestoreTableToPointInTimeInput::latest(self.source, target.as_str()),
            )?,
        };
        let moment = output
            .table_description
            .restore_summary
            .map_or(0, |s| s.restore_date_time.0);
        let items = rendered(&scan_all(db, &target));
        db.delete_table(&target)?;
        Ok((items, moment))
    }

    /// Restores to `at` and checks the outcome against `expect`; a restore to a moment must
    /// say it restored to that moment.
    fn check(&mut self, at: At, expect: &Expect) -> Result<(), String> {
        let moment = match at {
            At::Time(t) => Some((t, t)),
            At::Lsn(_) | At::Latest => None,
        };
        self.check_with(at, expect, moment)
    }

    /// Restores to LSN point `point` and checks the outcome: the table, and a
    /// `RestoreDateTime` that is the record's commit time (within what the model knows).
    fn check_lsn(&mut self, point: &LsnPoint, window: (u64, u64)) -> Result<(), String> {
        self.check_with(
            At::Lsn(point.lsn),
            &lsn_expectation(point, window),
            Some((point.lo, point.hi)),
        )
    }

    /// Restores to `at` and checks the outcome against `expect`, and, if it gives a table,
    /// that its `RestoreDateTime` is in `moment`.
    fn check_with(
        &mut self,
        at: At,
        expect: &Expect,
        moment: Option<(u64, u64)>,
    ) -> Result<(), String> {
        let got = self.restore(at);
        let ok = match (expect, &got) {
            (Expect::Table(s) | Expect::TableOrInvalid(s), Ok((items, _))) => *items == expected(s),
            (Expect::AnyTable, Ok(_)) => true,
            (Expect::Invalid | Expect::TableOrInvalid(_), Err(Error::InvalidRestoreTime(_))) => {
                true
            }
            _ => false,
        };
        let moment_ok = match (&got, moment) {
            (Ok((_, m)), Some((lo, hi))) => lo <= *m && *m <= hi,
            _ => true,
        };
        if ok && moment_ok {
            return Ok(());
        }
        let want = match expect {
            Expect::Table(s) => format!("the table with items {:?}", s.keys().collect::<Vec<_>>()),
            Expect::TableOrInvalid(s) => format!(
                "the table with items {:?} or InvalidRestoreTime",
                s.keys().collect::<Vec<_>>()
            ),
            Expect::AnyTable => "a table".into(),
            Expect::Invalid => "InvalidRestoreTime".into(),
        };
        let want = match moment {
            Some((lo, hi)) => format!("{want}, restored to a moment in [{lo}, {hi}]"),
            None => want,
        };
        let got = match got {
            Ok((items, m)) => format!(
                "a table of {} items {:?}, restored to moment {m}",
                items.len(),
                item_keys(&items)
            ),
            Err(e) => format!("error {e:?}"),
        };
        Err(format!(
            "restore of {} to {at:?}: expected {want}; got {got}",
            self.source
        ))
    }
}

/// The item numbers of rendered items, for messages.
fn item_keys(items: &[String]) -> Vec<u64> {
    let mut keys: Vec<u64> = items
        .iter()
        .filter_map(|json| {
            let value: serde_json::Value = serde_json::from_str(json).ok()?;
            value["sk"]["N"].as_str()?.parse().ok()
        })
        .collect();
    keys.sort_unstable();
    keys
}

/// The checks at the end of a history: every time point (its ends and a moment inside),
/// LSN points, and the window's edges. `latest_state` is the table at `Latest`.
fn check_history(
    restorer: &mut Restorer,
    history: &History,
    window: (u64, u64),
    latest_state: &Arc<State>,
    rng: &mut SimRng,
    max_lsn_points: usize,
) -> Result<(), String> {
    let (earliest, latest) = window;
    for point in &history.times {
        let inside = point.from + rng.below(point.to - point.from + 1);
        let mut moments = vec![point.from, point.to, inside];
        moments.dedup();
        for t in moments {
            restorer.check(At::Time(t), &time_expectation(t, &point.state, window))?;
        }
    }
    // LSN points: all, or a sample with the first and the last.
    let lsns = &history.lsns;
    let picked: Vec<&LsnPoint> = if lsns.len() <= max_lsn_points {
        lsns.iter().collect()
    } else {
        let mut picked: Vec<&LsnPoint> = (0..max_lsn_points.saturating_sub(2))
            .map(|_| &lsns[rng.below(lsns.len() as u64) as usize])
            .collect();
        picked.extend(lsns.first());
        picked.extend(lsns.last());
        picked
    };
    for point in picked {
        restorer.check_lsn(point, window)?;
    }
    // The edges: exactly Earliest and Latest are restorable, a millisecond outside is not.
    // (Outside first: a restore to Latest closes that moment, so the restore's own records
    // come a millisecond after it, and Latest moves there.)
    restorer.check(At::Time(earliest - 1), &Expect::Invalid)?;
    restorer.check(At::Time(latest + 1), &Expect::Invalid)?;
    let at_earliest = match history.at(earliest) {
        Some(point) => Expect::Table(Arc::clone(&point.state)),
        None => Expect::AnyTable,
    };
    restorer.check(At::Time(earliest), &at_earliest)?;
    restorer.check(At::Time(latest), &Expect::Table(Arc::clone(latest_state)))?;
    restorer.check(At::Latest, &Expect::Table(Arc::clone(latest_state)))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 1. Random histories
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Step {
    Write(Write),
    /// Moves the clock by this many ms.
    Advance(u64),
    Checkpoint,
    /// A clean close and open.
    Reopen,
    /// The process dies (every acknowledged write was synced, so nothing may be lost).
    Crash(u8),
    /// A restore in the middle of the history, to a point the selector picks.
    Restore(u64),
    /// A restore to the latest moment, which fences it: later writes come after it.
    RestoreLatest,
}

fn write_strategy() -> impl Strategy<Value = Write> {
    let k = 0u64..24;
    let v = 0u64..1000;
    let pitr = proptest::bool::weighted(0.75);
    prop_oneof![
        5 => (pitr, k.clone(), v.clone()).prop_map(|(p, k, v)| Write::Put(p, k, v)),
        2 => (pitr, k.clone()).prop_map(|(p, k)| Write::Delete(p, k)),
        2 => proptest::collection::vec((pitr, k, proptest::option::of(v)), 1..6)
            .prop_map(|w| Write::Batch(w).normalized()),
    ]
}

fn advance_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![
        2 => Just(0u64),
        3 => Just(1u64),
        2 => 2u64..1000,
        3 => 0..3 * DAY,
        1 => Just(DAY),
        1 => Just(13 * HOUR),
    ]
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => write_strategy().prop_map(Step::Write),
        6 => advance_strategy().prop_map(Step::Advance),
        3 => Just(Step::Checkpoint),
        1 => Just(Step::Reopen),
        1 => any::<u8>().prop_map(Step::Crash),
        2 => any::<u64>().prop_map(Step::Restore),
        1 => Just(Step::RestoreLatest),
    ]
}

fn proptest_cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(if long() { 512 } else { 64 })
}

/// One random history; `Err` names the first wrong restore.
fn run_history(
    period: u32,
    pre_writes: &[Write],
    steps: &[Step],
    delete_at_end: bool,
    check_seed: u64,
) -> Result<(), String> {
    let mut rng = SimRng::new(check_seed);
    let mut fs = SimFs::new();
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let mut db = Some(open(&fs, &clock).unwrap());
    let handle = |db: &Option<Database>| -> Database { db.as_ref().unwrap().clone() };
    create_table(&handle(&db), PITR).unwrap();
    create_table(&handle(&db), PLAIN).unwrap();
    let mut history = History::default();
    // Writes before recovery is enabled are in the state at its first moment.
    for w in pre_writes {
        w.run(&handle(&db)).unwrap();
        w.apply(&mut history.state);
    }
    enable_pitr(&handle(&db), PITR, period).unwrap();
    let (since, _) = window(&handle(&db), PITR)?;
    if since != now(&clock) {
        return Err(format!(
            "enabled at {} but Earliest is {since}",
            now(&clock)
        ));
    }
    // The enabling record is the first LSN point, committed at `since`.
    history.lsns.push(LsnPoint {
        lsn: handle(&db).last_lsn(),
        lo: since,
        hi: since,
        state: Arc::new(history.state.clone()),
        own: true,
    });
    history.advance(&handle(&db), &clock, 1)?;
    for (i, step) in steps.iter().enumerate() {
        let context = |e: String| format!("step {i} ({step:?}): {e}");
        let d = handle(&db);
        match step {
            Step::Write(w) => {
                let (lo, lsn_before) = (now(&clock), d.last_lsn());
                let own = w.logs_a_change_of_pitr(&history.state);
                w.run(&d).unwrap();
                w.apply(&mut history.state);
                history.wrote(&d, lo, lsn_before, own).map_err(context)?;
            }
            Step::Advance(ms) => history.advance(&d, &clock, *ms).map_err(context)?,
            Step::Checkpoint => d.checkpoint().unwrap(),
            Step::Reopen | Step::Crash(_) => {
                let (_, latest_before) = window(&d, PITR).map_err(context)?;
                drop(d);
                drop(db.take());
                if let Step::Crash(seed) = step {
                    let policy = CrashPolicy::ALL[*seed as usize % CrashPolicy::ALL.len()];
                    fs = fs.after_crash(policy, u64::from(*seed));
                }
                db = Some(open(&fs, &clock).unwrap());
                // Commit times never go back: neither does the latest restorable moment.
                let (_, latest) = window(&handle(&db), PITR).map_err(context)?;
                if latest < latest_before {
                    return Err(context(format!(
                        "Latest went back from {latest_before} to {latest} (now {})",
                        now(&clock)
                    )));
                }
                let live = rendered(&scan_all(&handle(&db), PITR));
                if live != expected(&history.state) {
                    return Err(context(format!(
                        "the table after reopening has items {:?}, the model {:?}",
                        item_keys(&live),
                        history.state.keys().collect::<Vec<_>>()
                    )));
                }
            }
            Step::Restore(selector) => {
                let w = window(&d, PITR).map_err(context)?;
                let mut restorer = Restorer::new(&d, PITR);
                if selector.is_multiple_of(2) && !history.times.is_empty() {
                    let point = &history.times[(selector / 2) as usize % history.times.len()];
                    let t = point.from + (selector >> 16) % (point.to - point.from + 1);
                    restorer
                        .check(At::Time(t), &time_expectation(t, &point.state, w))
                        .map_err(context)?;
                } else if !history.lsns.is_empty() {
                    let point = &history.lsns[(selector / 2) as usize % history.lsns.len()];
                    restorer.check_lsn(point, w).map_err(context)?;
                }
            }
            Step::RestoreLatest => {
                let (_, latest) = window(&d, PITR).map_err(context)?;
                let state = Arc::new(history.state.clone());
                Restorer::new(&d, PITR)
                    .check(At::Latest, &Expect::Table(Arc::clone(&state)))
                    .map_err(context)?;
                // The restore closed the moment `latest`: what is logged from now on is after it.
                if history.times.last().is_none_or(|p| p.to < latest) {
                    history.times.push(TimePoint {
                        from: latest,
                        to: latest,
                        state,
                    });
                }
            }
        }
    }
    let d = handle(&db);
    let final_state = Arc::new(history.state.clone());
    let w = window(&d, PITR)?;
    let expected_earliest = since.max(now(&clock).saturating_sub(u64::from(period) * DAY));
    if w.0 != expected_earliest {
        return Err(format!(
            "Earliest is {}, expected max(enabled {since}, now {} - {period} days) = {expected_earliest}",
            w.0,
            now(&clock)
        ));
    }
    if w.1 < now(&clock) {
        return Err(format!("Latest {} is before now {}", w.1, now(&clock)));
    }
    if delete_at_end {
        // A deleted table keeps its window, closed at the deletion; the deletion's commit time
        // is the latest moment as it was just before.
        d.delete_table(PITR).map_err(|e| e.to_string())?;
        let deleted_lsn = d.last_lsn();
        let mut restorer = Restorer::new(&d, PITR);
        restorer.check(At::Lsn(deleted_lsn), &Expect::Invalid)?;
        // Its SYSTEM backup holds the table as it was deleted.
        check_system_backup(&d, &final_state)?;
        check_history(&mut restorer, &history, w, &final_state, &mut rng, 30)?;
    } else {
        let mut restorer = Restorer::new(&d, PITR);
        restorer.check(At::Lsn(d.last_lsn() + 1), &Expect::Invalid)?;
        check_history(&mut restorer, &history, w, &final_state, &mut rng, 30)?;
        // After a checkpoint and a reopen the same points restore the same way.
        d.checkpoint().unwrap();
        drop(d);
        drop(db.take());
        let d = open(&fs, &clock).unwrap();
        let mut restorer = Restorer::new(&d, PITR);
        let w = window(&d, PITR)?;
        check_history(&mut restorer, &history, w, &final_state, &mut rng, 30)?;
    }
    Ok(())
}

fn check_system_backup(db: &Database, state: &Arc<State>) -> Result<(), String> {
    let name = format!("{PITR}$DeletedTableBackup");
    let listed = db
        .list_backups(ListBackupsInput::new().backup_type(BackupTypeFilter::All))
        .map_err(|e| e.to_string())?;
    let summary = listed
        .backup_summaries
        .iter()
        .rev()
        .find(|b| b.backup_name == name)
        .ok_or(format!("no backup {name}"))?;
    check_backup(db, &summary.backup_arn, state)
}

/// The backup becomes AVAILABLE and restores to exactly `state`.
fn check_backup(db: &Database, arn: &str, state: &State) -> Result<(), String> {
    let built = db
        .wait_for_backup(arn, Duration::from_secs(20))
        .map_err(|e| format!("waiting for backup {arn}: {e}"))?;
    if built.backup_details.backup_status != BackupStatus::Available {
        return Err(format!("backup {arn} did not become AVAILABLE"));
    }
    let target = "restored-from-backup";
    db.restore_table_from_backup(RestoreTableFromBackupInput::new(arn, target))
        .map_err(|e| format!("restoring backup {arn}: {e}"))?;
    let items = rendered(&scan_all(db, target));
    db.delete_table(target).map_err(|e| e.to_string())?;
    if items != expected(state) {
        return Err(format!(
            "backup {arn} restores to items {:?}, expected {:?}",
            item_keys(&items),
            state.keys().collect::<Vec<_>>()
        ));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: proptest_cases(),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_restore_by_time_or_lsn_inside_the_window_is_the_model_state_and_outside_is_invalid_restore_time(
        period in prop_oneof![Just(1u32), Just(2), Just(3), Just(35)],
        pre_writes in proptest::collection::vec(write_strategy(), 0..4),
        steps in proptest::collection::vec(step_strategy(), 1..60),
        delete_at_end in proptest::bool::weighted(0.25),
        check_seed in any::<u64>(),
    ) {
        let result = run_history(period, &pre_writes, &steps, delete_at_end, check_seed);
        prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }
}

// ---------------------------------------------------------------------------------------------
// 2. The window's edges
// ---------------------------------------------------------------------------------------------

/// The model state of items `k: k` for each `k` of `keys`.
fn state_of(keys: &[u64]) -> Arc<State> {
    Arc::new(keys.iter().map(|&k| (k, k)).collect())
}

/// Exactly Earliest and exactly Latest restore (to the given states); a millisecond outside
/// either is `InvalidRestoreTime`. Reads the window afresh before each restore: a restore to
/// Latest closes that moment, and its own records move Latest on by a millisecond.
fn check_edges(
    db: &Database,
    at_earliest: &Arc<State>,
    at_latest: &Arc<State>,
    expected_window: (u64, u64),
) -> Result<(), String> {
    let mut restorer = Restorer::new(db, PITR);
    let (earliest, latest) = window(db, PITR)?;
    if (earliest, latest) != expected_window {
        return Err(format!(
            "the window is [{earliest}, {latest}], expected {expected_window:?}"
        ));
    }
    restorer.check(At::Time(earliest - 1), &Expect::Invalid)?;
    restorer.check(At::Time(latest + 1), &Expect::Invalid)?;
    restorer.check(At::Time(earliest), &Expect::Table(Arc::clone(at_earliest)))?;
    let (_, latest) = window(db, PITR)?;
    restorer.check(At::Time(latest), &Expect::Table(Arc::clone(at_latest)))?;
    let (earliest, latest) = window(db, PITR)?;
    restorer.check(At::Time(latest + 1), &Expect::Invalid)?;
    restorer.check(At::Time(earliest - 1), &Expect::Invalid)?;
    restorer.check(At::Latest, &Expect::Table(Arc::clone(at_latest)))?;
    Ok(())
}

fn put(db: &Database, k: u64) {
    Write::Put(true, k, k).run(db).unwrap();
}

#[test]
fn restores_at_exactly_earliest_and_latest_succeed_and_one_millisecond_outside_is_invalid_restore_time(
) {
    let fs = SimFs::new();
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let mut db = open(&fs, &clock).unwrap();
    create_table(&db, PITR).unwrap();
    // Written before recovery is enabled, in the same millisecond: part of the first moment.
    put(&db, 1);
    enable_pitr(&db, PITR, 1).unwrap();

    // Right after enabling: Earliest = Latest = the enabling moment.
    assert_eq!(window(&db, PITR).unwrap(), (T0, T0));
    let mut restorer = Restorer::new(&db, PITR);
    restorer.check(At::Time(T0 - 1), &Expect::Invalid).unwrap();
    restorer.check(At::Time(T0 + 1), &Expect::Invalid).unwrap();
    restorer
        .check(At::Time(T0), &Expect::Table(state_of(&[1])))
        .unwrap();
    // That restore closed T0: its own records, and a write in the same clock millisecond,
    // come a millisecond after it.
    put(&db, 2);
    assert_eq!(window(&db, PITR).unwrap(), (T0, T0 + 1));
    restorer
        .check(At::Time(T0), &Expect::Table(state_of(&[1])))
        .unwrap();
    restorer
        .check(At::Time(T0 + 1), &Expect::Table(state_of(&[1, 2])))
        .unwrap();
    let latest = window(&db, PITR).unwrap().1;
    check_edges(&db, &state_of(&[1]), &state_of(&[1, 2]), (T0, latest)).unwrap();

    // History over a few hours, with checkpoints (each retains the state it replaces).
    clock.set(Timestamp(T0 + HOUR));
    put(&db, 3);
    db.checkpoint().unwrap();
    clock.set(Timestamp(T0 + 2 * HOUR));
    put(&db, 4);
    put(&db, 5);
    db.checkpoint().unwrap();
    clock.set(Timestamp(T0 + 3 * HOUR));
    Write::Delete(true, 1).run(&db).unwrap();
    let all = state_of(&[1, 2, 3, 4, 5]);
    let last = state_of(&[2, 3, 4, 5]);

    // The clock passes the period: Earliest = now - 1 day, which is exactly when 4 and 5
    // were written.
    clock.set(Timestamp(T0 + DAY + 2 * HOUR));
    let now = T0 + DAY + 2 * HOUR;
    check_edges(&db, &all, &last, (T0 + 2 * HOUR, now)).unwrap();
    // A checkpoint releases the states the window no longer needs; the edges stay.
    db.checkpoint().unwrap();
    let (_, latest) = window(&db, PITR).unwrap();
    check_edges(&db, &all, &last, (T0 + 2 * HOUR, latest)).unwrap();
    // And after a reopen.
    drop(db);
    db = open(&fs, &clock).unwrap();
    let (_, latest) = window(&db, PITR).unwrap();
    check_edges(&db, &all, &last, (T0 + 2 * HOUR, latest)).unwrap();

    // One millisecond later, the moment of 4 and 5 has left the window; Earliest shows the
    // same table (nothing was written in between).
    clock.advance(1);
    let (_, latest) = window(&db, PITR).unwrap();
    check_edges(&db, &all, &last, (T0 + 2 * HOUR + 1, latest)).unwrap();
    Restorer::new(&db, PITR)
        .check(At::Time(T0 + 2 * HOUR), &Expect::Invalid)
        .unwrap();
    // Past the delete, Earliest is the last state.
    clock.set(Timestamp(T0 + DAY + 3 * HOUR));
    db.checkpoint().unwrap();
    let (_, latest) = window(&db, PITR).unwrap();
    check_edges(&db, &last, &last, (T0 + 3 * HOUR, latest)).unwrap();
}

// ---------------------------------------------------------------------------------------------
// 3. Retention under crashes
// ---------------------------------------------------------------------------------------------

/// A step of the crash workload.
#[derive(Clone, Debug)]
enum CrashStep {
    Create(&'static str),
    /// Enables recovery of the point-in-time table with this period in days.
    Enable(u32),
    Write(Write),
    Advance(u64),
    Checkpoint,
    /// `create_backup` of the point-in-time table; it holds the table before this step.
    Backup(String),
    Reopen,
}

fn random_write(rng: &mut SimRng) -> Write {
    let pitr = rng.below(4) > 0;
    let k = rng.below(20);
    let v = rng.below(1000);
    match rng.below(10) {
        0..=5 => Write::Put(pitr, k, v),
        6..=7 => Write::Delete(pitr, k),
        _ => {
            let n = 1 + rng.below(4);
            Write::Batch(
                (0..n)
                    .map(|i| (rng.below(4) > 0, k + i, (rng.below(3) > 0).then_some(v + i)))
                    .collect(),
            )
            .normalized()
        }
    }
}

/// Writes over several epochs of a 1-day window, the clock moving ~13 h (or 1 ms, or 1 min)
/// between them, so retained states fall out of the window and are released; checkpoints on
/// 4 KiB segments, so the log rotates and is truncated; reopens (which release too); and
/// backups left pending across a clock move and a checkpoint (or a reopen).
fn retention_workload(seed: u64, epochs: usize) -> Vec<CrashStep> {
    let mut rng = SimRng::new(seed);
    let mut steps = vec![CrashStep::Create(PITR), CrashStep::Create(PLAIN)];
    for _ in 0..2 {
        steps.push(CrashStep::Write(random_write(&mut rng)));
    }
    steps.push(CrashStep::Enable(1));
    for epoch in 0..epochs {
        for _ in 0..2 + rng.below(4) {
            steps.push(CrashStep::Write(random_write(&mut rng)));
        }
        if epoch % 3 == 1 {
            steps.push(CrashStep::Backup(format!("pending-{}", steps.len())));
            steps.push(CrashStep::Write(random_write(&mut rng)));
            steps.push(CrashStep::Advance(13 * HOUR));
            if rng.below(2) == 0 {
                steps.push(CrashStep::Reopen);
            }
            steps.push(CrashStep::Checkpoint);
        } else if rng.below(3) > 0 {
            steps.push(CrashStep::Checkpoint);
        }
        steps.push(CrashStep::Advance(match rng.below(5) {
            0 => 1,
            1 => 60_000,
            _ => 13 * HOUR + rng.below(HOUR),
        }));
        if rng.below(4) == 0 {
            steps.push(CrashStep::Reopen);
        }
    }
    steps.push(CrashStep::Checkpoint);
    steps
}

/// Runs one step on the database in `slot` (reopening replaces it).
fn run_crash_step(
    slot: &mut Option<Database>,
    fs: &SimFs,
    clock: &Arc<ManualClock>,
    step: &CrashStep,
) -> tidestore::Result<()> {
    if let CrashStep::Reopen = step {
        drop(slot.take());
        *slot = Some(open(fs, clock)?);
        return Ok(());
    }
    let db = slot.as_ref().expect("the database is open");
    match step {
        CrashStep::Create(name) => create_table(db, name),
        CrashStep::Enable(days) => enable_pitr(db, PITR, *days),
        CrashStep::Write(w) => w.run(db),
        CrashStep::Advance(ms) => {
            clock.advance(*ms);
            Ok(())
        }
        CrashStep::Checkpoint => db.checkpoint(),
        CrashStep::Backup(name) => db.create_backup(PITR, name).map(drop),
        CrashStep::Reopen => unreachable!(),
    }
}

/// What the fault-free run of a workload shows.
struct Reference {
    /// `states[i]`: the table before step `i`.
    states: Vec<Arc<State>>,
    /// Time points, each with the step that made it (valid once that step is done).
    times: Vec<(usize, TimePoint)>,
    /// LSN points of the point-in-time table's own writes, with their steps.
    lsns: Vec<(usize, LsnPoint)>,
    enable_step: usize,
    /// When recovery was enabled.
    since: u64,
    /// Backup steps and names.
    backups: Vec<(usize, String)>,
    /// The most retained snapshots the table had, and how many were released (their files
    /// removed).
    retained_max: u64,
    released: usize,
}

fn reference_run(steps: &[CrashStep]) -> Reference {
    let fs = SimFs::new();
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let mut slot = Some(open(&fs, &clock).unwrap());
    let mut history = History::default();
    let mut r = Reference {
        states: Vec::new(),
        times: Vec::new(),
        lsns: Vec::new(),
        enable_step: usize::MAX,
        since: 0,
        backups: Vec::new(),
        retained_max: 0,
        released: 0,
    };
    let mut snapshots = std::collections::BTreeSet::new();
    for (i, step) in steps.iter().enumerate() {
        r.states.push(Arc::new(history.state.clone()));
        let enabled = r.enable_step != usize::MAX && i > r.enable_step;
        let (lo, lsn_before) = {
            let db = slot.as_ref().unwrap();
            (now(&clock), db.last_lsn())
        };
        let (times, lsns) = (history.times.len(), history.lsns.len());
        match step {
            CrashStep::Advance(ms) if enabled => {
                let db = slot.as_ref().unwrap().clone();
                history.advance(&db, &clock, *ms).unwrap();
            }
            _ => run_crash_step(&mut slot, &fs, &clock, step)
                .unwrap_or_else(|e| panic!("step {i} ({step:?}) of the fault-free run: {e}")),
        }
        let db = slot.as_ref().unwrap();
        match step {
            CrashStep::Write(w) => {
                let before = history.state.clone();
                w.apply(&mut history.state);
                // LSN points only of records that change this table (the subject here is
                // what the window keeps; LSNs of other records are the subject of the
                // proptest and of
                // `a_restore_to_the_lsn_of_another_tables_write_after_an_unchanged_checkpoint_is_at_that_writes_commit_time`).
                if enabled && before != history.state {
                    history.wrote(db, lo, lsn_before, true).unwrap();
                }
            }
            CrashStep::Enable(_) => {
                r.enable_step = i;
                r.since = window(db, PITR).unwrap().0;
            }
            CrashStep::Backup(name) => r.backups.push((i, name.clone())),
            _ => {}
        }
        r.times
            .extend(history.times[times..].iter().map(|p| (i, p.clone())));
        r.lsns
            .extend(history.lsns[lsns..].iter().map(|p| (i, p.clone())));
        if r.enable_step <= i {
            // Released states: the table's snapshot files that went away.
            let id = db.describe_table(PITR).unwrap().table_id;
            let files: std::collections::BTreeSet<std::path::PathBuf> = fs
                .paths()
                .into_iter()
                .filter(|p| {
                    p.starts_with(std::path::Path::new(DIR).join("snapshots"))
                        && p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with(id.as_str()))
                })
                .collect();
            r.released += snapshots.difference(&files).count();
            snapshots = files;
            let retained = db.recovery_window_usage(PITR).unwrap().retained_snapshots;
            r.retained_max = r.retained_max.max(retained);
        }
    }
    r.states.push(Arc::new(history.state.clone()));
    r
}

/// Runs `steps` on a database on `fs` until an I/O error; returns how many steps completed
/// (were acknowledged) before it.
fn run_until_error(fs: &SimFs, clock: &Arc<ManualClock>, steps: &[CrashStep]) -> usize {
    let Ok(db) = open(fs, clock) else {
        return 0;
    };
    let mut slot = Some(db);
    for (i, step) in steps.iter().enumerate() {
        if run_crash_step(&mut slot, fs, clock, step).is_err() {
            return i;
        }
    }
    steps.len()
}

#[derive(Debug, Default)]
struct Findings {
    /// I/O operations of the run: one crash point each.
    ops: u64,
    /// Crash images made (every operation, every policy).
    images: usize,
    /// Recoveries run: of each distinct image, at the crash time and two days later.
    recoveries: usize,
    violations: Vec<String>,
    in_flight_kept: usize,
    restores_checked: usize,
    backups_checked: usize,
    /// Backups found still pending after the crash, and built then.
    pending_built: usize,
}

/// Opens `image` with the clock at `clock_ms` after a crash during step `acked` and checks
/// the table, its window and the backups against the reference. `variant` picks which end
/// of each time point to restore to.
fn check_recovery(
    image: &SimFs,
    clock_ms: u64,
    acked: usize,
    reference: &Reference,
    findings: &mut Findings,
    variant: u64,
) -> Result<(), String> {
    let clock = Arc::new(ManualClock::new(Timestamp(clock_ms)));
    let db = open(image, &clock).map_err(|e| format!("recovery failed: {e}"))?;
    findings.recoveries += 1;
    let n = reference.states.len() - 1;
    let states = &reference.states;
    // The table: every acknowledged step, and the one in flight or not.
    let recovered = match db.describe_table(PITR) {
        Ok(_) => {
            let live = rendered(&scan_all(&db, PITR));
            if live == expected(&states[acked]) {
                Arc::clone(&states[acked])
            } else if acked < n && live == expected(&states[acked + 1]) {
                findings.in_flight_kept += 1;
                Arc::clone(&states[acked + 1])
            } else {
                return Err(format!(
                    "the table holds items {:?}; expected the state after {acked} steps {:?} or one more",
                    item_keys(&live),
                    states[acked].keys().collect::<Vec<_>>()
                ));
            }
        }
        Err(_) if acked == 0 => return Ok(()),
        Err(e) => return Err(format!("the table is gone: {e}")),
    };
    // The window: enabled if the enabling was acknowledged; Earliest = max(enabled, now - 1 d).
    let w = match window(&db, PITR) {
        Ok(w) => w,
        Err(_) if acked <= reference.enable_step => return Ok(()),
        Err(e) => return Err(e),
    };
    let earliest = reference.since.max(clock_ms - DAY);
    if w.0 != earliest || w.1 < clock_ms {
        return Err(format!(
            "the window is {w:?}, expected Earliest {earliest} and Latest at least {clock_ms}"
        ));
    }
    let mut restorer = Restorer::new(&db, PITR);
    let result = (|| {
        // Every time point of an acknowledged step: inside the window it restores, before it
        // it is InvalidRestoreTime.
        // (Its first moment or its last, alternately by `variant`: both ends of every point
        // are checked over the crash points.)
        for (_, point) in reference.times.iter().filter(|(s, _)| *s < acked) {
            let t = if variant.is_multiple_of(2) {
                point.from
            } else {
                point.to
            };
            restorer.check(At::Time(t), &time_expectation(t, &point.state, w))?;
        }
        // LSN points: the first inside the window, the last, and the last before it.
        let lsns: Vec<&LsnPoint> = reference
            .lsns
            .iter()
            .filter(|(s, _)| *s < acked)
            .map(|(_, p)| p)
            .collect();
        let first_inside = lsns.iter().find(|p| p.lo > w.0);
        let last_before = lsns.iter().rev().find(|p| p.hi < w.0);
        for point in [first_inside, lsns.last(), last_before]
            .into_iter()
            .flatten()
        {
            restorer.check_lsn(point, w)?;
        }
        restorer.check(At::Latest, &Expect::Table(Arc::clone(&recovered)))
    })();
    findings.restores_checked += restorer.count;
    result?;
    // Backups: each acknowledged one is listed; every listed one becomes AVAILABLE and holds
    // the table as it was before its step.
    let listed = db
        .list_backups(ListBackupsInput::new().backup_type(BackupTypeFilter::All))
        .map_err(|e| format!("list_backups: {e}"))?
        .backup_summaries;
    for (step, name) in &reference.backups {
        match listed.iter().find(|b| b.backup_name == *name) {
            Some(summary) => {
                if summary.backup_status != BackupStatus::Available {
                    findings.pending_built += 1;
                }
                check_backup(&db, &summary.backup_arn, &states[*step])?;
                findings.backups_checked += 1;
            }
            None if *step < acked => return Err(format!("acknowledged backup {name} is lost")),
            None => {}
        }
    }
    Ok(())
}

/// A fingerprint of a file system image: its directories, files and their bytes. Recovery
/// and every check are deterministic, so two images with one fingerprint (the same crash
/// point under two policies that kept the same, or two crash points between the same syncs)
/// recover alike, and only the first is checked.
fn fingerprint(fs: &SimFs) -> u64 {
    use std::hash::{Hash, Hasher};
    use tidestore::fs::Vfs;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for dir in ["", "wal", "snapshots", "backups"] {
        fs.exists(&std::path::Path::new(DIR).join(dir))
            .unwrap_or(false)
            .hash(&mut hasher);
    }
    for path in fs.paths() {
        path.hash(&mut hasher);
        fs.file_bytes(&path).hash(&mut hasher);
    }
    hasher.finish()
}

fn crash_loop(seed: u64, steps: &[CrashStep], reference: &Reference) -> Findings {
    let mut findings = Findings::default();
    let mut checked = std::collections::HashSet::new();
    let total = {
        let fs = SimFs::new();
        let clock = Arc::new(ManualClock::new(Timestamp(T0)));
        assert_eq!(
            run_until_error(&fs, &clock, steps),
            steps.len(),
            "the fault-free run fails"
        );
        fs.op_count()
    };
    findings.ops = total;
    for crash_at in 1..=total {
        let fs = SimFs::new();
        fs.crash_at(crash_at);
        let clock = Arc::new(ManualClock::new(Timestamp(T0)));
        let acked = run_until_error(&fs, &clock, steps);
        let clock_ms = now(&clock);
        for (p, policy) in CrashPolicy::ALL.into_iter().enumerate() {
            let image_seed = seed ^ crash_at.wrapping_mul(0x9E37_79B9) ^ p as u64;
            let image = fs.after_crash(policy, image_seed);
            findings.images += 1;
            if !checked.insert((fingerprint(&image), acked, clock_ms)) {
                continue;
            }
            let context = format!(
                "seed {seed} crash at op {crash_at}/{total} (during step {acked}: {:?}) {policy:?}",
                steps.get(acked)
            );
            // A copy for the second check, taken before the first one writes to the image.
            let later = image.after_crash(CrashPolicy::DropUnsynced, 0);
            if let Err(e) = check_recovery(
                &image,
                clock_ms,
                acked,
                reference,
                &mut findings,
                crash_at + p as u64,
            ) {
                findings.violations.push(format!("{context}: {e}"));
                continue;
            }
            // Opened two days later, the window has moved past every state the crash left:
            // a pending backup must still build from the state it needs.
            if let Err(e) = check_recovery(
                &later,
                clock_ms + 2 * DAY,
                acked,
                reference,
                &mut findings,
                crash_at,
            ) {
                findings
                    .violations
                    .push(format!("{context}, reopened 2 days later: {e}"));
            }
        }
    }
    findings
}

#[test]
fn retained_states_and_pending_backups_survive_a_crash_at_every_io_operation_and_every_point_in_the_window_restores(
) {
    let base = SimFs::seed_from_env();
    let (seeds, epochs): (Vec<u64>, usize) = if long() {
        ((0..8).map(|i| base + i).collect(), 16)
    } else {
        (vec![base], 6)
    };
    for seed in seeds {
        let steps = retention_workload(seed, epochs);
        let reference = reference_run(&steps);
        assert!(
            reference.released > 0,
            "the workload never released a retained state (at most {} retained)",
            reference.retained_max
        );
        // A leak would keep one more state per checkpoint; the window needs about two.
        assert!(
            reference.retained_max <= 4,
            "{} states retained for a 1-day window",
            reference.retained_max
        );
        let findings = crash_loop(seed, &steps, &reference);
        println!(
            "CRASH pitr_retention seed={seed} steps={} ops={} images={} recoveries={} violations={} restores_checked={} backups_checked={} pending_built={} in_flight_kept={} retained_max={} released={}",
            steps.len(),
            findings.ops,
            findings.images,
            findings.recoveries,
            findings.violations.len(),
            findings.restores_checked,
            findings.backups_checked,
            findings.pending_built,
            findings.in_flight_kept,
            reference.retained_max,
            reference.released,
        );
        assert!(
            findings.violations.is_empty(),
            "{:#?}",
            &findings.violations[..findings.violations.len().min(10)]
        );
        assert!(findings.recoveries > 0 && findings.restores_checked > 0);
    }
}

// ---------------------------------------------------------------------------------------------
// A restore to an LSN the table's snapshot covers without holding a change at it
// ---------------------------------------------------------------------------------------------

/// Restores `PITR` to `lsn`: the restored keys and the `RestoreDateTime` of the summary.
fn restore_lsn_outcome(db: &Database, target: &str, lsn: Lsn) -> Result<(Vec<u64>, u64), String> {
    let output = db
        .restore_table_to_lsn(
            RestoreTableToPointInTimeInput::new(target).source_table_name(PITR),
            lsn,
        )
        .map_err(|e| format!("{e:?}"))?;
    let moment = output
        .table_description
        .restore_summary
        .map_or(0, |s| s.restore_date_time.0);
    let keys = item_keys(&rendered(&scan_all(db, target)));
    db.delete_table(target).map_err(|e| e.to_string())?;
    Ok((keys, moment))
}

/// The records of another table after the point-in-time table's snapshot change nothing in
/// it, so a checkpoint keeps the snapshot file and moves only its LSN past them ("unchanged"),
/// and the log below is truncated. A restore to one of those LSNs is the record's while the
/// log holds it; once the record has left the log its commit time is unknown, and the restore
/// says so (`InvalidRestoreTime`) instead of guessing a moment. Restores by time still reach
/// every moment.
#[test]
fn a_restore_to_the_lsn_of_another_tables_write_is_at_its_commit_time_or_refused_once_it_left_the_log(
) {
    let fs = SimFs::new();
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let db = open(&fs, &clock).unwrap();
    create_table(&db, PITR).unwrap();
    create_table(&db, PLAIN).unwrap();
    enable_pitr(&db, PITR, 1).unwrap();
    clock.advance(HOUR);
    put(&db, 1);
    db.checkpoint().unwrap(); // the table's snapshot, built at T0 + 1 h
    clock.advance(DAY);
    Write::Put(false, 2, 2).run(&db).unwrap();
    let lsn = db.last_lsn();
    let committed = T0 + DAY + HOUR;
    assert_eq!(window(&db, PITR).unwrap(), (T0 + HOUR, committed));
    let want: Result<(Vec<u64>, u64), String> = Ok((vec![1], committed));
    assert_eq!(restore_lsn_outcome(&db, "before-checkpoint", lsn), want);
    // Enough log for segments to rotate; the checkpoint finds nothing new for the table.
    for i in 0..30 {
        Write::Put(false, 100 + i, 299).run(&db).unwrap();
    }
    db.checkpoint().unwrap();
    for target in ["after-checkpoint", "an-hour-later"] {
        let got = restore_lsn_outcome(&db, target, lsn);
        assert!(
            matches!(&got, Err(e) if e.contains("InvalidRestoreTime") && e.contains("has left the log")),
            "{target}: {got:?}"
        );
        clock.advance(HOUR);
    }
    // The moment itself is restorable by time.
    let (earliest, _) = window(&db, PITR).unwrap();
    assert!(earliest < committed);
    let output = db
        .restore_table_to_point_in_time(RestoreTableToPointInTimeInput::at(
            PITR,
            "by-time",
            Timestamp(committed),
        ))
        .unwrap();
    assert_eq!(
        output
            .table_description
            .restore_summary
            .unwrap()
            .restore_date_time,
        Timestamp(committed)
    );
    assert_eq!(item_keys(&rendered(&scan_all(&db, "by-time"))), vec![1]);
}

/// Commit times never go back, not even across a reopen after a checkpoint dropped every log
/// segment that held records: a moment once restored to stays closed, and Latest never moves
/// back.
#[test]
fn a_moment_restored_to_stays_closed_after_a_checkpoint_and_reopen() {
    let fs = SimFs::new();
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let mut db = open(&fs, &clock).unwrap();
    create_table(&db, PITR).unwrap();
    enable_pitr(&db, PITR, 1).unwrap();
    put(&db, 1);
    db.checkpoint().unwrap();
    clock.advance(1);
    // Restoring to Latest (T0 + 1) closes that moment: the restore's own records are at T0 + 2.
    Restorer::new(&db, PITR)
        .check(At::Time(T0 + 1), &Expect::Table(state_of(&[1])))
        .unwrap();
    let (_, latest) = window(&db, PITR).unwrap();
    assert_eq!(latest, T0 + 2);
    // A reopen starts a new log segment; a checkpoint drops the old one, which held every
    // record; then another reopen (the clock has not moved).
    drop(db);
    db = open(&fs, &clock).unwrap();
    db.checkpoint().unwrap();
    drop(db);
    db = open(&fs, &clock).unwrap();
    let (_, latest_after) = window(&db, PITR).unwrap();
    put(&db, 2);
    let again = Restorer::new(&db, PITR).check(At::Time(T0 + 1), &Expect::Table(state_of(&[1])));
    assert!(
        latest_after >= latest && again.is_ok(),
        "after the reopen Latest is {latest_after} (it was {latest}), and a write made then is \
         part of the moment T0 + 1 restored to before: {again:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The window's very first millisecond, by LSN
// ---------------------------------------------------------------------------------------------

/// A record committed in the millisecond `Earliest` is inside the window, so a restore to its
/// LSN gives the table after it — also when a checkpoint built a state later in that same
/// millisecond. That state is built at or before `Earliest` but after the record, so it is no
/// base for the window: retention keeps the state before it (here the table's creation), and
/// the log after that one. A millisecond later the record has left the window, and the older
/// state and its log go.
#[test]
fn a_write_committed_in_the_millisecond_the_window_starts_restores_by_lsn_though_a_later_write_of_it_was_checkpointed(
) {
    let fs = SimFs::new();
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let mut db = open(&fs, &clock).unwrap();
    create_table(&db, PITR).unwrap();
    create_table(&db, PLAIN).unwrap();
    enable_pitr(&db, PITR, 1).unwrap();
    let start = T0 + HOUR;
    clock.set(Timestamp(start));
    put(&db, 1);
    let first = db.last_lsn();
    put(&db, 2); // the same millisecond
    db.checkpoint().unwrap(); // a state built at `start`, after `first`
    clock.set(Timestamp(start + DAY));
    assert_eq!(window(&db, PITR).unwrap().0, start);
    // Log enough for segments to rotate; the checkpoint releases states and truncates the log.
    for i in 0..30 {
        Write::Put(false, 100 + i, 299).run(&db).unwrap();
    }
    db.checkpoint().unwrap();
    let kept_log = db.recovery_window_usage(PITR).unwrap().log_bytes;
    for round in ["open", "reopened"] {
        assert_eq!(
            restore_lsn_outcome(&db, &format!("first-{round}"), first),
            Ok((vec![1], start)),
            "{round}: the first write of the window's first millisecond"
        );
        assert_eq!(
            restore_lsn_outcome(&db, &format!("second-{round}"), first + 1),
            Ok((vec![1, 2], start)),
            "{round}: the second"
        );
        drop(db);
        db = open(&fs, &clock).unwrap();
        db.checkpoint().unwrap();
    }
    // A millisecond later both writes are outside the window, and the log before the state
    // built at `start` goes.
    clock.advance(1);
    db.checkpoint().unwrap();
    for lsn in [first, first + 1] {
        let got = restore_lsn_outcome(&db, "outside", lsn);
        assert!(
            matches!(&got, Err(e) if e.contains("InvalidRestoreTime")),
            "LSN {lsn}: {got:?}"
        );
    }
    let log = db.recovery_window_usage(PITR).unwrap().log_bytes;
    assert!(log < kept_log, "{log} bytes of log kept, {kept_log} before");
}
