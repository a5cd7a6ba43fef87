//! Setting the KKT clock (§7.2): 0x21 set time, 0x22 set date, 0x23 confirm date. Reading the
//! clock is part of 0x11 full status. All three are idempotent writes (§10.1).

use std::time::Duration;

use super::wire::{commands, put_password, Reader};
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
    const NAME: &'static str = "21 set time";
    const CLASS: CommandClass = CommandClass::IdempotentWrite;
    const TIMEOUT: Duration = TIMEOUT_FISCAL;

    fn put_params(&self, out: &mut Vec<u8>) {
        put_password(out, self.password);
        out.extend_from_slice(&self.time.to_bytes());
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        Ok(SetTime {
            password: Password(r.u32()?),
            time: Time::from_bytes(r.array()?),
        })
    }
    fn read_answer(_r: &mut Reader<'_>) -> Result<(), AnswerError> {
        Ok(())
    }
    fn put_answer(_answer: &(), _out: &mut Vec<u8>) {}
}

// 0x22 and 0x23 share the `code | pwd | DD MM YY` layout (§7.2).
commands! {
    {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        fields {
            /// System administrator password.
            pub password: Password,
            /// The date.
            pub date: Date,
        }
        put(cmd, out) {
            put_password(out, cmd.password);
            out.extend_from_slice(&cmd.date.to_kkt());
        }
        read(r) {
            password: Password(r.u32()?),
            date: Date::from_kkt(r.array()?),
        }
        read_answer(_r) {
            Ok(())
        }
        put_answer(_answer, _out) {}
    }
    /// 0x22: set the KKT date; the device then waits for 0x23 in mode 6 (§7.2).
    SetDate = &[0x22], "22 set date", IdempotentWrite, TIMEOUT_FISCAL, ();
    /// 0x23: confirm the date set by 0x22 (the same date; a mismatch gives 0x7C) (§7.2).
    ConfirmDate = &[0x23], "23 confirm date", IdempotentWrite, TIMEOUT_FISCAL, ();
}
