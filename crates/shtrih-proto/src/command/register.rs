//! Register reads (§7.9): 0x1A money register (6-byte value) and 0x1B operation register
//! (2-byte count). The driver uses them to check whether a cash movement happened (§10.2).

use super::wire::{commands, put_password, put_uint};
use super::{Password, TIMEOUT_STATUS};

/// Money register 241: cash in the drawer (§7.9).
pub const MONEY_CASH_IN_DRAWER: u8 = 241;
/// Money register 242: cash-in total in the shift (§7.9).
pub const MONEY_CASH_IN_TOTAL: u8 = 242;
/// Money register 243: cash-out total in the shift (§7.9).
pub const MONEY_CASH_OUT_TOTAL: u8 = 243;
/// Operation register 152: through document number (§7.9).
pub const OPS_THROUGH_NUMBER: u8 = 152;
/// Operation register 153: cash-in count in the shift (§7.9).
pub const OPS_CASH_IN_COUNT: u8 = 153;
/// Operation register 154: cash-out count in the shift (§7.9).
pub const OPS_CASH_OUT_COUNT: u8 = 154;

/// Answer data of 0x1A / 0x1B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegisterAnswer {
    /// Operator number.
    pub operator: u8,
    /// Register value (kopecks for money registers, a count for operation registers).
    pub value: u64,
}

/// Width of the register value in the answer to `code`: 6 bytes for 0x1A, 2 for 0x1B (§7.9).
fn value_width(code: &[u8]) -> usize {
    match code {
        [0x1A] => 6,
        _ => 2,
    }
}

commands! {
    {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        fields {
            /// Operator password.
            pub password: Password,
            /// Register number.
            pub number: u8,
        }
        put(cmd, out) {
            put_password(out, cmd.password);
            out.push(cmd.number);
        }
        read(r) {
            password: Password(r.u32()?),
            number: r.u8()?,
        }
        read_answer(r) {
            Ok(RegisterAnswer {
                operator: r.u8()?,
                value: r.uint(value_width(Self::CODE))?,
            })
        }
        put_answer(answer, out) {
            out.push(answer.operator);
            put_uint(out, answer.value, value_width(Self::CODE));
        }
    }
    /// 0x1A: read a money register (6-byte value, §7.9).
    MoneyRegister = &[0x1A], "1A money register", Read, TIMEOUT_STATUS, RegisterAnswer;
    /// 0x1B: read an operation register (2-byte count, §7.9).
    OperationRegister = &[0x1B], "1B operation register", Read, TIMEOUT_STATUS, RegisterAnswer;
}
