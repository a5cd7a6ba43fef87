//! Injected faults against the pure device model: shift clock, cover, paper, print time, OFD.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod device_support;

use chrono::Duration;
use device_support::*;
use emulator::device::PaperState;

fn sale(d: &mut emulator::device::Device, now: chrono::NaiveDateTime) {
    ok(d, &open_receipt(0), now);
    ok(d, &item(1, 1_000_000, 10000, 1, "Товар"), now);
}

#[test]
fn shift_older_than_24_hours_needs_a_z_report() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    d.faults_mut().clock_offset = Duration::hours(24);
    assert_eq!(mode_submode(&mut d, now), (3, 0));
    assert_eq!(error(&mut d, &open_receipt(0), now), 0x4E);
    ok(&mut d, &z_report(), now);
    assert_eq!(mode_submode(&mut d, now), (4, 0));
    ok(&mut d, &open_shift(), now);
    assert_eq!(mode_submode(&mut d, now), (2, 0));
}

#[test]
fn receipt_open_across_24_hours_is_refused_by_the_fn() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    sale(&mut d, now);
    d.faults_mut().clock_offset = Duration::hours(25);
    assert_eq!(error(&mut d, &close(10000, 0), now), 0x16);
    ok(&mut d, &cmd(&[0x88], CASHIER, &[]), now);
    assert_eq!(mode_submode(&mut d, now), (3, 0));
}

#[test]
fn open_cover_sets_bit_10_and_refuses_printing() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    d.faults_mut().cover_open = true;
    let a = ok(&mut d, &short_status(SYSADMIN), now);
    assert_eq!(le_at(&a, 3, 2) & 0x0400, 0x0400);
    assert_eq!(a[6], 1);
    assert_eq!(error(&mut d, &open_receipt(0), now), 0x6B);
    assert_eq!(error(&mut d, &cash(true, 100), now), 0x6B);
    d.faults_mut().cover_open = false;
    ok(&mut d, &open_receipt(0), now);
}

#[test]
fn passive_paper_out_gives_submode_1() {
    let mut d = device();
    let now = t0();
    d.faults_mut().paper = PaperState::Out;
    let a = ok(&mut d, &short_status(SYSADMIN), now);
    assert_eq!(
        le_at(&a, 3, 2) & 0x0082,
        0,
        "no roll, optical sensor sees nothing"
    );
    assert_eq!(a[6], 1);
    assert_eq!(error(&mut d, &open_shift(), now), 0x6B);
    d.faults_mut().paper = PaperState::Present;
    ok(&mut d, &open_shift(), now);
}

#[test]
fn paper_running_out_during_a_receipt_keeps_the_fd_and_waits_for_b0() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    sale(&mut d, now);
    d.faults_mut().paper = PaperState::OutAfterLines(6);
    let a = ok(&mut d, &close(10000, 0), now);
    let fd = le_at(&a, 8, 4) as u32;
    assert_eq!(
        d.archive().last().unwrap().fd,
        fd,
        "the FN committed the receipt"
    );
    assert!(d.tape().contains("ДОКУМЕНТ НЕДЕЙСТВИТЕЛЕН"));
    assert_eq!(mode_submode(&mut d, now), (2, 2));
    assert_eq!(error(&mut d, &cmd(&[0xB0], CASHIER, &[]), now), 0x72);

    d.faults_mut().paper = PaperState::Present;
    assert_eq!(mode_submode(&mut d, now), (2, 3));
    assert_eq!(error(&mut d, &open_receipt(0), now), 0x58);
    ok(&mut d, &cmd(&[0xB0], CASHIER, &[]), now);
    assert_eq!(mode_submode(&mut d, now), (2, 0));
    assert_eq!(
        d.tape().matches("КАССОВЫЙ ЧЕК").count(),
        2,
        "reprinted in full"
    );
    assert_eq!(last_fd(&mut d, now), fd);
}

#[test]
fn cover_opened_mid_print_interrupts_the_document() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    d.faults_mut().print_time_per_line = Duration::milliseconds(100);
    let later = now + Duration::seconds(10);
    sale(&mut d, later);
    ok(&mut d, &close(10000, 0), later);
    assert_eq!(mode_submode(&mut d, later), (2, 5));
    assert_eq!(error(&mut d, &cash(true, 1), later), 0x50);
    d.faults_mut().cover_open = true;
    assert_eq!(mode_submode(&mut d, later), (2, 2));
    d.faults_mut().cover_open = false;
    assert_eq!(mode_submode(&mut d, later), (2, 3));
    ok(&mut d, &cmd(&[0xB0], CASHIER, &[]), later);
    let done = later + Duration::seconds(60);
    assert_eq!(mode_submode(&mut d, done), (2, 0));
}

#[test]
fn printing_takes_time_and_blocks_print_commands() {
    let mut d = device();
    let now = t0();
    d.faults_mut().print_time_per_line = Duration::milliseconds(50);
    ok(&mut d, &open_shift(), now);
    assert_eq!(mode_submode(&mut d, now), (2, 5));
    assert_eq!(error(&mut d, &cmd(&[0x40], SYSADMIN, &[]), now), 0x50);
    let done = now + Duration::seconds(30);
    assert_eq!(mode_submode(&mut d, done), (2, 0));
    ok(&mut d, &cmd(&[0x40], SYSADMIN, &[]), done);
}

#[test]
fn offline_ofd_queues_documents() {
    let mut d = device();
    let now = t0();
    d.faults_mut().ofd_offline = true;
    ok(&mut d, &open_shift(), now);
    sale(&mut d, now);
    ok(&mut d, &close(10000, 0), now);
    let a = ok(&mut d, &fn_query(0x39, &[]), now);
    assert_eq!(a.len(), 16);
    assert_eq!(le_at(&a, 5, 2), 2);
    assert_eq!(
        le_at(&a, 7, 4),
        2,
        "first unsent is the open-shift report, FD 2"
    );
    let count = ok(&mut d, &fn_query(0x3F, &[]), now);
    assert_eq!(le_at(&count, 3, 2), 2);

    d.faults_mut().ofd_offline = false;
    let a = ok(&mut d, &fn_query(0x39, &[]), now);
    assert_eq!(le_at(&a, 5, 2), 0);
}

#[test]
fn documents_unsent_for_30_days_block_new_receipts() {
    let mut d = device();
    let now = t0();
    ok(&mut d, &open_shift(), now);
    d.faults_mut().ofd_unsent_since = Some(now - Duration::days(31));
    let a = ok(&mut d, &fn_query(0x39, &[]), now);
    assert_eq!(
        &a[11..16],
        &[26, 10, 23, 10, 0],
        "reported oldest unsent date"
    );
    let status = ok(&mut d, &fn_query(0x01, &[]), now);
    assert_eq!(status[7], 0x08, "OFD answer timeout warning");
    ok(&mut d, &open_receipt(0), now);
    ok(&mut d, &item(1, 1_000_000, 100, 1, "x"), now);
    assert_eq!(error(&mut d, &close(100, 0), now), 0x15);
    ok(&mut d, &cmd(&[0x88], CASHIER, &[]), now);
    ok(&mut d, &z_report(), now);
    assert_eq!(error(&mut d, &open_shift(), now), 0x15);
    d.faults_mut().ofd_unsent_since = None;
    ok(&mut d, &open_shift(), now);
}
