//! FFD 1.2 correction receipts (addendum §5) against the pure device model: 0x8D 0x80..0x83,
//! FF0C 1173 and 1174 (or 1178/1179 apart), items and FF45 as a receipt; form 31 in the FN.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod device_support;

use device_support::*;

/// 2026-01-15 00:00 UTC.
const BASIS_DATE: u32 = 1_768_435_200;

fn tlvs(items: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (tag, value) in items {
        out.extend(tag.to_le_bytes());
        out.extend((value.len() as u16).to_le_bytes());
        out.extend_from_slice(value);
    }
    out
}

/// STLV 1174 {1178, 1179} as the addendum's example frame carries it.
fn basis(number: Option<&str>) -> Vec<u8> {
    let mut inner = vec![(1178, BASIS_DATE.to_le_bytes().to_vec())];
    if let Some(n) = number {
        inner.push((1179, n.as_bytes().to_vec()));
    }
    tlvs(&[(1174, tlvs(&inner))])
}

#[test]
fn a_correction_of_sale_is_form_31_with_its_tags_and_prints_as_one() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    let before = last_fd(&mut d, now);
    ok(&mut d, &open_receipt(0x80), now);
    assert_eq!(mode_submode(&mut d, now), (0x08, 0));
    ok(&mut d, &tlv(1173, &[1]), now);
    ok(
        &mut d,
        &cmd(&[0xFF, 0x0C], SYSADMIN, &basis(Some("15"))),
        now,
    );
    ok(&mut d, &item(1, 2_000_000, 5000, 1, "Молоко"), now);
    let a = ok(&mut d, &close(10000, 0), now);
    let fd = le_at(&a, 8, 4) as u32;
    assert_eq!(fd, before + 1);

    let doc = d.archive().last().unwrap();
    assert_eq!((doc.doc_type, doc.operation, doc.total), (31, 1, 10000));
    assert_eq!(doc.tlvs[0].tag, 1173);
    assert_eq!(doc.tlvs[1].tag, 1174);
    assert_eq!(doc.items.len(), 1);
    let tape = d.tape();
    assert!(tape.contains("КАССОВЫЙ ЧЕК КОРРЕКЦИИ"), "{tape}");
    assert!(tape.contains("КОРРЕКЦИЯ ПРИХОДА"));
    assert!(tape.contains("ПО ПРЕДПИСАНИЮ"));
    assert!(tape.contains("15.01.2026"));
    assert!(tape.contains("НОМЕР ДОК. ОСН."));

    // FF0A answers it like a receipt: type 31, operation 1, total.
    let found = ok(&mut d, &fn_query(0x0A, &le(u64::from(fd), 4)), now);
    assert_eq!(found[3], 31);
    assert_eq!(found[18], 1);
    assert_eq!(le_at(&found, 19, 5), 10000);
}

#[test]
fn the_four_types_map_to_tag_1054_and_their_titles() {
    // t: 0 sale, 1 purchase, 2 sale return, 3 purchase return → 1054: 1, 3, 2, 4.
    for (t, operation, title) in [
        (0x80, 1, "КОРРЕКЦИЯ ПРИХОДА"),
        (0x81, 3, "КОРРЕКЦИЯ РАСХОДА"),
        (0x82, 2, "КОРРЕКЦИЯ ВОЗВРАТА ПРИХОДА"),
        (0x83, 4, "КОРРЕКЦИЯ ВОЗВРАТА РАСХОДА"),
    ] {
        let mut d = device();
        let now = t0();
        ok(&mut d, &open_shift(), now);
        ok(&mut d, &cash(true, 100_000), now);
        ok(&mut d, &open_receipt(t), now);
        assert_eq!(mode_submode(&mut d, now).0, 0x08 | ((t & 3) << 4));
        ok(&mut d, &tlv(1173, &[0]), now);
        ok(&mut d, &cmd(&[0xFF, 0x0C], SYSADMIN, &basis(None)), now);
        ok(&mut d, &item(operation, 1_000_000, 1000, 1, "Товар"), now);
        ok(&mut d, &close(1000, 0), now);
        let doc = d.archive().last().unwrap();
        assert_eq!((doc.doc_type, doc.operation), (31, operation), "{t:#04x}");
        assert!(d.tape().contains(title), "{t:#04x}: {}", d.tape());
        assert!(d.tape().contains("САМОСТОЯТЕЛЬНО"));
    }
}

#[test]
fn a_correction_without_1173_or_1174_is_refused_by_the_fn() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    let before = last_fd(&mut d, now);
    ok(&mut d, &open_receipt(0x80), now);
    ok(&mut d, &item(1, 1_000_000, 1000, 1, "Товар"), now);
    assert_eq!(error(&mut d, &close(1000, 0), now), 0xA4);
    ok(&mut d, &tlv(1173, &[0]), now);
    assert_eq!(
        error(&mut d, &close(1000, 0), now),
        0xA4,
        "1174 still missing"
    );
    // The separate 1178 (and 1179) stand for 1174: the KKT builds it.
    ok(&mut d, &tlv(1178, &BASIS_DATE.to_le_bytes()), now);
    ok(&mut d, &close(1000, 0), now);
    assert_eq!(last_fd(&mut d, now), before + 1);
    assert_eq!(d.archive().last().unwrap().doc_type, 31);
}

#[test]
fn a_repeated_correction_tag_is_refused() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    ok(&mut d, &open_receipt(0x80), now);
    ok(&mut d, &tlv(1173, &[0]), now);
    assert_eq!(error(&mut d, &tlv(1173, &[0]), now), 0x33);
}

#[test]
fn firmware_refusing_the_composite_1174_takes_1178_and_1179_apart() {
    let mut d = device();
    d.faults_mut().refuse_composite_1174 = true;
    let now = t0();
    ok(&mut d, &open_shift(), now);
    ok(&mut d, &open_receipt(0x80), now);
    ok(&mut d, &tlv(1173, &[1]), now);
    assert_eq!(
        error(
            &mut d,
            &cmd(&[0xFF, 0x0C], SYSADMIN, &basis(Some("7"))),
            now
        ),
        0x33
    );
    ok(&mut d, &tlv(1178, &BASIS_DATE.to_le_bytes()), now);
    ok(&mut d, &tlv(1179, b"7"), now);
    ok(&mut d, &item(1, 1_000_000, 1000, 1, "Товар"), now);
    ok(&mut d, &close(1000, 0), now);
    let tags: Vec<u16> = d
        .archive()
        .last()
        .unwrap()
        .tlvs
        .iter()
        .map(|t| t.tag)
        .collect();
    assert_eq!(tags, [1173, 1178, 1179]);
}

#[test]
fn ffd_1_05_corrections_are_refused_under_ffd_1_2() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    assert_eq!(error(&mut d, &cmd(&[0xFF, 0x35], SYSADMIN, &[]), now), 0x37);
    let mut ff4a = vec![0, 1];
    ff4a.extend(vec![0; 5 * 12]);
    ff4a.push(1);
    assert_eq!(
        error(&mut d, &cmd(&[0xFF, 0x4A], SYSADMIN, &ff4a), now),
        0x37
    );
}

#[test]
fn a_correction_type_is_refused_under_an_older_ffd() {
    let mut d = emulator::device::Device::new(emulator::device::DeviceConfig {
        ffd_version: 2,
        ..Default::default()
    });
    let now = t0();
    ok(&mut d, &open_shift(), now);
    assert_eq!(error(&mut d, &open_receipt(0x80), now), 0x33);
    assert_eq!(error(&mut d, &open_receipt(0x84), now), 0x33);
}
