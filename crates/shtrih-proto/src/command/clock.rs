//! Setting the KKT clock (§7.2): 0x21 set time, 0x22 set date, 0x23 confirm date. Reading the
//! clock is part of 0x11 full status. All three are idempotent writes (§10.1).

use std::time::Duration;

use super::wire::{answer_data, answer_message, put_password, request, request_params, Reader};
use super::{AnswerError, Command, CommandClass, Date, Password, Time, TIMEOUT_FISCAL};

/// 0x21: set the KKT time, modes 4 and 9 only (§7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SetTime {
    /// System administrator password.
    pub password: Password,
    /// The new time.
    pub time: Time,
}

impl Command for SetTime {
    type Answer = ();
    const CODE: &'static [u8] = &[0x21];

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| {
            put_password(out, self.password);
            out.extend_from_slice(&self.time.to_bytes());
        })
    }
    fn decode_answer(msg: &[u8]) -> Result<(), AnswerError> {
        answer_data(msg, Self::CODE, "21 set time").map(|_| ())
    }
    fn class(&self) -> CommandClass {
        CommandClass::IdempotentWrite
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_FISCAL
    }
    fn name(&self) -> &'static str {
        "21 set time"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let mut r = Reader::new(
            request_params(msg, Self::CODE, "21 set time")?,
            "21 set time",
        );
        let password = Password(r.u32()?);
        let time = Time::from_bytes(r.array()?);
        r.finish()?;
        Ok(SetTime { password, time })
    }
    fn encode_answer(_answer: &()) -> Vec<u8> {
        answer_message(Self::CODE, &[])
    }
}

/// Defines 0x22 and 0x23, which share the `code | pwd | DD MM YY` layout (§7.2).
macro_rules! date_command {
    ($(#[$doc:meta])* $ty:ident, $code:expr, $name:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $ty {
            /// System administrator password.
            pub password: Password,
            /// The date.
            pub date: Date,
        }

        impl Command for $ty {
            type Answer = ();
            const CODE: &'static [u8] = $code;

            fn encode(&self) -> Vec<u8> {
                request(Self::CODE, |out| {
                    put_password(out, self.password);
                    out.extend_from_slice(&self.date.to_kkt());
                })
            }
            fn decode_answer(msg: &[u8]) -> Result<(), AnswerError> {
                answer_data(msg, Self::CODE, $name).map(|_| ())
            }
            fn class(&self) -> CommandClass {
                CommandClass::IdempotentWrite
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
                let date = Date::from_kkt(r.array()?);
                r.finish()?;
                Ok($ty { password, date })
            }
            fn encode_answer(_answer: &()) -> Vec<u8> {
                answer_message(Self::CODE, &[])
            }
        }
    };
}

date_command!(
    /// 0x22: set the KKT date; the device then waits for 0x23 in mode 6 (§7.2).
    SetDate,
    &[0x22],
    "22 set date"
);

date_command!(
    /// 0x23: confirm the date set by 0x22 (the same date; a mismatch gives 0x7C) (§7.2).
    ConfirmDate,
    &[0x23],
    "23 confirm date"
);
