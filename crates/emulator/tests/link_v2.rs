//! The device side of protocol 2.0 (§2.9): packet format, numbering rule, pings, power
//! cycles and auto-selection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use emulator::link::v2::packet;
use emulator::link::{DeviceLink, LinkChoice, LinkPhase, LinkTiming};

const STATUS: [u8; 5] = [0x10, 0x1E, 0x00, 0x00, 0x00];
const PING: [u8; 5] = [0x8F, 0x00, 0x00, 0x0F, 0x1D];

fn link() -> (DeviceLink, Instant) {
    (
        DeviceLink::new(LinkChoice::V2, LinkTiming::default()),
        Instant::now(),
    )
}

fn sent(link: &mut DeviceLink) -> Vec<u8> {
    link.poll_transmit().unwrap_or_default()
}

/// Sends request `num` and completes it with `answer`; returns what the device sent.
fn exchange(l: &mut DeviceLink, t: Instant, num: u16, answer: &[u8]) -> Vec<u8> {
    l.handle_input(&packet(Some(num), &STATUS), t);
    if l.poll_request().is_some() {
        l.answer_ready(answer.to_vec(), t);
    }
    sent(l)
}

#[test]
fn packets_match_the_protocol_notes() {
    assert_eq!(packet(None, &[]), PING);
    assert_eq!(
        packet(Some(1), &STATUS),
        [0x8F, 0x07, 0x00, 0x01, 0x00, 0x10, 0x1E, 0x00, 0x00, 0x00, 0x1F, 0xAC]
    );
    assert_eq!(
        packet(Some(0x8F), &STATUS),
        [0x8F, 0x07, 0x00, 0x9F, 0x81, 0x00, 0x10, 0x1E, 0x00, 0x00, 0x00, 0x6E, 0x35]
    );
}

#[test]
fn ping_after_power_on_gets_an_empty_packet_numbered_zero() {
    let (mut l, t) = link();
    l.handle_input(&PING, t);
    assert_eq!(sent(&mut l), packet(Some(0), &[]));
    assert_eq!(l.poll_request(), None);
}

#[test]
fn the_successor_number_executes_and_its_answer_carries_it() {
    let (mut l, t) = link();
    l.handle_input(&packet(Some(1), &STATUS), t);
    assert_eq!(l.poll_request().unwrap(), STATUS);
    assert_eq!(l.phase(), LinkPhase::Executing);
    l.answer_ready(vec![0x10, 0x00, 0x05], t);
    assert_eq!(sent(&mut l), packet(Some(1), &[0x10, 0x00, 0x05]));
}

#[test]
fn a_repeated_number_replays_the_retained_answer_without_executing() {
    let (mut l, t) = link();
    exchange(&mut l, t, 1, &[0x10, 0x00, 0x01]);
    l.handle_input(&packet(Some(1), &STATUS), t);
    assert_eq!(l.poll_request(), None);
    assert_eq!(sent(&mut l), packet(Some(1), &[0x10, 0x00, 0x01]));
    // Any other wrong number likewise, and a ping too.
    l.handle_input(&packet(Some(7), &STATUS), t);
    assert_eq!(l.poll_request(), None);
    assert_eq!(sent(&mut l), packet(Some(1), &[0x10, 0x00, 0x01]));
    l.handle_input(&PING, t);
    assert_eq!(sent(&mut l), packet(Some(1), &[0x10, 0x00, 0x01]));
    // The successor executes.
    assert_eq!(
        exchange(&mut l, t, 2, &[0x10, 0x00, 0x02]),
        packet(Some(2), &[0x10, 0x00, 0x02])
    );
}

#[test]
fn a_wrong_number_before_anything_executed_gets_the_last_number() {
    let (mut l, t) = link();
    l.handle_input(&packet(Some(42), &STATUS), t);
    assert_eq!(l.poll_request(), None);
    assert_eq!(sent(&mut l), packet(Some(0), &[]));
}

#[test]
fn numbers_wrap_through_zero() {
    let (mut l, t) = link();
    for num in 1..=u16::MAX {
        l.handle_input(&packet(Some(num), &STATUS), t);
        assert!(l.poll_request().is_some(), "{num} executes");
        l.answer_ready(vec![0x10, 0x00], t);
        sent(&mut l);
    }
    // The successor of 0xFFFF is 0 (§2.9).
    assert_eq!(
        exchange(&mut l, t, 0, &[0x10, 0x00, 0x04]),
        packet(Some(0), &[0x10, 0x00, 0x04])
    );
    assert_eq!(
        exchange(&mut l, t, 0, &[0x10, 0x00, 0x05]),
        packet(Some(0), &[0x10, 0x00, 0x04]),
        "replayed"
    );
}

#[test]
fn a_bad_crc_is_dropped_silently() {
    let (mut l, t) = link();
    let mut p = packet(Some(1), &STATUS);
    let last = p.len() - 1;
    p[last] ^= 0x01;
    l.handle_input(&p, t);
    assert_eq!(l.poll_request(), None);
    assert_eq!(l.poll_transmit(), None);
    assert_eq!(l.counters().bad_frames, 1);
    // The host resends the same number: now it executes.
    l.handle_input(&packet(Some(1), &STATUS), t);
    assert_eq!(l.poll_request().unwrap(), STATUS);
}

#[test]
fn stuffed_numbers_are_unstuffed() {
    let (mut l, t) = link();
    for n in 1..=0x8F {
        exchange(&mut l, t, n, &[0x10, 0x00]);
    }
    // 0x8F and 0x9F in the number went through stuffing both ways.
    assert_eq!(l.counters().bad_frames, 0);
    assert_eq!(
        exchange(&mut l, t, 0x90, &[0x10, 0x00, 0x9F]),
        packet(Some(0x90), &[0x10, 0x00, 0x9F])
    );
}

#[test]
fn a_byte_gap_drops_the_packet() {
    let (mut l, t) = link();
    let p = packet(Some(1), &STATUS);
    l.handle_input(&p[..5], t);
    let deadline = l.poll_timeout().unwrap();
    assert_eq!(deadline, t + Duration::from_millis(50));
    l.handle_timeout(deadline);
    l.handle_input(&p[5..], deadline);
    assert_eq!(l.poll_request(), None);
    assert_eq!(l.poll_transmit(), None);
}

#[test]
fn a_power_cycle_forgets_the_number_and_the_answer() {
    let (mut l, t) = link();
    exchange(&mut l, t, 1, &[0x10, 0x00]);
    exchange(&mut l, t, 2, &[0x10, 0x00]);
    l.power_cycle();
    l.handle_input(&PING, t);
    assert_eq!(sent(&mut l), packet(Some(0), &[]));
    l.handle_input(&packet(Some(3), &STATUS), t);
    assert_eq!(l.poll_request(), None, "3 is not the successor of 0");
    assert_eq!(sent(&mut l), packet(Some(0), &[]));
    assert_eq!(
        exchange(&mut l, t, 1, &[0x10, 0x00]),
        packet(Some(1), &[0x10, 0x00])
    );
}

#[test]
fn auto_selects_v2_on_8f_until_the_next_power_cycle() {
    let mut l = DeviceLink::new(LinkChoice::Auto, LinkTiming::default());
    let t = Instant::now();
    l.handle_input(&PING, t);
    assert_eq!(l.layer(), Some(LinkChoice::V2));
    assert_eq!(sent(&mut l), packet(Some(0), &[]));
    // ENQ is noise to the 2.0 layer.
    l.handle_input(&[0x05], t);
    assert_eq!(l.poll_transmit(), None);
    l.power_cycle();
    l.handle_input(&[0x05], t);
    assert_eq!(l.layer(), Some(LinkChoice::Standard));
    assert_eq!(sent(&mut l), [0x15]);
}
