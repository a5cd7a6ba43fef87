//! Electronic-only receipts (`printReceipt: false`): the register is told not to print the
//! next document, as the vendor's driver does (`disablePrintOnce`): table 17, row 1, field 7
//! = 1 «не печатать документ» (FFD 1.2 addendum §7), written before 0x8D. The FN makes the
//! document as always and the contact (tag 1008) is sent with it. That the register clears the
//! field after that one document is the vendor driver's reading (the "once" in its name), not
//! confirmed on hardware: the next printed document (receipt, cash, shift report, X report) is
//! preceded by writing 0 whenever this connection set it or found it set. A write that may
//! have been lost is safe to repeat (an idempotent write).

use shtrih_proto::command::WriteTable;

use crate::error::RegisterError;
use crate::readiness::Readiness;
use crate::register::Register;

/// Table 17 «Региональные настройки», row 1, field 7 «не печатать документ».
const TABLE: u8 = 17;
const FIELD: u8 = 7;
/// 1 = do not print the next document.
const SKIP_NEXT: u64 = 1;

impl Register {
    /// Before a document: for a receipt that is not to be printed, set "do not print the next
    /// document"; for a printed one, clear a setting this connection set or found set.
    /// Nothing to send otherwise.
    pub(crate) async fn print_next_document(&mut self, print: bool) -> Result<(), RegisterError> {
        if print && !self.print_skip_armed {
            return Ok(());
        }
        let value = if print { 0 } else { SKIP_NEXT };
        let write = WriteTable::bin(self.sysadmin(), TABLE, 1, FIELD, value, 1);
        match self.run(&write).await {
            Ok(()) => {}
            // Refused (a table is not writable with a receipt open, say): what state says why.
            Err(RegisterError::Refused(d)) => {
                return Err(match self.status().await.map(|s| s.readiness) {
                    Ok(Readiness::NotReady(seen)) => RegisterError::NotReady(seen),
                    _ => RegisterError::Refused(d),
                })
            }
            Err(e) => return Err(e),
        }
        self.print_skip_armed = !print;
        Ok(())
    }

    /// The receipt did not open: clear "do not print" so the next document (a Z report, say)
    /// is printed. Best effort: if this fails, the next printed document clears it first.
    pub(crate) async fn disarm_print_skip(&mut self) {
        if self.print_skip_armed {
            if let Err(e) = self.print_next_document(true).await {
                tracing::warn!(%e, "could not clear table 17.7 after a receipt that did not open");
            }
        }
    }
}
