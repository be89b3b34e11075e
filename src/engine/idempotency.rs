//! `ClientRequestToken`: a `TransactWriteItems` sent again with the token of one that
//! succeeded is answered with success and writes nothing, as DynamoDB documents it (the
//! `ClientRequestToken` member of `TransactWriteItems` in the API model):
//!
//! - A token is remembered for [`TOKEN_WINDOW_MS`] (10 minutes) after the transaction that
//!   used it *completed*; after that, a request with the token is a new request.
//! - The same token with other parameters (other actions) within the window is
//!   `IdempotentParameterMismatchException`; while the first request is still running, the
//!   same request again is `TransactionInProgressException`.
//! - Only a transaction that committed keeps its token: one that was cancelled or refused
//!   wrote nothing, so a retry with its token runs for real.
//!
//! The parameters compared are the actions (`TransactItems`), as given; `ReturnConsumedCapacity`
//! only shapes the answer, so a retry may change it. Two requests are the same when their
//! actions' fingerprints are equal: the first 64 bits of a SHA-256 of the actions' codec
//! encoding (tables, items and keys as the log encodes them, expressions as the
//! [`ExpressionWriter`] writes them, which is one text per typed expression), fed to the
//! hasher as it is encoded. A different request with the same token and an equal
//! fingerprint has a chance of 2⁻⁶⁴.
//!
//! The tokens survive a crash and a reopen: a transaction under a token is logged with it
//! and its fingerprint (`Mutation::TokenWrite`, even when it writes nothing), recovery
//! gives back the tokens of the last 10 minutes of log time, and the log is kept back to
//! the record of the oldest token remembered ([`Tokens::log_floor`]). Keeping the log, not
//! copying the tokens into the catalog at each truncation, is the simpler correct choice:
//! the record holds the token atomically with the writes it protects, a token is never
//! in a state the log and the catalog could disagree on (a transaction logged but not yet
//! completed when the catalog is written), and it costs at most 10 minutes of log, which a
//! reopen skims (the token is read from the front of a record, its writes are skipped).
//!
//! At most [`MAX_TOKENS`] tokens are remembered; beyond that the oldest are forgotten first.

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use crate::api::items::{ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use crate::error::{Error, Result};
use crate::expr::syntax::ExpressionWriter;
use crate::format::codec;
pub(crate) use crate::format::mutation::{MAX_TOKENS, TOKEN_WINDOW_MS};
use crate::model::clock::Timestamp;
use crate::model::Lsn;
use crate::storage::recovery::LoggedToken;

/// The longest token DynamoDB accepts (the model's `ClientRequestToken`: 1 to 36 characters).
pub(crate) const MAX_TOKEN_LEN: usize = 36;

/// The state of one token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Use {
    /// A transaction with the token is running; its record, if it commits, comes after
    /// LSN `after`.
    Running { fingerprint: u64, after: Lsn },
    /// A transaction with the token committed at `at`, in record `lsn`.
    Done {
        fingerprint: u64,
        at: Timestamp,
        lsn: Lsn,
    },
}

/// The tokens of the transactions running or completed within the window.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_token: HashMap<String, Use>,
    /// Completed tokens in completion order (their record's LSN tells this use from a later
    /// one), so the expired and the oldest are dropped from the front.
    completed: VecDeque<(Timestamp, Lsn, String)>,
}

/// What a request with a token does.
#[derive(Debug)]
pub(crate) enum Claim<'a> {
    /// Runs: no transaction with the token completed within the window. The guard marks the
    /// token completed ([`Running::complete`]) or, dropped, forgets it.
    Run(Running<'a>),
    /// Answers success without writing: the same transaction committed within the window.
    Replay,
}

/// A transaction running under a token.
#[derive(Debug)]
pub(crate) struct Running<'a> {
    tokens: &'a Tokens,
    token: String,
    fingerprint: u64,
    completed: bool,
}

impl Running<'_> {
    /// The token, to log with the transaction's writes.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// The fingerprint of the transaction's parameters, to log with its writes.
    pub(crate) fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The transaction committed at `at` in record `lsn`: its token answers retries for the
    /// window.
    pub(crate) fn complete(mut self, at: Timestamp, lsn: Lsn) {
        self.tokens
            .inner
            .lock()
            .done(self.token.clone(), self.fingerprint, at, lsn);
        self.completed = true;
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        // Cancelled, refused or unwound: the transaction wrote nothing, so a retry runs.
        if !self.completed {
            self.tokens.inner.lock().by_token.remove(&self.token);
        }
    }
}

/// DynamoDB's check of the token's length.
pub(crate) fn validate_token(token: &str) -> Result<()> {
    let len = token.chars().count();
    let constraint = match len {
        0 => "Member must have length greater than or equal to 1",
        n if n > MAX_TOKEN_LEN => "Member must have length less than or equal to 36",
        _ => return Ok(()),
    };
    Err(Error::validation(format!(
        "1 validation error detected: Value '{token}' at 'clientRequestToken' failed to satisfy constraint: {constraint}"
    )))
}

/// Feeds encoded bytes straight into the hash, so no buffer of the request's size is built.
struct Feed(Sha256);

impl std::io::Write for Feed {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The fingerprint of a transaction's actions (see the module's doc).
pub(crate) fn fingerprint(actions: &[TransactWriteItem]) -> u64 {
    let mut feed = Feed(Sha256::new());
    for action in actions {
        let (kind, table, item, condition, update, on_failure) = match action {
            TransactWriteItem::ConditionCheck(c) => (
                0u8,
                &c.table_name,
                &c.key,
                c.condition.as_ref(),
                None,
                c.return_values_on_condition_check_failure,
            ),
            TransactWriteItem::Put(p) => (
                1,
                &p.table_name,
                &p.item,
                p.condition.as_ref(),
                None,
                p.return_values_on_condition_check_failure,
            ),
            TransactWriteItem::Delete(d) => (
                2,
                &d.table_name,
                &d.key,
                d.condition.as_ref(),
                None,
                d.return_values_on_condition_check_failure,
            ),
            TransactWriteItem::Update(u) => (
                3,
                &u.table_name,
                &u.key,
                u.condition.as_ref(),
                Some(&u.update),
                u.return_values_on_condition_check_failure,
            ),
        };
        // One writer per action, as one request's expressions share their maps.
        let mut writer = ExpressionWriter::new();
        let condition = condition.map(|c| writer.condition(c));
        let update = update.map(|u| writer.update(u));
        let (names, values) = writer.into_maps();
        let on_failure = on_failure == ReturnValuesOnConditionCheckFailure::AllOld;
        let encoded = (
            kind, table, item, condition, update, names, values, on_failure,
        );
        codec::encode_to(&encoded, &mut feed);
    }
    let digest = feed.0.finalize();
    let mut first = [0; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

impl Tokens {
    /// The tokens recovery found in the log.
    pub(crate) fn recovered(logged: impl IntoIterator<Item = LoggedToken>) -> Tokens {
        let tokens = Tokens::default();
        {
            let mut inner = tokens.inner.lock();
            for t in logged {
                inner.done(t.token, t.fingerprint, t.at, t.lsn);
            }
        }
        tokens
    }

    /// Claims `token` for a request with `fingerprint` at `now`; `after` is the last LSN
    /// handed out, which the transaction's record will follow.
    pub(crate) fn claim(
        &self,
        token: &str,
        fingerprint: u64,
        now: Timestamp,
        after: Lsn,
    ) -> Result<Claim<'_>> {
        let mut inner = self.inner.lock();
        inner.expire(now);
        // A use `expire` has not reached yet (completions are queued in the order their
        // clock reads raced) may be past its window too.
        let live = |u: &&Use| !matches!(u, Use::Done { at, .. } if expired(*at, now));
        match inner.by_token.get(token).filter(live) {
            Some(Use::Running { fingerprint: f, .. } | Use::Done { fingerprint: f, .. })
                if *f != fingerprint =>
            {
                // The exception's own words in DynamoDB's API model.
                return Err(Error::IdempotentParameterMismatch(
                    "DynamoDB rejected the request because you retried a request with a different payload but with an idempotent token that was already used.".into(),
                ));
            }
            Some(Use::Running { .. }) => {
                return Err(Error::TransactionInProgress(
                    "The transaction with the given request token is already in progress.".into(),
                ));
            }
            Some(Use::Done { .. }) => return Ok(Claim::Replay),
            None => {}
        }
        inner
            .by_token
            .insert(token.to_owned(), Use::Running { fingerprint, after });
        Ok(Claim::Run(Running {
            tokens: self,
            token: token.to_owned(),
            fingerprint,
            completed: false,
        }))
    }

    /// The LSN up to which the log may go as far as the tokens are concerned: every record
    /// of a token remembered at `now`, or of a transaction running under one, is after it.
    /// `None` when no token is.
    pub(crate) fn log_floor(&self, now: Timestamp) -> Option<Lsn> {
        let mut inner = self.inner.lock();
        inner.expire(now);
        let floor = |u: &Use| match *u {
            Use::Running { after, .. } => after,
            Use::Done { lsn, .. } => lsn.saturating_sub(1),
        };
        inner.by_token.values().map(floor).min()
    }
}

/// Whether a use completed at `at` is out of the window at `now`.
fn expired(at: Timestamp, now: Timestamp) -> bool {
    at.0.saturating_add(TOKEN_WINDOW_MS) <= now.0
}

impl Inner {
    /// Remembers `token` as completed at `at` in record `lsn`, forgetting the oldest
    /// beyond [`MAX_TOKENS`].
    fn done(&mut self, token: String, fingerprint: u64, at: Timestamp, lsn: Lsn) {
        let done = Use::Done {
            fingerprint,
            at,
            lsn,
        };
        self.by_token.insert(token.clone(), done);
        self.completed.push_back((at, lsn, token));
        while self.completed.len() > MAX_TOKENS {
            self.forget_oldest();
        }
    }

    /// Forgets the tokens completed a window or more before `now`.
    fn expire(&mut self, now: Timestamp) {
        while self
            .completed
            .front()
            .is_some_and(|(at, _, _)| expired(*at, now))
        {
            self.forget_oldest();
        }
    }

    /// Forgets the oldest completed use — unless its token has been used again since.
    fn forget_oldest(&mut self) {
        let Some((_, lsn, token)) = self.completed.pop_front() else {
            return;
        };
        if let Some(Use::Done { lsn: latest, .. }) = self.by_token.get(&token) {
            if *latest == lsn {
                self.by_token.remove(&token);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp(1_000_000);

    fn done(tokens: &Tokens, token: &str, fingerprint: u64, at: Timestamp) {
        match tokens.claim(token, fingerprint, at, at.0).expect("claim") {
            Claim::Run(running) => running.complete(at, at.0 + 1),
            Claim::Replay => panic!("a new token runs"),
        }
    }

    #[test]
    fn a_completed_token_replays_for_ten_minutes_then_runs_again() {
        let tokens = Tokens::default();
        done(&tokens, "t", 1, T0);
        let last = Timestamp(T0.0 + TOKEN_WINDOW_MS - 1);
        assert!(matches!(tokens.claim("t", 1, last, 0), Ok(Claim::Replay)));
        let after = Timestamp(T0.0 + TOKEN_WINDOW_MS);
        assert!(matches!(tokens.claim("t", 1, after, 0), Ok(Claim::Run(_))));
    }

    #[test]
    fn other_parameters_under_a_token_are_a_mismatch_while_it_runs_or_is_remembered() {
        let tokens = Tokens::default();
        let Ok(Claim::Run(running)) = tokens.claim("t", 1, T0, 0) else {
            panic!("a new token runs");
        };
        let again = tokens.claim("t", 1, T0, 0).expect_err("running");
        assert_eq!(again.exception_name(), "TransactionInProgressException");
        let other = tokens.claim("t", 2, T0, 0).expect_err("other parameters");
        assert_eq!(
            other.exception_name(),
            "IdempotentParameterMismatchException"
        );
        running.complete(T0, 1);
        let other = tokens.claim("t", 2, T0, 0).expect_err("other parameters");
        assert_eq!(
            other.exception_name(),
            "IdempotentParameterMismatchException"
        );
    }

    #[test]
    fn a_transaction_that_did_not_complete_leaves_its_token_free() {
        let tokens = Tokens::default();
        drop(tokens.claim("t", 1, T0, 0).expect("claim"));
        assert!(matches!(tokens.claim("t", 2, T0, 0), Ok(Claim::Run(_))));
    }

    #[test]
    fn an_expired_use_does_not_forget_a_later_use_of_the_token() {
        let tokens = Tokens::default();
        done(&tokens, "t", 1, T0);
        let later = Timestamp(T0.0 + TOKEN_WINDOW_MS);
        done(&tokens, "t", 2, later);
        let still = Timestamp(later.0 + 1);
        assert!(matches!(tokens.claim("t", 2, still, 0), Ok(Claim::Replay)));
    }

    #[test]
    fn the_oldest_tokens_beyond_the_bound_are_forgotten() {
        let tokens = Tokens::default();
        for i in 0..=MAX_TOKENS {
            done(&tokens, &i.to_string(), 1, T0);
        }
        assert!(matches!(tokens.claim("0", 1, T0, 0), Ok(Claim::Run(_))));
        assert!(matches!(tokens.claim("1", 1, T0, 0), Ok(Claim::Replay)));
    }

    #[test]
    fn the_log_floor_keeps_the_record_of_every_remembered_or_running_token() {
        let tokens = Tokens::default();
        assert_eq!(tokens.log_floor(T0), None);
        let Ok(Claim::Run(first)) = tokens.claim("a", 1, T0, 10) else {
            panic!("a new token runs");
        };
        assert_eq!(tokens.log_floor(T0), Some(10), "its record comes after 10");
        first.complete(T0, 12);
        assert_eq!(tokens.log_floor(T0), Some(11));
        let later = Timestamp(T0.0 + 1);
        let Ok(Claim::Run(second)) = tokens.claim("b", 1, later, 20) else {
            panic!("a new token runs");
        };
        second.complete(later, 21);
        assert_eq!(tokens.log_floor(later), Some(11));
        let expired = Timestamp(T0.0 + TOKEN_WINDOW_MS);
        assert_eq!(tokens.log_floor(expired), Some(20), "the first expired");
    }

    #[test]
    fn a_fingerprint_is_a_hash_of_the_encoded_actions_that_no_build_changes() {
        use crate::api::items::{ConditionCheckInput, UpdateItemInput};
        use crate::expr::{Condition, Update};
        use crate::model::value::{AttributeValue, Item};
        let key = || Item::from([("pk".to_owned(), AttributeValue::S("n".into()))]);
        let actions = |by: i64, on_failure| {
            let add = Update::new().add("v", AttributeValue::number(by));
            let check = ConditionCheckInput::new("T", key())
                .condition(Condition::attribute_exists("v"))
                .return_values_on_condition_check_failure(on_failure);
            vec![
                TransactWriteItem::Update(UpdateItemInput::new("T", key(), add)),
                TransactWriteItem::ConditionCheck(check),
            ]
        };
        let none = ReturnValuesOnConditionCheckFailure::None;
        let all_old = ReturnValuesOnConditionCheckFailure::AllOld;
        let fingerprint_of = |by, on_failure| fingerprint(&actions(by, on_failure));
        // The log keeps fingerprints: a new build must compute the same one.
        assert_eq!(fingerprint_of(1, none), 0x5fd4_b876_a4ad_b97a);
        assert_ne!(fingerprint_of(2, none), fingerprint_of(1, none));
        assert_ne!(fingerprint_of(1, all_old), fingerprint_of(1, none));
    }

    #[test]
    fn tokens_must_have_one_to_36_characters() {
        assert!(validate_token("a").is_ok());
        assert!(validate_token(&"é".repeat(36)).is_ok());
        let long = validate_token(&"a".repeat(37)).expect_err("37");
        assert!(
            long.to_string().contains("less than or equal to 36"),
            "{long}"
        );
        let empty = validate_token("").expect_err("empty");
        assert!(
            empty.to_string().contains("greater than or equal to 1"),
            "{empty}"
        );
    }

    /// A token's fingerprint is logged (`TokenWrite` records) and compared after a restart,
    /// so a transaction must hash as every earlier build hashed it: this one, with each
    /// condition function, came out so on the build before conditions took any operand
    /// first (1108399) and after.
    #[test]
    fn a_fingerprint_stays_what_earlier_builds_logged() {
        use crate::api::items::ConditionCheckInput;
        use crate::expr::Condition;
        use crate::model::value::{AttributeValue, Item, ValueType};
        let key = Item::from([("pk".to_owned(), AttributeValue::S("n".into()))]);
        let condition = Condition::attribute_type("a.b", ValueType::Ss)
            .and(Condition::begins_with("c", "x"))
            .or(Condition::contains("d", AttributeValue::number(3)).not())
            .and(Condition::attribute_not_exists("e"));
        let check = ConditionCheckInput::new("T", key).condition(condition);
        let actions = vec![TransactWriteItem::ConditionCheck(check)];
        assert_eq!(fingerprint(&actions), 0xa6dd_a086_884c_b58c);
    }
}
