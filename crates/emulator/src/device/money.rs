//! Money arithmetic and the registers documents move (§7.9): an item's line sum, the money
//! registers (cash in the drawer, shift totals) and the operation registers counting the
//! receipts, cash slips and cancellations. Register numbers are in `state::registers`.

use super::state::registers;
use super::Device;

/// Product of price and quantity (millionths), rounded half up to a kopeck.
pub fn line_sum(price: u64, quantity: u64) -> u64 {
    let product = u128::from(price) * u128::from(quantity);
    u64::try_from((product + 500_000) / 1_000_000).unwrap_or(u64::MAX)
}

/// A money register (0 until first set).
pub fn register(device: &Device, number: u16) -> u64 {
    device
        .state
        .money_registers
        .get(&number)
        .copied()
        .unwrap_or(0)
}

/// Cash in the drawer (money register 241).
pub fn cash_in_drawer(device: &Device) -> u64 {
    register(device, registers::CASH_IN_DRAWER)
}

/// Sets a money register.
pub fn set_money(device: &mut Device, number: u16, value: u64) {
    device.state.money_registers.insert(number, value);
}

/// Increments an operation register.
pub fn bump(device: &mut Device, number: u16) {
    let reg = device.state.operation_registers.entry(number).or_insert(0);
    *reg = reg.wrapping_add(1);
}
