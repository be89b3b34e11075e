//! The `tidestore` command: `tidestore serve` speaks DynamoDB's wire protocol over HTTP.
//!
//! ```text
//! tidestore serve --dir DATA [--host 127.0.0.1] [--port 8000] [--durability sync|buffered]
//!                 [--region us-east-1] [--account 000000000000] [--auth FILE]
//!                 [--ttl-change-interval-secs 3600] [--ttl-sweep-pause-ms 100]
//!                 [--stream-retention-secs 86400] [--s3-dir DIR]
//! ```
//!
//! `--ttl-change-interval-secs` is how long after a table's Time to Live setting changed it
//! cannot change again (DynamoDB's hour by default; 0 lifts the limit, for tests), and
//! `--ttl-sweep-pause-ms` the expiry sweeper's pause after each batch (0 to 60,000).
//! `--stream-retention-secs` is how long DynamoDB Streams' records can be read, and the log
//! they are read from is kept (DynamoDB's 24 hours by default; 60 to 3,024,000).
//!
//! `--s3-dir DIR` is the directory standing in for S3 that `ImportTable` reads: a bucket is a
//! folder of it, an object a file under that folder (without it, ImportTable is refused).
//!
//! `--auth FILE` turns on full SigV4 verification: each line of the file is
//! `ACCESS_KEY SECRET_KEY` (blank lines and `#` comments skipped).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use tidestore::server::{serve, Config};
use tidestore::Durability;

const USAGE: &str = "usage: tidestore serve --dir DATA [--host 127.0.0.1] [--port 8000] \
[--durability sync|buffered] [--region us-east-1] [--account 000000000000] [--auth FILE] \
[--ttl-change-interval-secs 3600] [--ttl-sweep-pause-ms 100] [--stream-retention-secs 86400] \
[--s3-dir DIR]";

/// What `tidestore --help` prints: the usage and what each option does.
const HELP: &str =
    "tidestore serve: DynamoDB's wire protocol (and DynamoDB Streams') over HTTP, on a \
database directory. Point the AWS CLI or an SDK at it with --endpoint-url.

options:
  --dir DATA                      the database directory (created if new); required
  --host ADDR, --port N           where to listen (127.0.0.1:8000)
  --durability sync|buffered      sync: a 200 means on stable storage (the default);
                                  buffered: written to the OS, synced every 100 ms
  --region R, --account N         what ARNs name (us-east-1, 000000000000)
  --auth FILE                     verify SigV4 signatures with the keys in FILE (lines of
                                  `ACCESS_KEY SECRET`); without it any well-formed one passes
  --ttl-change-interval-secs S    how soon a table's Time to Live can change again (3600)
  --ttl-sweep-pause-ms MS         the Time to Live sweeper's pause between batches (100)
  --stream-retention-secs S       how long stream records are kept (86400)
  --s3-dir DIR                    the directory standing in for S3 that ImportTable reads
                                  (bucket B, prefix P: the files under DIR/B whose path
                                  starts with P); without it ImportTable is refused

TIDESTORE_LOG sets the log filter (info; e.g. debug, warn).";

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TIDESTORE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args
        .first()
        .is_some_and(|a| ["-h", "--help", "help"].contains(&a.as_str()))
        || (args.first().is_some_and(|a| a == "serve") && args.iter().any(|a| a == "--help"))
    {
        println!("{USAGE}\n\n{HELP}");
        return ExitCode::SUCCESS;
    }
    let config = match parse(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = serve(config, |addr| {
        // One line on stdout that scripts can wait for.
        println!("tidestore listening on http://{addr}");
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tidestore: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: &[String]) -> Result<Config, String> {
    let Some((command, rest)) = args.split_first() else {
        return Err("no command".into());
    };
    if command != "serve" {
        return Err(format!("unknown command {command:?}"));
    }
    let mut flags: HashMap<&str, &str> = HashMap::new();
    let mut iter = rest.iter();
    while let Some(flag) = iter.next() {
        let known = [
            "--dir",
            "--host",
            "--port",
            "--durability",
            "--region",
            "--account",
            "--auth",
            "--ttl-change-interval-secs",
            "--ttl-sweep-pause-ms",
            "--stream-retention-secs",
            "--s3-dir",
        ];
        if !known.contains(&flag.as_str()) {
            return Err(format!("unknown option {flag:?}"));
        }
        let value = iter.next().ok_or_else(|| format!("{flag} needs a value"))?;
        flags.insert(flag.as_str(), value.as_str());
    }
    let dir = flags.get("--dir").ok_or("--dir is required")?;
    let mut config = Config::new(*dir);
    let host: IpAddr = flags
        .get("--host")
        .unwrap_or(&"127.0.0.1")
        .parse()
        .map_err(|e| format!("--host: {e}"))?;
    let port: u16 = flags
        .get("--port")
        .unwrap_or(&"8000")
        .parse()
        .map_err(|e| format!("--port: {e}"))?;
    config.addr = SocketAddr::new(host, port);
    config.durability = match flags.get("--durability").copied().unwrap_or("sync") {
        "sync" => Durability::Sync,
        "buffered" => Durability::Buffered,
        other => {
            return Err(format!(
                "--durability must be sync or buffered, not {other:?}"
            ))
        }
    };
    if let Some(region) = flags.get("--region") {
        config.region = (*region).to_owned();
    }
    if let Some(account) = flags.get("--account") {
        config.account = (*account).to_owned();
    }
    let number = |flag: &str| -> Result<Option<u64>, String> {
        flags
            .get(flag)
            .map(|v| v.parse().map_err(|e| format!("{flag}: {e}")))
            .transpose()
    };
    if let Some(secs) = number("--ttl-change-interval-secs")? {
        config.ttl_change_interval = Duration::from_secs(secs);
    }
    if let Some(ms) = number("--ttl-sweep-pause-ms")? {
        config.ttl_sweep_pause = Duration::from_millis(ms);
    }
    if let Some(secs) = number("--stream-retention-secs")? {
        config.stream_retention = Duration::from_secs(secs);
    }
    if let Some(dir) = flags.get("--s3-dir") {
        config.s3_dir = Some((*dir).into());
    }
    if let Some(file) = flags.get("--auth") {
        let text = std::fs::read_to_string(file).map_err(|e| format!("--auth {file}: {e}"))?;
        let mut secrets = HashMap::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some(key), Some(secret), None) => {
                    secrets.insert(key.to_owned(), secret.to_owned());
                }
                _ => return Err(format!("--auth {file}: each line is ACCESS_KEY SECRET_KEY")),
            }
        }
        config.secrets = Some(secrets);
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_time_to_live_flags_set_their_options() {
        let base = ["serve", "--dir", "data"];
        let config = parse(&args(&base)).expect("parses");
        assert_eq!(config.ttl_change_interval, Duration::from_secs(3600));
        assert_eq!(config.ttl_sweep_pause, Duration::from_millis(100));
        let mut flags = base.to_vec();
        flags.extend([
            "--ttl-change-interval-secs",
            "0",
            "--ttl-sweep-pause-ms",
            "5",
        ]);
        let config = parse(&args(&flags)).expect("parses");
        assert_eq!(config.ttl_change_interval, Duration::ZERO);
        assert_eq!(config.ttl_sweep_pause, Duration::from_millis(5));
        let mut bad = base.to_vec();
        bad.extend(["--ttl-sweep-pause-ms", "soon"]);
        match parse(&args(&bad)) {
            Err(error) => assert!(error.starts_with("--ttl-sweep-pause-ms: "), "{error}"),
            Ok(_) => panic!("a pause that is not a number is refused"),
        }
    }

    #[test]
    fn the_s3_dir_flag_sets_the_import_source() {
        let config = parse(&args(&["serve", "--dir", "data"])).expect("parses");
        assert_eq!(config.s3_dir, None);
        let config = parse(&args(&["serve", "--dir", "data", "--s3-dir", "s3"])).expect("parses");
        assert_eq!(config.s3_dir, Some("s3".into()));
    }

    #[test]
    fn the_stream_retention_flag_sets_its_option() {
        let base = ["serve", "--dir", "data"];
        let config = parse(&args(&base)).expect("parses");
        assert_eq!(config.stream_retention, Duration::from_secs(24 * 60 * 60));
        let mut flags = base.to_vec();
        flags.extend(["--stream-retention-secs", "600"]);
        let config = parse(&args(&flags)).expect("parses");
        assert_eq!(config.stream_retention, Duration::from_secs(600));
        let mut bad = base.to_vec();
        bad.extend(["--stream-retention-secs", "a day"]);
        match parse(&args(&bad)) {
            Err(error) => assert!(error.starts_with("--stream-retention-secs: "), "{error}"),
            Ok(_) => panic!("a retention that is not a number is refused"),
        }
    }
}
