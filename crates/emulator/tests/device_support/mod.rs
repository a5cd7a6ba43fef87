//! Hand-built request messages (from the protocol notes' layouts, not shtrih-proto's encoders)
//! and answer readers shared by the device tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, NaiveDateTime};
use emulator::device::{Device, DeviceConfig};

pub const SYSADMIN: u32 = 30;
pub const CASHIER: u32 = 1;

pub fn t0() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 23)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
}

pub fn device() -> Device {
    Device::new(DeviceConfig::default())
}

pub fn le(value: u64, n: usize) -> Vec<u8> {
    (0..n).map(|i| ((value >> (8 * i)) & 0xFF) as u8).collect()
}

pub fn cmd(code: &[u8], password: u32, rest: &[u8]) -> Vec<u8> {
    let mut m = code.to_vec();
    m.extend_from_slice(&password.to_le_bytes());
    m.extend_from_slice(rest);
    m
}

pub fn short_status(password: u32) -> Vec<u8> {
    cmd(&[0x10], password, &[])
}

pub fn open_receipt(kind: u8) -> Vec<u8> {
    cmd(&[0x8D], CASHIER, &[kind])
}

/// FF46 with the KKT computing the sum; quantity in millionths, price in kopecks.
pub fn item(operation: u8, quantity: u64, price: u64, group: u8, name: &str) -> Vec<u8> {
    let mut rest = vec![operation];
    rest.extend(le(quantity, 6));
    rest.extend(le(price, 5));
    rest.extend([0xFF; 10]);
    rest.extend([group, 1, 4, 1]);
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(name);
    rest.extend_from_slice(&bytes);
    cmd(&[0xFF, 0x46], CASHIER, &rest)
}

pub fn tlv(tag: u16, value: &[u8]) -> Vec<u8> {
    let mut rest = tag.to_le_bytes().to_vec();
    rest.extend((value.len() as u16).to_le_bytes());
    rest.extend_from_slice(value);
    cmd(&[0xFF, 0x0C], SYSADMIN, &rest)
}

/// FF45 with cash and one electronic payment, tax system ОСН.
pub fn close(cash: u64, card: u64) -> Vec<u8> {
    let mut rest = le(cash, 5);
    rest.extend(le(card, 5));
    rest.extend(vec![0; 5 * 14]);
    rest.push(0);
    rest.extend(vec![0; 30]);
    rest.push(1);
    cmd(&[0xFF, 0x45], CASHIER, &rest)
}

pub fn cash(cash_in: bool, sum: u64) -> Vec<u8> {
    cmd(&[if cash_in { 0x50 } else { 0x51 }], CASHIER, &le(sum, 5))
}

pub fn open_shift() -> Vec<u8> {
    cmd(&[0xE0], SYSADMIN, &[])
}

pub fn z_report() -> Vec<u8> {
    cmd(&[0x41], SYSADMIN, &[])
}

pub fn fn_query(sub: u8, rest: &[u8]) -> Vec<u8> {
    cmd(&[0xFF, sub], SYSADMIN, rest)
}

pub fn le_at(answer: &[u8], offset: usize, n: usize) -> u64 {
    answer[offset..offset + n]
        .iter()
        .rev()
        .fold(0, |acc, b| (acc << 8) | u64::from(*b))
}

/// (mode, submode) from a 0x10 answer.
pub fn mode_submode(device: &mut Device, now: NaiveDateTime) -> (u8, u8) {
    let a = device.execute(&short_status(SYSADMIN), now);
    assert_eq!(a.len(), 16, "0x10 answer {a:02X?}");
    (a[5], a[6])
}

/// Executes and asserts success; returns the answer.
pub fn ok(device: &mut Device, msg: &[u8], now: NaiveDateTime) -> Vec<u8> {
    let a = device.execute(msg, now);
    let err_at = if msg[0] == 0xFF { 2 } else { 1 };
    assert_eq!(
        a[err_at],
        0,
        "command {:02X?} answered {a:02X?}",
        &msg[..err_at]
    );
    a
}

/// Executes and returns the error byte.
pub fn error(device: &mut Device, msg: &[u8], now: NaiveDateTime) -> u8 {
    let a = device.execute(msg, now);
    let err_at = if msg[0] == 0xFF { 2 } else { 1 };
    if a[err_at] != 0 {
        assert_eq!(a.len(), err_at + 1, "error answers carry only code + error");
    }
    a[err_at]
}

pub fn last_fd(device: &mut Device, now: NaiveDateTime) -> u32 {
    let a = ok(device, &fn_query(0x01, &[]), now);
    le_at(&a, 29, 4) as u32
}
