//! Tests of [`SimFs`](super::SimFs): the [`Vfs`](crate::fs::Vfs) contract, the image each
//! [`CrashPolicy`](super::CrashPolicy) leaves after a crash, crash points and injected faults.

use super::*;
use crate::fs::tests::{check_vfs_contract, kind};
use crate::fs::{read_all, write_atomically};
use io::ErrorKind;

fn p(path: &str) -> &Path {
    Path::new(path)
}

/// A file system whose `/db/a` holds `synced` durably, then has `pending` appended.
fn fs_with_file(synced: &[u8], pending: &[&[u8]]) -> (SimFs, Box<dyn VfsFile>) {
    let fs = SimFs::new();
    fs.set_file_bytes(p("/db/a"), synced).unwrap();
    let mut file = fs.open(p("/db/a")).unwrap();
    pending.iter().for_each(|data| file.append(data).unwrap());
    (fs, file)
}

/// Every file of a file system with its bytes, to compare images.
fn image(fs: &SimFs) -> Vec<(PathBuf, Vec<u8>)> {
    let paths = fs.paths().into_iter();
    paths
        .map(|path| (path.clone(), fs.file_bytes(&path).unwrap()))
        .collect()
}

#[test]
fn sim_fs_meets_the_vfs_contract() {
    check_vfs_contract(&SimFs::new(), p("/tmp/db"));
    check_vfs_contract(&SimFs::new(), p("relative/db"));
}

#[test]
fn drop_unsynced_loses_exactly_the_unsynced_bytes_and_directory_changes() {
    let (fs, _file) = fs_with_file(b"synced", &[b"lost"]);
    write_atomically(&fs, p("/db/c"), b"c").unwrap();
    write_atomically(&fs, p("/db/d"), b"d").unwrap();
    let mut b = fs.create(p("/db/b")).unwrap(); // synced, but its entry is not
    b.append(b"b").unwrap();
    b.sync_all().unwrap();
    fs.rename(p("/db/c"), p("/db/c2")).unwrap();
    fs.remove_file(p("/db/d")).unwrap();
    fs.create_dir_all(p("/new")).unwrap(); // its entry in "/" is never synced
    write_atomically(&fs, p("/new/e"), b"e").unwrap();
    assert_eq!(fs.file_bytes(p("/db/a")).unwrap(), b"syncedlost");
    assert_eq!(fs.durable_bytes(p("/db/a")).unwrap(), b"synced");

    let after = fs.after_crash(CrashPolicy::DropUnsynced, 1);
    let want = [("/db/a", &b"synced"[..]), ("/db/c", b"c"), ("/db/d", b"d")];
    let want: Vec<_> = want
        .iter()
        .map(|(p, b)| (PathBuf::from(p), b.to_vec()))
        .collect();
    assert_eq!(image(&after), want);
    assert!(!after.exists(p("/new")).unwrap());
    assert_eq!(after.op_count(), 1);
}

#[test]
fn synced_data_survives_every_policy() {
    for policy in CrashPolicy::ALL {
        for seed in 0..64 {
            let (fs, _file) = fs_with_file(b"synced", &[b"x", &[7; 600], &[8; 5000]]);
            fs.create(p("/db/unsynced")).unwrap();
            fs.rename(p("/db/a"), p("/db/moved")).unwrap();
            let after = fs.after_crash(policy, seed);
            let a = after.file_bytes(p("/db/a"));
            let bytes = a.or_else(|| after.file_bytes(p("/db/moved"))).unwrap();
            assert!(bytes.starts_with(b"synced"), "{policy:?} seed {seed}");
        }
    }
}

#[test]
fn each_policy_gives_its_documented_image() {
    let (full, mut torn_seen) = (b"DDDDxxyyzz", false);
    for seed in 0..256 {
        let (fs, _file) = fs_with_file(b"DDDD", &[b"xx", b"yy", b"zz"]);
        let crash = |policy| fs.after_crash(policy, seed).file_bytes(p("/db/a")).unwrap();
        assert_eq!(crash(CrashPolicy::DropUnsynced), b"DDDD");
        let prefix = crash(CrashPolicy::KeepPrefix);
        assert!([4, 6, 8, 10].contains(&prefix.len()) && full.starts_with(&prefix));
        let reorder = crash(CrashPolicy::Reorder);
        assert!(reorder.iter().zip(full).all(|(b, f)| b == f || *b == 0));
        let torn = crash(CrashPolicy::Torn);
        assert!(torn.starts_with(b"DDDD") && torn.len() <= full.len());
        torn_seen |= !full.starts_with(&torn);
        assert_eq!(crash(CrashPolicy::SizeNotData), b"DDDD\0\0\0\0\0\0");
        assert_eq!(crash(CrashPolicy::DataNotSize), b"DDDD");
    }
    assert!(torn_seen, "Torn never tore a write");
}

#[test]
fn torn_never_changes_synced_bytes() {
    let mut rng = SimRng::new(SimFs::seed_from_env());
    let synced: Vec<u8> = (0..1000).map(|_| rng.next_u64() as u8).collect();
    for seed in 0..500 {
        let (fs, _file) = fs_with_file(&synced, &[&[1; 3000], &[2; 5000]]);
        let after = fs.after_crash(CrashPolicy::Torn, seed);
        let bytes = after.file_bytes(p("/db/a")).unwrap();
        assert_eq!(bytes[..1000], synced[..], "seed {seed}");
    }
}

#[test]
fn write_atomically_leaves_old_or_new_bytes_at_every_crash_point_and_new_once_acked() {
    let new_fs = || {
        let fs = SimFs::new();
        fs.set_file_bytes(p("/db/m"), b"old").unwrap();
        fs
    };
    let run = |fs: &SimFs| write_atomically(fs, p("/db/m"), b"new contents");
    let probe = new_fs();
    run(&probe).unwrap();
    for (n, policy, seed) in (1..=probe.op_count() + 1)
        .flat_map(|n| CrashPolicy::ALL.map(|policy| (n, policy)))
        .flat_map(|(n, policy)| (0..8).map(move |seed| (n, policy, seed)))
    {
        let fs = new_fs();
        fs.crash_at(n);
        let acked = run(&fs).is_ok();
        assert_eq!(acked, n > probe.op_count());
        let got = read_all(&fs.after_crash(policy, seed), p("/db/m"), 100).unwrap();
        assert!(
            got == b"new contents" || (got == b"old" && !acked),
            "op {n} {policy:?} seed {seed}"
        );
    }
}

#[test]
fn crash_at_makes_op_n_and_every_later_op_fail() {
    let (fs, mut file) = fs_with_file(b"a", &[]);
    let n = fs.op_count() + 2;
    fs.crash_at(n);
    file.append(b"b").unwrap();
    assert!(!fs.crashed());
    let err = file.sync_data().unwrap_err();
    assert_eq!(
        (err.kind(), err.to_string()),
        (ErrorKind::Other, "simulated crash".into())
    );
    assert!(fs.crashed() && fs.op_count() == n);
    assert!(fs.exists(p("/db/a")).is_err() && file.len().is_err());
    let after = fs.after_crash(CrashPolicy::DropUnsynced, 0);
    assert_eq!(after.file_bytes(p("/db/a")).unwrap(), b"a");
}

#[test]
fn a_persistent_fault_keeps_failing_and_a_one_shot_fault_fails_once() {
    let (fs, mut file) = fs_with_file(b"a", &[]);
    let (at_op, error) = (fs.op_count() + 1, FaultError::Enospc);
    fs.fail_at(FaultPlan {
        at_op,
        on: OpKind::Write,
        error,
        persistent: false,
    });
    file.len().unwrap(); // not a Write: unaffected
    assert_eq!(kind(file.append(b"b")), ErrorKind::StorageFull);
    file.append(b"c").unwrap();
    assert_eq!(fs.file_bytes(p("/db/a")).unwrap(), b"ac");

    let error = FaultError::Eio;
    fs.fail_at(FaultPlan {
        at_op,
        on: OpKind::Sync,
        error,
        persistent: true,
    });
    for _ in 0..3 {
        assert_eq!(file.sync_data().unwrap_err().raw_os_error(), Some(5));
    }
    assert_eq!(fs.durable_bytes(p("/db/a")).unwrap(), b"a");
}

#[test]
fn fault_errors_are_the_errors_linux_gives() {
    let kinds = [
        (FaultError::Enospc, ErrorKind::StorageFull),
        (FaultError::Erofs, ErrorKind::ReadOnlyFilesystem),
        (FaultError::Edquot, ErrorKind::QuotaExceeded),
    ];
    for (error, want) in kinds {
        let fs = SimFs::new();
        fs.fail_at(FaultPlan {
            at_op: 1,
            on: OpKind::Any,
            error,
            persistent: false,
        });
        assert_eq!(kind(fs.create_dir_all(p("/x"))), want);
    }
    assert_eq!(FaultError::Eio.to_io_error().raw_os_error(), Some(5));
}

#[test]
fn fsyncgate_discards_pending_bytes_and_the_next_sync_is_ok() {
    for fsyncgate in [false, true] {
        let (fs, mut file) = fs_with_file(b"a", &[b"b"]);
        fs.set_fsyncgate(fsyncgate);
        let (at_op, error) = (fs.op_count() + 1, FaultError::Eio);
        fs.fail_at(FaultPlan {
            at_op,
            on: OpKind::Sync,
            error,
            persistent: false,
        });
        assert!(file.sync_data().is_err());
        file.sync_data().unwrap();
        let durable = fs.durable_bytes(p("/db/a")).unwrap();
        if fsyncgate {
            assert_eq!(durable, b"a", "the retried sync returned Ok, yet b is gone");
            assert_eq!(fs.file_bytes(p("/db/a")).unwrap(), b"a");
        } else {
            assert_eq!(durable, b"ab", "without fsyncgate a retry makes b durable");
        }
    }
}

#[test]
fn lying_sync_loses_synced_data_on_crash() {
    let fs = SimFs::new();
    fs.set_file_bytes(p("/db/old"), b"old").unwrap();
    fs.set_lying_sync(true);
    write_atomically(&fs, p("/db/a"), b"a").unwrap();
    let after = fs.after_crash(CrashPolicy::DropUnsynced, 0);
    assert_eq!(after.paths(), [PathBuf::from("/db/old")]);
}

#[test]
fn the_same_seed_gives_the_same_image() {
    let build = || {
        let (fs, mut file) = fs_with_file(b"synced", &[&[1; 700], &[2; 4500]]);
        file.set_len(3000).unwrap();
        file.append(&[3; 100]).unwrap();
        for name in ["b", "c", "d"] {
            let mut f = fs.create(&Path::new("/db").join(name)).unwrap();
            f.append(name.as_bytes()).unwrap();
        }
        fs.rename(p("/db/b"), p("/db/c")).unwrap();
        fs
    };
    let (one, two) = (build(), build());
    let seeds = [0, 1, 42, SimFs::seed_from_env()];
    for policy in CrashPolicy::ALL {
        let images: Vec<_> = seeds
            .map(|seed| image(&one.after_crash(policy, seed)))
            .into();
        for (seed, first) in seeds.iter().zip(&images) {
            let again = image(&two.after_crash(policy, *seed));
            assert_eq!(first, &again, "{policy:?} seed {seed}");
        }
        if policy != CrashPolicy::DropUnsynced {
            assert!(
                images.iter().any(|i| i != &images[0]),
                "{policy:?} ignores its seed"
            );
        }
    }
}

#[test]
fn a_removed_directory_comes_back_whole_until_its_removal_is_synced_and_never_into_a_new_one() {
    let fs = SimFs::new();
    fs.set_file_bytes(p("/b/x/kept"), b"k").unwrap();
    fs.remove_file(p("/b/x/kept")).unwrap();
    fs.remove_dir(p("/b/x")).unwrap();
    // Not synced: a crash may keep the folder, with the file its last sync left in it.
    let undone = fs.after_crash(CrashPolicy::DropUnsynced, 1);
    assert_eq!(undone.file_bytes(p("/b/x/kept")).unwrap(), b"k");
    for policy in CrashPolicy::ALL {
        let after = fs.after_crash(policy, 7);
        let kept = after.exists(p("/b/x")).unwrap();
        assert!(!kept || after.exists(p("/b/x/kept")).unwrap(), "{policy:?}");
    }
    // Synced: gone under every policy, and a folder made again at its path starts empty.
    fs.sync_dir(p("/b")).unwrap();
    fs.create_dir(p("/b/x")).unwrap();
    fs.sync_dir(p("/b")).unwrap();
    for policy in CrashPolicy::ALL {
        let after = fs.after_crash(policy, 7);
        assert_eq!(
            after.read_dir(p("/b/x")).unwrap(),
            Vec::<String>::new(),
            "{policy:?}"
        );
    }
}
