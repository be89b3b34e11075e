//! Retention: which table states and log segments the database keeps, and dropping the rest.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::error::{io_error, Result};
use crate::format::catalog::{Retained, SnapshotRef, SNAPSHOT_DIR, WAL_DIR};
use crate::format::log_segment;
use crate::model::clock::Timestamp;
use crate::model::Lsn;
use crate::storage::store::{Pinned, Store};

/// The states of a window starting at `start` that are worth keeping, by built LSN: its base
/// (the newest state that serves every moment and every LSN of the window, see
/// [`Retained::serves_window`]; the oldest state if none does), the table's current
/// snapshot, and in between each state once the table's log since the last kept state is at
/// least its size — so the snapshots a window keeps never take more disk than the log it keeps, however often
/// checkpoints run, and a restore never replays more than about a snapshot's worth of log
/// beyond the nearest kept state.
fn thin(states: &[Retained], start: Timestamp) -> BTreeSet<Lsn> {
    let mut states: Vec<&Retained> = states.iter().collect();
    states.sort_by_key(|s| s.built_lsn);
    let base = states
        .iter()
        .rposition(|s| s.serves_window(start))
        .unwrap_or(0);
    let mut kept = BTreeSet::new();
    let mut log_since_kept = 0u64;
    for (i, state) in states.iter().enumerate().skip(base) {
        log_since_kept = log_since_kept.saturating_add(state.log_bytes);
        if i == base || i + 1 == states.len() || log_since_kept >= state.size {
            kept.insert(state.built_lsn);
            log_since_kept = 0;
        }
    }
    kept
}

/// What the retained table states must serve, besides running restores: the start of each
/// open point-in-time window of a live table, and the last LSN of each pending backup.
#[derive(Debug, Default)]
pub(crate) struct Needs {
    /// Live tables with point-in-time recovery: the window's earliest moment.
    pub windows: BTreeMap<Arc<str>, Timestamp>,
    /// Backups not built yet: their table and the last LSN they hold.
    pub pending: Vec<(Arc<str>, Lsn)>,
    /// The time now (deleted tables' windows close as it moves).
    pub now: Timestamp,
}

impl Store {
    /// Forgets the retained table states and closed windows nothing needs any more — no
    /// window of `needs` starts before a newer state, no pending backup of `needs` starts
    /// from them, no restore has them pinned — and removes their files.
    pub fn release(&self, needs: &Needs) -> Result<usize> {
        let released = self.update_catalog(|next| {
            let original = next.clone();
            // A deleted table's window closes once its start passes the deletion.
            next.dropped.retain(|d| {
                d.schema
                    .pitr
                    .is_some_and(|p| p.window_start(needs.now) <= d.deleted_time)
            });
            let mut windows = needs.windows.clone();
            for d in &next.dropped {
                if let Some(p) = &d.schema.pitr {
                    windows.insert(d.schema.id.as_str().into(), p.window_start(needs.now));
                }
            }
            let pins: Vec<Pinned> = self.pins.lock().values().cloned().collect();
            // Every state of a table, current or retained.
            let states = |t: &str| -> Vec<Retained> {
                next.snapshots
                    .iter()
                    .filter(|s| &*s.table_id == t)
                    .map(SnapshotRef::as_retained)
                    .chain(next.retained.iter().filter(|r| &*r.table_id == t).cloned())
                    .collect()
            };
            let needed = |r: &Retained| -> bool {
                let others = states(&r.table_id);
                // A newer state that serves the same rebuilds makes `r` useless for them.
                let superseded = |serves: &dyn Fn(&Retained) -> bool| {
                    others
                        .iter()
                        .any(|o| o.built_lsn > r.built_lsn && serves(o))
                };
                let pinned = pins
                    .iter()
                    .any(|(t, built, _)| *t == r.table_id && *built == r.built_lsn);
                // The window's base is the newest state that serves all of it: built before its
                // start, or in its very millisecond but before every record of that millisecond
                // (an LSN restore may name each of them). Older ones are superseded by it. Of the
                // newer ones, inside the window, only those worth their disk are kept (see
                // `thin`).
                let window = windows.get(&r.table_id).is_some_and(|&start| {
                    !superseded(&|o| o.serves_window(start))
                        && thin(&others, start).contains(&r.built_lsn)
                });
                // A pending backup starts from the newest state at or before its last LSN.
                let backup = needs.pending.iter().any(|(t, cut)| {
                    *t == r.table_id
                        && r.serves(*cut, None)
                        && !superseded(&|o| o.serves(*cut, None))
                });
                pinned || window || backup
            };
            let (kept, gone): (Vec<Retained>, Vec<Retained>) =
                next.retained.iter().cloned().partition(|r| needed(r));
            next.retained = kept;
            // A state's log bytes count from the state before it: a dropped state's pass to the
            // next one of its table.
            for r in &gone {
                let successor = next
                    .snapshots
                    .iter_mut()
                    .filter(|s| s.table_id == r.table_id)
                    .map(|s| (s.built_lsn, &mut s.log_bytes))
                    .chain(
                        next.retained
                            .iter_mut()
                            .filter(|o| o.table_id == r.table_id)
                            .map(|o| (o.built_lsn, &mut o.log_bytes)),
                    )
                    .filter(|(built, _)| *built > r.built_lsn)
                    .min_by_key(|(built, _)| *built);
                if let Some((_, log_bytes)) = successor {
                    *log_bytes += r.log_bytes;
                }
            }
            let still_named = |f: &str| {
                next.snapshots.iter().any(|s| s.file == f)
                    || next.retained.iter().any(|r| r.file.as_deref() == Some(f))
            };
            let files: Vec<String> = gone
                .iter()
                .filter_map(|r| r.file.clone())
                .filter(|f| !still_named(f))
                .collect();
            Ok((*next != original).then_some((gone.len(), files)))
        })?;
        let Some((released, files)) = released else {
            return Ok(0);
        };
        crate::fs::killpoint::reached("release.before_remove");
        let snapshot_dir = self.dir.join(SNAPSHOT_DIR);
        for file in &files {
            match crate::fs::remove_gradually(&*self.fs, &snapshot_dir.join(file)) {
                // Gone already: the log replayed a state whose file an earlier release removed.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                other => other.map_err(io_error(format!("removing {file}")))?,
            }
        }
        if !files.is_empty() {
            self.fs
                .sync_dir(&snapshot_dir)
                .map_err(io_error("syncing the snapshot directory"))?;
        }
        Ok(released)
    }

    /// The first LSN of the log's first segment, as the catalog names it: that segment
    /// and every later one must exist.
    pub fn log_start(&self) -> Lsn {
        self.catalog.lock().log_start
    }

    /// The LSN after which the states the catalog names and running restores need the whole
    /// log. (A snapshot of a table deleted in the log whose retirement failed is among them:
    /// recovery must still find the deletion after it.)
    pub fn catalog_floor(&self) -> Option<Lsn> {
        let catalog = self.catalog.lock();
        let pins = self.pins.lock();
        catalog
            .snapshots
            .iter()
            .map(|s| s.lsn)
            .chain(catalog.retained.iter().map(|r| r.lsn))
            .chain(pins.values().map(|(_, _, lsn)| *lsn))
            .min()
    }

    /// Removes the log segments whose records are all at or below `floor`, oldest first,
    /// never the segment being written (`current`). The catalog first records where the log
    /// then starts (that segment must exist from now on), where recovery reads it from —
    /// the segment that would start it if the floor were `replay_floor`, the floor without
    /// what only streams keep (`Catalog::replay_start`) — and `last_time` (the last commit
    /// time), as the records recovery no longer reads cannot tell it.
    pub fn truncate_log(
        &self,
        (floor, replay_floor): (Lsn, Lsn),
        current: Lsn,
        last_time: Timestamp,
    ) -> Result<usize> {
        let wal_dir = self.dir.join(WAL_DIR);
        let segments = log_segment::list_segments(&*self.fs, &wal_dir)?;
        let below = |floor: Lsn| {
            segments
                .windows(2)
                .take_while(|pair| pair[1] - 1 <= floor && pair[0] < current)
                .count()
        };
        let removable = below(floor);
        let replay_start = segments.get(below(replay_floor.max(floor))).copied();
        let replay_moves = replay_start.is_some_and(|r| r > self.catalog.lock().replay_from());
        if removable == 0 && !replay_moves {
            return Ok(0);
        }
        self.update_catalog(|catalog| {
            catalog.last_time = catalog.last_time.max(last_time);
            if removable > 0 {
                catalog.log_start = catalog.log_start.max(segments[removable]);
            }
            if let Some(replay_start) = replay_start {
                catalog.replay_start = catalog.replay_start.max(replay_start);
            }
            Ok(())
        })?;
        for &first in &segments[..removable] {
            self.fs
                .remove_file(&wal_dir.join(log_segment::segment_name(first)))
                .map_err(io_error("removing a log segment"))?;
            // IMPORTANT: one directory sync per removal, oldest first: a crash may undo the
            // newest removals but never leave an old segment without its successor.
            self.fs
                .sync_dir(&wal_dir)
                .map_err(io_error("syncing the log directory"))?;
            crate::fs::killpoint::reached("truncate.removed");
        }
        Ok(removable)
    }
}
