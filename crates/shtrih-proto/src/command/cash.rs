//! Cash in 0x50 and cash out 0x51 (§7.7). They print a slip and move the drawer's cash
//! register; they create no FN document, so the answer has no FD number.

use super::wire::{commands, put_money, put_password, AnswerData, Reader};
use super::{in_range, AnswerError, Password, MAX_MONEY, TIMEOUT_FISCAL};

/// Answer data of 0x50 / 0x51 (§7.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CashMovementAnswer {
    /// Operator number.
    pub operator: u8,
    /// KKT through document number of the slip.
    pub document_number: u16,
}

impl AnswerData for CashMovementAnswer {
    fn read(r: &mut Reader<'_>) -> Result<CashMovementAnswer, AnswerError> {
        Ok(CashMovementAnswer {
            operator: r.u8()?,
            document_number: r.u16()?,
        })
    }
    fn put(&self, out: &mut Vec<u8>) {
        out.push(self.operator);
        out.extend_from_slice(&self.document_number.to_le_bytes());
    }
}

commands! {
    {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        fields {
            /// Operator password.
            pub password: Password,
            /// Amount in kopecks (5 bytes on the wire, §3).
            pub amount: u64,
        }
        check(cmd) {
            in_range(Self::NAME, "amount", cmd.amount, MAX_MONEY)
        }
        put(cmd, out) {
            put_password(out, cmd.password);
            put_money(out, cmd.amount);
        }
        read(r) {
            password: Password(r.u32()?),
            amount: r.uint(5)?,
        }
        read_answer(r) {
            CashMovementAnswer::read(r)
        }
        put_answer(answer, out) {
            answer.put(out)
        }
    }
    /// 0x50: cash in (внесение) (§7.7).
    CashIn = &[0x50], "50 cash in", Dangerous, TIMEOUT_FISCAL, CashMovementAnswer;
    /// 0x51: cash out (выплата); refused with 0x46 beyond the cash in the drawer (§7.7).
    CashOut = &[0x51], "51 cash out", Dangerous, TIMEOUT_FISCAL, CashMovementAnswer;
}
