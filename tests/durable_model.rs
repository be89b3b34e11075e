//! Invariant I3 (live = replay): a proptest state machine whose steps are the mixed workload
//! of the crash tests plus `Checkpoint`, `Reopen` (a clean close and open), and `Crash` (the
//! process dies: unsynced data dropped, the directory reopened). After every step the
//! durable database shows exactly what an in-memory database that ran the same writes shows:
//! every table, its definition, its item count and size, and every item. Backup steps
//! request backups along the way, some built at once (the worker's round runs, and reads
//! the log on ahead of the next build: `storage/digest.rs`), the others left pending; at the
//! end each one must restore to exactly the table as it was when requested (I4), whatever
//! checkpoints, reopens and crashes came between.
//!
//! `PROPTEST_CASES` raises the case count for a long run (default 128).

#![allow(clippy::unwrap_used)] // a test: an unexpected error is a failure

mod support;

use proptest::prelude::*;
use support::{dump, run, sim_options, Op};
use tidestore::fs::sim::{CrashPolicy, SimFs};
use tidestore::{Database, Options};

const DIR: &str = "/db";

/// A step of the durable model: a workload step, or something that happens to the process.
#[derive(Clone, Debug)]
enum Step {
    Op(Op),
    Reopen,
    Crash(u8),
    Backup(String),
    /// A backup requested and then waited for: built by a round of its own.
    BuiltBackup(String),
}

fn table() -> impl Strategy<Value = String> {
    prop_oneof![Just("alpha".to_string()), Just("beta".to_string())]
}

fn step() -> impl Strategy<Value = Step> {
    let k = 0u64..30;
    let v = 0u64..1000;
    prop_oneof![
        6 => (table(), k.clone(), v.clone()).prop_map(|(t, k, v)| Step::Op(Op::Put(t, k, v))),
        2 => (table(), k.clone(), v.clone()).prop_map(|(t, k, v)| Step::Op(Op::PutIfAbsent(t, k, v))),
        3 => (table(), k.clone(), -500i64..500).prop_map(|(t, k, d)| Step::Op(Op::Add(t, k, d))),
        2 => (table(), k.clone()).prop_map(|(t, k)| Step::Op(Op::Delete(t, k))),
        2 => (table(), proptest::collection::vec((k.clone(), proptest::option::of(v.clone())), 1..6))
            .prop_map(|(t, w)| Step::Op(Op::Batch(t, w))),
        2 => (k.clone(), 0u64..10).prop_map(|(k, a)| Step::Op(Op::Transfer("alpha".into(), "beta".into(), k, a))),
        2 => Just(Step::Op(Op::Checkpoint)),
        1 => table().prop_map(|t| Step::Op(Op::AddIndex(t))),
        1 => Just(Step::Op(Op::CreateTable("gamma".into()))),
        1 => Just(Step::Op(Op::DeleteTable("gamma".into()))),
        1 => Just(Step::Reopen),
        2 => table().prop_map(Step::Backup),
        2 => table().prop_map(Step::BuiltBackup),
        1 => any::<u8>().prop_map(Step::Crash),
    ]
}

fn reference_options() -> Options {
    Options::in_memory().clock(sim_options(&SimFs::new()).clock)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(128),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_durable_state_is_the_replay_of_its_log_after_every_step_reopen_and_crash(
        steps in proptest::collection::vec(step(), 1..80)
    ) {
        let reference = Database::in_memory_with(reference_options()).unwrap();
        let mut fs = SimFs::new();
        let mut db = Database::open_with(DIR, sim_options(&fs)).unwrap();
        for op in [Op::CreateTable("alpha".into()), Op::CreateTable("beta".into())] {
            run(&db, &op).unwrap();
            run(&reference, &op).unwrap();
        }
        // states[i]: what the reference shows before step i (a backup requested at step i
        // must restore to exactly that).
        let mut states = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            states.push(dump(&reference));
            match step {
                Step::Backup(t) => {
                    run(&db, &Op::Backup(t.clone(), format!("b{i}-{t}"))).unwrap();
                }
                Step::BuiltBackup(t) => {
                    let out = db.create_backup(t, &format!("b{i}-{t}")).unwrap();
                    let arn = &out.backup_details.backup_arn;
                    db.wait_for_backup(arn, std::time::Duration::from_secs(60)).unwrap();
                }
                Step::Op(op) => {
                    run(&db, op).unwrap();
                    run(&reference, op).unwrap();
                }
                Step::Reopen => {
                    drop(db);
                    db = Database::open_with(DIR, sim_options(&fs)).unwrap();
                }
                Step::Crash(seed) => {
                    // Every acknowledged write was synced, so no policy may lose one.
                    let policy = CrashPolicy::ALL[*seed as usize % CrashPolicy::ALL.len()];
                    drop(db);
                    fs = fs.after_crash(policy, u64::from(*seed));
                    db = Database::open_with(DIR, sim_options(&fs)).unwrap();
                }
            }
            prop_assert_eq!(dump(&db), dump(&reference), "after step {} ({:?})", i, step);
        }
        // I4 across checkpoints, reopens and crashes: every backup is the table at its marker.
        states.push(dump(&reference));
        let checked = support::check_backups(&db, &states);
        prop_assert!(checked.is_ok(), "{:?}", checked);
    }
}
