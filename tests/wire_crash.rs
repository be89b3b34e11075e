//! A SIGKILLed `tidestore serve` loses no acknowledged write and no acknowledged backup: the
//! process-crash harness of `tests/process_crash.rs`, through HTTP.
//!
//! Each round starts the `tidestore` binary with Sync durability on the same directory,
//! creates a table, and drives it from several threads over keep-alive connections: writers
//! put items `w<writer>-<i>` (i = 1, 2, … in order), and a backup thread calls CreateBackup
//! every 15–40 ms. Every answer with status 200 is recorded. At a random moment the server is
//! SIGKILLed and started again on the same directory, and, over HTTP:
//! - every acknowledged write is there (GetItem, with its value), and each writer's items
//!   are a prefix `1..=n` (I2) holding at least the acknowledged ones and at most the sent
//!   ones; the tables of earlier rounds are exactly as their own recovery left them;
//! - every acknowledged backup is described, CREATING or AVAILABLE, then becomes AVAILABLE,
//!   and restored holds per writer a prefix with every write acknowledged before the
//!   CreateBackup was sent and none sent after its 200 came back (I4, I7).
//!
//! `cargo test --features server --test wire_crash -- --nocapture` prints one `WIRE_CRASH`
//! line. `TIDESTORE_LONG=1` runs 60 rounds instead of 8; `TIDESTORE_SEED` replays one.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used)]

#[path = "support/http_client.rs"]
mod http_client;
mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use http_client::Connection;
use serde_json::{json, Value};
use support::TempDir;
use tidestore::fs::sim::{SimFs, SimRng};

const WRITERS: usize = 4;
const TIMEOUT: Duration = Duration::from_secs(30);

fn long() -> bool {
    std::env::var("TIDESTORE_LONG").is_ok_and(|v| v == "1")
}

/// The `tidestore serve` child process.
struct Server {
    child: Child,
    addr: SocketAddr,
    /// Held open: the server's stdout pipe stays readable for its whole life.
    _stdout: BufReader<ChildStdout>,
    stderr: Option<JoinHandle<String>>,
}

impl Server {
    /// Starts the binary on `dir` with Sync durability and waits for its listening line.
    fn start(dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tidestore"))
            .arg("serve")
            .arg("--dir")
            .arg(dir)
            .args(["--port", "0", "--durability", "sync"])
            .env("TIDESTORE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                text.push_str(&line);
                text.push('\n');
            }
            text
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let Some(addr) = line.trim().strip_prefix("tidestore listening on http://") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server did not start: {line:?}\n{}",
                stderr.join().unwrap()
            );
        };
        Server {
            addr: addr.parse().unwrap(),
            child,
            _stdout: stdout,
            stderr: Some(stderr),
        }
    }

    fn connect(&self) -> Connection {
        Connection::open(self.addr, TIMEOUT).unwrap()
    }

    /// SIGKILL, and reap the process.
    fn kill(mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        let stderr = self.stderr.take().unwrap().join().unwrap();
        // Killed by us, not exited by itself (a failure of the server, not of the test).
        assert!(
            status.code().is_none(),
            "the server exited: {status}\n{stderr}"
        );
    }
}

impl Drop for Server {
    /// A failed check leaves no server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Calls `operation` and returns the answer's JSON; anything but a 200 fails the test.
fn call(connection: &mut Connection, operation: &str, body: Value) -> Value {
    let (status, answer) = connection
        .call(operation, body.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("{operation}: {e}"));
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(status, 200, "{operation} {body}: {answer}");
    answer
}

fn key(writer: usize, i: u64) -> String {
    format!("w{writer}-{i}")
}

fn value(round: usize, writer: usize, i: u64) -> String {
    format!("r{round} w{writer} i{i}")
}

/// Per writer, the numbers of its items in `table`, in order (a full Scan, paged).
fn scan(connection: &mut Connection, table: &str) -> Vec<Vec<u64>> {
    let mut found = vec![Vec::new(); WRITERS];
    let mut start: Option<Value> = None;
    loop {
        let mut request = json!({"TableName": table, "ProjectionExpression": "pk"});
        if let Some(start) = start.take() {
            request["ExclusiveStartKey"] = start;
        }
        let page = call(connection, "Scan", request);
        for item in page["Items"].as_array().unwrap() {
            let pk = item["pk"]["S"].as_str().unwrap();
            let (writer, i) = pk[1..].split_once('-').unwrap();
            found[writer.parse::<usize>().unwrap()].push(i.parse().unwrap());
        }
        match page.get("LastEvaluatedKey") {
            Some(next) => start = Some(next.clone()),
            None => break,
        }
    }
    for keys in &mut found {
        keys.sort_unstable();
    }
    found
}

/// `keys` is `1..=n` with `at_least <= n <= at_most`; returns `n`.
fn prefix_within(keys: &[u64], at_least: u64, at_most: u64) -> Result<u64, String> {
    let n = keys.len() as u64;
    if keys.iter().copied().ne(1..=n) {
        return Err(format!("not a prefix: {n} items {keys:?}"));
    }
    if n < at_least || n > at_most {
        return Err(format!(
            "{n} items, but {at_least} were acknowledged and {at_most} sent"
        ));
    }
    Ok(n)
}

/// What the clients of one round saw acknowledged.
#[derive(Debug)]
struct Round {
    table: String,
    /// Per writer, the last write acknowledged and the last one sent.
    acked: Vec<u64>,
    sent: Vec<u64>,
    backups: Vec<Backup>,
}

/// An acknowledged CreateBackup.
#[derive(Debug)]
struct Backup {
    arn: String,
    /// Per writer, the last write acknowledged before the request was sent…
    acked_before: Vec<u64>,
    /// …and the last write sent before its 200 came back.
    sent_before_answer: Vec<u64>,
}

fn snapshot(counters: &[AtomicU64]) -> Vec<u64> {
    counters.iter().map(|c| c.load(Ordering::SeqCst)).collect()
}

/// A connection failed: fine after the kill, a failure of the server before it.
fn died(round: usize, killed: &AtomicBool, what: String) {
    assert!(killed.load(Ordering::SeqCst), "round {round}: {what}");
}

/// When a round's server is killed.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// This long after the writers start.
    After(Duration),
    /// As soon as the `n`th CreateBackup is acknowledged: its build has likely not run, so
    /// the restarted server must build it from what the log kept.
    AtBackup(usize),
}

/// Creates a table and writes and backs it up until the server is killed as `kill` says;
/// returns what was acknowledged.
fn drive(server: Server, round: usize, kill: Kill, rng: &mut SimRng) -> Round {
    let table = format!("round-{round}");
    call(
        &mut server.connect(),
        "CreateTable",
        json!({
            "TableName": table,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        }),
    );
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..WRITERS).map(|_| AtomicU64::new(0)).collect());
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..WRITERS).map(|_| AtomicU64::new(0)).collect());
    let killed = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (acked, sent, killed) = (Arc::clone(&acked), Arc::clone(&sent), Arc::clone(&killed));
        let mut connection = server.connect();
        let table = table.clone();
        writers.push(std::thread::spawn(move || {
            for i in 1.. {
                let item = json!({
                    "TableName": table,
                    "Item": {"pk": {"S": key(w, i)}, "v": {"S": value(round, w, i)}},
                });
                sent[w].store(i, Ordering::SeqCst);
                match connection.call("PutItem", item.to_string().as_bytes()) {
                    Ok((200, _)) => acked[w].store(i, Ordering::SeqCst),
                    Ok((status, body)) => {
                        let body = String::from_utf8_lossy(&body);
                        panic!("round {round}: PutItem answered {status}: {body}")
                    }
                    Err(e) => return died(round, &killed, format!("PutItem: {e}")),
                }
            }
        }));
    }
    let (backup_acked, backup_acks) = std::sync::mpsc::channel();
    let backups = {
        let (acked, sent, killed) = (Arc::clone(&acked), Arc::clone(&sent), Arc::clone(&killed));
        let mut connection = server.connect();
        let table = table.clone();
        let pauses: Vec<u64> = (0..1000).map(|_| 15 + rng.below(25)).collect();
        std::thread::spawn(move || {
            let mut backups = Vec::new();
            // CreateBackup's rate limit is 50 a second: these stay under it.
            for (j, pause) in pauses.into_iter().enumerate() {
                std::thread::sleep(Duration::from_millis(pause));
                let acked_before = snapshot(&acked);
                let request = json!({"TableName": table, "BackupName": format!("b{round}-{j}")});
                match connection.call("CreateBackup", request.to_string().as_bytes()) {
                    Ok((200, body)) => {
                        let sent_before_answer = snapshot(&sent);
                        let body: Value = serde_json::from_slice(&body).unwrap();
                        let arn = body["BackupDetails"]["BackupArn"].as_str().unwrap();
                        backups.push(Backup {
                            arn: arn.to_owned(),
                            acked_before,
                            sent_before_answer,
                        });
                        let _ = backup_acked.send(());
                    }
                    Ok((status, body)) => {
                        let body = String::from_utf8_lossy(&body);
                        panic!("round {round}: CreateBackup answered {status}: {body}")
                    }
                    Err(e) => {
                        died(round, &killed, format!("CreateBackup: {e}"));
                        break;
                    }
                }
            }
            backups
        })
    };
    match kill {
        Kill::After(pause) => std::thread::sleep(pause),
        Kill::AtBackup(n) => {
            for _ in 0..n {
                backup_acks.recv_timeout(TIMEOUT).unwrap();
            }
        }
    }
    killed.store(true, Ordering::SeqCst);
    server.kill();
    for writer in writers {
        writer.join().unwrap();
    }
    let backups = backups.join().unwrap();
    Round {
        table,
        acked: snapshot(&acked),
        sent: snapshot(&sent),
        backups,
    }
}

/// The status DescribeBackup gives `arn`: an acknowledged backup must be described.
fn status(connection: &mut Connection, arn: &str) -> String {
    let described = call(connection, "DescribeBackup", json!({"BackupArn": arn}));
    let status = &described["BackupDescription"]["BackupDetails"]["BackupStatus"];
    status.as_str().unwrap().to_owned()
}

/// Waits until `arn`, CREATING, is AVAILABLE.
fn available(connection: &mut Connection, arn: &str, context: &str) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match status(connection, arn).as_str() {
            "AVAILABLE" => return,
            "CREATING" if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            other => panic!("{context}: backup {arn} is {other}"),
        }
    }
}

/// Restores `arn` to `target` and returns its items per writer; deletes the restored table.
fn restored(connection: &mut Connection, arn: &str, target: &str) -> Vec<Vec<u64>> {
    call(
        connection,
        "RestoreTableFromBackup",
        json!({"BackupArn": arn, "TargetTableName": target}),
    );
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let table = call(connection, "DescribeTable", json!({"TableName": target}));
        if table["Table"]["TableStatus"] == "ACTIVE" {
            break;
        }
        assert!(Instant::now() < deadline, "restore of {arn}: {table}");
        std::thread::sleep(Duration::from_millis(10));
    }
    let items = scan(connection, target);
    call(connection, "DeleteTable", json!({"TableName": target}));
    items
}

/// What the checks covered.
#[derive(Default)]
struct Figures {
    writes_acked: u64,
    writes_in_flight_kept: u64,
    backups_acked: usize,
    /// Backups CREATING when described right after the restart: built after the crash.
    backups_built_after_restart: usize,
    backups_restored: usize,
}

/// Checks `round` (just killed) over `server`, restarted, and that the earlier rounds are as
/// they were; records how far each writer's items go.
fn verify(
    server: &Server,
    round: usize,
    this: &Round,
    earlier: &[(Round, Vec<u64>)],
    figures: &mut Figures,
) -> Vec<u64> {
    let mut connection = server.connect();
    let context = format!("round {round}");
    // First thing after the restart, before the background worker had much time to build.
    for backup in &this.backups {
        match status(&mut connection, &backup.arn).as_str() {
            "CREATING" => figures.backups_built_after_restart += 1,
            "AVAILABLE" => {}
            other => panic!("{context}: acknowledged backup {} is {other}", backup.arn),
        }
    }
    for (w, &acked) in this.acked.iter().enumerate() {
        for i in 1..=acked {
            let request = json!({"TableName": this.table, "Key": {"pk": {"S": key(w, i)}}});
            let got = call(&mut connection, "GetItem", request);
            assert_eq!(
                got["Item"]["v"]["S"],
                value(round, w, i),
                "{context}: acknowledged write {} is lost: {got}",
                key(w, i)
            );
        }
        figures.writes_acked += acked;
    }
    let recovered: Vec<u64> = scan(&mut connection, &this.table)
        .iter()
        .enumerate()
        .map(|(w, keys)| {
            prefix_within(keys, this.acked[w], this.sent[w])
                .unwrap_or_else(|e| panic!("{context}: writer {w}: {e}"))
        })
        .collect();
    figures.writes_in_flight_kept += recovered
        .iter()
        .zip(&this.acked)
        .map(|(n, a)| n - a)
        .sum::<u64>();
    for (j, backup) in this.backups.iter().enumerate() {
        available(&mut connection, &backup.arn, &context);
        let target = format!("check-{round}-{j}");
        for (w, keys) in restored(&mut connection, &backup.arn, &target)
            .iter()
            .enumerate()
        {
            // Nothing in a backup can be missing after recovery: its cut was durable.
            let at_most = backup.sent_before_answer[w].min(recovered[w]);
            prefix_within(keys, backup.acked_before[w], at_most)
                .unwrap_or_else(|e| panic!("{context}: backup {j}, writer {w}: {e}"));
        }
        figures.backups_restored += 1;
    }
    figures.backups_acked += this.backups.len();
    // Later crashes keep what earlier recoveries found, and every backup stays AVAILABLE.
    for (before, was) in earlier {
        for (w, keys) in scan(&mut connection, &before.table).iter().enumerate() {
            prefix_within(keys, was[w], was[w])
                .unwrap_or_else(|e| panic!("{context}: table {}, writer {w}: {e}", before.table));
        }
        for backup in &before.backups {
            let status = status(&mut connection, &backup.arn);
            assert_eq!(status, "AVAILABLE", "{context}: backup {}", backup.arn);
        }
    }
    recovered
}

#[test]
fn a_sigkilled_server_loses_no_acknowledged_write_or_backup() {
    let seed = SimFs::seed_from_env();
    let mut rng = SimRng::new(seed);
    let rounds = if long() { 60 } else { 8 };
    let dir = TempDir::new("wire-crash");
    let started = Instant::now();
    let mut figures = Figures::default();
    let mut history: Vec<(Round, Vec<u64>)> = Vec::new();
    let mut server = Server::start(dir.path());
    for round in 0..rounds {
        let kill = if round % 2 == 0 {
            Kill::After(Duration::from_millis(20 + rng.below(580)))
        } else {
            Kill::AtBackup(1 + rng.below(8) as usize)
        };
        let this = drive(server, round, kill, &mut rng);
        server = Server::start(dir.path());
        let recovered = verify(&server, round, &this, &history, &mut figures);
        history.push((this, recovered));
    }
    server.kill();
    println!(
        "WIRE_CRASH seed={seed} rounds={rounds} writes_acked={} in_flight_kept={} backups_acked={} built_after_restart={} backups_restored={} lost=0 secs={:.1}",
        figures.writes_acked,
        figures.writes_in_flight_kept,
        figures.backups_acked,
        figures.backups_built_after_restart,
        figures.backups_restored,
        started.elapsed().as_secs_f64()
    );
}
