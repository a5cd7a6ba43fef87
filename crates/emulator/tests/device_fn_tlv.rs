//! FF3A/FF3B (§7.8; FFD 1.2 addendum §6): a document of the FN archive read back as TLV, in
//! blocks, to the end (FN 0x08). The tags are parsed here by hand, not with shtrih-proto.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod device_support;

use chrono::NaiveDateTime;
use device_support::*;
use emulator::device::Device;

/// (tag, value) pairs of a TLV list.
fn parse(mut bytes: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let tag = u16::from_le_bytes([bytes[0], bytes[1]]);
        let len = usize::from(u16::from_le_bytes([bytes[2], bytes[3]]));
        out.push((tag, bytes[4..4 + len].to_vec()));
        bytes = &bytes[4 + len..];
    }
    out
}

fn value(tags: &[(u16, Vec<u8>)], tag: u16) -> Vec<u8> {
    tags.iter()
        .find(|(t, _)| *t == tag)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("tag {tag} missing in {tags:?}"))
}

fn uint(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0, |a, b| (a << 8) | u64::from(*b))
}

fn cp866(bytes: &[u8]) -> String {
    encoding_rs::IBM866
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

/// FF3A then FF3B to the end: (type, declared length, bytes, blocks read).
fn read_document(d: &mut Device, fd: u32, now: NaiveDateTime) -> (u16, usize, Vec<u8>, usize) {
    let head = ok(d, &fn_query(0x3A, &le(u64::from(fd), 4)), now);
    assert_eq!(head.len(), 7, "FF3A answer {head:02X?}");
    let doc_type = le_at(&head, 3, 2) as u16;
    let length = le_at(&head, 5, 2) as usize;
    let mut bytes = Vec::new();
    let mut blocks = 0;
    loop {
        let a = d.execute(&fn_query(0x3B, &[]), now);
        if a[2] == 0x08 {
            assert_eq!(a.len(), 3);
            break;
        }
        assert_eq!(a[2], 0, "FF3B answered {a:02X?}");
        assert!(
            a.len() > 3 && a.len() - 3 <= 200,
            "block of {} bytes",
            a.len() - 3
        );
        bytes.extend_from_slice(&a[3..]);
        blocks += 1;
        assert!(blocks < 100);
    }
    (doc_type, length, bytes, blocks)
}

#[test]
fn a_receipt_reads_back_as_its_ffd_tags_in_blocks() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    ok(&mut d, &open_receipt(0), now);
    ok(&mut d, &item(1, 3_000_000, 7000, 1, "Молоко коровье"), now);
    ok(&mut d, &item(1, 750_000, 40000, 2, "Сыр"), now);
    ok(
        &mut d,
        &tlv(1021, &encoding_rs::IBM866.encode("Иванова").0),
        now,
    );
    let a = ok(&mut d, &close(40000, 11000), now);
    let fd = le_at(&a, 8, 4) as u32;
    let fp = le_at(&a, 12, 4) as u32;

    let (doc_type, length, bytes, blocks) = read_document(&mut d, fd, now);
    assert_eq!(doc_type, 3);
    assert_eq!(length, bytes.len());
    assert!(
        blocks >= 2,
        "a document longer than a block comes in several"
    );
    let tags = parse(&bytes);
    assert_eq!(uint(&value(&tags, 1040)), u64::from(fd));
    let at = value(&tags, 1012);
    assert_eq!(
        uint(&at) as i64,
        d.archive().last().unwrap().date_time.and_utc().timestamp()
    );
    // 1077: six bytes, the printed sign the last four, big-endian (the vendor driver's read).
    let sign = value(&tags, 1077);
    assert_eq!(sign.len(), 6);
    assert_eq!(u32::from_be_bytes(sign[2..6].try_into().unwrap()), fp);
    assert_eq!(uint(&value(&tags, 1038)), 1);
    assert_eq!(uint(&value(&tags, 1042)), 1);
    assert_eq!(cp866(&value(&tags, 1041)), "9999078900012345");
    assert_eq!(cp866(&value(&tags, 1037)), "0000000001012345");
    assert_eq!(cp866(&value(&tags, 1018)), "7700000000");
    assert_eq!(uint(&value(&tags, 1054)), 1);
    assert_eq!(uint(&value(&tags, 1020)), 51000);
    assert_eq!(uint(&value(&tags, 1055)), 1);
    assert_eq!(uint(&value(&tags, 1031)), 40000);
    assert_eq!(uint(&value(&tags, 1081)), 11000);
    // The cashier the host sent, in CP866.
    assert_eq!(cp866(&value(&tags, 1021)), "Иванова");
    let items: Vec<Vec<(u16, Vec<u8>)>> = tags
        .iter()
        .filter(|(t, _)| *t == 1059)
        .map(|(_, v)| parse(v))
        .collect();
    assert_eq!(items.len(), 2);
    assert_eq!(cp866(&value(&items[0], 1030)), "Молоко коровье");
    assert_eq!(uint(&value(&items[0], 1079)), 7000);
    assert_eq!(uint(&value(&items[0], 1043)), 21000);
    assert_eq!(uint(&value(&items[0], 1199)), 1);
    assert_eq!(uint(&value(&items[0], 1214)), 4);
    assert_eq!(uint(&value(&items[0], 1212)), 1);
    // FVLN: 0.750 → 03 EE 02 (addendum §3.6); 3 → 3 decimals, 3000.
    assert_eq!(value(&items[1], 1023), vec![0x03, 0xEE, 0x02]);
    assert_eq!(value(&items[0], 1023), vec![0x03, 0xB8, 0x0B]);
    assert_eq!(uint(&value(&items[1], 1199)), 2);

    // Read again: FF3A starts over.
    let (_, _, again, _) = read_document(&mut d, fd, now);
    assert_eq!(again, bytes);
}

#[test]
fn a_correction_receipt_carries_its_1173_and_1174() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    ok(&mut d, &cash(true, 5000), now);
    ok(&mut d, &open_receipt(0x82), now);
    ok(&mut d, &tlv(1173, &[1]), now);
    let mut basis = vec![0x9A, 0x04, 0x04, 0x00, 0x00, 0x2E, 0x68, 0x69];
    basis.extend([0x9B, 0x04, 0x02, 0x00, 0x31, 0x35]);
    ok(&mut d, &tlv(1174, &basis), now);
    ok(&mut d, &item(2, 1_000_000, 1000, 0x08, "Товар"), now);
    let a = ok(&mut d, &close(1000, 0), now);
    let fd = le_at(&a, 8, 4) as u32;
    let (doc_type, _, bytes, _) = read_document(&mut d, fd, now);
    assert_eq!(doc_type, 31);
    let tags = parse(&bytes);
    assert_eq!(uint(&value(&tags, 1054)), 2);
    assert_eq!(value(&tags, 1173), vec![1]);
    assert_eq!(value(&tags, 1174), basis);
    let item = parse(&value(&tags, 1059));
    assert_eq!(
        uint(&value(&item, 1199)),
        6,
        "byte 0x08 = row 4 (no VAT) is 1199 code 6"
    );
}

#[test]
fn shift_reports_and_the_registration_encode_their_own_tags() {
    let mut d = device();
    let now = t0();
    let (doc_type, _, bytes, _) = read_document(&mut d, 1, now);
    assert_eq!(doc_type, 1);
    let tags = parse(&bytes);
    assert_eq!(uint(&value(&tags, 1040)), 1);
    assert_eq!(uint(&value(&tags, 1209)), 4);
    assert_eq!(uint(&value(&tags, 1062)), 0x37);
    assert!(tags.iter().all(|(t, _)| *t != 1054));

    ok(&mut d, &fn_query(0x41, &[]), now);
    ok(
        &mut d,
        &tlv(1021, &encoding_rs::IBM866.encode("Петров").0),
        now,
    );
    ok(&mut d, &open_shift(), now);
    let (doc_type, _, bytes, _) = read_document(&mut d, 2, now);
    assert_eq!(doc_type, 2);
    let tags = parse(&bytes);
    assert_eq!(uint(&value(&tags, 1038)), 1);
    assert_eq!(cp866(&value(&tags, 1021)), "Петров");
    assert!(tags.iter().all(|(t, _)| *t != 1042 && *t != 1020));

    ok(&mut d, &z_report(), now);
    let (doc_type, _, bytes, _) = read_document(&mut d, 3, now);
    assert_eq!(doc_type, 5);
    assert_eq!(uint(&value(&parse(&bytes), 1038)), 1);
}

#[test]
fn ff3b_without_ff3a_and_an_unknown_fd_are_refused() {
    let mut d = device();
    let now = t0();
    assert_eq!(error(&mut d, &fn_query(0x3B, &[]), now), 0x02);
    assert_eq!(error(&mut d, &fn_query(0x3A, &le(99, 4)), now), 0x08);
    // The system administrator's command, as the other FN reads.
    assert_eq!(
        error(&mut d, &cmd(&[0xFF, 0x3A], CASHIER, &le(1, 4)), now),
        0x4F
    );
    // A power cycle forgets the reading.
    ok(&mut d, &fn_query(0x3A, &le(1, 4)), now);
    d.power_cycle(now);
    assert_eq!(error(&mut d, &fn_query(0x3B, &[]), now), 0x02);
}
