//! Authentication of a request: AWS Signature Version 4, as the SDKs and the CLI sign.
//!
//! By default, as DynamoDB Local does, any well-formed SigV4 `Authorization` header is
//! accepted and every access key and region shares one namespace of tables (DynamoDB Local's
//! database per key and region is a trap its users keep falling into). With `--auth FILE`, the
//! signature is verified in full:
//!
//! ```text
//! canonical request = METHOD \n path \n query \n
//!                     name:value \n … (the SignedHeaders only, lower-cased, values trimmed) \n
//!                     signed;headers \n hex(sha256(body as sent: compressed, when it is))
//! string to sign    = AWS4-HMAC-SHA256 \n X-Amz-Date \n date/region/dynamodb/aws4_request \n
//!                     hex(sha256(canonical request))
//! signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), "dynamodb"), "aws4_request")
//! signature         = hex(HMAC(signing key, string to sign))   compared in constant time
//! ```
//!
//! `X-Amz-Date` must be within 15 minutes of the server's clock, and the scope's region the
//! server's. As DynamoDB does, the date and its expiry are judged right after the header's
//! parameters are found, before the credential's scope and its access key (dynalite's record
//! of DynamoDB's answers; Alternator's `test_expired_signature` and
//! `test_signature_too_futuristic`, which pass on DynamoDB, send an unknown key and a
//! credential wrong in every part and are told only that the signature is out of date); then
//! the scope's form, the access key, its service, region and date, and last the signature.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use hyper::header::HeaderMap;
use sha2::{Digest, Sha256};

use super::protocol::WireError;
use super::ServerState;

/// How far `X-Amz-Date` may be from the server's clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The parameters of a SigV4 `Authorization` header.
#[derive(Debug, PartialEq)]
pub(super) struct Authorization<'h> {
    pub credential: &'h str,
    pub signed_headers: Vec<&'h str>,
    pub signature: &'h str,
}

/// The scope a `Credential` names: `key/date/region/service/aws4_request`.
#[derive(Debug, PartialEq)]
pub(super) struct Scope<'h> {
    pub access_key: &'h str,
    pub date: &'h str,
    pub region: &'h str,
    pub service: &'h str,
}

/// Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=a;b, Signature=hex`. The
/// parameters may be separated by commas, spaces or both, as DynamoDB reads them (boto3
/// writes `, `; Alternator's `test_expired_signature`, which passes on DynamoDB, spaces only).
pub(super) fn parse(header: &str) -> Result<Authorization<'_>, WireError> {
    let incomplete = |what: &str| {
        WireError::incomplete_signature(format!(
            "Authorization header requires '{what}' parameter. Authorization={header}"
        ))
    };
    let Some(rest) = header.strip_prefix(ALGORITHM) else {
        return Err(WireError::incomplete_signature(format!(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={header}"
        )));
    };
    let mut fields = BTreeMap::new();
    for part in rest.split(|c: char| c == ',' || c.is_ascii_whitespace()) {
        if let Some((name, value)) = part.split_once('=') {
            fields.insert(name, value);
        }
    }
    let credential = *fields
        .get("Credential")
        .ok_or_else(|| incomplete("Credential"))?;
    let signed = *fields
        .get("SignedHeaders")
        .ok_or_else(|| incomplete("SignedHeaders"))?;
    let signature = *fields
        .get("Signature")
        .ok_or_else(|| incomplete("Signature"))?;
    Ok(Authorization {
        credential,
        signed_headers: signed.split(';').collect(),
        signature,
    })
}

/// The scope of a `Credential`.
pub(super) fn scope(credential: &str) -> Result<Scope<'_>, WireError> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, "aws4_request"] = parts[..] else {
        return Err(WireError::incomplete_signature(format!(
            "Credential should be scoped to a valid region, service and date: {credential}"
        )));
    };
    if access_key.is_empty() {
        return Err(WireError::unrecognized_client());
    }
    Ok(Scope {
        access_key,
        date,
        region,
        service,
    })
}

/// Checks a request's authentication as the server is configured to.
pub(super) fn check(
    state: &ServerState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), WireError> {
    let Some(header) = headers.get("authorization") else {
        return Err(WireError::missing_authentication());
    };
    let header = header
        .to_str()
        .map_err(|_| WireError::incomplete_signature("Authorization header is not text".into()))?;
    let auth = parse(header)?;
    let Some(secrets) = &state.secrets else {
        scope(auth.credential)?;
        return Ok(());
    };
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            WireError::incomplete_signature(format!(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={header}"
            ))
        })?;
    check_time(amz_date, SystemTime::now())?;
    let scope = scope(auth.credential)?;
    let Some(secret) = secrets.get(scope.access_key) else {
        return Err(WireError::unrecognized_client());
    };
    if scope.service != "dynamodb" {
        return Err(WireError::invalid_signature(
            "Credential should be scoped to correct service: 'dynamodb'. ".into(),
        ));
    }
    if scope.region != state.region {
        return Err(WireError::invalid_signature(format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            scope.region
        )));
    }
    if !amz_date.starts_with(scope.date) {
        return Err(WireError::invalid_signature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}'",
            scope.date,
            &amz_date[..amz_date.len().min(8)]
        )));
    }
    let expected = signature(&auth, &scope, headers, body, amz_date, secret);
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(WireError::invalid_signature(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.".into(),
        ));
    }
    Ok(())
}

/// Refuses an `X-Amz-Date` more than [`MAX_CLOCK_SKEW`] from `now`, in DynamoDB's words:
/// `Signature expired: 20130301T000000Z is now earlier than 20130609T094515Z
/// (20130609T100015Z - 15 min.)` (recorded by dynalite) and `Signature not yet current:
/// … is still later than … (… + 15 min.)` for a date in the future.
fn check_time(amz_date: &str, now: SystemTime) -> Result<(), WireError> {
    let Some(signed_at) = parse_amz_date(amz_date) else {
        return Err(WireError::incomplete_signature(format!(
            "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
        )));
    };
    let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let skew = MAX_CLOCK_SKEW.as_secs();
    let (minutes, now_text) = (skew / 60, format_amz_date(now_secs));
    if signed_at < now_secs.saturating_sub(skew) {
        let earliest = format_amz_date(now_secs.saturating_sub(skew));
        return Err(WireError::invalid_signature(format!(
            "Signature expired: {amz_date} is now earlier than {earliest} ({now_text} - {minutes} min.)"
        )));
    }
    if signed_at > now_secs.saturating_add(skew) {
        let latest = format_amz_date(now_secs.saturating_add(skew));
        return Err(WireError::invalid_signature(format!(
            "Signature not yet current: {amz_date} is still later than {latest} ({now_text} + {minutes} min.)"
        )));
    }
    Ok(())
}

/// The signature the request should carry if signed with `secret`.
fn signature(
    auth: &Authorization<'_>,
    scope: &Scope<'_>,
    headers: &HeaderMap,
    body: &[u8],
    amz_date: &str,
    secret: &str,
) -> String {
    let mut canonical = String::from("POST\n/\n\n");
    for name in &auth.signed_headers {
        let values: Vec<String> = headers
            .get_all(*name)
            .iter()
            .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        canonical.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    canonical.push('\n');
    canonical.push_str(&auth.signed_headers.join(";"));
    canonical.push('\n');
    canonical.push_str(&hex(&Sha256::digest(body)));
    let scope_text = format!(
        "{}/{}/{}/aws4_request",
        scope.date, scope.region, scope.service
    );
    let to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope_text}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), scope.date.as_bytes());
    for part in [scope.region, scope.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    hex(&hmac(&key, to_sign.as_bytes()))
}

/// HMAC-SHA256 of `data` under `key`, SigV4's one primitive.
pub(crate) fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// `bytes` in lower-case hex, as SigV4 writes hashes and signatures.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A header value as SigV4 canonicalises it: trimmed, runs of spaces made one.
fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `20261126T060546Z` as seconds since the epoch.
fn parse_amz_date(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    // Digits only: `u64::from_str` would take a sign (`2026+1+6T000000Z`).
    let num = |range: std::ops::Range<usize>| {
        let digits = text.get(range)?;
        digits.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
        digits.parse::<u64>().ok()
    };
    let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day)? * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar (none before 1970).
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let y = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = y / 400;
    let yoe = y % 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

/// `secs` since the epoch as `X-Amz-Date` writes it (`20261126T060546Z`).
pub(crate) fn format_amz_date(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since the epoch (the inverse of days_from_civil).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    format!("{year:04}{month:02}{day:02}T{h:02}{m:02}{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authorization_header_is_parsed_into_its_scope() {
        let header = "AWS4-HMAC-SHA256 Credential=x/20261126/us-west-2/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=1408677e";
        let auth = parse(header).expect("well formed");
        let parsed = scope(auth.credential).expect("a scope");
        assert_eq!(
            (
                parsed.access_key,
                parsed.date,
                parsed.region,
                parsed.service
            ),
            ("x", "20261126", "us-west-2", "dynamodb")
        );
        assert_eq!(
            auth.signed_headers,
            ["content-type", "host", "x-amz-date", "x-amz-target"]
        );
        assert_eq!(auth.signature, "1408677e");
        for bad in [
            "Basic abc",
            "AWS4-HMAC-SHA256 Credential=x/20261126/us-west-2/dynamodb/aws4_request",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        for bad in [
            "x/y",
            "/20261126/us-west-2/dynamodb/aws4_request",
            "x/a/b/c/d",
        ] {
            assert!(scope(bad).is_err(), "{bad}");
        }
    }

    /// The parameters may be separated by spaces alone or commas alone, as DynamoDB reads
    /// them (Alternator's `test_expired_signature` and `test_authorization_no_whitespace`).
    #[test]
    fn authorization_parameters_may_be_separated_by_spaces_or_commas_alone() {
        let spaces = "AWS4-HMAC-SHA256 Credential=k/2/3/4/aws4_request SignedHeaders=x-amz-date;host Signature=123";
        let commas = "AWS4-HMAC-SHA256 Credential=k/2/3/4/aws4_request,SignedHeaders=x-amz-date;host,Signature=123";
        for header in [spaces, commas] {
            let auth = parse(header).expect("well formed");
            assert_eq!(auth.credential, "k/2/3/4/aws4_request", "{header}");
            assert_eq!(auth.signed_headers, ["x-amz-date", "host"], "{header}");
            assert_eq!(auth.signature, "123", "{header}");
        }
    }

    #[test]
    fn amz_dates_convert_both_ways_and_skew_is_bounded() {
        let t = parse_amz_date("20261126T060546Z").expect("a date");
        assert_eq!(format_amz_date(t), "20261126T060546Z");
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(
            parse_amz_date("20240229T235959Z")
                .map(format_amz_date)
                .as_deref(),
            Some("20240229T235959Z")
        );
        assert_eq!(parse_amz_date("2026-11-26T06:05:46Z"), None);
        // Signs are not digits (a review found `+` taken).
        assert_eq!(parse_amz_date("2026+1+6T000000Z"), None);
        assert_eq!(parse_amz_date("20261126T+60546Z"), None);
        let now = UNIX_EPOCH + Duration::from_secs(t);
        assert!(check_time("20261126T060546Z", now).is_ok());
        assert!(
            check_time("20261126T055100Z", now).is_ok(),
            "14 min 46 s early"
        );
        let message = |date: &str| {
            let error = check_time(date, now).expect_err("out of date");
            assert!(error.type_name.ends_with("#InvalidSignatureException"));
            error.body()["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(
            message("20261126T054000Z"),
            "Signature expired: 20261126T054000Z is now earlier than 20261126T055046Z (20261126T060546Z - 15 min.)",
            "over 15 min early"
        );
        assert_eq!(
            message("20261126T062100Z"),
            "Signature not yet current: 20261126T062100Z is still later than 20261126T062046Z (20261126T060546Z + 15 min.)",
            "over 15 min late"
        );
    }

    /// AWS's published SigV4 example for a GET to IAM, adapted: the algorithm is the same for
    /// any service, so a known signature pins the key derivation and string to sign.
    #[test]
    fn the_signing_key_matches_awss_published_derivation() {
        // From the AWS General Reference's "derive a signing key" example.
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let mut key = hmac(format!("AWS4{secret}").as_bytes(), b"20120215");
        for part in ["us-east-1", "iam", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        assert_eq!(
            hex(&key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }
}
