//! Marked goods on the FN-M model (FFD 1.2 addendum §4): FF61 check, FF69 accept / reject /
//! clear, FF67 bind in the classic and the cash-core order, FF68/FF70, the marking server's
//! answer per code, and the product-code tags the archive keeps per item. Every request is a
//! frame of the addendum's §4.10 written out in hex (STX, LEN and LRC checked, then stripped),
//! or built byte by byte from its tables.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod device_support;

use device_support::*;
use emulator::device::{Device, DeviceConfig, MarkingAnswer, ReceiptItem};
use emulator::ControlCommand;

/// The addendum's example code `K` (31 bytes): "0104601234567890215abcDE␝93ABCD".
const K: &str =
    "30 31 30 34 36 30 31 32 33 34 35 36 37 38 39 30 32 31 35 61 62 63 44 45 1D 39 33 41 42 43 44";

fn k() -> Vec<u8> {
    hex(K)
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// A standard-layer frame of the addendum (`K` stands for the code): checks STX, LEN and the
/// LRC, returns the message.
fn frame(s: &str) -> Vec<u8> {
    let bytes = hex(&s.replace('K', K));
    assert_eq!(bytes[0], 0x02, "{s}");
    let msg = bytes[2..bytes.len() - 1].to_vec();
    assert_eq!(usize::from(bytes[1]), msg.len(), "LEN of {s}");
    let lrc = bytes[1..bytes.len() - 1].iter().fold(0, |a, b| a ^ b);
    assert_eq!(lrc, bytes[bytes.len() - 1], "LRC of {s}");
    msg
}

const A_CLEAR: &str = "02 07 FF 69 1E 00 00 00 02 8D";
const A_CHECK: &str = "02 29 FF 61 1E 00 00 00 01 00 1F 00 K F1";
const A_ACCEPT: &str = "02 07 FF 69 1E 00 00 00 01 8E";
const A_ITEM: &str = "02 26 FF 46 01 00 00 00 01 40 42 0F 00 00 00 10 27 00 00 00 \
                      FF FF FF FF FF FF FF FF FF FF CB 01 04 21 CC EE EB EE EA EE 69";
const A_MEASURE: &str = "02 0B FF 4D 1E 00 00 00 3C 08 01 00 00 92";
const A_BIND: &str = "02 26 FF 67 01 00 00 00 1F K E6";
const B_CHECK: &str =
    "02 35 FF 61 1E 00 00 00 02 00 1F 0C K 3C 08 01 00 0B FF 03 03 00 03 EE 02 CC";
const B_ITEM: &str = "02 23 FF 46 01 00 00 00 01 B0 71 0B 00 00 00 40 9C 00 00 00 \
                      FF FF FF FF FF FF FF FF FF FF 02 01 04 21 D1 FB F0 70";
const B_MEASURE: &str = "02 0B FF 4D 1E 00 00 00 3C 08 01 00 0B 99";

fn with_shift(config: DeviceConfig) -> Device {
    let mut d = Device::new(config);
    ok(&mut d, &open_shift(), t0());
    d
}

fn cash_core() -> DeviceConfig {
    DeviceConfig {
        model_name: "ШТРИХ-ЛАЙТ-02Ф".into(),
        model_code: 16,
        ..DeviceConfig::default()
    }
}

/// FF61 with planned status `status` for `code` (no TLV), operator 1.
fn check(status: u8, code: &[u8]) -> Vec<u8> {
    let mut rest = vec![status, 0, code.len() as u8, 0];
    rest.extend_from_slice(code);
    cmd(&[0xFF, 0x61], CASHIER, &rest)
}

fn decide(decision: u8) -> Vec<u8> {
    cmd(&[0xFF, 0x69], CASHIER, &[decision])
}

fn bind(code: &[u8]) -> Vec<u8> {
    let mut rest = vec![code.len() as u8];
    rest.extend_from_slice(code);
    cmd(&[0xFF, 0x67], CASHIER, &rest)
}

fn tag(item: &ReceiptItem, tag: u16) -> Option<Vec<u8>> {
    item.tlvs
        .iter()
        .find(|t| t.tag == tag)
        .map(|t| t.value.clone())
}

/// FF61 answer: (2004, reason, 2100, the online part after L).
fn check_answer(a: &[u8]) -> (u8, u8, u8, Vec<u8>) {
    assert_eq!(&a[..3], &[0xFF, 0x61, 0x00], "{a:02X?}");
    let l = usize::from(a[6]);
    assert_eq!(a.len(), 7 + l, "FF61 answer LEN 7+L: {a:02X?}");
    (a[3], a[4], a[5], a[7..].to_vec())
}

#[test]
fn sequence_a_binds_the_piece_code_to_the_item_after_its_ff46() {
    let mut d = with_shift(DeviceConfig::default());
    let now = t0();
    ok(&mut d, &frame(A_CLEAR), now);
    ok(&mut d, &open_receipt(0), now);
    let a = ok(&mut d, &frame(A_CHECK), now);
    let (local, reason, code_type, online) = check_answer(&a);
    assert_eq!(local & 0x02, 0x02, "2004 bit1: the FN's own check positive");
    assert_eq!((reason, code_type), (0, 4));
    assert_eq!(online[0], 0x00, "the FN took the server's answer");
    assert_eq!(online[1] & 0x0F, 0x0F, "2106 bits 0–3");
    let a = ok(&mut d, &frame(A_ACCEPT), now);
    assert_eq!(a, vec![0xFF, 0x69, 0x00, online[1]], "FF69 answers 2106");
    ok(&mut d, &frame(A_ITEM), now);
    ok(&mut d, &frame(A_MEASURE), now);
    let a = ok(&mut d, &frame(A_BIND), now);
    assert_eq!(&a[..5], &[0xFF, 0x67, 0x00, 0x44, 0x4D], "GS1 DataMatrix");
    ok(&mut d, &close(10000, 0), now);

    let doc = d.archive().last().unwrap().clone();
    let item = &doc.items[0];
    assert_eq!(item.tax_byte, 0xCB);
    assert_eq!(tag(item, 2000), Some(k()));
    assert_eq!(tag(item, 2003), Some(vec![1]));
    assert_eq!(tag(item, 2106), Some(vec![0x0F]));
    assert_eq!(tag(item, 2108), Some(vec![0]));
    let mut gs1m = vec![0x19, 0x05, 31, 0];
    gs1m.extend(k());
    assert_eq!(tag(item, 1163), Some(gs1m), "1163 {{1305 GS1.M}}");
}

#[test]
fn sequence_b_checks_a_measured_code_with_its_measure_and_quantity() {
    let mut d = with_shift(DeviceConfig::default());
    let now = t0();
    ok(&mut d, &open_receipt(0), now);
    let (_, _, _, online) = check_answer(&ok(&mut d, &frame(B_CHECK), now));
    assert_eq!(online[1] & 0x0F, 0x0F, "2003 = 2 fits a sale");
    ok(&mut d, &frame(A_ACCEPT), now);
    ok(&mut d, &frame(B_ITEM), now);
    ok(&mut d, &frame(B_MEASURE), now);
    ok(&mut d, &frame(A_BIND), now);
    ok(&mut d, &close(30000, 0), now);
    let doc = d.archive().last().unwrap().clone();
    let item = &doc.items[0];
    assert_eq!((item.quantity, item.sum), (750_000, 30000));
    assert_eq!(tag(item, 2003), Some(vec![2]));
    assert_eq!(tag(item, 2108), Some(vec![11]));
    assert_eq!(tag(item, 2000), Some(k()));

    // A measured status without the 2108 TLV is malformed.
    ok(&mut d, &open_receipt(0), now);
    assert_eq!(error(&mut d, &check(2, &k()), now), 0x33);
}

#[test]
fn an_invalid_code_is_reported_and_a_rejected_code_cannot_be_bound() {
    let mut d = with_shift(DeviceConfig::default());
    d.faults_mut()
        .marking_answers
        .insert(k(), MarkingAnswer::Invalid);
    let now = t0();
    ok(&mut d, &open_receipt(0), now);
    let (local, _, _, online) = check_answer(&ok(&mut d, &frame(A_CHECK), now));
    assert_eq!(local & 0x03, 0x01, "FN checked, negative");
    let result = online[1];
    assert_eq!(result & 0x03, 0x01, "2106: checked, not positive");
    assert_eq!(ok(&mut d, &decide(0), now)[3], result);
    ok(&mut d, &frame(A_ITEM), now);
    assert_eq!(error(&mut d, &frame(A_BIND), now), 0x02);
    ok(&mut d, &cmd(&[0x88], CASHIER, &[]), now);
    // The next receipt starts with a clean check table.
    let a = ok(&mut d, &fn_query(0x70, &[]), now);
    assert_eq!(a.len(), 11, "FF70 LEN 11");
    assert_eq!((a[3], a[6]), (1, 0));
}

#[test]
fn no_server_answer_is_formed_autonomously() {
    let mut d = with_shift(DeviceConfig::default());
    d.faults_mut()
        .marking_answers
        .insert(k(), MarkingAnswer::NoAnswer);
    let now = t0();
    ok(&mut d, &open_receipt(0), now);
    let (_, _, _, online) = check_answer(&ok(&mut d, &frame(A_CHECK), now));
    assert!(online.is_empty(), "L = 0 without a server answer");
    let result = ok(&mut d, &frame(A_ACCEPT), now)[3];
    assert_eq!(result & 0x10, 0x10, "2106 bit4: formed autonomously");
    ok(&mut d, &frame(A_ITEM), now);
    ok(&mut d, &frame(A_BIND), now);
    ok(&mut d, &close(10000, 0), now);
    let doc = d.archive().last().unwrap().clone();
    assert_eq!(tag(&doc.items[0], 2106), Some(vec![result]));
}

#[test]
fn a_server_timeout_answers_ff_and_is_formed_autonomously() {
    let mut d = with_shift(DeviceConfig::default());
    d.faults_mut()
        .marking_answers
        .insert(k(), MarkingAnswer::Timeout);
    let now = t0();
    ok(&mut d, &open_receipt(0), now);
    let (_, _, _, online) = check_answer(&ok(&mut d, &frame(A_CHECK), now));
    assert_eq!(online, vec![0xFF], "L = 1, FN answer FF: server timeout");
    let result = ok(&mut d, &frame(A_ACCEPT), now)[3];
    assert_eq!(result & 0x10, 0x10);
}

#[test]
fn a_return_checks_with_status_3_and_a_sale_status_does_not_fit_it() {
    let mut d = with_shift(DeviceConfig::default());
    let now = t0();
    ok(&mut d, &cash(true, 100_000), now);
    ok(&mut d, &hex("8D 01 00 00 00 02"), now);
    let (_, _, _, online) = check_answer(&ok(&mut d, &check(1, &k()), now));
    assert_eq!(
        online[1] & 0x08,
        0,
        "2003 = 1 in a return: planned status not correct"
    );
    ok(&mut d, &decide(0), now);
    let (_, _, _, online) = check_answer(&ok(&mut d, &check(3, &k()), now));
    assert_eq!(online[1] & 0x0F, 0x0F);
    ok(&mut d, &decide(1), now);
    let mut item = frame(A_ITEM);
    item[6] = 2; // operation 2: sale return
    ok(&mut d, &item, now);
    ok(&mut d, &frame(A_BIND), now);
    ok(&mut d, &close(10000, 0), now);
    let doc = d.archive().last().unwrap().clone();
    assert_eq!(doc.operation, 2);
    assert_eq!(tag(&doc.items[0], 2003), Some(vec![3]));
}

#[test]
fn each_check_waits_for_its_decision() {
    let mut d = with_shift(DeviceConfig::default());
    let now = t0();
    ok(&mut d, &open_receipt(0), now);
    ok(&mut d, &check(1, &k()), now);
    assert_eq!(
        error(&mut d, &check(1, b"0104601234567890215XYZ"), now),
        0x02
    );
    let a = ok(&mut d, &fn_query(0x70, &[]), now);
    assert_eq!(a[3], 4, "an answer awaits the FF69 decision");
    ok(&mut d, &decide(1), now);
    let a = ok(&mut d, &fn_query(0x70, &[]), now);
    assert_eq!(
        (a[3], a[5] & 1, a[6]),
        (1, 1, 1),
        "one accepted, FF61 allowed again"
    );
    assert_eq!(
        error(&mut d, &decide(1), now),
        0x02,
        "nothing awaits a decision"
    );
    // Classic order: FF67 before any FF46 has no item to bind to.
    assert_eq!(error(&mut d, &bind(&k()), now), 0x02);
}

#[test]
fn cash_core_binds_to_the_next_item() {
    let mut d = with_shift(cash_core());
    let now = t0();
    ok(&mut d, &open_receipt(0), now);
    ok(&mut d, &frame(A_CHECK), now);
    ok(&mut d, &frame(A_ACCEPT), now);
    ok(&mut d, &frame(B_MEASURE), now);
    ok(&mut d, &frame(A_BIND), now);
    ok(&mut d, &frame(A_ITEM), now);
    ok(&mut d, &item(1, 1_000_000, 5000, 1, "Хлеб"), now);
    ok(&mut d, &close(15000, 0), now);
    let doc = d.archive().last().unwrap().clone();
    assert_eq!(tag(&doc.items[0], 2000), Some(k()));
    assert_eq!(
        tag(&doc.items[0], 2108),
        Some(vec![11]),
        "FF4D before FF46: this item's"
    );
    assert_eq!(tag(&doc.items[1], 2000), None);
    assert!(doc.items[1].tlvs.is_empty());
}

#[test]
fn a_closed_receipt_with_marked_items_queues_a_notification() {
    let mut d = with_shift(DeviceConfig::default());
    d.faults_mut().ofd_offline = true;
    let now = t0();
    ok(&mut d, &open_receipt(0), now);
    ok(&mut d, &frame(A_ITEM), now);
    // FF67 without FF61: the KKT runs the check itself and answers its result block.
    let a = ok(&mut d, &frame(A_BIND), now);
    assert_eq!(a.len(), 12, "{a:02X?}");
    assert_eq!(a[11] & 0x0F, 0x0F);
    ok(&mut d, &close(10000, 0), now);
    let a = ok(&mut d, &fn_query(0x68, &[]), now);
    assert_eq!(a.len(), 16, "FF68 LEN 16");
    assert_eq!((le_at(&a, 4, 2), le_at(&a, 6, 4)), (1, 1));
    d.faults_mut().ofd_offline = false;
    let a = ok(&mut d, &fn_query(0x68, &[]), now);
    assert_eq!(le_at(&a, 4, 2), 0, "delivered with the documents");
}

#[test]
fn the_control_line_sets_the_server_answer() {
    let parsed: ControlCommand = "marking 0104601234567890215abcDE<GS>93ABCD invalid"
        .parse()
        .unwrap();
    assert_eq!(parsed, ControlCommand::Marking(k(), MarkingAnswer::Invalid));
    let parsed: ControlCommand = "marking hex:3031 no-answer".parse().unwrap();
    assert_eq!(
        parsed,
        ControlCommand::Marking(b"01".to_vec(), MarkingAnswer::NoAnswer)
    );
    let parsed: ControlCommand = "marking hex:3031 timeout".parse().unwrap();
    assert_eq!(
        parsed,
        ControlCommand::Marking(b"01".to_vec(), MarkingAnswer::Timeout)
    );
    assert!("marking 01 maybe".parse::<ControlCommand>().is_err());
}

/// CRC-16/XMODEM written here from its definition (poly 0x1021, init 0, no reflection, no
/// final XOR), checked against the catalogue's check value.
fn xmodem(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in bytes {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Sells one receipt with the given codes bound (FF46, FF67 each).
fn sell_marked(d: &mut Device, codes: &[Vec<u8>]) {
    let now = t0();
    ok(d, &open_receipt(0), now);
    for c in codes {
        ok(d, &item(1, 1_000_000, 100, 1, "Вода"), now);
        ok(d, &bind(c), now);
    }
    ok(d, &close(100 * codes.len() as u64, 0), now);
}

#[test]
fn notifications_upload_in_blocks_and_leave_when_confirmed() {
    assert_eq!(xmodem(b"123456789"), 0x31C3);
    let mut d = with_shift(DeviceConfig::default());
    d.faults_mut().ofd_offline = true;
    let now = t0();
    assert_eq!(
        error(&mut d, &fn_query(0x71, &[]), now),
        0x08,
        "nothing to upload"
    );
    let codes: Vec<Vec<u8>> = (0..4)
        .map(|i| format!("010460123456789{i}215abcDE\u{1d}93ABCD").into_bytes())
        .collect();
    sell_marked(&mut d, &codes);
    sell_marked(&mut d, &codes[..1]);

    // FF71: LEN 11 — count 2, first number 1, its size.
    let a = ok(&mut d, &fn_query(0x71, &[]), now);
    assert_eq!(a.len(), 11, "{a:02X?}");
    assert_eq!((le_at(&a, 3, 2), le_at(&a, 5, 4)), (2, 1));
    let first_size = le_at(&a, 9, 2) as usize;
    assert!(first_size > 128, "four codes need two blocks");

    // FF72 until FN 0x08: number(4) size(2) offset(2) data.
    let mut got: Vec<(u32, Vec<u8>)> = Vec::new();
    loop {
        let a = d.execute(&fn_query(0x72, &[]), now);
        if a[2] == 0x08 {
            break;
        }
        assert_eq!(a[2], 0, "{a:02X?}");
        let (number, size, offset) = (le_at(&a, 3, 4) as u32, le_at(&a, 7, 2), le_at(&a, 9, 2));
        let data = &a[11..];
        assert!(data.len() <= 128);
        match got.last_mut() {
            Some((n, bytes)) if *n == number => {
                assert_eq!(offset as usize, bytes.len());
                bytes.extend_from_slice(data);
            }
            _ => {
                assert_eq!(offset, 0);
                got.push((number, data.to_vec()));
            }
        }
        assert!(got.last().unwrap().1.len() as u64 <= size);
    }
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1.len(), first_size);
    assert!(got[0]
        .1
        .windows(codes[3].len())
        .any(|w| w == codes[3].as_slice()));

    // FF73 number + CRC (4 bytes): a wrong checksum is refused, the right one confirms.
    let confirm = |number: u32, crc: u32| {
        let mut rest = number.to_le_bytes().to_vec();
        rest.extend(crc.to_le_bytes());
        fn_query(0x73, &rest)
    };
    let crc = u32::from(xmodem(&got[0].1));
    assert_eq!(error(&mut d, &confirm(1, crc ^ 1), now), 0x33);
    ok(&mut d, &confirm(1, crc), now);
    assert_eq!(
        error(&mut d, &confirm(1, crc), now),
        0x08,
        "already confirmed"
    );
    let a = ok(&mut d, &fn_query(0x68, &[]), now);
    assert_eq!(
        (le_at(&a, 4, 2), le_at(&a, 6, 4)),
        (1, 2),
        "one left, number 2"
    );
    ok(&mut d, &confirm(2, u32::from(xmodem(&got[1].1))), now);
    let a = ok(&mut d, &fn_query(0x70, &[]), now);
    assert_eq!(le_at(&a, 9, 2), 0, "nothing unsent");
}
