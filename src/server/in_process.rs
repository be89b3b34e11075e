//! DynamoDB's operations called in this process, without HTTP: the request's JSON body goes
//! through the same model checks and handlers a request's body does once `http` has read it
//! (`operations::call`), and the answer is the JSON body the wire would send. The `partiql`
//! fuzz harness drives PartiQL statements this way, at thousands of cases a second where a
//! loopback request costs a millisecond, and so does `wire_request`'s part on exports and
//! imports (`fuzz_support/transfers.rs`); the rest of `wire_request` covers what comes
//! before (headers, signatures, bodies).

use std::path::PathBuf;

use serde_json::Value;

use super::{exports, imports, operations, Call, ServerState};
use crate::db::Database;

/// A server's state over a database, whose operations are called directly; with an S3
/// directory (`--s3-dir`) or without one (imports and exports are then refused).
pub struct InProcessServer {
    state: ServerState,
    headers: hyper::HeaderMap,
}

impl InProcessServer {
    /// A server over `db` with no S3 directory, in region `us-east-1` and account
    /// `000000000000` (the defaults of `tidestore serve`). Fails only if the database's
    /// import or export records cannot be read.
    pub fn new(db: Database) -> std::io::Result<InProcessServer> {
        InProcessServer::with_s3_dir(db, None)
    }

    /// A server over `db` whose `ImportTable` reads and `ExportTableToPointInTime` writes the
    /// buckets (folders) of `s3_dir`, as `tidestore serve --s3-dir` does; otherwise as
    /// [`InProcessServer::new`].
    pub fn with_s3_dir(db: Database, s3_dir: Option<PathBuf>) -> std::io::Result<InProcessServer> {
        let (region, account) = ("us-east-1".to_owned(), "000000000000".to_owned());
        let imports = imports::Imports::open(&db, s3_dir.clone(), region.clone(), account.clone())?;
        let exports = exports::Exports::open(&db, s3_dir, account)?;
        Ok(InProcessServer {
            state: ServerState {
                db,
                region,
                secrets: None,
                imports: std::sync::Arc::new(imports),
                exports: std::sync::Arc::new(exports),
            },
            headers: hyper::HeaderMap::new(),
        })
    }

    /// Runs DynamoDB's operation `name` (`ExecuteStatement`, `GetItem`, …) on `body`: the
    /// answer's JSON body, or the error's (`{"__type": "<namespace>#<Name>", "message": …}`).
    pub fn call(&self, name: &str, body: Value) -> Result<Value, Value> {
        let call = Call {
            state: &self.state,
            headers: &self.headers,
            local: None,
        };
        operations::call(&call, name, body).map_err(|error| error.body())
    }
}
