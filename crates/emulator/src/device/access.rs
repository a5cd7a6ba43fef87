//! Access control (§4): the operators' roles and the password check at the head of every
//! command that takes one. Passwords live in table 2 (`tables`); rows 29 and 30 are the
//! administrators.

use super::tables;
use super::wire::{err, Params};
use super::Device;

/// Which operators may run a command (§6.6 "Pwd" column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Any operator 1..30.
    Operator,
    /// Administrator (29) or system administrator (30).
    Admin,
    /// System administrator (30).
    SysAdmin,
}

/// Row 29 of table 2: the administrator.
const ADMIN: u8 = 29;
/// Row 30 of table 2: the system administrator.
pub(crate) const SYSADMIN: u8 = 30;

/// Checks the password at the head of `params` and returns the operator number.
pub fn authorize(device: &Device, params: &mut Params<'_>, role: Role) -> Result<u8, u8> {
    let password = params.uint(4)?;
    let operator = (1..=SYSADMIN)
        .rev()
        .find(|row| tables::operator_password(device, *row) == password)
        .ok_or(err::WRONG_PASSWORD)?;
    let allowed = match role {
        Role::Operator => true,
        Role::Admin => operator >= ADMIN,
        Role::SysAdmin => operator == SYSADMIN,
    };
    if allowed {
        Ok(operator)
    } else {
        Err(err::WRONG_PASSWORD)
    }
}
