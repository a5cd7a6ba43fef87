//! The worker's decisions, without I/O: what an attempt, a verdict or a wait comes to, given
//! the facts and the time. The async shell (`worker`) reads the facts, asks here, and does what
//! it is told; these functions are tested with a table of cases and no runtime.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use driver::{ArchiveDocument, DeviceError, RegisterError, UnknownOutcome, Verdict};
use fiscal_model::{form, Completion, OperationBody};
use queue::{OpState, OperationId, Reason};

use crate::condition::Condition;
use crate::settings::OperationPolicy;

/// The first back-off while the register is not ready or unreachable, and the ceiling.
pub const POLL_FIRST: Duration = Duration::from_millis(200);
/// The longest back-off.
pub const POLL_MAX: Duration = Duration::from_secs(5);

/// What an operation comes to after one attempt or one settling.
#[derive(Debug)]
pub enum Next {
    /// The register made it: record it done.
    Done(Completion),
    /// The register answered about this very operation and made nothing: it fails at once
    /// (the register worked, so every wait episode is over).
    Fail(Reason),
    /// The outcome is unknown: record the lost command and settle it from the register.
    Reconcile(UnknownOutcome),
    /// The register refused a command: settle from its state before believing it.
    SettleRefusal(DeviceError),
    /// Proven not executed and the link is in doubt: this operation waits, in its episode.
    Retry(Reason),
    /// The register cannot take it now: it and the queue behind it wait on the condition.
    Blocked(Condition),
    /// Settled as not done: queue it again.
    Requeue,
    /// Only a person can settle it: hold the register's queue.
    Halt(String),
}

/// What one attempt at an operation came to.
pub fn after_attempt(result: Result<Completion, RegisterError>) -> Next {
    match result {
        Ok(completion) => Next::Done(completion),
        Err(RegisterError::Unknown(unknown)) => Next::Reconcile(unknown),
        Err(RegisterError::Link(_)) => Next::Retry(Condition::no_link("").reason()),
        Err(RegisterError::NotReady(reason)) => Next::Blocked(reason.into()),
        Err(RegisterError::Rejected(rejection)) => Next::Fail(Reason {
            code: rejection.code.into(),
            message: rejection.message,
            device_error: None,
        }),
        Err(RegisterError::Refused(refusal)) => Next::SettleRefusal(refusal),
    }
}

/// What the register's verdict on an operation comes to; `refusal` is the refusal that led to
/// settling, if one did.
pub fn after_verdict(verdict: Verdict, refusal: Option<DeviceError>) -> Next {
    match (verdict, refusal) {
        (Verdict::Done(completion), _) => Next::Done(completion),
        (Verdict::NotDone, Some(refusal)) if refusal.is_transient() => {
            Next::Blocked(Condition::Refused { refusal })
        }
        (Verdict::NotDone, Some(refusal)) => Next::Fail(Condition::Refused { refusal }.reason()),
        (Verdict::NotDone, None) => Next::Requeue,
        (Verdict::NeedsOperator(reason), _) => Next::Halt(reason),
        // Only asked for receipts and cash movements, which never settle as a shift report.
        (Verdict::ShiftDone(_), _) => {
            Next::Halt("the register reported a shift report for a receipt".into())
        }
    }
}

/// How long to wait before reopening a link that failed `reconnects` times in a row since an
/// operation last went through: nothing the first time, then doubling to [`POLL_MAX`].
pub fn reconnect_delay(reconnects: u32) -> Duration {
    if reconnects == 0 {
        return Duration::ZERO;
    }
    (POLL_FIRST * 2u32.pow(reconnects.min(6))).min(POLL_MAX)
}

/// The next back-off after `current`.
pub fn next_backoff(current: Duration) -> Duration {
    (current * 2).min(POLL_MAX)
}

/// What to do with an operation that cannot go on now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// Record `Waiting { reason, since }`: the reason changed or a new episode began. `None`:
    /// what is recorded stands.
    pub record: Option<DateTime<Utc>>,
    /// It has waited past the deadline in this episode: fail it with the reason.
    pub fail: bool,
}

/// The worker's memory of waits: when the register last made progress, when each pending
/// operation's wait episode began, and how often each met the same refusal.
#[derive(Debug)]
pub struct Ledger {
    policy: OperationPolicy,
    /// When the register last finished an operation (done, or refused for a reason of its
    /// own): a wait that began before it belongs to an episode that ended. Only progress ends
    /// an episode: a register that looks ready but fails every attempt keeps it running, so
    /// its deadline fires.
    last_progress: Option<DateTime<Utc>>,
    /// The start of each pending operation's current wait episode, also while it is being
    /// retried (its stored state is then not `Waiting`).
    episodes: HashMap<OperationId, DateTime<Utc>>,
    /// The last refusal that is not a waiting condition, per operation, and how often it came
    /// in a row.
    repeats: HashMap<OperationId, (String, u32)>,
}

impl Ledger {
    /// An empty ledger under `policy`.
    pub fn new(policy: OperationPolicy) -> Ledger {
        Ledger {
            policy,
            last_progress: None,
            episodes: HashMap::new(),
            repeats: HashMap::new(),
        }
    }

    /// `id` met `condition`. `true`: it is not a waiting condition and came `max_repeats`
    /// times in a row, so the operation fails with it instead of looping until the deadline.
    pub fn refused(&mut self, id: &OperationId, condition: &Condition) -> bool {
        if condition.waits() {
            return false;
        }
        let code = condition.code();
        let entry = self
            .repeats
            .entry(id.clone())
            .or_insert_with(|| (code.to_string(), 0));
        if entry.0 != code {
            *entry = (code.to_string(), 0);
        }
        entry.1 += 1;
        entry.1 >= self.policy.max_repeats
    }

    /// `id`, stored as `stored`, cannot go on now because of `reason`. The deadline runs from
    /// the first wait of this episode, whatever the reason now.
    pub fn wait(
        &mut self,
        id: &OperationId,
        stored: &OpState,
        reason: &Reason,
        now: DateTime<Utc>,
    ) -> Wait {
        let (same, since) = match stored {
            OpState::Waiting { reason: r, since } if !self.ended(*since) => {
                (r.code == reason.code, *since)
            }
            _ => (false, self.episode_start(id, now)),
        };
        self.episodes.insert(id.clone(), since);
        let waited = (now - since).to_std().unwrap_or_default();
        Wait {
            record: (!same).then_some(since),
            fail: !self.ended(since) && waited >= self.policy.deadline,
        }
    }

    /// The register worked at `now` (it made `id`'s document, or refused it for a reason of
    /// its own): every wait episode so far is over.
    pub fn progressed(&mut self, id: &OperationId, now: DateTime<Utc>) {
        self.last_progress = Some(now);
        self.episodes.clear();
        self.repeats.remove(id);
    }

    /// `id` finished without the register making progress (failed at its deadline or by
    /// repeats): only its own memory goes.
    pub fn finished(&mut self, id: &OperationId) {
        self.episodes.remove(id);
        self.repeats.remove(id);
    }

    /// The register has made progress since `since`: a wait that began then is over.
    fn ended(&self, since: DateTime<Utc>) -> bool {
        self.last_progress.is_some_and(|at| at > since)
    }

    /// When `id`'s current wait episode began: kept while it is retried, `now` if it has none.
    fn episode_start(&self, id: &OperationId, now: DateTime<Utc>) -> DateTime<Utc> {
        self.episodes
            .get(id)
            .copied()
            .filter(|since| !self.ended(*since))
            .unwrap_or(now)
    }
}

/// The FN document an operation makes, as FF0A shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    /// FFD form code.
    pub form: u8,
    /// Receipts: tag 1054 and the total, kopecks.
    pub receipt: Option<(u8, u64)>,
}

/// The document `body` makes; `None` for what makes no FD (cash movements, prints).
pub fn expected_document(body: &OperationBody) -> Option<Expected> {
    let receipt = |form: u8, r: &fiscal_model::Receipt| Expected {
        form,
        receipt: Some((r.receipt_type.tag_1054(), r.total.0)),
    };
    match body {
        OperationBody::Receipt(r) => Some(receipt(form::RECEIPT, r)),
        OperationBody::Correction(c) => Some(receipt(form::CORRECTION, &c.receipt)),
        OperationBody::OpenShift(_) => Some(Expected {
            form: form::OPEN_SHIFT,
            receipt: None,
        }),
        OperationBody::CloseShift(_) => Some(Expected {
            form: form::CLOSE_SHIFT,
            receipt: None,
        }),
        OperationBody::Cash(_)
        | OperationBody::XReport
        | OperationBody::PrintCopy(_)
        | OperationBody::PrintText(_) => None,
    }
}

/// Whether FN document `doc` can be the one an operation expecting `expected` made, after a
/// snapshot whose last FD was `before`; `Err` says why not, in Russian.
pub fn judge_done(expected: &Expected, doc: &ArchiveDocument, before: u32) -> Result<(), String> {
    if doc.fd_number <= before {
        return Err(format!(
            "ФД № {} сделан до начала операции (последний ФД перед ней — № {before}).",
            doc.fd_number
        ));
    }
    if doc.doc_type != expected.form {
        return Err(format!(
            "ФД № {} — {}, а операция делает {}.",
            doc.fd_number,
            form_name(doc.doc_type),
            form_name(expected.form)
        ));
    }
    if let Some((operation, total)) = expected.receipt {
        if doc.receipt != Some((operation, total)) {
            let (seen_op, seen_total) = doc.receipt.unwrap_or((0, 0));
            return Err(format!(
                "ФД № {}: признак расчёта {seen_op}, сумма {} — а операция: признак расчёта {operation}, сумма {}.",
                doc.fd_number,
                rubles(seen_total),
                rubles(total)
            ));
        }
    }
    Ok(())
}

/// The name of an FFD form code inside a sentence ("отчёт о закрытии смены").
fn form_name(code: u8) -> String {
    let name = form::name(code).unwrap_or("Документ неизвестного типа");
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

fn rubles(kopecks: u64) -> String {
    format!("{}.{:02} ₽", kopecks / 100, kopecks % 100)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use driver::{ErrorCode, LinkError, NotReadyReason, Rejection};
    use fiscal_model::CashResult;

    fn id(s: &str) -> OperationId {
        OperationId::new(s).unwrap()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_790_000_000 + seconds, 0).unwrap()
    }

    fn reason(code: &str) -> Reason {
        Reason {
            code: code.into(),
            message: code.into(),
            device_error: None,
        }
    }

    fn waiting(code: &str, since: i64) -> OpState {
        OpState::Waiting {
            reason: reason(code),
            since: at(since),
        }
    }

    fn ledger() -> Ledger {
        Ledger::new(OperationPolicy {
            deadline: Duration::from_secs(600),
            max_repeats: 3,
        })
    }

    fn refusal(code: u8) -> DeviceError {
        DeviceError::new("FF46 operation", ErrorCode(code))
    }

    fn cash() -> Completion {
        Completion::Cash(CashResult {
            document_number: 7,
            shift_number: 1,
            fn_number: "9999078900000001".into(),
            rnm: "0000000001012345".into(),
            date_time: at(0).naive_utc(),
        })
    }

    /// Every kind of attempt result, and what the worker does with it.
    #[test]
    fn an_attempt_comes_to_one_next_step() {
        let kind = |next: Next| match next {
            Next::Done(_) => "done".to_string(),
            Next::Fail(r) => format!("fail {}", r.code),
            Next::Reconcile(_) => "reconcile".into(),
            Next::SettleRefusal(d) => format!("settle {:#04x}", d.code.0),
            Next::Retry(r) => format!("retry {}", r.code),
            Next::Blocked(c) => format!("blocked {}", c.code()),
            Next::Requeue => "requeue".into(),
            Next::Halt(_) => "halt".into(),
        };
        let cases: Vec<(Result<Completion, RegisterError>, &str)> = vec![
            (Ok(cash()), "done"),
            (
                Err(RegisterError::Unknown(UnknownOutcome {
                    command: "FF45 close receipt",
                    detail: "no answer".into(),
                })),
                "reconcile",
            ),
            (
                Err(RegisterError::Link(LinkError::Unavailable("EIO".into()))),
                "retry NO_LINK",
            ),
            (
                Err(RegisterError::NotReady(NotReadyReason::CoverOpen)),
                "blocked COVER_OPEN",
            ),
            (
                Err(RegisterError::Rejected(Rejection {
                    code: "SUBTOTAL_MISMATCH",
                    message: "Итог не совпал.".into(),
                })),
                "fail SUBTOTAL_MISMATCH",
            ),
            (Err(RegisterError::Refused(refusal(0x73))), "settle 0x73"),
        ];
        for (result, expected) in cases {
            assert_eq!(kind(after_attempt(result)), expected);
        }
    }

    /// Every verdict, with and without the refusal that led to it.
    #[test]
    fn a_verdict_comes_to_one_next_step() {
        assert!(matches!(
            after_verdict(Verdict::Done(cash()), None),
            Next::Done(_)
        ));
        assert!(matches!(
            after_verdict(Verdict::NotDone, None),
            Next::Requeue
        ));
        // No paper: nothing made, the operation waits on the condition.
        match after_verdict(Verdict::NotDone, Some(refusal(0x6B))) {
            Next::Blocked(c) => assert_eq!(c.code(), "NO_PAPER"),
            other => panic!("{other:?}"),
        }
        // A wrong mode is transient but counted; a document error fails at once.
        assert!(matches!(
            after_verdict(Verdict::NotDone, Some(refusal(0x73))),
            Next::Blocked(c) if !c.waits()
        ));
        match after_verdict(Verdict::NotDone, Some(refusal(0x7E))) {
            Next::Fail(r) => assert_eq!(r.device_error, Some(0x7E)),
            other => panic!("{other:?}"),
        }
        // A refusal the register had in fact done is done.
        assert!(matches!(
            after_verdict(Verdict::Done(cash()), Some(refusal(0x55))),
            Next::Done(_)
        ));
        assert!(matches!(
            after_verdict(Verdict::NeedsOperator("FD 9 is not ours".into()), None),
            Next::Halt(m) if m == "FD 9 is not ours"
        ));
    }

    #[test]
    fn reconnects_back_off_doubling_to_the_ceiling() {
        let delays: Vec<u64> = (0..9)
            .map(|n| reconnect_delay(n).as_millis() as u64)
            .collect();
        assert_eq!(delays, [0, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]);
        assert_eq!(next_backoff(POLL_FIRST), Duration::from_millis(400));
        assert_eq!(next_backoff(POLL_MAX), POLL_MAX);
    }

    /// The episode table: (stored state, reason now, seconds now) → (record since?, fail?).
    #[test]
    fn waits_are_recorded_once_per_reason_and_fail_at_the_deadline() {
        let a = id("a");
        let cases: Vec<(OpState, &str, i64, Option<i64>, bool)> = vec![
            // First wait: recorded from now.
            (OpState::Queued, "NO_PAPER", 0, Some(0), false),
            // The same reason again: nothing written.
            (waiting("NO_PAPER", 0), "NO_PAPER", 100, None, false),
            // Another reason: written again, the episode keeps its start.
            (waiting("NO_PAPER", 0), "COVER_OPEN", 200, Some(0), false),
            // Retried (stored Queued) inside the episode: the start is remembered.
            (OpState::Queued, "COVER_OPEN", 300, Some(0), false),
            // At the deadline it fails.
            (waiting("COVER_OPEN", 0), "COVER_OPEN", 600, None, true),
        ];
        let mut l = ledger();
        for (stored, code, now, record, fail) in cases {
            let w = l.wait(&a, &stored, &reason(code), at(now));
            assert_eq!(
                w,
                Wait {
                    record: record.map(at),
                    fail
                },
                "{stored:?} {code} at {now}"
            );
        }
    }

    #[test]
    fn progress_ends_every_episode() {
        let (a, b) = (id("a"), id("b"));
        let mut l = ledger();
        l.wait(&a, &OpState::Queued, &reason("NO_PAPER"), at(0));
        l.wait(&b, &OpState::Queued, &reason("NO_PAPER"), at(0));
        l.progressed(&a, at(500));
        // b's stored wait from 0 belongs to an episode that ended: a new one starts at 700.
        let w = l.wait(&b, &waiting("NO_PAPER", 0), &reason("NO_PAPER"), at(700));
        assert_eq!(
            w,
            Wait {
                record: Some(at(700)),
                fail: false
            }
        );
        // Without progress the register that fails every attempt meets the deadline.
        let w = l.wait(&b, &OpState::Queued, &reason("NO_LINK"), at(1300));
        assert_eq!(
            w,
            Wait {
                record: Some(at(700)),
                fail: true
            }
        );
    }

    #[test]
    fn the_same_refusal_is_counted_in_a_row_per_operation() {
        let (a, b) = (id("a"), id("b"));
        let wrong_mode = Condition::Refused {
            refusal: refusal(0x73),
        };
        let other = Condition::from(NotReadyReason::Other("ККТ в режиме 9.".into()));
        let mut l = ledger();
        assert!(!l.refused(&a, &wrong_mode));
        assert!(!l.refused(&a, &wrong_mode));
        assert!(!l.refused(&b, &wrong_mode), "per operation");
        assert!(!l.refused(&a, &other), "another refusal starts again");
        assert!(!l.refused(&a, &other));
        assert!(l.refused(&a, &other), "the third in a row");
        l.finished(&a);
        assert!(!l.refused(&a, &other), "forgotten when it finished");
        // A waiting condition is never counted.
        for _ in 0..10 {
            assert!(!l.refused(&a, &Condition::from(NotReadyReason::PaperOut)));
        }
    }

    fn archived(fd: u32, doc_type: u8, receipt: Option<(u8, u64)>) -> ArchiveDocument {
        ArchiveDocument {
            doc_type,
            date_time: chrono::NaiveDate::from_ymd_opt(2026, 12, 3)
                .and_then(|d| d.and_hms_opt(12, 0, 0))
                .unwrap(),
            fd_number: fd,
            fiscal_sign: 1,
            receipt,
            shift_number: None,
        }
    }

    #[test]
    fn a_claimed_document_must_be_newer_than_the_snapshot_and_of_the_operation() {
        let sale = Expected {
            form: form::RECEIPT,
            receipt: Some((1, 4200)),
        };
        let shift = Expected {
            form: form::CLOSE_SHIFT,
            receipt: None,
        };
        let cases: [(&Expected, ArchiveDocument, Option<&str>); 6] = [
            (&sale, archived(11, 3, Some((1, 4200))), None),
            (
                &sale,
                archived(10, 3, Some((1, 4200))),
                Some("до начала операции"),
            ),
            (&sale, archived(12, 5, None), Some("отчёт о закрытии смены")),
            (
                &sale,
                archived(11, 3, Some((2, 4200))),
                Some("признак расчёта 2"),
            ),
            (&sale, archived(11, 3, Some((1, 4300))), Some("сумма 43.00")),
            (&shift, archived(12, 5, None), None),
        ];
        for (expected, doc, refusal) in cases {
            let judged = judge_done(expected, &doc, 10);
            match (refusal, judged) {
                (None, judged) => assert_eq!(judged, Ok(()), "{doc:?}"),
                (Some(why), Err(message)) => assert!(message.contains(why), "{message}"),
                (Some(why), Ok(())) => panic!("accepted, expected a refusal with {why}: {doc:?}"),
            }
        }
    }

    #[test]
    fn only_documents_of_the_fn_are_expected_of_operations_that_make_them() {
        assert_eq!(expected_document(&OperationBody::XReport), None);
        assert_eq!(
            expected_document(&OperationBody::OpenShift(Default::default())),
            Some(Expected {
                form: form::OPEN_SHIFT,
                receipt: None
            })
        );
    }
}
