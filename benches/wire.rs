//! `tidestore serve` under load over loopback, beside the same calls through the library, so
//! that what HTTP costs is a ratio and a delta.
//!
//! ```text
//! cargo bench --features server --bench wire            # 100k items, 3 s per figure
//! cargo bench --features server --bench wire -- --test  # 1k items, 50 ms per figure
//! ```
//!
//! Two directories get the same table: 100k items of the bar's shape (a 16-byte key, a
//! 100-byte value), loaded through the library and closed cleanly. The bench opens one
//! itself and has the `tidestore` binary serve the other, both with Sync durability (the
//! server's request log at its default level, written to /dev/null). It then measures
//! GetItem and durable PutItem from 1 and 16 threads through the library (`LIB` lines) and
//! over 1 and 16 keep-alive connections speaking raw HTTP/1.1 (`WIRE` lines; no client
//! crate, so the client's cost is small and the same for every figure). Keys are random over
//! the table; puts overwrite existing items. Each figure runs for `TIDESTORE_BENCH_SECS`
//! (default 3) in six slices, the library's and the server's taking turns, each after 100 ms
//! of warm-up: the machine is shared, and a burst of someone else's disk or CPU load falls
//! on both sides instead of on one. `WIRE health` is `GET /`, the floor of HTTP itself.
//! `OVERHEAD` lines give the wire's latency minus the library's and their ratios; `GOAL`
//! lines compare with the goals of the wire issue: GetItem ≥ 20k/s and durable PutItem
//! ≥ 10k/s at 16 connections, HTTP adding ≤ 50 µs at p50 (one connection, where no queue
//! adds to it).
//!
//! The load generator runs on the same machine as the server: on a 2-core machine the 16
//! client threads take CPU from the server, so the wire figures are a floor.
//! `TIDESTORE_BENCH_ITEMS` sets the table size and `TIDESTORE_BENCH_DIR` the directories'
//! parent (default the temp dir). `TIDESTORE_BENCH_SPIN_CLIENT=1` makes the client spin
//! for each answer instead of sleeping in `read`, so that the client's own wake-up is not
//! counted: a diagnostic, which shows how much of HTTP's overhead is the server's (its
//! figures at 16 connections mean nothing, the spinners taking the server's CPU).

mod common;
#[path = "../tests/support/http_client.rs"]
mod http_client;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{bench_dir, item, load, table_size_or};
use http_client::Connection;
use tidestore::{
    AttributeValue, CreateTableInput, Database, Durability, GetItemInput, Item, Options,
    PutItemInput, ScalarAttributeType,
};

const TABLE: &str = "bench";
const COUNTS: [usize; 2] = [1, 16];

/// How long each figure runs.
struct Plan {
    items: u64,
    /// Each figure is measured in this many slices, the library's and the server's taking
    /// turns, so that a burst of load from elsewhere on the machine falls on both.
    slices: u32,
    /// Before each slice, not counted.
    warm_up: Duration,
    /// Each slice, counted.
    slice: Duration,
}

impl Plan {
    fn from_args() -> Plan {
        // `cargo bench -- --test` (and criterion's benches) mean: check that it runs, quickly.
        if std::env::args().any(|a| a == "--test") {
            return Plan {
                items: 1000,
                slices: 1,
                warm_up: Duration::ZERO,
                slice: Duration::from_millis(50),
            };
        }
        let secs: f64 = std::env::var("TIDESTORE_BENCH_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3.0);
        let slices = 6;
        Plan {
            items: table_size_or(100_000),
            slices,
            warm_up: Duration::from_millis(100),
            slice: Duration::from_secs_f64(secs / f64::from(slices)),
        }
    }
}

/// Requests per second and latency percentiles of one figure.
#[derive(Default)]
struct Figure {
    calls: usize,
    secs: f64,
    /// Latencies in nanoseconds, sorted once the figure is complete.
    latencies: Vec<u64>,
}

impl Figure {
    fn add(&mut self, mut slice: Figure) {
        self.calls += slice.calls;
        self.secs += slice.secs;
        self.latencies.append(&mut slice.latencies);
        self.latencies.sort_unstable();
    }

    fn per_sec(&self) -> f64 {
        self.calls as f64 / self.secs
    }

    /// The `p` percentile in microseconds.
    fn micros(&self, p: f64) -> f64 {
        let v = &self.latencies;
        v[((v.len() as f64 * p) as usize).min(v.len() - 1)] as f64 / 1000.0
    }

    fn line(&self, what: &str) -> String {
        format!(
            "{what} req/s={:.0} p50={:.1}µs p99={:.1}µs",
            self.per_sec(),
            self.micros(0.5),
            self.micros(0.99)
        )
    }
}

/// Runs `call` from `workers` threads, each with its own state from `open`, for one warm-up
/// and one slice of the plan; `call` gets the worker's running count of calls.
fn measure<S>(
    plan: &Plan,
    workers: usize,
    open: impl Fn(usize) -> S + Sync,
    call: impl Fn(&mut S, u64) + Sync,
) -> Figure {
    let measured_from = Instant::now() + plan.warm_up;
    let until = measured_from + plan.slice;
    let mut latencies = Vec::new();
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..workers)
            .map(|w| {
                let (open, call) = (&open, &call);
                s.spawn(move || {
                    let mut state = open(w);
                    let mut latencies = Vec::with_capacity(1 << 16);
                    for n in 0.. {
                        let began = Instant::now();
                        if began >= until {
                            break;
                        }
                        call(&mut state, n);
                        if began >= measured_from {
                            latencies.push(began.elapsed().as_nanos() as u64);
                        }
                    }
                    latencies
                })
            })
            .collect();
        for t in threads {
            latencies.extend(t.join().expect("worker"));
        }
    });
    Figure {
        calls: latencies.len(),
        secs: plan.slice.as_secs_f64(),
        latencies,
    }
}

/// A random key number of the preloaded table for call `n` of worker `w`.
fn key_number(w: usize, n: u64, items: u64) -> u64 {
    let mut z = ((w as u64) << 40 ^ n).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % items
}

fn key_string(i: u64) -> String {
    format!("{i:016}")
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Get,
    Put,
    /// `GET /`: HTTP and the server's request handling without JSON or the engine, the
    /// floor under every other wire figure.
    Health,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Put => "put",
            Op::Health => "health",
        }
    }
}

fn library(plan: &Plan, db: &Database, op: Op, threads: usize) -> Figure {
    measure(
        plan,
        threads,
        |w| w,
        |&mut w, n| {
            let i = key_number(w, n, plan.items);
            match op {
                Op::Get => {
                    let key = Item::from([("pk".to_string(), AttributeValue::S(key_string(i)))]);
                    let got = db.get_item(GetItemInput::new(TABLE, key)).expect("get");
                    assert!(got.item.is_some());
                }
                Op::Put => {
                    db.put_item(PutItemInput::new(TABLE, item(i))).expect("put");
                }
                Op::Health => unreachable!("a wire figure only"),
            }
        },
    )
}

fn wire(plan: &Plan, addr: SocketAddr, op: Op, conns: usize) -> Figure {
    // `item(i)`'s value is 100 bytes of `i % 251`: its 251 encodings, made once.
    let values: Vec<String> = (0..251u8)
        .map(|b| base64::engine::general_purpose::STANDARD.encode([b; 100]))
        .collect();
    measure(
        plan,
        conns,
        |w| {
            let mut connection = Connection::open(addr, Duration::from_secs(30)).expect("connect");
            if std::env::var_os("TIDESTORE_BENCH_SPIN_CLIENT").is_some_and(|v| v == "1") {
                connection.spin_for_answers();
            }
            (connection, w)
        },
        |(connection, w), n| {
            let i = key_number(*w, n, plan.items);
            let key = key_string(i);
            if op == Op::Health {
                let (status, _) = connection.health().expect("a request");
                assert_eq!(status, 200);
                return;
            }
            let (operation, body) = match op {
                Op::Health => unreachable!("answered above"),
                Op::Get => (
                    "GetItem",
                    format!(r#"{{"TableName":"{TABLE}","Key":{{"pk":{{"S":"{key}"}}}}}}"#),
                ),
                Op::Put => (
                    "PutItem",
                    format!(
                        r#"{{"TableName":"{TABLE}","Item":{{"pk":{{"S":"{key}"}},"v":{{"B":"{}"}}}}}}"#,
                        values[(i % 251) as usize]
                    ),
                ),
            };
            let (status, answer) = connection
                .call(operation, body.as_bytes())
                .expect("a request");
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
            // A GetItem of a preloaded key answers the item, never `{}`.
            assert!(op == Op::Put || answer.len() > 100);
        },
    )
}

/// The `tidestore` binary serving `dir` with Sync durability; killed on drop.
struct Server(std::process::Child, SocketAddr);

impl Server {
    fn start(dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tidestore"))
            .arg("serve")
            .arg("--dir")
            .arg(dir)
            .args(["--port", "0", "--durability", "sync"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the tidestore binary starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("its first line");
        let addr = line
            .trim()
            .strip_prefix("tidestore listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("not a listening line: {line:?}"));
        Server(child, addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Writes back every dirty page: otherwise, for the next half minute, a journal commit (an
/// fsync's) can carry the preloads' data, and the first durable puts pay for it (measured:
/// a single writer's p50 of 1.8–3.7 ms instead of 0.12–0.16 ms).
fn settle() {
    let _ = Command::new("sync").status();
}

/// A directory holding table `bench` with the plan's items, closed cleanly and written back.
fn preloaded(plan: &Plan, name: &str, options: &Options) -> PathBuf {
    let dir = bench_dir(name);
    let db = Database::open_with(&dir, options.clone()).expect("open");
    db.create_table(
        CreateTableInput::new(TABLE)
            .hash_key("pk", ScalarAttributeType::S)
            .pay_per_request(),
    )
    .expect("table");
    load(&db, plan.items);
    db.close().expect("close");
    dir
}

fn main() {
    let plan = Plan::from_args();
    let load_average = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load_average = load_average.split_whitespace().take(3).collect::<Vec<_>>();
    println!(
        "WIRE machine cores={} loadavg={} items={} secs={}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average.join(","),
        plan.items,
        plan.slice.as_secs_f64() * f64::from(plan.slices)
    );
    // Two copies of the same table, so that the library and the server take turns.
    let options = Options::default().durability(Durability::Sync);
    let lib_dir = preloaded(&plan, "wire-lib", &options);
    let wire_dir = preloaded(&plan, "wire-served", &options);
    settle();
    let db = Database::open_with(&lib_dir, options).expect("open");
    let server = Server::start(&wire_dir);
    let addr = server.1;
    let mut health = Figure::default();
    for _ in 0..plan.slices {
        health.add(wire(&plan, addr, Op::Health, 1));
    }
    println!("{}", health.line("WIRE health conns=1"));
    let mut figures = Vec::new();
    for op in [Op::Get, Op::Put] {
        for count in COUNTS {
            let (mut lib, mut served) = (Figure::default(), Figure::default());
            for _ in 0..plan.slices {
                lib.add(library(&plan, &db, op, count));
                served.add(wire(&plan, addr, op, count));
            }
            println!(
                "{}",
                lib.line(&format!("LIB {} threads={count}", op.name()))
            );
            println!(
                "{}",
                served.line(&format!("WIRE {} conns={count}", op.name()))
            );
            println!(
                "OVERHEAD {} conns={count} p50 +{:.1}µs (×{:.1}) p99 +{:.1}µs (×{:.1}) req/s ×{:.2}",
                op.name(),
                served.micros(0.5) - lib.micros(0.5),
                served.micros(0.5) / lib.micros(0.5),
                served.micros(0.99) - lib.micros(0.99),
                served.micros(0.99) / lib.micros(0.99),
                served.per_sec() / lib.per_sec(),
            );
            figures.push((op, count, lib, served));
        }
    }
    drop(server);
    drop(db);
    let _ = std::fs::remove_dir_all(&lib_dir);
    let _ = std::fs::remove_dir_all(&wire_dir);
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    for (op, count, lib, served) in &figures {
        let name = op.name();
        if *count == 16 {
            let goal = if *op == Op::Get { 20_000.0 } else { 10_000.0 };
            println!(
                "GOAL {name} conns=16 req/s={:.0} (≥ {goal}: {})",
                served.per_sec(),
                verdict(served.per_sec() >= goal)
            );
        } else {
            let delta = served.micros(0.5) - lib.micros(0.5);
            println!(
                "GOAL {name} conns=1 HTTP p50 +{delta:.1}µs (≤ 50: {}; GET / alone p50={:.1}µs)",
                verdict(delta <= 50.0),
                health.micros(0.5)
            );
        }
    }
}
