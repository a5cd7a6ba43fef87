//! Requests from outside the worker: a document of the FN archive, and an operator's
//! settlement of the operation a halted register holds. A claim is checked against the FN
//! before it is accepted ([`crate::decide::judge_done`], [`crate::decide::judge_not_done`]); a
//! forced claim records a person's decision the FN cannot prove.

use driver::{Intent, LinkError, Readiness, Register, RegisterError, Snapshot, Verdict};
use fiscal_model::{CashResult, Completion, FiscalResult, OperationBody, ShiftResult};
use queue::{OpState, Operation, OperationId};

use super::{Step, Worker};
use crate::control::{Claim, ClaimOutcome, ControlError, Request};
use crate::decide::{self, expected_document, Expected};

/// How many documents after the snapshot a "not done" claim looks through.
const NOT_DONE_SEARCH: u32 = 50;

/// What an accepted claim does to the operation.
enum Settlement {
    Done(Completion),
    NotDone,
}

impl Worker {
    /// Answers `request`. `None`: answered, nothing else changes; `Some(Step::Again)`: an
    /// operation was settled, the register may resume; another step: the link needs it.
    pub(super) async fn answer(
        &mut self,
        r: Option<&mut Register>,
        request: Request,
    ) -> Option<Step> {
        // A caller that stopped waiting was told the register did not answer: what it asked is
        // not done behind its back.
        if request.abandoned() {
            return None;
        }
        match request {
            Request::Document { fd, reply } => {
                let (answer, step) = match r {
                    None => (Err(no_link()), None),
                    Some(r) => match r.archived(fd).await {
                        Ok(doc) => (Ok(doc), None),
                        Err(RegisterError::Refused(_)) => (
                            Err(ControlError::NotFound(format!(
                                "В архиве ФН нет документа № {fd}."
                            ))),
                            None,
                        ),
                        Err(e) => {
                            let answer =
                                Err(ControlError::Unavailable(format!("ККТ не ответила: {e}")));
                            (answer, Some(self.driver_trouble(e)))
                        }
                    },
                };
                let _ = reply.send(answer);
                step
            }
            Request::Settle {
                operation,
                claim,
                reply,
            } => {
                let (answer, step) = self.settle_claim(r, &operation, &claim).await;
                let _ = reply.send(answer);
                step
            }
        }
    }

    async fn settle_claim(
        &mut self,
        r: Option<&mut Register>,
        id: &OperationId,
        claim: &Claim,
    ) -> (Result<(), ControlError>, Option<Step>) {
        let op = match self.store.get(id) {
            Ok(Some(op)) if op.register == self.register_id => op,
            Ok(_) => {
                let e = ControlError::NotFound(format!("Операция {id} не найдена."));
                return (Err(e), None);
            }
            Err(e) => return (Err(ControlError::Unavailable(e.to_string())), None),
        };
        if self.held.as_ref() != Some(id) {
            let why = if op.state.is_unsettled() {
                format!("Исход операции {id} ещё выясняется по состоянию ФН: решение человека не нужно.")
            } else {
                format!(
                    "Операция {id} не ждёт решения: её состояние — {}.",
                    op.state.name()
                )
            };
            return (Err(ControlError::Refused(why)), None);
        }
        let snapshot = match &op.state {
            OpState::Sending { snapshot } | OpState::Reconciling { snapshot } => {
                serde_json::from_value::<Snapshot>(snapshot.clone())
            }
            _ => {
                let why = format!("Операция {id} не ждёт решения.");
                return (Err(ControlError::Refused(why)), None);
            }
        };
        let Ok(snapshot) = snapshot else {
            let why = format!("Снимок операции {id} не читается: подтвердите решение с force.");
            return (Err(ControlError::Refused(why)), None);
        };
        let Some(r) = r else {
            return (Err(no_link()), None);
        };
        let settlement = match self.judge(r, &op, &snapshot, claim).await {
            Ok(settlement) => settlement,
            Err(Judged::Refused(why)) => return (Err(ControlError::Refused(why)), None),
            Err(Judged::Trouble(e)) => {
                let answer = Err(ControlError::Unavailable(format!("ККТ не ответила: {e}")));
                return (answer, Some(self.driver_trouble(e)));
            }
        };
        let forced = claim
            .reason
            .as_deref()
            .filter(|_| claim.force)
            .map(|reason| format!(" (без подтверждения ФН: {reason})"))
            .unwrap_or_default();
        let (state, note) = match settlement {
            Settlement::Done(completion) => {
                let note = format!("settled by {}: done{forced}", claim.by);
                (OpState::Done { completion }, note)
            }
            Settlement::NotDone => {
                let note = format!("settled by {}: not done, queued again{forced}", claim.by);
                (OpState::Queued, note)
            }
        };
        if let Err(e) = self.store.transition(id, state, &note).await {
            let answer = Err(ControlError::Unavailable(e.to_string()));
            return (answer, Some(self.store_trouble(e)));
        }
        tracing::warn!(operation = %id, register = %self.settings.id, by = %claim.by, force = claim.force, %note, "settled by an operator");
        self.held = None;
        self.facts_stale = true;
        (Ok(()), Some(Step::Again))
    }

    /// Checks `claim` against the register's FN.
    async fn judge(
        &mut self,
        r: &mut Register,
        op: &Operation,
        snapshot: &Snapshot,
        claim: &Claim,
    ) -> Result<Settlement, Judged> {
        let expected = expected_document(&op.request.body);
        match (claim.outcome, expected) {
            (ClaimOutcome::Done { fd: Some(fd) }, Some(expected)) => {
                let doc = match r.archived(fd).await {
                    Ok(doc) => doc,
                    Err(RegisterError::Refused(_)) => {
                        return Err(Judged::Refused(format!(
                            "В архиве ФН нет документа № {fd}."
                        )))
                    }
                    Err(e) => return Err(Judged::Trouble(e)),
                };
                if !claim.force {
                    decide::judge_done(&expected, &doc, snapshot.fn_last_fd)
                        .map_err(Judged::Refused)?;
                }
                let completion = self.completion_of(r, &op.request.body, &doc).await?;
                Ok(Settlement::Done(completion))
            }
            (ClaimOutcome::Done { fd: None }, Some(_)) => Err(Judged::Refused(
                "Укажите номер ФД, который сделала эта операция.".into(),
            )),
            (ClaimOutcome::Done { fd: Some(_) }, None) => Err(Judged::Refused(
                "Внесение и выплата не создают ФД: подтвердите исход без номера ФД.".into(),
            )),
            (ClaimOutcome::Done { fd: None }, None) => self.cash_done(r, op, snapshot, claim).await,
            (ClaimOutcome::NotDone, expected) => {
                if !claim.force {
                    self.not_done(r, op, snapshot, expected.as_ref()).await?;
                }
                // A receipt left open by the lost operation is cancelled before it is redone.
                if let Readiness::NotReady(driver::NotReadyReason::ReceiptOpen) =
                    r.status().await.map_err(Judged::Trouble)?.readiness
                {
                    r.cancel_receipt().await.map_err(Judged::Trouble)?;
                }
                Ok(Settlement::NotDone)
            }
        }
    }

    /// "Not done": no document since the snapshot is this operation's, and (for a cash
    /// movement, which makes no FD) the FN's last FD and the cash counters are unchanged.
    async fn not_done(
        &mut self,
        r: &mut Register,
        op: &Operation,
        snapshot: &Snapshot,
        expected: Option<&Expected>,
    ) -> Result<(), Judged> {
        let last = r.fn_status().await.map_err(Judged::Trouble)?.last_fd;
        let Some(expected) = expected else {
            let OperationBody::Cash(movement) = &op.request.body else {
                return Ok(());
            };
            return match r
                .reconcile(snapshot, &Intent::Cash(*movement))
                .await
                .map_err(Judged::Trouble)?
            {
                Verdict::NotDone => Ok(()),
                Verdict::Done(_) | Verdict::ShiftDone(_) => Err(Judged::Refused(
                    "Счётчики внесений/выплат ККТ показывают, что операция прошла.".into(),
                )),
                Verdict::NeedsOperator(why) => Err(Judged::Refused(why)),
            };
        };
        if last.saturating_sub(snapshot.fn_last_fd) > NOT_DONE_SEARCH {
            return Err(Judged::Refused(format!(
                "После снимка в ФН больше {NOT_DONE_SEARCH} документов (ФД {} → {last}): проверить их все нельзя.",
                snapshot.fn_last_fd
            )));
        }
        for fd in snapshot.fn_last_fd.saturating_add(1)..=last {
            let doc = r.archived(fd).await.map_err(Judged::Trouble)?;
            if decide::judge_done(expected, &doc, snapshot.fn_last_fd).is_ok() {
                return Err(Judged::Refused(format!(
                    "ФД № {fd} в ФН совпадает с этой операцией: если это она, подтвердите --done {fd}."
                )));
            }
        }
        Ok(())
    }

    /// "Done" of a cash movement: its counters must show it (or a person forces it).
    async fn cash_done(
        &mut self,
        r: &mut Register,
        op: &Operation,
        snapshot: &Snapshot,
        claim: &Claim,
    ) -> Result<Settlement, Judged> {
        let OperationBody::Cash(movement) = &op.request.body else {
            return Err(Judged::Refused(
                "Эта операция не создаёт документ: её исход можно только отменить (not done)."
                    .into(),
            ));
        };
        let verdict = r
            .reconcile(snapshot, &Intent::Cash(*movement))
            .await
            .map_err(Judged::Trouble)?;
        match verdict {
            Verdict::Done(completion) => Ok(Settlement::Done(completion)),
            _ if claim.force => {
                let identity = r.identity().await.map_err(Judged::Trouble)?;
                let day = r.day_facts().await.map_err(Judged::Trouble)?;
                let now = r.clock_now().await.map_err(Judged::Trouble)?;
                Ok(Settlement::Done(Completion::Cash(CashResult {
                    document_number: 0,
                    shift_number: day.shift_number,
                    fn_number: identity.fn_number,
                    rnm: identity.rnm,
                    date_time: now,
                })))
            }
            Verdict::NeedsOperator(why) => Err(Judged::Refused(why)),
            _ => Err(Judged::Refused(
                "Счётчики внесений/выплат ККТ не показывают эту операцию.".into(),
            )),
        }
    }

    /// The completion an accepted "done" records, from the FN's document.
    async fn completion_of(
        &mut self,
        r: &mut Register,
        body: &OperationBody,
        doc: &driver::ArchiveDocument,
    ) -> Result<Completion, Judged> {
        let identity = r.identity().await.map_err(Judged::Trouble)?;
        let day = r.day_facts().await.map_err(Judged::Trouble)?;
        Ok(match body {
            OperationBody::OpenShift(_) | OperationBody::CloseShift(_) => {
                Completion::Shift(ShiftResult {
                    shift_number: doc.shift_number.unwrap_or(day.shift_number),
                    fd_number: Some(doc.fd_number),
                    fiscal_sign: Some(doc.fiscal_sign),
                    fn_number: identity.fn_number,
                    rnm: identity.rnm,
                    date_time: Some(doc.date_time),
                    made: true,
                })
            }
            _ => {
                // The receipt's own numbers are in its document (1038, 1042): the FN may have
                // moved on to later receipts or another shift since it was made.
                let own = self.receipt_numbers(r, doc.fd_number).await?;
                Completion::Receipt(FiscalResult {
                    fd_number: doc.fd_number,
                    fiscal_sign: doc.fiscal_sign,
                    // Without the document, FF40 tells the receipt's number only while it is
                    // the FN's last document.
                    receipt_number_in_shift: own.receipt.unwrap_or(
                        if day.last_fd == doc.fd_number {
                            day.receipts_in_shift
                        } else {
                            0
                        },
                    ),
                    shift_number: own.shift.unwrap_or(day.shift_number),
                    fn_number: identity.fn_number,
                    rnm: identity.rnm,
                    date_time: doc.date_time,
                    not_printed: false,
                    marking_checks: Vec::new(),
                })
            }
        })
    }

    /// Shift number and receipt number of receipt `fd`, read from its document in the FN
    /// (FF3A/FF3B). A register that cannot read it back (FF3A refused, e.g. firmware without
    /// it, or a document that never parses) gives neither; link trouble is returned.
    async fn receipt_numbers(&mut self, r: &mut Register, fd: u32) -> Result<OwnNumbers, Judged> {
        match r.read_document(fd).await {
            Ok(document) => Ok(OwnNumbers {
                shift: document.shift_number(),
                receipt: document.receipt_number(),
            }),
            Err(
                e @ (RegisterError::Refused(_) | RegisterError::Link(LinkError::BadAnswer { .. })),
            ) => {
                tracing::warn!(fd, %e, "the receipt's document is not read back from the FN; its numbers come from the register's counters");
                Ok(OwnNumbers::default())
            }
            Err(e) => Err(Judged::Trouble(e)),
        }
    }
}

/// A receipt's numbers as its FN document holds them.
#[derive(Default)]
struct OwnNumbers {
    /// Shift number (1038).
    shift: Option<u32>,
    /// Receipt number in the shift (1042).
    receipt: Option<u32>,
}

/// Why a claim was not accepted.
enum Judged {
    Refused(String),
    Trouble(RegisterError),
}

fn no_link() -> ControlError {
    ControlError::Unavailable("Нет связи с ККТ.".into())
}
