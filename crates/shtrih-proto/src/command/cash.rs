//! Cash in 0x50 and cash out 0x51 (§7.7). They print a slip and move the drawer's cash
//! register; they create no FN document, so the answer has no FD number.

use std::time::Duration;

use super::wire::{
    answer_data, answer_message, put_money, put_password, request, request_params, Reader,
};
use super::{
    in_range, AnswerError, Command, CommandClass, OutOfRange, Password, MAX_MONEY, TIMEOUT_FISCAL,
};

/// Answer data of 0x50 / 0x51 (§7.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CashMovementAnswer {
    /// Operator number.
    pub operator: u8,
    /// KKT through document number of the slip.
    pub document_number: u16,
}

macro_rules! cash_command {
    ($(#[$doc:meta])* $ty:ident, $code:expr, $name:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $ty {
            /// Operator password.
            pub password: Password,
            /// Amount in kopecks (5 bytes on the wire, §3).
            pub amount: u64,
        }

        impl Command for $ty {
            type Answer = CashMovementAnswer;
            const CODE: &'static [u8] = $code;

            fn check(&self) -> Result<(), OutOfRange> {
                in_range(self.name(), "amount", self.amount, MAX_MONEY)
            }

            fn encode(&self) -> Vec<u8> {
                request(Self::CODE, |out| {
                    put_password(out, self.password);
                    put_money(out, self.amount);
                })
            }
            fn decode_answer(msg: &[u8]) -> Result<CashMovementAnswer, AnswerError> {
                let mut r = Reader::new(answer_data(msg, Self::CODE, $name)?, $name);
                Ok(CashMovementAnswer {
                    operator: r.u8()?,
                    document_number: r.u16()?,
                })
            }
            fn class(&self) -> CommandClass {
                CommandClass::Dangerous
            }
            fn timeout(&self) -> Duration {
                TIMEOUT_FISCAL
            }
            fn name(&self) -> &'static str {
                $name
            }
            fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
                let mut r = Reader::new(request_params(msg, Self::CODE, $name)?, $name);
                let password = Password(r.u32()?);
                let amount = r.uint(5)?;
                r.finish()?;
                Ok($ty { password, amount })
            }
            fn encode_answer(a: &CashMovementAnswer) -> Vec<u8> {
                let mut d = vec![a.operator];
                d.extend_from_slice(&a.document_number.to_le_bytes());
                answer_message(Self::CODE, &d)
            }
        }
    };
}

cash_command!(
    /// 0x50: cash in (внесение) (§7.7).
    CashIn,
    &[0x50],
    "50 cash in"
);

cash_command!(
    /// 0x51: cash out (выплата); refused with 0x46 beyond the cash in the drawer (§7.7).
    CashOut,
    &[0x51],
    "51 cash out"
);
