//! `tidestore serve` on the wire. Raw HTTP for the protocol's edges (content types, bodies,
//! targets — DynamoDB's and DynamoDB Streams' — checksums, authentication), and the real AWS
//! clients — boto3 and the AWS CLI v1, driven by `tests/wire/test_clients.py` — for every
//! operation, Streams' included.
//!
//! Built with the `server` feature: `cargo test --features server --test wire`.
#![cfg(feature = "server")]

#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/serving.rs"]
mod serving;
mod support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serving::Serving;
use support::TempDir;
use tidestore::server::Config;

/// A server on a free port of loopback, stopped (drained, database closed) on drop.
struct Server {
    addr: SocketAddr,
    // (Stopped before its directory is removed: fields drop in this order.)
    serving: Serving,
    _dir: Option<TempDir>,
}

impl Server {
    fn start(configure: impl FnOnce(&mut Config)) -> Server {
        let dir = TempDir::new("wire");
        let path = dir.path().to_owned();
        Server::start_in(&path, configure, Some(dir))
    }

    /// A server on the database in `path`, which `dir` (if any) removes when it stops.
    fn start_in(path: &Path, configure: impl FnOnce(&mut Config), dir: Option<TempDir>) -> Server {
        let mut config = Config::new(path);
        configure(&mut config);
        let serving = Serving::start(config);
        Server {
            addr: serving.addr,
            serving,
            _dir: dir,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends one raw HTTP/1.1 request; the status, the headers (lower-cased) and the body.
    fn raw(&self, method: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut stream = TcpStream::connect(self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut request = format!(
            "{method} / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        stream.write_all(request.as_bytes()).expect("send");
        stream.write_all(body).expect("send body");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        Reply::parse(&answer)
    }

    /// A `POST /` of `body` to DynamoDB's `operation`, signed-looking as the CLI signs.
    fn call(&self, operation: &str, body: &str) -> Reply {
        self.call_target(&format!("DynamoDB_20120810.{operation}"), body)
    }

    /// A `POST /` of `body` to DynamoDB Streams' `operation`, signed as DynamoDB's.
    fn call_streams(&self, operation: &str, body: &str) -> Reply {
        self.call_target(&format!("DynamoDBStreams_20120810.{operation}"), body)
    }

    /// A `POST /` of `body` with `X-Amz-Target: target`, signed-looking as the CLI signs.
    fn call_target(&self, target: &str, body: &str) -> Reply {
        self.raw(
            "POST",
            &[
                ("Content-Type", "application/x-amz-json-1.0"),
                ("X-Amz-Target", target),
                ("X-Amz-Date", "20261126T060546Z"),
                ("Authorization", AUTHORIZATION),
            ],
            body.as_bytes(),
        )
    }
}

const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=x/20261126/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=1408677e";

struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Reply {
    fn parse(bytes: &[u8]) -> Reply {
        let split = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a head");
        let head = String::from_utf8_lossy(&bytes[..split]);
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Reply {
            status,
            headers,
            body: bytes[split + 4..].to_vec(),
        }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("a JSON body ({e}): {}", String::from_utf8_lossy(&self.body))
        })
    }

    fn error_type(&self) -> String {
        self.json()["__type"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

#[test]
fn every_answer_carries_a_request_id_the_crc32_of_its_body_and_the_server_name() {
    let server = Server::start(|_| {});
    for reply in [
        server.call("ListTables", "{}"),
        server.call("DescribeTable", r#"{"TableName": "Missing"}"#),
        server.call("NoSuchOperation", "{}"),
    ] {
        let crc: u32 = reply.headers["x-amz-crc32"].parse().expect("a number");
        assert_eq!(crc, crc32fast::hash(&reply.body));
        assert!(!reply.headers["x-amzn-requestid"].is_empty());
        assert!(reply.headers["server"].starts_with("tidestore/"));
    }
    let empty = server.call("ListTables", "{}");
    assert_eq!(empty.status, 200);
    assert_eq!(empty.json(), serde_json::json!({"TableNames": []}));
}

#[test]
fn tag_resource_and_untag_resource_answer_an_empty_body_and_refuse_missing_members() {
    let server = Server::start(|_| {});
    let created = server.call(
        "CreateTable",
        r#"{"TableName": "Tagged", "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}"#,
    );
    assert_eq!(created.status, 200);
    let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/Tagged";
    for (operation, body) in [
        (
            "TagResource",
            format!(r#"{{"ResourceArn": "{arn}", "Tags": [{{"Key": "k", "Value": "v"}}]}}"#),
        ),
        (
            "UntagResource",
            format!(r#"{{"ResourceArn": "{arn}", "TagKeys": ["k"]}}"#),
        ),
    ] {
        let reply = server.call(operation, &body);
        assert_eq!(
            (reply.status, reply.body.as_slice()),
            (200, &b""[..]),
            "{operation}"
        );
        assert_eq!(
            reply.headers["x-amz-crc32"],
            crc32fast::hash(b"").to_string()
        );
    }
    let message =
        |operation: &str, body: String| server.call(operation, &body).json()["message"].clone();
    assert_eq!(
        message(
            "TagResource",
            format!(r#"{{"ResourceArn": "{arn}", "Tags": [{{"Key": "k"}}]}}"#)
        ),
        "The Tag Value provided is invalid, Value: null"
    );
    assert_eq!(
        message(
            "TagResource",
            format!(r#"{{"ResourceArn": "{arn}", "Tags": [{{"Value": "v"}}]}}"#)
        ),
        "The Tag Key provided is invalid, Key: null"
    );
    assert_eq!(
        message("UpdateTimeToLive", r#"{"TableName": "Tagged", "TimeToLiveSpecification": {}}"#.into()),
        "2 validation errors detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null; Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        message("UpdateTimeToLive", r#"{"TableName": "Tagged", "TimeToLiveSpecification": {"Enabled": true}}"#.into()),
        "1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null"
    );
}

/// A batch request's table names keep their case in DynamoDB's validation paths, followed
/// by `.member` (dynalite's tests, written against DynamoDB); a table's `Keys` left out,
/// empty, and an empty `RequestItems` are refused in DynamoDB's words, over HTTP.
#[test]
fn batch_requests_are_refused_naming_the_tables_as_the_caller_wrote_them() {
    let server = Server::start(|_| {});
    let message =
        |operation: &str, body: &str| server.call(operation, body).json()["message"].clone();
    assert_eq!(
        message("BatchGetItem", r#"{"RequestItems": {"Music": {"ConsistentRead": true}}}"#),
        "1 validation error detected: Value null at 'requestItems.Music.member.keys' failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        message("BatchGetItem", r#"{"RequestItems": {"Music": {"Keys": []}}}"#),
        "1 validation error detected: Value '[]' at 'requestItems.Music.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    assert_eq!(
        message("BatchGetItem", r#"{"RequestItems": {}}"#),
        "The requestItems parameter is required for BatchGetItem"
    );
    assert_eq!(
        message("BatchWriteItem", r#"{"RequestItems": {}}"#),
        "The requestItems parameter is required for BatchWriteItem"
    );
    assert_eq!(
        message("BatchWriteItem", r#"{"RequestItems": {"Music": [{"DeleteRequest": {}}]}}"#),
        "1 validation error detected: Value null at 'requestItems.Music.member.1.member.deleteRequest.key' failed to satisfy constraint: Member must not be null"
    );
}

/// DeleteTable answers a shorter description than DescribeTable: no key schema, attribute
/// definitions, creation time or indexes (Alternator's `test_delete_table_description` and
/// `test_delete_table_description_with_si`, which pass on DynamoDB).
#[test]
fn delete_table_answers_the_description_without_schema_creation_time_or_indexes() {
    let server = Server::start(|_| {});
    let created = server.call(
        "CreateTable",
        r#"{"TableName": "Doomed", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "S"},
                                     {"AttributeName": "x", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "GlobalSecondaryIndexes": [{"IndexName": "ByX", "Projection": {"ProjectionType": "ALL"},
                                        "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}]}],
            "LocalSecondaryIndexes": [{"IndexName": "LocalX", "Projection": {"ProjectionType": "ALL"},
                                       "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                     {"AttributeName": "x", "KeyType": "RANGE"}]}]}"#,
    );
    assert_eq!(created.status, 200);
    let described = server.call("DescribeTable", r#"{"TableName": "Doomed"}"#);
    let deleted = server.call("DeleteTable", r#"{"TableName": "Doomed"}"#);
    assert_eq!(deleted.status, 200);
    let (described, deleted) = (
        &described.json()["Table"],
        &deleted.json()["TableDescription"],
    );
    for member in [
        "AttributeDefinitions",
        "CreationDateTime",
        "GlobalSecondaryIndexes",
        "KeySchema",
        "LocalSecondaryIndexes",
    ] {
        assert!(
            described.get(member).is_some(),
            "DescribeTable has {member}"
        );
        assert!(
            deleted.get(member).is_none(),
            "DeleteTable leaves out {member}"
        );
    }
    assert_eq!(deleted["TableStatus"], "DELETING");
    assert_eq!(deleted["TableId"], described["TableId"]);
    assert_eq!(deleted["TableArn"], described["TableArn"]);
    assert_eq!(
        deleted["BillingModeSummary"],
        described["BillingModeSummary"]
    );
    assert_eq!(
        deleted["ProvisionedThroughput"]["NumberOfDecreasesToday"],
        0
    );
}

/// A `Projection` without `ProjectionType` — in a global or local index of `CreateTable`, or
/// in an index `UpdateTable` creates — is DynamoDB's `Unknown ProjectionType: null`
/// (Alternator's `test_gsi_missing_projection_type`, which passes on DynamoDB), after the
/// model's checks of the rest of the request; nothing is created.
#[test]
fn a_projection_without_a_type_is_refused_as_dynamodb_refuses_it() {
    let server = Server::start(|_| {});
    let table = |indexes: &str| {
        format!(
            r#"{{"TableName": "Tbl", "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{{"AttributeName": "pk", "AttributeType": "S"}},
                                         {{"AttributeName": "sk", "AttributeType": "S"}},
                                         {{"AttributeName": "x", "AttributeType": "S"}}],
                "KeySchema": [{{"AttributeName": "pk", "KeyType": "HASH"}},
                              {{"AttributeName": "sk", "KeyType": "RANGE"}}]{indexes}}}"#
        )
    };
    let refused = |reply: Reply| {
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.error_type(),
            "com.amazon.coral.validate#ValidationException"
        );
        assert_eq!(
            reply.json()["message"],
            "One or more parameter values were invalid: Unknown ProjectionType: null"
        );
    };
    refused(server.call(
        "CreateTable",
        &table(
            r#", "GlobalSecondaryIndexes": [{"IndexName": "ByX", "Projection": {},
                  "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}]}]"#,
        ),
    ));
    refused(server.call(
        "CreateTable",
        &table(
            r#", "LocalSecondaryIndexes": [{"IndexName": "LocalX", "Projection": {"ProjectionType": null},
                  "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "x", "KeyType": "RANGE"}]}]"#,
        ),
    ));
    // A restore's index overrides are read as CreateTable's index members, before the
    // backup or source table is looked up.
    refused(server.call(
        "RestoreTableFromBackup",
        r#"{"TargetTableName": "Restored", "BackupArn": "arn:aws:dynamodb:us-east-1:000000000000:table/Gone/backup/01700000000000-abcdefgh",
            "GlobalSecondaryIndexOverride": [{"IndexName": "ByX", "Projection": {},
                "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}]}]}"#,
    ));
    refused(server.call(
        "RestoreTableToPointInTime",
        r#"{"TargetTableName": "Restored", "SourceTableName": "Gone", "UseLatestRestorableTime": true,
            "LocalSecondaryIndexOverride": [{"IndexName": "LocalX", "Projection": {},
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "x", "KeyType": "RANGE"}]}]}"#,
    ));
    let listed = server.call("ListTables", "{}");
    assert_eq!(listed.json()["TableNames"], serde_json::json!([]));
    // The model's checks come first: a bad enum value elsewhere is its error.
    let bad_enum = server.call(
        "CreateTable",
        &table(
            r#", "GlobalSecondaryIndexes": [{"IndexName": "ByX", "Projection": {},
                  "KeySchema": [{"AttributeName": "x", "KeyType": "HASHX"}]}]"#,
        ),
    );
    assert!(bad_enum.json()["message"]
        .as_str()
        .unwrap_or_default()
        .contains("Member must satisfy enum value set"));
    let plain = r#"{"TableName": "Tbl", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}"#;
    assert_eq!(server.call("CreateTable", plain).status, 200);
    refused(server.call(
        "UpdateTable",
        r#"{"TableName": "Tbl", "AttributeDefinitions": [{"AttributeName": "x", "AttributeType": "S"}],
            "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": "ByX", "Projection": {},
                "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}]}}]}"#,
    ));
    let described = server.call("DescribeTable", r#"{"TableName": "Tbl"}"#);
    assert!(described.json()["Table"]
        .get("GlobalSecondaryIndexes")
        .is_none());
}

/// An entry of `UpdateTable`'s `GlobalSecondaryIndexUpdates` must carry exactly one of
/// `Create`, `Update` and `Delete` (members outside DynamoDB's model do not count), refused
/// in DynamoDB's words otherwise (Alternator's `test_gsi_updatetable_errors`, which passes on
/// DynamoDB), before the table is touched.
#[test]
fn an_index_update_without_exactly_one_action_is_refused_as_dynamodb_refuses_it() {
    let server = Server::start(|_| {});
    let created = server.call(
        "CreateTable",
        r#"{"TableName": "Tbl", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}"#,
    );
    assert_eq!(created.status, 200);
    let create = r#"{"IndexName": "ByX", "Projection": {"ProjectionType": "ALL"},
                     "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}]}"#;
    let none = "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null";
    let several = "One or more parameter values were invalid: Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object";
    for (update, message) in [
        ("{}".to_owned(), none),
        (format!(r#"{{"Dog": {create}}}"#), none),
        (
            format!(r#"{{"Create": {create}, "Delete": {{"IndexName": "Other"}}}}"#),
            several,
        ),
    ] {
        let reply = server.call(
            "UpdateTable",
            &format!(
                r#"{{"TableName": "Tbl",
                    "AttributeDefinitions": [{{"AttributeName": "x", "AttributeType": "S"}}],
                    "GlobalSecondaryIndexUpdates": [{update}]}}"#
            ),
        );
        assert_eq!(reply.status, 400, "{update}");
        assert_eq!(
            reply.error_type(),
            "com.amazon.coral.validate#ValidationException"
        );
        assert_eq!(reply.json()["message"], message, "{update}");
    }
    let described = server.call("DescribeTable", r#"{"TableName": "Tbl"}"#);
    assert!(described.json()["Table"]
        .get("GlobalSecondaryIndexes")
        .is_none());
}

#[test]
fn a_client_request_token_longer_than_36_characters_is_refused_before_the_transaction_runs() {
    let server = Server::start(|_| {});
    let created = server.call(
        "CreateTable",
        r#"{"TableName": "Tokens", "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}"#,
    );
    assert_eq!(created.status, 200);
    // The SDKs check the length before sending; a hand-made request reaches the server.
    let transaction = |token: &str| {
        server.call(
            "TransactWriteItems",
            &format!(
                r#"{{"ClientRequestToken": "{token}", "TransactItems": [{{"Put": {{"TableName": "Tokens", "Item": {{"pk": {{"S": "a"}}}}}}}}]}}"#
            ),
        )
    };
    let long = "t".repeat(37);
    let refused = transaction(&long);
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json(),
        serde_json::json!({
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": format!("1 validation error detected: Value '{long}' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36"),
        })
    );
    let scan = server.call("Scan", r#"{"TableName": "Tokens"}"#);
    assert_eq!(scan.json()["Count"], 0, "nothing written");
    assert_eq!(transaction("t").status, 200);
    let mismatch = server.call(
        "TransactWriteItems",
        r#"{"ClientRequestToken": "t", "TransactItems": [{"Put": {"TableName": "Tokens", "Item": {"pk": {"S": "b"}}}}]}"#,
    );
    assert_eq!(
        (mismatch.status, mismatch.error_type().as_str()),
        (
            400,
            "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException"
        )
    );
}

#[test]
fn requests_are_checked_in_dynamodbs_order() {
    let server = Server::start(|_| {});
    // 1. Content type: anything but JSON 1.0 (or plain JSON) is not the protocol at all.
    let wrong_type = server.raw(
        "POST",
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
        ],
        b"{}",
    );
    assert_eq!(wrong_type.status, 404);
    assert_eq!(wrong_type.body, b"<UnknownOperationException/>\n");
    // 2. JSON, before the target is looked at.
    let bad_json = server.raw(
        "POST",
        &[
            ("Content-Type", "application/json"),
            ("X-Amz-Target", "Nonsense"),
        ],
        b"{not json",
    );
    assert_eq!(bad_json.status, 400);
    assert_eq!(
        bad_json.json(),
        serde_json::json!({"__type": "com.amazon.coral.service#SerializationException"})
    );
    assert_eq!(
        bad_json.headers["content-type"], "application/json",
        "echoes plain JSON"
    );
    // 3. The target, before authentication.
    let unknown = server.raw(
        "POST",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", "DynamoDB_20120810.Frobnicate"),
        ],
        b"{}",
    );
    assert_eq!(
        unknown.error_type(),
        "com.amazon.coral.service#UnknownOperationException"
    );
    // 4. Authentication.
    let unsigned = server.raw(
        "POST",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
        ],
        b"{}",
    );
    assert_eq!(unsigned.status, 400);
    assert_eq!(
        unsigned.error_type(),
        "com.amazon.coral.service#MissingAuthenticationTokenException"
    );
    let garbled = server.raw(
        "POST",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=x/20261126/us-east-1/dynamodb/aws4_request",
            ),
        ],
        b"{}",
    );
    assert_eq!(
        garbled.error_type(),
        "com.amazon.coral.service#IncompleteSignatureException"
    );
    // 5. The operation's own validation.
    let missing = server.call("DescribeTable", "{}");
    assert_eq!(
        missing.error_type(),
        "com.amazon.coral.validate#ValidationException"
    );
    assert_eq!(
        missing.json()["message"],
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
    );
    let unsupported = server.call(
        "CreateTable",
        r#"{"TableName": "T", "GlobalTableSourceArn": "arn:aws:dynamodb:us-east-1:000000000000:table/T"}"#,
    );
    assert_eq!(
        unsupported.error_type(),
        "com.amazon.coral.validate#ValidationException"
    );
    assert_eq!(
        unsupported.json()["message"],
        "tidestore does not support the parameter GlobalTableSourceArn of CreateTable"
    );
    let bad_enum = server.call(
        "PutItem",
        r#"{"TableName": "Music", "Item": {}, "ReturnValues": "DUMMY"}"#,
    );
    assert_eq!(
        bad_enum.error_type(),
        "com.amazon.coral.validate#ValidationException"
    );
    assert_eq!(
        bad_enum.json()["message"],
        "1 validation error detected: Value 'DUMMY' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW]"
    );
    let not_served = server.call("CreateGlobalTable", r#"{"GlobalTableName": "g"}"#);
    assert_eq!(
        not_served.error_type(),
        "com.amazon.coral.service#UnknownOperationException"
    );
    assert!(not_served.json()["message"]
        .as_str()
        .unwrap_or_default()
        .contains("CreateGlobalTable"));
}

/// An empty body is not bad JSON or the wrong protocol until the target and the signature
/// have been checked: a missing or bad signature is what DynamoDB answers first, and only a
/// signed empty body is a SerializationException, whatever its content type (dynalite,
/// which reproduces DynamoDB's order; Alternator's `test_no_authorization_header`,
/// `test_expired_signature` and `test_signature_too_futuristic`, which send no body and pass
/// on DynamoDB).
#[test]
fn an_empty_body_is_a_serialization_exception_only_after_the_target_and_the_signature() {
    let server = Server::start(|_| {});
    let send = |content_type: &str, target: &str, authorization: Option<&str>| {
        let mut headers = vec![("Content-Type", content_type), ("X-Amz-Target", target)];
        headers.extend(authorization.map(|a| ("Authorization", a)));
        server.raw("POST", &headers, b"")
    };
    let json = "application/x-amz-json-1.0";
    let list = "DynamoDB_20120810.ListTables";
    let unsigned = send(json, list, None);
    assert_eq!(unsigned.status, 400);
    assert_eq!(
        unsigned.error_type(),
        "com.amazon.coral.service#MissingAuthenticationTokenException"
    );
    let garbled = send(json, list, Some("AWS4-HMAC-SHA256 Credential=x"));
    assert_eq!(
        garbled.error_type(),
        "com.amazon.coral.service#IncompleteSignatureException"
    );
    let unknown = send(json, "DynamoDB_20120810.Frobnicate", None);
    assert_eq!(
        unknown.error_type(),
        "com.amazon.coral.service#UnknownOperationException"
    );
    for content_type in [json, "application/json", "text/plain"] {
        let signed = send(content_type, list, Some(AUTHORIZATION));
        assert_eq!(signed.status, 400, "{content_type}");
        assert_eq!(
            signed.json(),
            serde_json::json!({"__type": "com.amazon.coral.service#SerializationException"}),
            "{content_type}"
        );
    }
}

#[test]
fn streams_targets_are_checked_as_dynamodbs_and_the_two_apis_do_not_mix() {
    let server = Server::start(|_| {});
    let unknown = |reply: Reply| {
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.json(),
            serde_json::json!({"__type": "com.amazon.coral.service#UnknownOperationException"}),
            "no message, as for DynamoDB's unknown operations"
        );
    };
    // An operation neither API has, one of DynamoDB's under the Streams prefix, one of
    // Streams' under DynamoDB's, and a Streams prefix of another version.
    unknown(server.call_streams("Frobnicate", "{}"));
    unknown(server.call_streams("ListTables", "{}"));
    unknown(server.call_streams("DescribeTable", r#"{"TableName": "T"}"#));
    unknown(server.call("ListStreams", "{}"));
    unknown(server.call("GetRecords", r#"{"ShardIterator": "x"}"#));
    unknown(server.call_target("DynamoDBStreams_20111205.ListStreams", "{}"));
    unknown(server.call_target("DynamoDBStreams_20120810.", "{}"));

    let listed = server.call_streams("ListStreams", "{}");
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json(), serde_json::json!({"Streams": []}));
    let crc: u32 = listed.headers["x-amz-crc32"].parse().expect("a number");
    assert_eq!(crc, crc32fast::hash(&listed.body));
    assert!(!listed.headers["x-amzn-requestid"].is_empty());

    // The order of checks holds for Streams: content type, JSON, target, authentication.
    let streams_headers = |content_type: &'static str| {
        [
            ("Content-Type", content_type),
            ("X-Amz-Target", "DynamoDBStreams_20120810.ListStreams"),
        ]
    };
    let wrong_type = server.raw("POST", &streams_headers("text/plain"), b"{}");
    assert_eq!(
        (wrong_type.status, wrong_type.body.as_slice()),
        (404, &b"<UnknownOperationException/>\n"[..])
    );
    let bad_json = server.raw("POST", &streams_headers("application/json"), b"{no");
    assert_eq!(
        bad_json.error_type(),
        "com.amazon.coral.service#SerializationException"
    );
    let unsigned = server.raw(
        "POST",
        &streams_headers("application/x-amz-json-1.0"),
        b"{}",
    );
    assert_eq!(
        unsigned.error_type(),
        "com.amazon.coral.service#MissingAuthenticationTokenException"
    );

    // Then the Streams model's members.
    let validation = |reply: Reply, message: &str| {
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.json(),
            serde_json::json!({"__type": "com.amazon.coral.validate#ValidationException", "message": message})
        );
    };
    validation(
        server.call_streams("DescribeStream", "{}"),
        "1 validation error detected: Value null at 'streamArn' failed to satisfy constraint: Member must not be null",
    );
    validation(
        server.call_streams("GetShardIterator", r#"{"StreamArn": null}"#),
        "3 validation errors detected: Value null at 'shardId' failed to satisfy constraint: Member must not be null; Value null at 'shardIteratorType' failed to satisfy constraint: Member must not be null; Value null at 'streamArn' failed to satisfy constraint: Member must not be null",
    );
    let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/Gone/stream/2026-12-05T00:00:00.000";
    validation(
        server.call_streams(
            "GetShardIterator",
            &format!(r#"{{"StreamArn": "{arn}", "ShardId": "shardId-00000000000000000001-00000000", "ShardIteratorType": "OLDEST"}}"#),
        ),
        "1 validation error detected: Value 'OLDEST' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]",
    );
    validation(
        server.call_streams(
            "DescribeStream",
            &format!(r#"{{"StreamArn": "{arn}", "ShardFilter": {{"Type": "CHILD_SHARDS"}}}}"#),
        ),
        "tidestore does not support the parameter ShardFilter of DescribeStream",
    );
    validation(
        server.call_streams("GetRecords", r#"{"ShardIterator": "not an iterator"}"#),
        "Invalid ShardIterator",
    );
    // Members the model does not define are ignored, as for DynamoDB's operations.
    let described = server.call_streams(
        "DescribeStream",
        &format!(r#"{{"StreamArn": "{arn}", "Frobnicate": 1}}"#),
    );
    assert_eq!(
        described.error_type(),
        "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
    );
    let wrong_type = server.call_streams("ListStreams", r#"{"Limit": "ten"}"#);
    assert_eq!(
        wrong_type.error_type(),
        "com.amazon.coral.service#SerializationException"
    );
}

#[test]
fn bodies_may_be_compressed_and_are_bounded() {
    let server = Server::start(|_| {});
    let create = r#"{"TableName": "Gzipped", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(create.as_bytes()).expect("gzip");
    let body = gz.finish().expect("gzip");
    let reply = server.raw(
        "POST",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", "DynamoDB_20120810.CreateTable"),
            ("Authorization", AUTHORIZATION),
            ("Content-Encoding", "gzip"),
        ],
        &body,
    );
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["TableDescription"]["TableName"], "Gzipped");

    let oversized = vec![b' '; tidestore::server::MAX_BODY_BYTES + 1];
    let reply = server.raw(
        "POST",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
            ("Authorization", AUTHORIZATION),
        ],
        &oversized,
    );
    assert_eq!(reply.status, 413);
    // A small gzip body that inflates past the limit is refused as well.
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    bomb.write_all(&vec![b' '; tidestore::server::MAX_BODY_BYTES + 1])
        .expect("gzip");
    let bomb = bomb.finish().expect("gzip");
    assert!(bomb.len() < 100_000);
    let reply = server.raw(
        "POST",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
            ("Authorization", AUTHORIZATION),
            ("Content-Encoding", "gzip"),
        ],
        &bomb,
    );
    assert_eq!(reply.status, 413);
}

/// An answer above 4 KiB goes out gzip-compressed to a client that accepts gzip, with the
/// CRC of the compressed bytes, as DynamoDB answers (wire.md; Alternator's
/// `test_crc32_header_with_compression`, which passes on DynamoDB); a smaller answer, or one
/// to a client that does not ask, goes out plain.
#[test]
fn large_answers_are_gzipped_when_the_client_accepts_gzip() {
    let server = Server::start(|_| {});
    let create = r#"{"TableName": "Big", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}"#;
    assert_eq!(server.call("CreateTable", create).status, 200);
    let large = "x".repeat(tidestore::server::GZIP_ABOVE_BYTES + 1000);
    // Above 64 KiB, the request is checked and the answer compressed off the async thread.
    let huge = "y".repeat(100_000);
    for (key, data) in [("large", &large), ("huge", &huge)] {
        let put = format!(
            r#"{{"TableName": "Big", "Item": {{"pk": {{"S": "{key}"}}, "data": {{"S": "{data}"}}}}}}"#
        );
        assert_eq!(server.call("PutItem", &put).status, 200);
    }
    let put = r#"{"TableName": "Big", "Item": {"pk": {"S": "small"}}}"#;
    assert_eq!(server.call("PutItem", put).status, 200);
    let get = |key: &str, accept: &str| {
        let body = format!(r#"{{"TableName": "Big", "Key": {{"pk": {{"S": "{key}"}}}}}}"#);
        let mut headers = vec![
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", "DynamoDB_20120810.GetItem"),
            ("Authorization", AUTHORIZATION),
        ];
        if !accept.is_empty() {
            headers.push(("Accept-Encoding", accept));
        }
        server.raw("POST", &headers, body.as_bytes())
    };
    for (key, data) in [("large", &large), ("huge", &huge)] {
        let zipped = get(key, "gzip, deflate");
        assert_eq!(zipped.status, 200);
        assert_eq!(zipped.headers["content-encoding"], "gzip");
        assert_eq!(&zipped.body[..2], b"\x1f\x8b");
        let crc: u32 = zipped.headers["x-amz-crc32"].parse().expect("a number");
        assert_eq!(crc, crc32fast::hash(&zipped.body));
        let mut text = String::new();
        flate2::read::GzDecoder::new(&zipped.body[..])
            .read_to_string(&mut text)
            .expect("gunzip");
        let answer: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(answer["Item"]["data"]["S"], data.as_str());
    }
    for (key, accept) in [("small", "gzip"), ("large", ""), ("large", "gzip;q=0")] {
        let plain = get(key, accept);
        assert_eq!(plain.status, 200);
        assert!(
            !plain.headers.contains_key("content-encoding"),
            "{key} {accept}"
        );
        assert!(plain.json()["Item"].is_object());
    }
}

/// A client that prefers deflate gets an answer above 4 KiB deflated (zlib's format, as HTTP
/// means it), with the CRC of the bytes sent, and `x-gzip` is not a coding DynamoDB answers
/// with (Alternator's `test_compressed_response[deflate]` and
/// `test_compressed_response_accept_encodings`, which pass on DynamoDB).
#[test]
fn large_answers_are_deflated_for_a_client_that_prefers_deflate() {
    let server = Server::start(|_| {});
    let create = r#"{"TableName": "Big", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}"#;
    assert_eq!(server.call("CreateTable", create).status, 200);
    let large = "x".repeat(tidestore::server::GZIP_ABOVE_BYTES + 1000);
    let put = format!(
        r#"{{"TableName": "Big", "Item": {{"pk": {{"S": "k"}}, "data": {{"S": "{large}"}}}}}}"#
    );
    assert_eq!(server.call("PutItem", &put).status, 200);
    let get = |accept: &str| {
        let headers = [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", "DynamoDB_20120810.GetItem"),
            ("Authorization", AUTHORIZATION),
            ("Accept-Encoding", accept),
        ];
        let body = r#"{"TableName": "Big", "Key": {"pk": {"S": "k"}}}"#;
        server.raw("POST", &headers, body.as_bytes())
    };
    for accept in ["deflate", "br, identity, deflate, gzip", "*, gzip;q=0.5"] {
        let deflated = get(accept);
        assert_eq!(deflated.status, 200);
        assert_eq!(deflated.headers["content-encoding"], "deflate", "{accept}");
        let crc: u32 = deflated.headers["x-amz-crc32"].parse().expect("a number");
        assert_eq!(crc, crc32fast::hash(&deflated.body));
        let mut text = String::new();
        flate2::read::ZlibDecoder::new(&deflated.body[..])
            .read_to_string(&mut text)
            .expect("inflate");
        let answer: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(answer["Item"]["data"]["S"], large.as_str());
    }
    let plain = get("x-gzip");
    assert!(!plain.headers.contains_key("content-encoding"));
    assert_eq!(plain.json()["Item"]["data"]["S"], large.as_str());
}

/// A body that is not the gzip its `Content-Encoding` claims (plain JSON, empty, cut short)
/// is DynamoDB's 500 InternalServerError and nothing is written; gzip members one after
/// another are one body (Alternator's `test_broken_gzip_content`,
/// `test_gzip_request_with_missing_character`, `test_gzip_request_empty` and
/// `test_gzip_request_two_gzips`, which pass on DynamoDB).
#[test]
fn a_body_that_is_not_its_gzip_is_a_500_and_gzip_members_make_one_body() {
    let server = Server::start(|_| {});
    let create = r#"{"TableName": "Zipped", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}"#;
    assert_eq!(server.call("CreateTable", create).status, 200);
    let gzipped = |text: &[u8]| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text).expect("gzip");
        gz.finish().expect("gzip")
    };
    let put = |key: &str| {
        format!(r#"{{"TableName": "Zipped", "Item": {{"pk": {{"S": "{key}"}}}}}}"#).into_bytes()
    };
    let send = |body: &[u8]| {
        server.raw(
            "POST",
            &[
                ("Content-Type", "application/x-amz-json-1.0"),
                ("X-Amz-Target", "DynamoDB_20120810.PutItem"),
                ("Authorization", AUTHORIZATION),
                ("Content-Encoding", "gzip"),
            ],
            body,
        )
    };
    let cut = {
        let mut whole = gzipped(&put("cut"));
        whole.pop();
        whole
    };
    for (key, body) in [("plain", put("plain")), ("cut", cut), ("empty", Vec::new())] {
        let reply = send(&body);
        assert_eq!(reply.status, 500, "{key}");
        assert_eq!(
            reply.error_type(),
            "com.amazonaws.dynamodb.v20120810#InternalServerError",
            "{key}"
        );
        let got = server.call(
            "GetItem",
            &format!(r#"{{"TableName": "Zipped", "Key": {{"pk": {{"S": "{key}"}}}}}}"#),
        );
        assert!(got.json().get("Item").is_none(), "{key} was written");
    }
    // An encoding named in bytes that are not text is not the absence of one.
    let odd = server.raw(
        "POST",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", "DynamoDB_20120810.PutItem"),
            ("Authorization", AUTHORIZATION),
            ("Content-Encoding", "gz\u{ef}p"),
        ],
        &put("odd"),
    );
    assert_eq!(odd.status, 500);
    let whole = put("two");
    let (first, second) = whole.split_at(10);
    let two = [gzipped(first), gzipped(second)].concat();
    assert_eq!(send(&two).status, 200);
    let got = server.call(
        "GetItem",
        r#"{"TableName": "Zipped", "Key": {"pk": {"S": "two"}}}"#,
    );
    assert_eq!(got.json()["Item"]["pk"]["S"], "two");
}

/// `GET /` names the host the client addressed, as DynamoDB names itself (wire.md), or the
/// address the connection came in on when the request names none (HTTP/1.0 without
/// `Host`): never an endpoint elsewhere.
#[test]
fn get_slash_is_the_health_answer_naming_the_host_addressed() {
    let server = Server::start(|c| c.region = "eu-west-1".into());
    let reply = server.raw("GET", &[], b"");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, format!("healthy: {} ", server.addr).as_bytes());
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let reply = Reply::parse(&answer);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, format!("healthy: {} ", server.addr).as_bytes());
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    let request = "GET / HTTP/1.1\r\nHost: db.example:8000\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert_eq!(Reply::parse(&answer).body, b"healthy: db.example:8000 ");
}

/// A request with an `Origin` (a browser script's) is answered with CORS headers allowing any
/// origin, and an `OPTIONS` preflight with it is a 200 granting the method and headers it asks
/// for; without an `Origin` no CORS header is sent (Alternator's `test_cors_not_used`,
/// `test_cors_allow_origin` and `test_cors_allow_requested`, which pass on DynamoDB).
#[test]
fn requests_with_an_origin_get_cors_headers_and_a_preflight_is_granted_what_it_asks() {
    let server = Server::start(|_| {});
    let cors = [
        "access-control-allow-origin",
        "access-control-expose-headers",
        "access-control-max-age",
        "access-control-allow-methods",
        "access-control-allow-headers",
    ];
    let list_tables = [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
        ("Authorization", AUTHORIZATION),
    ];
    for (method, headers) in [("OPTIONS", &[][..]), ("GET", &[]), ("POST", &list_tables)] {
        let reply = server.raw(method, headers, b"{}");
        for name in cors {
            assert!(!reply.headers.contains_key(name), "{method} {name}");
        }
    }
    let asking = [
        ("Origin", "http://example.com/"),
        ("Access-Control-Request-Method", "dog"),
        ("Access-Control-Request-Headers", "cat, meerkat, mouse"),
    ];
    let preflight = server.raw("OPTIONS", &asking, b"");
    assert_eq!(preflight.status, 200);
    assert_eq!(preflight.headers["access-control-allow-origin"], "*");
    assert_eq!(
        preflight.headers["access-control-expose-headers"],
        "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"
    );
    assert_eq!(preflight.headers["access-control-max-age"], "172800");
    assert_eq!(preflight.headers["access-control-allow-methods"], "dog");
    assert_eq!(
        preflight.headers["access-control-allow-headers"],
        "cat, meerkat, mouse"
    );
    let post = [&list_tables[..], &asking[..]].concat();
    for (method, headers) in [("GET", &asking[..]), ("POST", &post[..])] {
        let reply = server.raw(method, headers, b"{}");
        assert_eq!(reply.status, 200, "{method}");
        assert_eq!(
            reply.headers["access-control-allow-origin"], "*",
            "{method}"
        );
        assert!(reply.headers.contains_key("access-control-expose-headers"));
        for name in &cors[2..] {
            assert!(!reply.headers.contains_key(*name), "{method} {name}");
        }
    }
    assert_eq!(
        server.raw("POST", &post, b"{}").json(),
        serde_json::json!({"TableNames": []})
    );
    // A preflight is of `/` only: elsewhere it is the 404 any path gets, granting nothing.
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    let request = "OPTIONS /elsewhere HTTP/1.1\r\nHost: x\r\nOrigin: https://example.com\r\n\
                   Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let elsewhere = Reply::parse(&answer);
    assert_eq!(elsewhere.status, 404);
    for name in &cors[2..] {
        assert!(!elsewhere.headers.contains_key(*name), "{name}");
    }
}

/// A keep-alive connection left idle stays usable for the header-read timeout (which hyper
/// counts from the previous answer) and is closed after it: two minutes by default, since
/// tests written against DynamoDB reuse a connection idle for 30 seconds (Alternator's
/// `test_ttl`, which closed here at 30 s), here two seconds to keep the test short.
#[test]
fn an_idle_keep_alive_connection_lasts_the_header_read_timeout() {
    assert_eq!(
        Config::new("unused").header_read_timeout,
        Duration::from_secs(120)
    );
    let server = Server::start(|c| c.header_read_timeout = Duration::from_secs(2));
    let timeout = Duration::from_secs(10);
    let mut kept = http_client::Connection::open(server.addr, timeout).expect("connect");
    for _ in 0..3 {
        assert_eq!(kept.health().expect("an answer").0, 200);
        std::thread::sleep(Duration::from_millis(1000));
    }
    let mut left = http_client::Connection::open(server.addr, timeout).expect("connect");
    assert_eq!(left.health().expect("an answer").0, 200);
    std::thread::sleep(Duration::from_millis(3500));
    assert!(
        left.health().is_err(),
        "an idle connection outlived the timeout"
    );
}

/// Runs `tests/wire/test_clients.py` (boto3 and the AWS CLI v1) against `server`.
fn run_clients(server: &Server, env: &[(&str, &str)], filter: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wire/test_clients.py");
    let mut command = Command::new("python3");
    command
        .arg("-m")
        .arg("unittest")
        .arg("-v")
        .arg(filter)
        .current_dir(script.parent().expect("a folder"))
        .env("TIDESTORE_ENDPOINT", server.endpoint())
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "y")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().expect("python3 runs");
    assert!(
        out.status.success(),
        "clients failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// moto's AWS-verified DynamoDB tests — a suite written by others and run by them against
/// real DynamoDB — pass against `tidestore serve`, but for the ones
/// `tests/conformance/moto_expected_failures.txt` lists with the reason
/// (`tests/conformance/moto_aws_verified.py` fetches moto's pinned source from PyPI once,
/// into cargo's target temporary directory, and checks its SHA-256).
#[test]
fn motos_aws_verified_dynamodb_tests_pass_but_the_listed_ones() {
    // An S3 directory without the buckets moto's tests create through S3's API (which
    // tidestore does not serve): an export to a bucket that does not exist fails as
    // DynamoDB's does, with S3NoSuchBucket.
    let s3 = TempDir::new("wire-moto-s3");
    std::fs::create_dir_all(s3.path()).expect("the S3 directory");
    let data = TempDir::new("wire-moto-db");
    let server = Server::start_in(data.path(), |c| c.s3_dir = Some(s3.path().into()), None);
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/moto_aws_verified.py");
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance");
    let out = Command::new("python3")
        .arg(&script)
        .arg(server.endpoint())
        .arg(&cache)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout
        .lines()
        .skip_while(|l| !l.starts_with("moto "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        out.status.success(),
        "conformance failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{summary}");
}

#[test]
fn boto3_and_the_aws_cli_drive_every_operation() {
    let server = Server::start(|_| {});
    run_clients(&server, &[], "test_clients");
}

/// ImportTable from a `--s3-dir` laid out as DynamoDB's exports lay out S3 (plain and gzip'd
/// DynamoDB JSON), DescribeImport polled to COMPLETED, ListImports' pages, a FAILED import,
/// the refusals; then a restart on the same database keeps the records and the tables.
#[test]
fn import_table_reads_the_s3_directory_and_its_records_survive_a_restart() {
    let (server, _dirs) = s3_clients_across_a_restart(
        "import",
        "test_clients.Imports",
        "test_clients.ImportsAfterRestart",
    );
    // CreateTable's members that `TableCreationParameters` lacks (which the clients will not
    // send) are ignored, as members the model does not define are, not honoured or refused.
    let reply = server.call(
        "ImportTable",
        r#"{"ClientToken": "tagless", "S3BucketSource": {"S3Bucket": "exports", "S3KeyPrefix": "AWSDynamoDB/plain/"},
            "InputFormat": "DYNAMODB_JSON",
            "TableCreationParameters": {"TableName": "ImportedTagless",
              "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
              "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
              "BillingMode": "PAY_PER_REQUEST", "Tags": [{"Key": "k", "Value": "v"}],
              "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}}}"#,
    );
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let started = reply.json();
    assert_eq!(
        started["ImportTableDescription"]["ImportStatus"],
        "IN_PROGRESS"
    );
    let arn = started["ImportTableDescription"]["ImportArn"].to_string();
    let mut status = String::new();
    for _ in 0..600 {
        let reply = server.call("DescribeImport", &format!(r#"{{"ImportArn": {arn}}}"#));
        status = reply.json()["ImportTableDescription"]["ImportStatus"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if status != "IN_PROGRESS" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status, "COMPLETED");
    // DynamoDB requires a ClientToken, though its model does not (ScyllaDB's
    // test_client_token_required, run against AWS): the clients always send one (the model
    // marks it an idempotency token), so a raw request shows the refusal.
    let reply = server.call(
        "ImportTable",
        r#"{"S3BucketSource": {"S3Bucket": "exports", "S3KeyPrefix": "AWSDynamoDB/plain/"},
            "InputFormat": "DYNAMODB_JSON",
            "TableCreationParameters": {"TableName": "ImportedTokenless",
              "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
              "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
              "BillingMode": "PAY_PER_REQUEST"}}"#,
    );
    assert_eq!(reply.status, 400);
    assert!(reply.error_type().ends_with("#ValidationException"));
    assert_eq!(
        reply.json()["message"],
        "1 validation error detected: Value null at 'clientToken' failed to satisfy constraint: Member must not be null"
    );
    assert!(server.call("ListImports", "{}").json()["ImportSummaryList"]
        .as_array()
        .is_some_and(|l| !l.iter().any(|s| s["TableArn"]
            .as_str()
            .is_some_and(|a| a.ends_with("/ImportedTokenless")))));
    drop(server);
}

/// ExportTableToPointInTime into a `--s3-dir` through boto3: an export of a moment holds the
/// writes before it and not the one after, ImportTable over its data files makes the table
/// again item for item, DescribeExport goes IN_PROGRESS to COMPLETED (FAILED for a missing
/// bucket), ClientToken is idempotent, ListExports pages, a deleted table's export is
/// described but not listed by its TableArn (a new table of the name lists only its own),
/// an empty S3SseKmsKeyId is refused by the model's bound, DynamoDB's errors; then a restart
/// on the same database keeps the records.
#[test]
fn export_table_writes_the_s3_directory_and_its_records_survive_a_restart() {
    s3_clients_across_a_restart(
        "export",
        "test_clients.Exports",
        "test_clients.ExportsAfterRestart",
    );
}

/// An INCREMENTAL_EXPORT through boto3: a history written two hours ago by the library
/// (a manual clock; a window is at least 15 minutes) is served, exported over a window
/// whose edges fall on writes, and the files read back hold each changed item once with
/// the images its view type names; DescribeExport and ListExports report the type and the
/// window.
#[test]
fn incremental_export_through_boto3_holds_the_windows_changes() {
    use tidestore::*;
    let data = TempDir::new("wire-incremental-db");
    let s3 = TempDir::new("wire-incremental-s3");
    std::fs::create_dir_all(s3.path().join("incbucket")).expect("the bucket");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let start = (now - 7200) * 1000;
    let clock = std::sync::Arc::new(ManualClock::new(Timestamp(start)));
    {
        let db = Database::open_with(data.path(), Options::default().clock(clock.clone()))
            .expect("opens");
        db.create_table(
            CreateTableInput::new("Inc")
                .hash_key("pk", ScalarAttributeType::S)
                .pay_per_request(),
        )
        .expect("created");
        let mut pitr = UpdateContinuousBackupsInput::new("Inc", true);
        pitr.point_in_time_recovery_specification
            .recovery_period_in_days = None;
        db.update_continuous_backups(pitr).expect("enabled");
        let item = |pk: &str, v: &str| -> Item {
            serde_json::from_value(serde_json::json!({"pk": {"S": pk}, "v": {"S": v}}))
                .expect("an item")
        };
        let put = |pk: &str, v: &str| {
            db.put_item(PutItemInput::new("Inc", item(pk, v)))
                .expect("put");
        };
        let delete = |pk: &str| {
            let key = serde_json::from_value(serde_json::json!({"pk": {"S": pk}})).expect("a key");
            db.delete_item(DeleteItemInput::new("Inc", key))
                .expect("deleted");
        };
        clock.advance(1000);
        for pk in ["a", "b", "c"] {
            put(pk, "old");
        }
        clock.set(Timestamp(start + 60_000));
        put("a", "new");
        clock.advance(1000);
        delete("b");
        put("d", "new");
        put("e", "brief");
        delete("e");
        clock.set(Timestamp(start + 60_000 + 20 * 60_000));
        put("c", "late");
    }
    let server = Server::start_in(data.path(), |c| c.s3_dir = Some(s3.path().into()), None);
    let from = ((start + 60_000) / 1000).to_string();
    let to = ((start + 60_000 + 20 * 60_000) / 1000).to_string();
    let s3_dir = s3.path().to_str().expect("a UTF-8 path").to_owned();
    let env = [
        ("TIDESTORE_S3_DIR", s3_dir.as_str()),
        ("TIDESTORE_INCREMENTAL_FROM", from.as_str()),
        ("TIDESTORE_INCREMENTAL_TO", to.as_str()),
    ];
    run_clients(&server, &env, "test_clients.IncrementalExports");
}

/// A FilterSpecification on the wire (boto3's model does not carry it yet, so raw JSON): a
/// bad one is a ValidationException with Scan's message before any export is recorded; a
/// good one is answered and described with the FilterSpecification as sent, DynamoDB JSON
/// values included, the export holds only the items it selects, projected, and a restart
/// on the same database still describes it.
#[test]
fn a_filtered_export_is_described_with_its_filter_specification_across_a_restart() {
    use serde_json::json;
    let data = TempDir::new("wire-filter-db");
    let s3 = TempDir::new("wire-filter-s3");
    let bucket = s3.path().join("fbucket");
    std::fs::create_dir_all(&bucket).expect("the bucket");
    let start = || Server::start_in(data.path(), |c| c.s3_dir = Some(s3.path().into()), None);
    let server = start();
    let ok = |reply: Reply| {
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()
    };
    let table = ok(server.call(
        "CreateTable",
        r#"{"TableName": "Filtered", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}]}"#,
    ));
    let arn = table["TableDescription"]["TableArn"].clone();
    ok(server.call(
        "UpdateContinuousBackups",
        r#"{"TableName": "Filtered",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}"#,
    ));
    for (pk, sk, a) in [("p1", 1, 1), ("p1", 2, 2), ("p1", 3, 3), ("p2", 1, 3)] {
        let item = json!({"TableName": "Filtered", "Item": {
            "pk": {"S": pk}, "sk": {"N": sk.to_string()}, "a": {"N": a.to_string()}, "b": {"S": "dropped"}}});
        ok(server.call("PutItem", &item.to_string()));
    }

    // Refused before the answer, with Scan's words.
    let bad = json!({"TableArn": arn, "S3Bucket": "fbucket",
                     "FilterSpecification": {"FilterExpression": "a = :undefined"}});
    let refused = server.call("ExportTableToPointInTime", &bad.to_string());
    assert_eq!(refused.status, 400);
    assert!(refused.error_type().ends_with("#ValidationException"));
    let scan = server.call(
        "Scan",
        r#"{"TableName": "Filtered", "FilterExpression": "a = :undefined"}"#,
    );
    assert_eq!(scan.status, 400);
    assert_eq!(refused.json()["message"], scan.json()["message"]);
    let listed = ok(server.call("ListExports", "{}"));
    assert_eq!(
        listed["ExportSummaries"],
        json!([]),
        "a refused export is not recorded"
    );

    let spec = json!({
        "KeyConditionExpression": "pk = :p",
        "FilterExpression": "#a >= :min",
        "ProjectionExpression": "sk, #a",
        "ExpressionAttributeNames": {"#a": "a"},
        "ExpressionAttributeValues": {":p": {"S": "p1"}, ":min": {"N": "2"}},
    });
    let request = json!({"TableArn": arn, "S3Bucket": "fbucket", "FilterSpecification": spec});
    let started = ok(server.call("ExportTableToPointInTime", &request.to_string()));
    let started = &started["ExportDescription"];
    assert_eq!(started["ExportStatus"], "IN_PROGRESS");
    assert_eq!(started["FilterSpecification"], spec);
    let describe = json!({"ExportArn": started["ExportArn"]}).to_string();
    let mut done = json!(null);
    for _ in 0..600 {
        done = ok(server.call("DescribeExport", &describe))["ExportDescription"].clone();
        if done["ExportStatus"] != "IN_PROGRESS" {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(done["ExportStatus"], "COMPLETED", "{done}");
    assert_eq!(done["FilterSpecification"], spec);
    assert_eq!(done["ItemCount"], 2);
    let summary = bucket.join(done["ExportManifest"].as_str().expect("a key"));
    let files = std::fs::read_to_string(summary.with_file_name("manifest-files.json"))
        .expect("the files' manifest");
    let mut items = Vec::new();
    for entry in files.lines() {
        let entry: serde_json::Value = serde_json::from_str(entry).expect("a manifest line");
        let gz = std::fs::read(bucket.join(entry["dataFileS3Key"].as_str().expect("a key")))
            .expect("a data file");
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut text)
            .expect("gzip");
        items.extend(
            text.lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a line")),
        );
    }
    items.sort_by_key(|line| {
        line["Item"]["sk"]["N"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    });
    assert_eq!(
        items,
        [
            json!({"Item": {"sk": {"N": "2"}, "a": {"N": "2"}}}),
            json!({"Item": {"sk": {"N": "3"}, "a": {"N": "3"}}}),
        ]
    );
    drop(server);

    let server = start();
    let after = ok(server.call("DescribeExport", &describe))["ExportDescription"].clone();
    assert_eq!(after["FilterSpecification"], spec);
    assert_eq!(after["ExportStatus"], "COMPLETED");
}

/// Runs the clients' tests `before` against a server with a fresh `--s3-dir`
/// (`TIDESTORE_S3_DIR`), then `after` against one restarted on the same database
/// (`TIDESTORE_RESTARTED`); the restarted server, and the two directories it uses.
fn s3_clients_across_a_restart(tag: &str, before: &str, after: &str) -> (Server, [TempDir; 2]) {
    let data = TempDir::new(&format!("wire-{tag}-db"));
    let s3 = TempDir::new(&format!("wire-{tag}-s3"));
    std::fs::create_dir_all(s3.path()).expect("the S3 directory");
    let s3_dir = s3.path().to_str().expect("a UTF-8 path").to_owned();
    let env = [("TIDESTORE_S3_DIR", s3_dir.as_str())];
    {
        let server = Server::start_in(data.path(), |c| c.s3_dir = Some(s3.path().into()), None);
        run_clients(&server, &env, before);
    }
    let server = Server::start_in(data.path(), |c| c.s3_dir = Some(s3.path().into()), None);
    let env = [env[0], ("TIDESTORE_RESTARTED", "1")];
    run_clients(&server, &env, after);
    (server, [data, s3])
}

/// Asserts that `reply` is a ValidationException naming `--s3-dir`.
fn refused_naming_the_s3_dir(reply: &Reply) {
    assert_eq!(reply.status, 400);
    assert!(reply.error_type().ends_with("#ValidationException"));
    let message = reply.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("--s3-dir"), "{message}");
}

#[test]
fn without_an_s3_dir_export_is_refused_naming_the_option() {
    let server = Server::start(|_| {});
    let reply = server.call(
        "ExportTableToPointInTime",
        r#"{"TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/T01", "S3Bucket": "b1"}"#,
    );
    refused_naming_the_s3_dir(&reply);
}

#[test]
fn without_an_s3_dir_import_table_is_refused_naming_the_option() {
    let server = Server::start(|_| {});
    let reply = server.call(
        "ImportTable",
        r#"{"S3BucketSource": {"S3Bucket": "b"}, "InputFormat": "DYNAMODB_JSON",
            "TableCreationParameters": {"TableName": "T01",
              "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"}],
              "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}]}}"#,
    );
    refused_naming_the_s3_dir(&reply);
    let reply = server.call(
        "DescribeImport",
        r#"{"ImportArn": "arn:aws:dynamodb:us-east-1:000000000000:table/T01/import/01576616366715-b4e58d3a"}"#,
    );
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.error_type(),
        "com.amazonaws.dynamodb.v20120810#ImportNotFoundException"
    );
    let reply = server.call("ListImports", "{}");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::json!({"ImportSummaryList": []}));
    for (size, bound) in [
        (0, "greater than or equal to 1"),
        (26, "less than or equal to 25"),
    ] {
        let reply = server.call("ListImports", &format!(r#"{{"PageSize": {size}}}"#));
        assert_eq!(reply.status, 400);
        assert!(reply.error_type().ends_with("#ValidationException"));
        let message = reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains(bound), "{message}");
    }
    let reply = server.call("ListImports", r#"{"NextToken": "0123456789abcdefxx"}"#);
    assert!(reply.error_type().ends_with("#ValidationException"));
}

#[test]
fn with_auth_only_correct_signatures_in_the_servers_region_pass() {
    let server = Server::start(|c| {
        c.secrets = Some(HashMap::from([(
            "AKIDTIDESTORE".to_owned(),
            "s3cr3t".to_owned(),
        )]));
    });
    let env = [
        ("TIDESTORE_AUTH_KEY", "AKIDTIDESTORE"),
        ("TIDESTORE_AUTH_SECRET", "s3cr3t"),
    ];
    run_clients(&server, &env, "test_clients.Signatures");
}

/// SigV4 signs the payload as sent: with `--auth`, a gzip or deflate body signed over its
/// compressed bytes (as the AWS SDKs sign a request they compress) passes, and one signed
/// over its decompressed bytes does not. Found by the `wire_request` fuzz target.
#[test]
fn with_auth_a_compressed_body_is_signed_over_the_bytes_sent() {
    let server = Server::start(|c| {
        c.secrets = Some(HashMap::from([(
            "AKIDTIDESTORE".to_owned(),
            "s3cr3t".to_owned(),
        )]));
    });
    let json = br#"{"TableName": "nope"}"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json).expect("gzip");
    let gzipped = gz.finish().expect("gzip");
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(json).expect("deflate");
    let deflated = z.finish().expect("deflate");
    for (coding, sent) in [("gzip", &gzipped), ("deflate", &deflated)] {
        for (signed_over, passes) in [(&sent[..], true), (&json[..], false)] {
            let date = amz_date_now();
            let host = server.addr.to_string();
            let signed_headers = [
                ("content-encoding", coding),
                ("content-type", "application/x-amz-json-1.0"),
                ("host", host.as_str()),
                ("x-amz-date", date.as_str()),
                ("x-amz-target", "DynamoDB_20120810.DescribeTable"),
            ];
            let authorization = sigv4(
                &signed_headers,
                signed_over,
                ("AKIDTIDESTORE", "s3cr3t"),
                "us-east-1",
            );
            let reply = server.raw(
                "POST",
                &[
                    ("Content-Encoding", coding),
                    ("Content-Type", "application/x-amz-json-1.0"),
                    ("X-Amz-Date", &date),
                    ("X-Amz-Target", "DynamoDB_20120810.DescribeTable"),
                    ("Authorization", &authorization),
                ],
                sent,
            );
            let expected = match passes {
                true => "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                false => "com.amazon.coral.service#InvalidSignatureException",
            };
            assert_eq!(reply.error_type(), expected, "{coding}, passes: {passes}");
        }
    }
}

/// The current time as `X-Amz-Date` writes it.
fn amz_date_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // The civil date of a day count (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    format!("{year:04}{month:02}{day:02}T{h:02}{m:02}{s:02}Z")
}

/// An `Authorization` header signing `headers` (lower-case names, sorted; `x-amz-date`
/// among them) and `payload` with SigV4 for `POST /` to DynamoDB in `region`.
fn sigv4(
    headers: &[(&str, &str)],
    payload: &[u8],
    (key, secret): (&str, &str),
    region: &str,
) -> String {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mac = |key: &[u8], data: &[u8]| {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    };
    let date = headers
        .iter()
        .find(|(n, _)| *n == "x-amz-date")
        .map(|(_, v)| *v)
        .expect("an x-amz-date");
    let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    let names = names.join(";");
    let lines: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let canonical = format!(
        "POST\n/\n\n{lines}\n{names}\n{}",
        hex(&Sha256::digest(payload))
    );
    let scope = format!("{}/{region}/dynamodb/aws4_request", &date[..8]);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut signing = mac(format!("AWS4{secret}").as_bytes(), &date.as_bytes()[..8]);
    for part in [region, "dynamodb", "aws4_request"] {
        signing = mac(&signing, part.as_bytes());
    }
    let signature = hex(&mac(&signing, to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={names}, Signature={signature}"
    )
}

/// With `--auth`, a signature dated more than 15 minutes from the server's clock is refused
/// as such before its key and its credential's scope are judged, and whatever separates the
/// header's parameters, in DynamoDB's words (Alternator's `test_expired_signature` and
/// `test_signature_too_futuristic`, which pass on DynamoDB with this very header: an unknown
/// key, a scope wrong in every part, spaces between the parameters, no body).
#[test]
fn with_auth_a_signature_out_of_date_is_refused_before_its_key_and_scope_are_judged() {
    let server = Server::start(|c| {
        c.secrets = Some(HashMap::from([(
            "AKIDTIDESTORE".to_owned(),
            "s3cr3t".to_owned(),
        )]));
    });
    let header = "AWS4-HMAC-SHA256 Credential=alternator/2/3/4/aws4_request SignedHeaders=x-amz-date;host Signature=123";
    for (date, says) in [
        (
            "20170101T010101Z",
            "Signature expired: 20170101T010101Z is now earlier than ",
        ),
        (
            "30200101T010101Z",
            "Signature not yet current: 30200101T010101Z is still later than ",
        ),
    ] {
        for body in [&b""[..], b"{}"] {
            let reply = server.raw(
                "POST",
                &[
                    ("Content-Type", "application/x-amz-json-1.0"),
                    ("X-Amz-Date", date),
                    ("X-Amz-Target", "DynamoDB_20120810.DescribeEndpoints"),
                    ("Authorization", header),
                ],
                body,
            );
            assert_eq!(reply.status, 400, "{date}");
            assert_eq!(
                reply.error_type(),
                "com.amazon.coral.service#InvalidSignatureException",
                "{date}"
            );
            let message = reply.json()["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(message.starts_with(says), "{date}: {message}");
            assert!(message.ends_with(" min.)"), "{date}: {message}");
        }
    }
}

/// DescribeImport's `ImportArn` outside the model's 37 to 1,024 characters is DynamoDB's
/// ValidationException in the model's words (botocore refuses a short one itself; a long one
/// reaches the server), not ImportNotFoundException.
#[test]
fn describe_import_refuses_an_import_arn_outside_the_models_length() {
    let server = Server::start(|_| {});
    let long = format!(
        "arn:aws:dynamodb:us-east-1:000000000000:table/T01/import/{}",
        "0".repeat(1000)
    );
    for (arn, bound) in [
        ("arn:aws:dynamodb", "greater than or equal to 37".to_owned()),
        (long.as_str(), "less than or equal to 1024".to_owned()),
    ] {
        let reply = server.call(
            "DescribeImport",
            &serde_json::json!({ "ImportArn": arn }).to_string(),
        );
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.error_type(),
            "com.amazon.coral.validate#ValidationException"
        );
        let message = reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(
            message,
            format!("1 validation error detected: Value '{arn}' at 'importArn' failed to satisfy constraint: Member must have length {bound}")
        );
    }
    // At the bounds, a lookup.
    let at_most = format!(
        "arn:aws:dynamodb:us-east-1:000000000000:table/T01/import/{}",
        "0".repeat(1024 - 57)
    );
    assert_eq!(at_most.len(), 1024);
    let reply = server.call(
        "DescribeImport",
        &serde_json::json!({ "ImportArn": at_most }).to_string(),
    );
    assert!(
        reply.error_type().ends_with("#ImportNotFoundException"),
        "{}",
        reply.error_type()
    );
}

/// DescribeImport of an ARN no import can have (its table name shorter than a table name
/// can be, no `/import/` part, not a DynamoDB ARN) is a ValidationException, "Invalid Import
/// ARN", as DynamoDB answers (ScyllaDB's test_import, run against AWS); a well-formed one of
/// no import is ImportNotFoundException.
#[test]
fn describe_import_of_an_arn_no_import_can_have_is_a_validation_exception() {
    let server = Server::start(|_| {});
    for arn in [
        "arn:aws:dynamodb:us-east-1:000000000000:table/x/import/01658528578619-c4d4e311",
        "arn:aws:dynamodb:us-east-1:000000000000:table/T01/export/01658528578619-c4d4e311",
        "arn:aws:dynamodb:us-east-1:000000000000:table/T01/import/",
        "arn:aws:s3:us-east-1:000000000000:table/T01/import/01658528578619-c4d4e311",
    ] {
        let reply = server.call(
            "DescribeImport",
            &serde_json::json!({ "ImportArn": arn }).to_string(),
        );
        assert_eq!(reply.status, 400, "{arn}");
        assert!(
            reply.error_type().ends_with("#ValidationException"),
            "{arn}: {}",
            reply.error_type()
        );
        assert_eq!(reply.json()["message"], "Invalid Import ARN", "{arn}");
    }
    let reply = server.call(
        "DescribeImport",
        r#"{"ImportArn": "arn:aws:dynamodb:us-east-1:000000000000:table/T01/import/01658528578619-c4d4e311"}"#,
    );
    assert!(
        reply.error_type().ends_with("#ImportNotFoundException"),
        "{}",
        reply.error_type()
    );
}

/// A stop cancels the imports still running: the server stops promptly (it does not wait
/// for them to read their files), and after a restart the import is FAILED in the words the
/// import itself wrote before the database closed (not those of the settlement a start makes
/// of a record left IN_PROGRESS), with no table made. The source is a CSV file with a
/// terabyte of zeros after its header (sparse): only a cancellation ends that import.
#[cfg(unix)]
#[test]
fn a_stop_cancels_a_running_import_which_ends_failed_with_no_table() {
    let data = TempDir::new("wire-cancel-db");
    let s3 = TempDir::new("wire-cancel-s3");
    let bucket = s3.path().join("exports");
    std::fs::create_dir_all(&bucket).expect("the bucket");
    let file = std::fs::File::create(bucket.join("endless.csv")).expect("a file");
    std::io::Write::write_all(&mut &file, b"pk,n\n").expect("its header");
    file.set_len(1 << 40).expect("a sparse terabyte");
    drop(file);
    let mut server = Server::start_in(data.path(), |c| c.s3_dir = Some(s3.path().into()), None);
    let reply = server.call(
        "ImportTable",
        r#"{"ClientToken": "endless", "S3BucketSource": {"S3Bucket": "exports"}, "InputFormat": "CSV",
            "TableCreationParameters": {"TableName": "Endless",
              "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
              "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
              "BillingMode": "PAY_PER_REQUEST"}}"#,
    );
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let arn = reply.json()["ImportTableDescription"]["ImportArn"].to_string();
    std::thread::sleep(Duration::from_millis(300));
    let reply = server.call("DescribeImport", &format!(r#"{{"ImportArn": {arn}}}"#));
    assert_eq!(
        reply.json()["ImportTableDescription"]["ImportStatus"],
        "IN_PROGRESS"
    );
    assert!(
        server.serving.stop_within(Duration::from_secs(30)),
        "the stop waited for the import"
    );
    drop(server);

    let server = Server::start_in(data.path(), |c| c.s3_dir = Some(s3.path().into()), None);
    let reply = server.call("DescribeImport", &format!(r#"{{"ImportArn": {arn}}}"#));
    let description = &reply.json()["ImportTableDescription"];
    assert_eq!(description["ImportStatus"], "FAILED", "{description}");
    assert_eq!(
        description["FailureMessage"],
        "the server stopped: the import was cancelled before its table was made"
    );
    let reply = server.call("DescribeTable", r#"{"TableName": "Endless"}"#);
    assert!(reply.error_type().ends_with("#ResourceNotFoundException"));
}

/// ExecuteStatement beyond what moto's tests reach: a SELECT pages by `Limit` and
/// `NextToken` over every item once; INSERT of an existing key is DynamoDB's
/// `DuplicateItemException`; UPDATE of a missing item fails its condition; the `?`s must
/// match `Parameters`; what tidestore does not support is a ValidationException naming it.
#[test]
fn partiql_statements_page_refuse_duplicates_and_name_what_is_not_supported() {
    use serde_json::json;
    let server = Server::start(|_| {});
    let created = server.call(
        "CreateTable",
        r#"{"TableName": "Music", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}]}"#,
    );
    assert_eq!(created.status, 200, "{:?}", created.json());
    let statement = |body: &str| server.call("ExecuteStatement", body);
    for sk in 0..5 {
        let inserted = statement(&format!(
            r#"{{"Statement": "INSERT INTO \"Music\" VALUE {{'pk': 'a', 'sk': {sk}, 'n': ?}}", "Parameters": [{{"N": "{sk}"}}]}}"#
        ));
        assert_eq!(inserted.json(), json!({ "Items": [] }));
    }
    let duplicate = statement(r#"{"Statement": "INSERT INTO Music VALUE {'pk': 'a', 'sk': 1}"}"#);
    assert_eq!(
        duplicate.json()["__type"],
        "com.amazonaws.dynamodb.v20120810#DuplicateItemException"
    );

    // The sort keys a SELECT reads, two items a page, following NextToken to the end.
    let sort_keys_paged = |mut body: serde_json::Value| {
        let mut seen = Vec::new();
        body["Limit"] = json!(2);
        loop {
            let page = statement(&body.to_string()).json();
            for item in page["Items"].as_array().expect("items") {
                seen.push(item["sk"]["N"].as_str().expect("sk").to_owned());
            }
            match page["NextToken"].as_str() {
                Some(next) => body["NextToken"] = json!(next),
                None => return seen,
            }
        }
    };
    let forward = sort_keys_paged(json!({
        "Statement": "SELECT sk FROM Music WHERE pk = ? AND sk >= 1",
        "Parameters": [{"S": "a"}],
    }));
    assert_eq!(forward, ["1", "2", "3", "4"]);
    // ORDER BY the sort key DESC reads the partition backward, page by page.
    let backward = sort_keys_paged(json!({
        "Statement": "SELECT sk FROM Music WHERE pk = 'a' AND sk <= 3 ORDER BY sk DESC",
    }));
    assert_eq!(backward, ["3", "2", "1", "0"]);

    let missing = statement(r#"{"Statement": "UPDATE Music SET n = 1 WHERE pk = 'b' AND sk = 1"}"#);
    assert_eq!(
        missing.json()["__type"],
        "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
    );
    let refused = |body: &str| {
        let reply = statement(body).json();
        assert_eq!(
            reply["__type"], "com.amazon.coral.validate#ValidationException",
            "{body}"
        );
        reply["message"].as_str().expect("message").to_owned()
    };
    assert_eq!(
        refused(r#"{"Statement": "SELECT * FROM Music WHERE pk = ?"}"#),
        "Number of parameters in request and statement don't match."
    );
    assert_eq!(
        refused(
            r#"{"Statement": "SELECT * FROM Music WHERE pk = ?", "Parameters": [{"S": "a"}, {"S": "b"}]}"#
        ),
        "Number of parameters in request and statement don't match."
    );
    assert_eq!(
        refused(r#"{"Statement": "SELECT * FROM Music", "NextToken": "not a token"}"#),
        "Invalid NextToken"
    );
    assert_eq!(
        refused(r#"{"Statement": "SELECT * FROM Music", "Parameters": []}"#),
        "1 validation error detected: Value '[]' at 'parameters' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    let long_token = "A".repeat(32769);
    assert!(refused(
        &json!({ "Statement": "SELECT * FROM Music", "NextToken": long_token }).to_string()
    )
    .ends_with("at 'nextToken' failed to satisfy constraint: Member must have length less than or equal to 32768"));
    for (operation, member) in [
        ("BatchExecuteStatement", "statements"),
        ("ExecuteTransaction", "transactStatements"),
    ] {
        let body = json!({ (member[..1].to_uppercase() + &member[1..]): [
            { "Statement": "DELETE FROM Music WHERE pk = 'a' AND sk = 1" },
            { "Statement": "DELETE FROM Music WHERE pk = 'a' AND sk = 2", "Parameters": [] },
        ] });
        let reply = server.call(operation, &body.to_string()).json();
        assert_eq!(
            reply["message"],
            format!("1 validation error detected: Value '[]' at '{member}.2.member.parameters' failed to satisfy constraint: Member must have length greater than or equal to 1"),
            "{operation}"
        );
    }
    // Refused before anything ran: the first statement's item is still there.
    let kept = statement(r#"{"Statement": "SELECT * FROM Music WHERE pk = 'a' AND sk = 1"}"#);
    assert_eq!(kept.json()["Items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        refused(r#"{"Statement": "DELETE FROM Music WHERE pk = 'a'"}"#),
        "Where clause does not contain a mandatory equality on all key attributes"
    );
    assert!(refused(r#"{"Statement": "SELECT * FROM Music ORDER BY sk"}"#).contains("ORDER BY"));
    assert!(
        refused(r#"{"Statement": "SELECT * FROM Music WHERE pk = 'a' ORDER BY n"}"#)
            .contains("n is not one")
    );
    // ReturnConsumedCapacity is the translated request's: a SELECT's Query, an UPDATE's
    // UpdateItem.
    let read = statement(
        r#"{"Statement": "SELECT * FROM Music WHERE pk = 'a'", "ReturnConsumedCapacity": "TOTAL"}"#,
    )
    .json();
    assert_eq!(
        read["ConsumedCapacity"],
        json!({ "TableName": "Music", "CapacityUnits": 0.5 }),
        "{read}"
    );
    let written = statement(
        r#"{"Statement": "UPDATE Music SET n = 9 WHERE pk = 'a' AND sk = 3", "ReturnConsumedCapacity": "TOTAL"}"#,
    )
    .json();
    assert_eq!(
        written,
        json!({ "Items": [], "ConsumedCapacity": { "TableName": "Music", "CapacityUnits": 1.0 } })
    );
    assert!(
        refused(r#"{"Statement": "SELECT * FROM Music", "ReturnConsumedCapacity": "ALL"}"#)
            .contains("returnConsumedCapacity")
    );
    // ReturnValuesOnConditionCheckFailure ALL_OLD: a failed condition carries the item.
    let failed = statement(
        r#"{"Statement": "UPDATE Music SET n = 1 WHERE pk = 'a' AND sk = 3 AND n = 0", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}"#,
    )
    .json();
    assert_eq!(
        failed["__type"],
        "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
    );
    assert_eq!(failed["Item"]["n"], json!({ "N": "9" }), "{failed}");
}

/// An UPDATE's arithmetic, `list_append`, `set_add` and `set_delete` change the item as
/// DynamoDB's update actions do, and `RETURNING` answers with the item (or its changed
/// attributes) before or after the write; a batch refuses `RETURNING` by name.
#[test]
fn partiql_updates_compute_new_values_and_returning_answers_with_the_item() {
    use serde_json::json;
    let server = Server::start(|_| {});
    create_music_table(&server);
    let statement = |text: &str| {
        let reply = server.call(
            "ExecuteStatement",
            &json!({ "Statement": text }).to_string(),
        );
        assert_eq!(reply.status, 200, "{text}: {:?}", reply.json());
        reply.json()
    };
    statement("INSERT INTO Music VALUE {'pk': 'a', 'n': 1, 'l': [1], 's': <<'x', 'y'>>}");
    let old = statement(
        "UPDATE Music SET n = n + 41 SET l = list_append(l, [2]) \
         SET s = set_delete(s, <<'x'>>) WHERE pk = 'a' RETURNING MODIFIED OLD *",
    );
    assert_eq!(
        old,
        json!({ "Items": [{ "n": { "N": "1" }, "l": { "L": [{ "N": "1" }] }, "s": { "SS": ["x", "y"] } }] })
    );
    let new = statement(
        "UPDATE Music SET s = set_add(s, <<'z'>>), n = n - 2 WHERE pk = 'a' RETURNING ALL NEW *",
    );
    assert_eq!(
        new,
        json!({ "Items": [{
            "pk": { "S": "a" }, "n": { "N": "40" },
            "l": { "L": [{ "N": "1" }, { "N": "2" }] }, "s": { "SS": ["y", "z"] },
        }] })
    );
    let deleted = statement("DELETE FROM Music WHERE pk = 'a' RETURNING ALL OLD *");
    assert_eq!(deleted, new);
    assert_eq!(
        statement("DELETE FROM Music WHERE pk = 'a' RETURNING ALL OLD *"),
        json!({ "Items": [] })
    );
    let batch = server.call(
        "BatchExecuteStatement",
        r#"{"Statements": [{"Statement": "DELETE FROM Music WHERE pk = 'a' RETURNING ALL OLD *"}]}"#,
    );
    let entry = &batch.json()["Responses"][0];
    assert!(
        entry["Error"]["Message"]
            .as_str()
            .is_some_and(|m| m.contains("RETURNING only in ExecuteStatement")),
        "{entry}"
    );
}

/// Creates table `Music`, keyed by a string `pk` alone, on demand.
fn create_music_table(server: &Server) {
    let created = server.call(
        "CreateTable",
        r#"{"TableName": "Music", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}"#,
    );
    assert_eq!(created.status, 200, "{:?}", created.json());
}

/// BatchExecuteStatement answers each statement in its own entry, in order: an item found
/// by its whole key, a failure as DynamoDB's batch error code; a batch mixing reads and
/// writes is refused whole.
#[test]
fn partiql_batches_answer_each_statement_and_refuse_mixing_reads_and_writes() {
    use serde_json::json;
    let server = Server::start(|_| {});
    create_music_table(&server);
    let batch = |body: &str| server.call("BatchExecuteStatement", body).json();
    let writes = batch(
        r#"{"Statements": [
            {"Statement": "INSERT INTO Music VALUE {'pk': 'a', 'n': 1}"},
            {"Statement": "INSERT INTO Music VALUE {'pk': 'a'}"},
            {"Statement": "UPDATE Music SET n = ? WHERE pk = 'b'", "Parameters": [{"N": "2"}]},
            {"Statement": "INSERT INTO Nowhere VALUE {'pk': 'a'}"}]}"#,
    );
    assert_eq!(
        writes,
        json!({ "Responses": [
            { "TableName": "Music" },
            { "TableName": "Music", "Error": { "Code": "DuplicateItem", "Message": "Duplicate primary key exists in table" } },
            { "TableName": "Music", "Error": { "Code": "ConditionalCheckFailed", "Message": "The conditional request failed" } },
            { "Error": { "Code": "ResourceNotFound", "Message": "Requested resource not found" } },
        ] })
    );
    let reads = batch(
        r#"{"Statements": [
            {"Statement": "SELECT n FROM Music WHERE pk = ?", "Parameters": [{"S": "a"}]},
            {"Statement": "SELECT * FROM Music WHERE pk = 'b'"},
            {"Statement": "SELECT * FROM Music WHERE n = 1"}]}"#,
    );
    assert_eq!(
        reads,
        json!({ "Responses": [
            { "TableName": "Music", "Item": { "n": { "N": "1" } } },
            { "TableName": "Music" },
            { "TableName": "Music", "Error": { "Code": "ValidationError", "Message": "Select statements within BatchExecuteStatement must specify the primary key in the where clause." } },
        ] })
    );
    let mixed = batch(
        r#"{"Statements": [
            {"Statement": "SELECT * FROM Music WHERE pk = 'a'"},
            {"Statement": "DELETE FROM Music WHERE pk = 'a'"}]}"#,
    );
    assert_eq!(
        mixed["__type"],
        "com.amazon.coral.validate#ValidationException"
    );
    let kept = batch(r#"{"Statements": [{"Statement": "SELECT pk FROM Music WHERE pk = 'a'"}]}"#);
    assert_eq!(
        kept["Responses"][0]["Item"],
        json!({ "pk": { "S": "a" } }),
        "nothing ran"
    );
    // ReturnConsumedCapacity sums each table's units over the statements that ran (two
    // small writes and a small item's failed condition: 3 units); a statement's
    // ReturnValuesOnConditionCheckFailure ALL_OLD puts the item in its failed entry.
    let counted = batch(
        r#"{"Statements": [
            {"Statement": "INSERT INTO Music VALUE {'pk': 'c'}"},
            {"Statement": "INSERT INTO Music VALUE {'pk': 'd'}"},
            {"Statement": "UPDATE Music SET n = 3 WHERE pk = 'a' AND n = 9", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}],
            "ReturnConsumedCapacity": "TOTAL"}"#,
    );
    assert_eq!(
        counted["ConsumedCapacity"],
        json!([{ "TableName": "Music", "CapacityUnits": 3.0 }]),
        "{counted}"
    );
    assert_eq!(
        counted["Responses"][2]["Error"],
        json!({ "Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
                "Item": { "pk": { "S": "a" }, "n": { "N": "1" } } }),
        "{counted}"
    );
    let read = batch(
        r#"{"Statements": [
            {"Statement": "SELECT * FROM Music WHERE pk = 'c'"},
            {"Statement": "SELECT * FROM Music WHERE pk = 'd'"}],
            "ReturnConsumedCapacity": "TOTAL"}"#,
    );
    assert_eq!(
        read["ConsumedCapacity"],
        json!([{ "TableName": "Music", "CapacityUnits": 1.0 }]),
        "{read}"
    );
}

/// A PartiQL statement's `Parameters` are attribute values (the API model's type): one that
/// is no attribute value's JSON fails the whole request as any malformed member does
/// (`SerializationException`), in a batch and a transaction too, before any statement runs;
/// never a batch entry of its own with the code `InternalServerError` (found by the
/// `partiql` fuzz target, its input kept in `fuzz/regressions/partiql/`). One the data
/// model refuses (`{}`) is a `ValidationException`.
#[test]
fn partiql_parameters_that_are_no_attribute_values_fail_the_whole_request() {
    use serde_json::json;
    let server = Server::start(|_| {});
    create_music_table(&server);
    let insert = |parameter: serde_json::Value| json!({ "Statement": "INSERT INTO Music VALUE {'pk': 'a', 'n': ?}", "Parameters": [parameter] });
    for parameter in [json!(null), json!("text"), json!({ "S": 5 }), json!({})] {
        let expected = match parameter == json!({}) {
            true => "com.amazon.coral.validate#ValidationException",
            false => "com.amazon.coral.service#SerializationException",
        };
        let requests = [
            ("ExecuteStatement", insert(parameter.clone())),
            (
                "BatchExecuteStatement",
                json!({ "Statements": [{ "Statement": "INSERT INTO Music VALUE {'pk': 'b'}" }, insert(parameter.clone())] }),
            ),
            (
                "ExecuteTransaction",
                json!({ "TransactStatements": [insert(parameter.clone())] }),
            ),
        ];
        for (operation, body) in requests {
            let reply = server.call(operation, &body.to_string());
            assert_eq!(
                reply.status,
                400,
                "{operation} {parameter}: {:?}",
                reply.json()
            );
            assert_eq!(
                reply.json()["__type"],
                expected,
                "{operation} {parameter}: {:?}",
                reply.json()
            );
        }
    }
    // Nothing ran: the batch's first statement was refused with the rest.
    let read = server.call(
        "ExecuteStatement",
        r#"{"Statement": "SELECT * FROM Music WHERE pk = 'b'"}"#,
    );
    assert_eq!(read.json(), json!({ "Items": [] }));
}

/// A batch's write whose condition fails consumed write capacity all the same (DynamoDB's
/// developer guide: a failed conditional write "still consumes write capacity from the
/// table", one unit for an item that does not exist, else by the larger of the existing item
/// and the one written, in 1 KB units), so the batch's `ConsumedCapacity` ("the capacity
/// units consumed by the entire operation") counts it; a statement refused before it
/// reached its item (a missing table, no key in the WHERE) counts nothing.
#[test]
fn partiql_batch_capacity_counts_the_writes_whose_condition_failed() {
    use serde_json::json;
    let server = Server::start(|_| {});
    create_music_table(&server);
    // An item of about 2.5 KB: a write of it takes 3 units.
    let big = "x".repeat(2500);
    let put = server.call(
        "ExecuteStatement",
        &json!({ "Statement": format!("INSERT INTO Music VALUE {{'pk': 'big', 's': '{big}'}}") })
            .to_string(),
    );
    assert_eq!(put.status, 200, "{:?}", put.json());
    let statements = json!([
        // The key is taken: DuplicateItem, measured at the 2.5 KB item there (3 units).
        { "Statement": "INSERT INTO Music VALUE {'pk': 'big'}" },
        // A failed condition of the 2.5 KB item (3 units).
        { "Statement": "UPDATE Music SET n = 1 WHERE pk = 'big' AND n = 5" },
        // A failed condition where no item is (1 unit).
        { "Statement": "DELETE FROM Music WHERE pk = 'none' AND n = 1" },
        // A write that succeeds (1 unit).
        { "Statement": "INSERT INTO Music VALUE {'pk': 'new'}" },
        // Refused before reaching an item: nothing.
        { "Statement": "INSERT INTO Nowhere VALUE {'pk': 'a'}" },
        { "Statement": "UPDATE Music SET n = 1 WHERE n = 2" },
    ]);
    let batch = |mode: &str| {
        let body = json!({ "Statements": statements, "ReturnConsumedCapacity": mode });
        server
            .call("BatchExecuteStatement", &body.to_string())
            .json()
    };
    let total = batch("TOTAL");
    let codes: Vec<Option<&str>> = (total["Responses"].as_array().into_iter().flatten())
        .map(|r| r["Error"]["Code"].as_str())
        .collect();
    assert_eq!(
        codes,
        [
            Some("DuplicateItem"),
            Some("ConditionalCheckFailed"),
            Some("ConditionalCheckFailed"),
            None,
            Some("ResourceNotFound"),
            Some("ValidationError")
        ],
        "{total}"
    );
    assert_eq!(
        total["ConsumedCapacity"],
        json!([{ "TableName": "Music", "CapacityUnits": 8.0 }]),
        "{total}"
    );
    // Again, `new` now taken: its INSERT fails too, at the small item's 1 unit.
    let indexes = batch("INDEXES");
    assert_eq!(
        indexes["ConsumedCapacity"],
        json!([{ "TableName": "Music", "CapacityUnits": 8.0, "Table": { "CapacityUnits": 8.0 } }]),
        "{indexes}"
    );
}

/// ExecuteTransaction runs its statements as one transaction: writes all or nothing (an
/// INSERT of a taken key cancels it with the reason `DuplicateItem`), reads as one
/// TransactGetItems; a SELECT that is not by whole key, and reads mixed with writes, are
/// refused before anything runs.
#[test]
fn partiql_transactions_are_all_or_nothing_and_refuse_mixing_reads_and_writes() {
    use serde_json::json;
    let server = Server::start(|_| {});
    create_music_table(&server);
    let transaction = |body: &str| server.call("ExecuteTransaction", body).json();
    let written = transaction(
        r#"{"TransactStatements": [
            {"Statement": "INSERT INTO Music VALUE {'pk': 'a', 'n': 1}"},
            {"Statement": "INSERT INTO Music VALUE {'pk': ?}", "Parameters": [{"S": "b"}]}]}"#,
    );
    assert_eq!(written, json!({}));
    let cancelled = transaction(
        r#"{"TransactStatements": [
            {"Statement": "UPDATE Music SET n = 5 WHERE pk = 'a'"},
            {"Statement": "INSERT INTO Music VALUE {'pk': 'b'}"}]}"#,
    );
    assert_eq!(
        cancelled["CancellationReasons"],
        json!([{ "Code": "None" }, { "Code": "DuplicateItem", "Message": "Duplicate primary key exists in table" }])
    );
    // ReturnValuesOnConditionCheckFailure is the statement's action's: the taken key's item
    // comes back in its reason. ReturnConsumedCapacity is the transaction's.
    let with_item = transaction(
        r#"{"TransactStatements": [
            {"Statement": "UPDATE Music SET n = 5 WHERE pk = 'a'"},
            {"Statement": "INSERT INTO Music VALUE {'pk': 'b'}", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}]}"#,
    );
    assert_eq!(
        with_item["CancellationReasons"][1]["Item"],
        json!({ "pk": { "S": "b" } }),
        "{with_item}"
    );
    let counted = transaction(
        r#"{"TransactStatements": [{"Statement": "INSERT INTO Music VALUE {'pk': 'c'}"}],
            "ReturnConsumedCapacity": "TOTAL"}"#,
    );
    // (What TransactWriteItems answers: a transactional write of a small item is 2 units.)
    assert_eq!(
        counted,
        json!({ "ConsumedCapacity": [{ "TableName": "Music", "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0 }] })
    );
    let read_counted = transaction(
        r#"{"TransactStatements": [{"Statement": "SELECT * FROM Music WHERE pk = 'c'"}],
            "ReturnConsumedCapacity": "TOTAL"}"#,
    );
    assert_eq!(read_counted["ConsumedCapacity"][0]["TableName"], "Music");
    assert_eq!(read_counted["ConsumedCapacity"][0]["CapacityUnits"], 2.0);
    let deleted = transaction(
        r#"{"TransactStatements": [{"Statement": "DELETE FROM Music WHERE pk = 'c'"}]}"#,
    );
    assert_eq!(deleted, json!({}));
    let read = transaction(
        r#"{"TransactStatements": [
            {"Statement": "SELECT n FROM Music WHERE pk = 'a'"},
            {"Statement": "SELECT * FROM Music WHERE pk = 'zz'"}]}"#,
    );
    assert_eq!(
        read,
        json!({ "Responses": [{ "Item": { "n": { "N": "1" } } }, {}] }),
        "the cancelled UPDATE left n at 1"
    );
    // EXISTS is a condition check: the write goes through only if the item named exists
    // and meets the rest of the condition.
    let checked = transaction(
        r#"{"TransactStatements": [
            {"Statement": "EXISTS(SELECT * FROM Music WHERE pk = 'a' AND n = 1)"},
            {"Statement": "UPDATE Music SET n = 2 WHERE pk = 'b'"}]}"#,
    );
    assert_eq!(checked, json!({}));
    for failing in ["pk = 'a' AND n = 7", "pk = 'nobody'"] {
        let cancelled = transaction(
            &json!({ "TransactStatements": [
                { "Statement": format!("EXISTS(SELECT * FROM Music WHERE {failing})") },
                { "Statement": "UPDATE Music SET n = 3 WHERE pk = 'b'" },
            ] })
            .to_string(),
        );
        assert_eq!(
            cancelled["CancellationReasons"][0]["Code"], "ConditionalCheckFailed",
            "{failing}: {cancelled}"
        );
    }
    let b = transaction(
        r#"{"TransactStatements": [{"Statement": "SELECT n FROM Music WHERE pk = 'b'"}]}"#,
    );
    assert_eq!(b["Responses"][0]["Item"], json!({ "n": { "N": "2" } }));
    let alone = server
        .call(
            "ExecuteStatement",
            r#"{"Statement": "EXISTS(SELECT * FROM Music WHERE pk = 'a')"}"#,
        )
        .json();
    assert_eq!(
        alone["message"],
        "The EXISTS function can be used only in ExecuteTransaction"
    );
    for (refused, named) in [
        (
            r#"{"TransactStatements": [{"Statement": "SELECT * FROM Music"}]}"#,
            "must specify the primary key",
        ),
        (
            r#"{"TransactStatements": [
            {"Statement": "SELECT * FROM Music WHERE pk = 'a'"},
            {"Statement": "DELETE FROM Music WHERE pk = 'a'"}]}"#,
            "either read statements or write statements",
        ),
    ] {
        let answer = transaction(refused);
        assert_eq!(
            answer["__type"], "com.amazon.coral.validate#ValidationException",
            "{refused}"
        );
        let message = answer["message"].as_str().expect("message");
        assert!(message.contains(named), "{message}");
    }
    let kept = transaction(
        r#"{"TransactStatements": [{"Statement": "SELECT pk FROM Music WHERE pk = 'a'"}]}"#,
    );
    assert_eq!(
        kept["Responses"][0]["Item"],
        json!({ "pk": { "S": "a" } }),
        "nothing ran"
    );
}

/// Runs `script` in python3 with boto3: `db` is a DynamoDB client of `server`, and
/// `refused(call, message)` asserts that `call()` fails with a ValidationException in
/// `message`'s words. The test fails, with the script's output, if the script raises.
fn run_boto3(server: &Server, script: &str) {
    const PRELUDE: &str = r#"
import os
import boto3
from botocore.exceptions import ClientError

db = boto3.client("dynamodb", endpoint_url=os.environ["TIDESTORE_ENDPOINT"],
                  region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")

def refused(call, message):
    try:
        call()
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ValidationException", error.response
        assert error.response["Error"]["Message"] == message, error.response["Error"]["Message"]
        return
    raise AssertionError("not refused: " + message)
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(format!("{PRELUDE}\n{script}"))
        .env("TIDESTORE_ENDPOINT", server.endpoint())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the boto3 script failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Through boto3: `IS NULL` selects the items whose attribute is DynamoDB's NULL, not the
/// ones that lack it (`IS MISSING`); `IS NOT NULL` and `IS NOT MISSING` are their negations.
#[test]
fn partiql_is_null_and_is_missing_tell_a_null_attribute_from_an_absent_one() {
    let server = Server::start(|_| {});
    run_boto3(
        &server,
        r#"
db.create_table(TableName="Things", BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
db.execute_statement(Statement="INSERT INTO Things VALUE {'pk': 'null', 'a': NULL}")
db.execute_statement(Statement="INSERT INTO Things VALUE {'pk': 'text', 'a': 'x'}")
db.execute_statement(Statement="INSERT INTO Things VALUE {'pk': 'absent'}")

def selected(where):
    items = db.execute_statement(Statement="SELECT pk FROM Things WHERE " + where)["Items"]
    return sorted(item["pk"]["S"] for item in items)

assert selected("a IS NULL") == ["null"], selected("a IS NULL")
assert selected("a IS NOT NULL") == ["absent", "text"], selected("a IS NOT NULL")
assert selected("a IS MISSING") == ["absent"], selected("a IS MISSING")
assert selected("a IS NOT MISSING") == ["null", "text"], selected("a IS NOT MISSING")
assert selected("a IS NOT MISSING AND a IS NOT NULL") == ["text"]
refused(lambda: db.execute_statement(Statement="SELECT * FROM Things WHERE a IS STRING"),
        "tidestore supports IS [NOT] MISSING and IS [NOT] NULL only, not IS <type>")
"#,
    );
}

/// Through boto3: a SELECT's `NextToken` resumes the statement it came from, with the same
/// parameters, and no other: with another statement or other parameters it is refused as
/// DynamoDB refuses it, and a garbled or forged token is an invalid one, not a panic.
#[test]
fn partiql_next_token_is_bound_to_the_statement_and_parameters_that_made_it() {
    let server = Server::start(|_| {});
    run_boto3(
        &server,
        r#"
import base64, json
db.create_table(TableName="Pages", BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                           {"AttributeName": "sk", "KeyType": "RANGE"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                      {"AttributeName": "sk", "AttributeType": "N"}])
for pk in ["a", "b"]:
    for sk in range(5):
        db.execute_statement(Statement="INSERT INTO Pages VALUE {'pk': ?, 'sk': ?}",
                             Parameters=[{"S": pk}, {"N": str(sk)}])

statement = "SELECT sk FROM Pages WHERE pk = ?"
seen, token = [], None
while True:
    request = dict(Statement=statement, Parameters=[{"S": "a"}], Limit=2)
    if token:
        request["NextToken"] = token
    page = db.execute_statement(**request)
    seen += [item["sk"]["N"] for item in page["Items"]]
    token = page.get("NextToken")
    if not token:
        break
assert seen == ["0", "1", "2", "3", "4"], seen

first = db.execute_statement(Statement=statement, Parameters=[{"S": "a"}], Limit=2)["NextToken"]
refused(lambda: db.execute_statement(Statement=statement, Parameters=[{"S": "b"}], NextToken=first),
        "NextToken does not match request")
refused(lambda: db.execute_statement(Statement="SELECT * FROM Pages WHERE pk = ?",
                                     Parameters=[{"S": "a"}], NextToken=first),
        "NextToken does not match request")
refused(lambda: db.execute_statement(Statement="SELECT * FROM Pages", NextToken=first),
        "NextToken does not match request")
garbled = first[:-8] + "AAAA!!!!"
refused(lambda: db.execute_statement(Statement=statement, Parameters=[{"S": "a"}], NextToken=garbled),
        "Invalid NextToken")
forged = base64.b64encode(json.dumps({"Key": "a"}).encode()).decode()
refused(lambda: db.execute_statement(Statement=statement, Parameters=[{"S": "a"}], NextToken=forged),
        "Invalid NextToken")
"#,
    );
}

/// Through boto3: a SELECT of a multi-attribute global index whose WHERE pins every
/// partition attribute with `=` and a prefix of the sort attributes is a Query of the index:
/// the items and the order of DynamoDB's Query, and with `Limit` each page reads only items
/// the key selects (a Scan filtered by the WHERE would hand back empty pages). A WHERE that
/// skips a sort attribute still answers, as a Scan.
#[test]
fn partiql_select_pinning_a_multi_attribute_index_key_is_that_indexs_query() {
    let server = Server::start(|_| {});
    run_boto3(
        &server,
        r##"
db.create_table(
    TableName="Matches", BillingMode="PAY_PER_REQUEST",
    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in
                          [("id", "S"), ("tournament", "S"), ("region", "S"), ("round", "S"), ("score", "N")]],
    GlobalSecondaryIndexes=[{
        "IndexName": "ByTournamentRegion",
        "KeySchema": [{"AttributeName": "tournament", "KeyType": "HASH"},
                      {"AttributeName": "region", "KeyType": "HASH"},
                      {"AttributeName": "round", "KeyType": "RANGE"},
                      {"AttributeName": "score", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"}}])
rows = [("1", "w24", "eu", "final", 10), ("2", "w24", "eu", "semi", 30), ("3", "w24", "eu", "semi", 20),
        ("4", "w24", "eu", "final", 5), ("5", "w24", "na", "final", 7), ("6", "s25", "eu", "final", 1),
        ("7", "w24", "eu", "quarter", 3), ("8", "w24", "eu", "final", 40)]
for id, tournament, region, round, score in rows:
    db.execute_statement(Statement="INSERT INTO Matches VALUE {'id': ?, 'tournament': ?, 'region': ?, 'round': ?, 'score': ?}",
                         Parameters=[{"S": id}, {"S": tournament}, {"S": region}, {"S": round}, {"N": str(score)}])
db.execute_statement(Statement="INSERT INTO Matches VALUE {'id': '9', 'tournament': 'w24', 'region': 'eu'}")

def select(statement, parameters=None, limit=None):
    pages, token = [], None
    while True:
        request = dict(Statement=statement)
        if parameters:
            request["Parameters"] = parameters
        if limit:
            request["Limit"] = limit
        if token:
            request["NextToken"] = token
        page = db.execute_statement(**request)
        pages.append([item["id"]["S"] for item in page["Items"]])
        token = page.get("NextToken")
        if not token:
            return pages

def query(condition, values):
    names = {"#" + n: n for n in ["tournament", "region", "round", "score"] if "#" + n in condition}
    items = db.query(TableName="Matches", IndexName="ByTournamentRegion", KeyConditionExpression=condition,
                     ExpressionAttributeNames=names, ExpressionAttributeValues=values)["Items"]
    return [item["id"]["S"] for item in items]

everything = 'SELECT * FROM "Matches"."ByTournamentRegion" WHERE region = ? AND tournament = ?'
pages = select(everything, [{"S": "eu"}, {"S": "w24"}])
expected = query("#tournament = :t AND #region = :r", {":t": {"S": "w24"}, ":r": {"S": "eu"}})
assert expected == ["4", "1", "8", "7", "3", "2"], expected
assert sum(pages, []) == expected, pages
paged = select(everything, [{"S": "eu"}, {"S": "w24"}], limit=1)
assert sum(paged, []) == expected, paged
assert all(len(page) == 1 for page in paged[:-1]), paged

finals = select('SELECT id FROM Matches.ByTournamentRegion WHERE tournament = \'w24\' AND round = \'final\' AND region = \'eu\' AND score BETWEEN 5 AND 10')
assert sum(finals, []) == ["4", "1"], finals
assert sum(finals, []) == query("#tournament = :t AND #region = :r AND #round = :f AND #score BETWEEN :lo AND :hi",
                                {":t": {"S": "w24"}, ":r": {"S": "eu"}, ":f": {"S": "final"},
                                 ":lo": {"N": "5"}, ":hi": {"N": "10"}})
later = select('SELECT id FROM Matches.ByTournamentRegion WHERE tournament = \'w24\' AND region = \'eu\' AND round > \'quarter\' AND colour IS MISSING')
assert sum(later, []) == ["3", "2"], later

skipped = select('SELECT id FROM Matches.ByTournamentRegion WHERE tournament = \'w24\' AND region = \'eu\' AND score > 9')
assert sorted(sum(skipped, [])) == ["1", "2", "3", "8"], skipped
"##,
    );
}
