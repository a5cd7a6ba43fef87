//! FFD 1.2 correction receipts (addendum §5): 0x8D with type `0x80 + t`, FF0C 1173, FF0C
//! STLV 1174 {1178, 1179}, then the items, tags and close of an ordinary receipt, made by the
//! same code as [`Register::fiscalize`] (the same refusals before the first byte, the same
//! `Unknown` once FF45 may have run).
//!
//! FF35/FF4A, the FFD 1.05 correction, is not used: under FFD 1.2 a correction carries items,
//! and the register refuses it (addendum §5).

use fiscal_model::{CorrectionKind, CorrectionReceipt, FiscalResult, TaxGroupMap};
use shtrih_proto::command::{AttachTlv, OpenCorrectionReceipt};
use shtrih_proto::tlv::Tlv;

use crate::documents::open_type;
use crate::error::{RegisterError, Rejection};
use crate::register::{Cashier, Register};

/// "Incorrect parameters" (§5): what firmware that does not take the composite 1174 answers.
const BAD_PARAMETERS: u8 = 0x33;

impl Register {
    /// Makes a correction receipt (addendum §5): 8D `0x80 + t`, FF0C 1173, FF0C STLV 1174
    /// {1178 date of the corrected settlement, 1179 order number when given}, or, when the
    /// register refuses the STLV with 0x33, 1178 and 1179 as separate FF0C tags (the
    /// addendum's fallback); then the items, the subtotal check, the receipt's tags and FF45
    /// exactly as [`Register::fiscalize`]. The FN files it as form 31 with tag 1054 of the
    /// receipt's type.
    pub async fn fiscalize_correction(
        &mut self,
        correction: &CorrectionReceipt,
        taxes: &TaxGroupMap,
        cashier: Option<&Cashier>,
    ) -> Result<FiscalResult, RegisterError> {
        let receipt = &correction.receipt;
        let prepared = self.prepare(receipt, taxes, cashier)?;
        let basis = &correction.correction;
        let date = basis
            .base_date
            .and_hms_opt(0, 0, 0)
            .map(|d| d.and_utc().timestamp())
            .and_then(|s| u32::try_from(s).ok())
            .ok_or_else(|| {
                RegisterError::Rejected(Rejection {
                    code: "CORRECTION_DATE_OUT_OF_RANGE",
                    message: format!(
                        "Дата документа-основания {} не представима в ФН.",
                        basis.base_date
                    ),
                })
            })?;
        let number = basis.base_number.as_deref().filter(|n| !n.is_empty());
        if basis.kind == CorrectionKind::ByOrder && number.is_none() {
            return Err(RegisterError::Rejected(Rejection {
                code: "CORRECTION_ORDER_NUMBER",
                message: "Коррекция по предписанию требует номера предписания (тег 1179).".into(),
            }));
        }
        let kind = AttachTlv {
            password: self.sysadmin(),
            tlvs: vec![Tlv::correction_kind(basis.kind.tag_1173())],
        };
        let composite = AttachTlv {
            password: self.sysadmin(),
            tlvs: vec![Tlv::correction_basis(date, number)],
        };
        let mut separate = vec![AttachTlv {
            password: self.sysadmin(),
            tlvs: vec![Tlv::basis_date(date)],
        }];
        if let Some(number) = number {
            separate.push(AttachTlv {
                password: self.sysadmin(),
                tlvs: vec![Tlv::basis_number(number)],
            });
        }
        if let Err(e) = self.print_next_document(receipt.print).await {
            return Err(self.first_step(e).await);
        }
        let open = OpenCorrectionReceipt {
            password: self.operator(),
            receipt_type: open_type(receipt),
        };
        if let Err(e) = self.run(&open).await {
            self.disarm_print_skip().await;
            return Err(self.first_step(e).await);
        }
        self.receipt_step(&kind).await?;
        match self.run(&composite).await {
            Ok(()) => {}
            // Refused, so not attached: the same data as separate tags (the register builds
            // 1174 from them, as on the FFD 1.05 path).
            Err(RegisterError::Refused(d)) if d.code.0 == BAD_PARAMETERS => {
                tracing::info!("the register refused STLV 1174; sending 1178 and 1179 apart");
                for tag in &separate {
                    self.receipt_step(tag).await?;
                }
            }
            Err(e @ (RegisterError::Refused(_) | RegisterError::Link(_))) => {
                if let Err(cancel) = self.cancel_receipt().await {
                    tracing::warn!(%cancel, "could not cancel the correction receipt");
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        }
        self.finish_receipt(&prepared, 0, true).await
    }
}
