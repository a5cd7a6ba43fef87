//! The registers as the API's [`gateway_http::Desk`] sees them: each worker's current view for
//! `GET /v1.0/cashboxes` (never waiting on a register), and its request channel for FN archive
//! reads and an operator's settlement of a held operation.

use std::sync::Arc;
use std::time::Duration;

use cashbox::{Claim, ClaimOutcome, Control, ControlError, Health};
use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use gateway_http::{
    ArchivedDocument, CashboxFacts, ClaimedOutcome, Desk, DeskError, DeskFuture, HaltFacts,
    SettleClaim, ShiftFacts,
};

/// How long an archive read waits for the register's worker (it may be busy with a
/// document).
const DOCUMENT_WAIT: Duration = Duration::from_secs(15);
/// How long a settlement waits: it reads the FN and may cancel a receipt left open.
const SETTLE_WAIT: Duration = Duration::from_secs(30);
/// The FN's limit on a shift (§9.2).
const SHIFT_HOURS: i64 = 24;

/// One register behind the desk.
pub struct DeskRegister {
    /// Its worker's view.
    pub health: Health,
    /// Its worker's requests.
    pub control: Control,
    /// The zone of its clock.
    pub utc_offset: FixedOffset,
}

/// Every configured register.
pub struct Registers {
    /// In configuration order.
    pub registers: Vec<DeskRegister>,
    /// Where a settlement finds the operation's register.
    pub store: Arc<queue::Store>,
}

impl Registers {
    fn find(&self, cashbox: &str) -> Option<&DeskRegister> {
        self.registers
            .iter()
            .find(|r| r.health.lock().id.eq_ignore_ascii_case(cashbox))
    }
}

impl Desk for Registers {
    fn cashboxes(&self) -> Vec<CashboxFacts> {
        let now = Utc::now();
        self.registers.iter().map(|r| facts(r, now)).collect()
    }

    fn document(
        &self,
        cashbox: &str,
        fd: u32,
    ) -> DeskFuture<'_, Result<ArchivedDocument, DeskError>> {
        let register = self.find(cashbox);
        let cashbox = cashbox.to_string();
        Box::pin(async move {
            let Some(register) = register else {
                return Err(DeskError::NotFound(format!("ККТ {cashbox} не настроена.")));
            };
            let doc = register
                .control
                .document(fd, DOCUMENT_WAIT)
                .await
                .map_err(desk_error)?;
            Ok(ArchivedDocument {
                fd_number: doc.fd_number,
                doc_type: doc.doc_type,
                date_time: doc.date_time,
                fiscal_sign: doc.fiscal_sign,
                operation: doc.receipt.map(|(operation, _)| operation),
                total: doc.receipt.map(|(_, total)| total),
                shift_number: doc.shift_number,
            })
        })
    }

    fn settle(&self, operation: &str, claim: SettleClaim) -> DeskFuture<'_, Result<(), DeskError>> {
        let operation = operation.to_string();
        Box::pin(async move {
            let id = queue::OperationId::new(operation.clone())
                .map_err(|e| DeskError::NotFound(e.to_string()))?;
            let op = self
                .store
                .get(&id)
                .map_err(|e| DeskError::Unavailable(e.to_string()))?
                .ok_or_else(|| DeskError::NotFound(format!("Операция {operation} не найдена.")))?;
            let register = self.find(op.register.as_str()).ok_or_else(|| {
                DeskError::NotFound(format!(
                    "ККТ {} операции {operation} больше не настроена.",
                    op.register
                ))
            })?;
            let claim = Claim {
                outcome: match claim.outcome {
                    ClaimedOutcome::Done { fd } => ClaimOutcome::Done { fd },
                    ClaimedOutcome::NotDone => ClaimOutcome::NotDone,
                },
                force: claim.force,
                reason: claim.reason,
                by: claim.by,
            };
            register
                .control
                .settle(id, claim, SETTLE_WAIT)
                .await
                .map_err(desk_error)
        })
    }
}

fn desk_error(e: ControlError) -> DeskError {
    match e {
        ControlError::NotFound(m) => DeskError::NotFound(m),
        ControlError::Unavailable(m) => DeskError::Unavailable(m),
        ControlError::Refused(m) => DeskError::Refused(m),
    }
}

/// A register-local time in UTC.
fn utc(local: NaiveDateTime, offset: FixedOffset) -> Option<DateTime<Utc>> {
    local
        .and_local_timezone(offset)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// What `GET /v1.0/cashboxes` says of one register at `now`.
fn facts(register: &DeskRegister, now: DateTime<Utc>) -> CashboxFacts {
    let h = register.health.lock();
    let condition = h.state.condition();
    let today = now.with_timezone(&register.utc_offset).date_naive();
    let shift = h.shift_open.map(|open| {
        let opened_at = if open { h.shift_opened_at_utc } else { None };
        ShiftFacts {
            open,
            number: h.shift_number,
            opened_at,
            hours_left: opened_at.map(|at| (SHIFT_HOURS - (now - at).num_hours()).max(0)),
            receipts: h.shift_receipts.filter(|_| open),
        }
    });
    CashboxFacts {
        cashbox_id: h.id.clone(),
        model: h.model.clone(),
        kkt_serial: h.kkt_serial.clone(),
        fn_number: h.fn_number.clone(),
        rnm: h.rnm.clone(),
        inn: h.inn.clone(),
        ffd_version: h.ffd_version.clone(),
        fn_expiry: h.fn_expiry,
        fn_days_left: h.fn_expiry.map(|d| (d - today).num_days()),
        shift,
        cash_in_drawer: h.cash_in_drawer,
        ofd_unsent: h.ofd_unsent,
        ofd_oldest: h
            .ofd_oldest
            .filter(|_| h.ofd_unsent.unwrap_or(0) > 0)
            .and_then(|t| utc(t, register.utc_offset)),
        ready: condition.is_none(),
        error_code: condition.map(|c| c.code().to_string()),
        error_message: condition.map(cashbox::Condition::described),
        halted: h.halted.as_ref().map(|halt| HaltFacts {
            operation_id: halt.operation_id.clone(),
            reason: halt.reason.clone(),
        }),
        print_width: h.print_width,
        observed_at: h.observed_at,
    }
}
