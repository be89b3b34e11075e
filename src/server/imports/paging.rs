//! The pages of `ListImports` and `ListExports`: records newest first, and a
//! `NextToken` that names the last one shown, in the form the models give.

use serde_json::Value;

use super::records::Record;
use crate::server::protocol::WireError;

/// ListImports' and ListExports' page size when `PageSize` or `MaxResults` is not given
/// (the models' maximum).
const DEFAULT_PAGE_SIZE: usize = 25;

/// A ListImports `NextToken`: the last import shown, `{start ms:014}:{ARN}`, in hex, padded
/// with NULs to whole 8-byte groups and at least 56 bytes (the model's 112 to 1,024
/// characters of `([0-9a-f]{16})+`).
pub(in crate::server) fn next_token(record: &Record) -> String {
    let mut bytes = format!("{:014}:{}", record.start_ms, record.arn()).into_bytes();
    while bytes.len() < 56 || !bytes.len().is_multiple_of(8) {
        bytes.push(0);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The position a `NextToken` names: (start ms, ARN).
fn read_token(token: &str) -> Option<(u64, String)> {
    if !token.len().is_multiple_of(2) || !token.is_ascii() {
        return None;
    }
    let bytes: Vec<u8> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok())
        .collect::<Option<_>>()?;
    let text = String::from_utf8(bytes).ok()?;
    let (ms, arn) = text.trim_end_matches('\0').split_once(':')?;
    Some((ms.parse().ok()?, arn.to_owned()))
}

/// Whether `record` is of the table `table_arn` (every record is when it is `None`): the
/// filter of ListImports' `TableArn`.
pub(in crate::server) fn of_table(record: &Record, table_arn: Option<&str>) -> bool {
    table_arn.is_none_or(|t| record.description.get("TableArn").and_then(Value::as_str) == Some(t))
}

/// One page of ListImports or ListExports: the records `keep` keeps after `after`, newest
/// first (by start time, then ARN), at most `size`, and whether more
/// follow. DynamoDB lists both so (ScyllaDB's `test_list_exports_pagination` and
/// `test_list_imports_ordering`, run against AWS: by start time, not by ARN). The records
/// are sorted here, not trusted to be: two ImportTable calls can add theirs in the other
/// order than their start times, a clock can step back, a file can hold any order, and
/// paging by position in an unsorted list skips records.
pub(in crate::server) fn page(
    records: &[Record],
    keep: impl Fn(&Record) -> bool,
    after: Option<(u64, String)>,
    size: usize,
) -> (Vec<&Record>, bool) {
    let position = |r: &Record| (r.start_ms, r.arn().to_owned());
    let mut page: Vec<&Record> = records
        .iter()
        .filter(|r| keep(r))
        .filter(|r| after.as_ref().is_none_or(|after| position(r) < *after))
        .collect();
    page.sort_by_key(|r| std::cmp::Reverse(position(r)));
    let more = page.len() > size;
    page.truncate(size);
    (page, more)
}

/// A list operation's page size (`member`, 1 to 25, 25 when not given) and the position
/// its `NextToken` names, or the model's refusal.
pub(in crate::server) fn paging(
    (member, size): (&str, Option<i64>),
    token: Option<&str>,
    operation: &str,
) -> Result<(usize, Option<(u64, String)>), WireError> {
    let size = match size {
        None => DEFAULT_PAGE_SIZE,
        Some(n @ 1..=25) => n as usize,
        Some(n) => {
            let bound = match n < 1 {
                true => "greater than or equal to 1",
                false => "less than or equal to 25",
            };
            return Err(WireError::validation(format!(
                "1 validation error detected: Value '{n}' at '{member}' failed to satisfy constraint: Member must have value {bound}"
            )));
        }
    };
    let after =
        match token {
            None => None,
            Some(token) => Some(read_token(token).ok_or_else(|| {
                WireError::validation(format!("Invalid NextToken for {operation}"))
            })?),
        };
    Ok((size, after))
}

#[cfg(test)]
mod tests {
    use super::super::records::record;
    use super::*;

    /// Paging through records not in start order (two ImportTable calls that add theirs in
    /// the other order than their start times, a clock stepped back) shows each once.
    #[test]
    fn paging_shows_every_record_once_in_its_order_whatever_the_records_order() {
        let records = vec![
            record(3, "COMPLETED"),
            record(1, "COMPLETED"),
            record(4, "COMPLETED"),
            record(2, "FAILED"),
        ];
        for size in 1..=4 {
            let mut seen = Vec::new();
            let mut after = None;
            for _ in 0..10 {
                let (page, more) = page(&records, |_| true, after, size);
                seen.extend(page.iter().map(|r| r.start_ms));
                if !more {
                    break;
                }
                after = page.last().and_then(|r| read_token(&next_token(r)));
            }
            assert_eq!(seen, [4, 3, 2, 1], "pages of {size}");
        }
    }

    #[test]
    fn tokens_roundtrip_and_fit_the_models_pattern() {
        let r = record(1_700_000_000_000, "COMPLETED");
        let token = next_token(&r);
        assert!(token.len() >= 112 && token.len() <= 1024 && token.len().is_multiple_of(16));
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(read_token(&token), Some((r.start_ms, r.arn().to_owned())));
        assert_eq!(read_token("zz"), None);
    }
}
