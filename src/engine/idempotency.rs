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
//! actions' fingerprints — a 64-bit SipHash of the actions' debug form, whose maps are
//! ordered — are equal: a different request with the same token and an equal fingerprint
//! has a chance of 2⁻⁶⁴.
//!
//! The tokens live in memory only: they do **not** survive closing the database or a crash.
//! A retry after a reopen, within the 10 minutes, runs the transaction again.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::hash::Hasher;

use parking_lot::Mutex;

use crate::error::{Error, Result};
use crate::model::clock::Timestamp;

/// How long a completed transaction's token is remembered (DynamoDB's 10 minutes).
pub(crate) const TOKEN_WINDOW_MS: u64 = 10 * 60 * 1000;

/// The longest token DynamoDB accepts (the model's `ClientRequestToken`: 1 to 36 characters).
pub(crate) const MAX_TOKEN_LEN: usize = 36;

/// The state of one token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Use {
    /// A transaction with the token is running.
    Running { fingerprint: u64 },
    /// A transaction with the token committed at `at`.
    Done { fingerprint: u64, at: Timestamp },
}

/// The tokens of the transactions running or completed within the window.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_token: HashMap<String, Use>,
    /// Completed tokens in completion order, so the expired ones are dropped from the front.
    completed: VecDeque<(Timestamp, String)>,
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
    /// The transaction committed at `now`: its token answers retries for the window.
    pub(crate) fn complete(mut self, now: Timestamp) {
        let mut inner = self.tokens.inner.lock();
        let done = Use::Done {
            fingerprint: self.fingerprint,
            at: now,
        };
        inner.by_token.insert(self.token.clone(), done);
        inner.completed.push_back((now, self.token.clone()));
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

/// The fingerprint of a request's parameters: a hash of their debug form.
pub(crate) fn fingerprint(parameters: &impl std::fmt::Debug) -> u64 {
    /// Feeds formatted text straight into the hasher, so no string of the request's size is
    /// built.
    struct Feed(std::collections::hash_map::DefaultHasher);
    impl std::fmt::Write for Feed {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.write(s.as_bytes());
            Ok(())
        }
    }
    let mut feed = Feed(std::collections::hash_map::DefaultHasher::new());
    let _ = write!(feed, "{parameters:?}");
    feed.0.finish()
}

impl Tokens {
    /// Claims `token` for a request with `fingerprint` at `now`.
    pub(crate) fn claim(&self, token: &str, fingerprint: u64, now: Timestamp) -> Result<Claim<'_>> {
        let mut inner = self.inner.lock();
        inner.expire(now);
        // A use `expire` has not reached yet (completions are queued in the order their
        // clock reads raced) may be past its window too.
        let live = |u: &&Use| !matches!(u, Use::Done { at, .. } if expired(*at, now));
        match inner.by_token.get(token).filter(live) {
            Some(Use::Running { fingerprint: f } | Use::Done { fingerprint: f, .. })
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
            .insert(token.to_owned(), Use::Running { fingerprint });
        Ok(Claim::Run(Running {
            tokens: self,
            token: token.to_owned(),
            fingerprint,
            completed: false,
        }))
    }
}

/// Whether a use completed at `at` is out of the window at `now`.
fn expired(at: Timestamp, now: Timestamp) -> bool {
    at.0.saturating_add(TOKEN_WINDOW_MS) <= now.0
}

impl Inner {
    /// Forgets the tokens completed a window or more before `now`.
    fn expire(&mut self, now: Timestamp) {
        while let Some((at, _)) = self.completed.front() {
            if !expired(*at, now) {
                break;
            }
            let Some((at, token)) = self.completed.pop_front() else {
                break;
            };
            // The token may have been used again since; only this use expires.
            if let Some(Use::Done { at: latest, .. }) = self.by_token.get(&token) {
                if *latest == at {
                    self.by_token.remove(&token);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp(1_000_000);

    fn done(tokens: &Tokens, token: &str, fingerprint: u64, at: Timestamp) {
        match tokens.claim(token, fingerprint, at).expect("claim") {
            Claim::Run(running) => running.complete(at),
            Claim::Replay => panic!("a new token runs"),
        }
    }

    #[test]
    fn a_completed_token_replays_for_ten_minutes_then_runs_again() {
        let tokens = Tokens::default();
        done(&tokens, "t", 1, T0);
        let last = Timestamp(T0.0 + TOKEN_WINDOW_MS - 1);
        assert!(matches!(tokens.claim("t", 1, last), Ok(Claim::Replay)));
        let after = Timestamp(T0.0 + TOKEN_WINDOW_MS);
        assert!(matches!(tokens.claim("t", 1, after), Ok(Claim::Run(_))));
    }

    #[test]
    fn other_parameters_under_a_token_are_a_mismatch_while_it_runs_or_is_remembered() {
        let tokens = Tokens::default();
        let Ok(Claim::Run(running)) = tokens.claim("t", 1, T0) else {
            panic!("a new token runs");
        };
        let again = tokens.claim("t", 1, T0).expect_err("running");
        assert_eq!(again.exception_name(), "TransactionInProgressException");
        let other = tokens.claim("t", 2, T0).expect_err("other parameters");
        assert_eq!(
            other.exception_name(),
            "IdempotentParameterMismatchException"
        );
        running.complete(T0);
        let other = tokens.claim("t", 2, T0).expect_err("other parameters");
        assert_eq!(
            other.exception_name(),
            "IdempotentParameterMismatchException"
        );
    }

    #[test]
    fn a_transaction_that_did_not_complete_leaves_its_token_free() {
        let tokens = Tokens::default();
        drop(tokens.claim("t", 1, T0).expect("claim"));
        assert!(matches!(tokens.claim("t", 2, T0), Ok(Claim::Run(_))));
    }

    #[test]
    fn an_expired_use_does_not_forget_a_later_use_of_the_token() {
        let tokens = Tokens::default();
        done(&tokens, "t", 1, T0);
        let later = Timestamp(T0.0 + TOKEN_WINDOW_MS);
        done(&tokens, "t", 2, later);
        let still = Timestamp(later.0 + 1);
        assert!(matches!(tokens.claim("t", 2, still), Ok(Claim::Replay)));
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
}
