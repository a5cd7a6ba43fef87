//! The device side of the standard link layer, transition by transition (§2.5), with
//! simulated time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use emulator::link::standard::{frame, ACK, ENQ, NAK, STX};
use emulator::link::{DeviceLink, LinkChoice, LinkPhase, LinkTiming};

const STATUS: [u8; 5] = [0x10, 0x1E, 0x00, 0x00, 0x00];

fn link() -> (DeviceLink, Instant) {
    (
        DeviceLink::new(LinkChoice::Standard, LinkTiming::default()),
        Instant::now(),
    )
}

fn sent(link: &mut DeviceLink) -> Vec<u8> {
    link.poll_transmit().unwrap_or_default()
}

/// A link past the first ENQ, idle.
fn idle() -> (DeviceLink, Instant) {
    let (mut l, t) = link();
    l.handle_input(&[ENQ], t);
    assert_eq!(sent(&mut l), [NAK]);
    (l, t)
}

/// A link that accepted `STATUS` and is executing it.
fn executing() -> (DeviceLink, Instant) {
    let (mut l, t) = idle();
    l.handle_input(&frame(&STATUS), t);
    assert_eq!(sent(&mut l), [ACK]);
    assert_eq!(l.poll_request().unwrap(), STATUS);
    (l, t)
}

#[test]
fn the_handwritten_status_frame_matches_the_protocol_notes() {
    // §12.10: 0x10 with password 1.
    assert_eq!(
        frame(&[0x10, 0x01, 0x00, 0x00, 0x00]),
        [0x02, 0x05, 0x10, 0x01, 0x00, 0x00, 0x00, 0x14]
    );
    // §12.10: the answer to 0x8D.
    assert_eq!(
        frame(&[0x8D, 0x00, 0x01]),
        [0x02, 0x03, 0x8D, 0x00, 0x01, 0x8F]
    );
}

#[test]
fn after_power_on_only_enq_gets_a_reply() {
    let (mut l, t) = link();
    assert_eq!(l.phase(), LinkPhase::WaitFirstEnq);
    l.handle_input(&[0x00, STX, 0x05 + 1, ACK, NAK], t);
    assert_eq!(l.poll_transmit(), None);
    assert_eq!(l.phase(), LinkPhase::WaitFirstEnq);
    l.handle_input(&[ENQ], t);
    assert_eq!(sent(&mut l), [NAK]);
    assert_eq!(l.phase(), LinkPhase::Idle);
}

#[test]
fn idle_answers_enq_and_noise_with_nak() {
    let (mut l, t) = idle();
    l.handle_input(&[ENQ, 0x33, ACK], t);
    assert_eq!(sent(&mut l), [NAK, NAK, NAK]);
    assert_eq!(l.phase(), LinkPhase::Idle);
    assert_eq!(l.poll_request(), None);
}

#[test]
fn a_good_frame_is_acked_and_becomes_a_request() {
    let (l, _) = executing();
    assert_eq!(l.phase(), LinkPhase::Executing);
    assert_eq!(l.counters().frames_received, 1);
}

#[test]
fn a_bad_lrc_is_naked_and_not_executed() {
    let (mut l, t) = idle();
    let mut bad = frame(&STATUS);
    let last = bad.len() - 1;
    bad[last] ^= 0x40;
    l.handle_input(&bad, t);
    assert_eq!(sent(&mut l), [NAK]);
    assert_eq!(l.poll_request(), None);
    assert_eq!(l.phase(), LinkPhase::Idle);
    assert_eq!(l.counters().bad_frames, 1);
}

#[test]
fn zero_length_is_naked() {
    let (mut l, t) = idle();
    l.handle_input(&[STX, 0x00], t);
    assert_eq!(sent(&mut l), [NAK]);
    assert_eq!(l.phase(), LinkPhase::Idle);
}

#[test]
fn a_gap_longer_than_t_byte_inside_a_frame_is_naked() {
    let (mut l, t) = idle();
    let f = frame(&STATUS);
    l.handle_input(&f[..4], t);
    assert_eq!(l.phase(), LinkPhase::Receiving);
    let deadline = l.poll_timeout().unwrap();
    assert_eq!(deadline, t + Duration::from_millis(50));
    l.handle_timeout(deadline - Duration::from_millis(1));
    assert_eq!(l.poll_transmit(), None, "not yet");
    l.handle_timeout(deadline);
    assert_eq!(sent(&mut l), [NAK]);
    assert_eq!(l.phase(), LinkPhase::Idle);
    // The rest of the frame arrives late: its bytes are noise to an idle device.
    l.handle_input(&f[4..], deadline + Duration::from_millis(5));
    assert_eq!(l.poll_request(), None);
}

#[test]
fn slow_but_in_time_bytes_make_a_frame() {
    let (mut l, mut t) = idle();
    for &b in &frame(&STATUS) {
        t += Duration::from_millis(49);
        l.handle_timeout(t);
        l.handle_input(&[b], t);
    }
    assert_eq!(sent(&mut l), [ACK]);
    assert_eq!(l.poll_request().unwrap(), STATUS);
}

#[test]
fn enq_while_executing_gets_ack_then_the_answer_follows() {
    let (mut l, t) = executing();
    l.handle_input(&[ENQ, ENQ], t);
    assert_eq!(sent(&mut l), [ACK, ACK]);
    l.answer_ready(vec![0x10, 0x00, 0x01], t);
    assert_eq!(sent(&mut l), frame(&[0x10, 0x00, 0x01]));
    assert_eq!(l.phase(), LinkPhase::WaitAck);
}

#[test]
fn ack_of_the_answer_returns_to_idle() {
    let (mut l, t) = executing();
    l.answer_ready(vec![0x10, 0x00], t);
    sent(&mut l);
    l.handle_input(&[ACK], t);
    assert_eq!(l.poll_transmit(), None);
    assert_eq!(l.phase(), LinkPhase::Idle);
    l.handle_input(&[ENQ], t);
    assert_eq!(sent(&mut l), [NAK], "no retained answer after ACK");
}

#[test]
fn rndis_quirk_sends_ff_after_the_hosts_ack() {
    let (mut l, t) = executing();
    l.set_ff_after_ack(true);
    l.answer_ready(vec![0x10, 0x00], t);
    sent(&mut l);
    l.handle_input(&[ACK], t);
    assert_eq!(sent(&mut l), [0xFF]);
}

#[test]
fn nak_of_the_answer_holds_it_and_enq_replays_it() {
    let (mut l, t) = executing();
    let answer = vec![0x10, 0x00, 0x02];
    l.answer_ready(answer.clone(), t);
    sent(&mut l);
    l.handle_input(&[NAK], t);
    assert_eq!(l.poll_transmit(), None, "no resend by itself (§2.3)");
    assert_eq!(l.phase(), LinkPhase::Hold);
    for _ in 0..3 {
        l.handle_input(&[ENQ], t);
        let mut expected = vec![ACK];
        expected.extend(frame(&answer));
        assert_eq!(sent(&mut l), expected);
        l.handle_input(&[NAK], t);
    }
    assert_eq!(l.counters().answers_replayed, 3);
    l.handle_input(&[ENQ], t);
    sent(&mut l);
    l.handle_input(&[ACK], t);
    assert_eq!(l.phase(), LinkPhase::Idle);
}

#[test]
fn no_ack_within_the_wait_holds_the_answer() {
    let (mut l, t) = executing();
    l.answer_ready(vec![0x10, 0x00], t);
    sent(&mut l);
    let deadline = l.poll_timeout().unwrap();
    l.handle_timeout(deadline);
    assert_eq!(l.phase(), LinkPhase::Hold);
    assert_eq!(l.poll_timeout(), None);
    // Only ENQ gets a reply in HOLD.
    l.handle_input(&[ACK, NAK, 0x44], deadline);
    assert_eq!(l.poll_transmit(), None);
}

#[test]
fn a_new_frame_in_hold_is_ignored_and_enq_gets_the_old_answer() {
    let (mut l, t) = executing();
    let old = vec![0x10, 0x00, 0x07];
    l.answer_ready(old.clone(), t);
    sent(&mut l);
    l.handle_input(&[NAK], t);
    // A command whose bytes include ENQ values must still be swallowed whole.
    let newer = frame(&[0x8D, 0x05, 0x05, 0x00, 0x00, 0x01]);
    l.handle_input(&newer, t);
    assert_eq!(l.poll_transmit(), None, "no ACK, no NAK");
    assert_eq!(l.poll_request(), None, "not executed");
    l.handle_input(&[ENQ], t);
    let mut expected = vec![ACK];
    expected.extend(frame(&old));
    assert_eq!(sent(&mut l), expected);
}

#[test]
fn the_stx_of_a_new_command_while_waiting_for_ack_holds_the_answer() {
    let (mut l, t) = executing();
    l.answer_ready(vec![0x10, 0x00], t);
    sent(&mut l);
    l.handle_input(&frame(&STATUS), t);
    assert_eq!(l.poll_transmit(), None);
    assert_eq!(l.poll_request(), None);
    assert_eq!(l.phase(), LinkPhase::Hold);
}

#[test]
fn a_power_cycle_loses_the_retained_answer() {
    let (mut l, t) = executing();
    l.answer_ready(vec![0x10, 0x00], t);
    sent(&mut l);
    l.handle_input(&[NAK], t);
    l.power_cycle();
    assert_eq!(l.phase(), LinkPhase::WaitFirstEnq);
    l.handle_input(&[ENQ], t);
    assert_eq!(sent(&mut l), [NAK], "the answer did not survive");
}

#[test]
fn an_answer_after_a_power_cycle_is_dropped() {
    let (mut l, t) = executing();
    l.power_cycle();
    l.answer_ready(vec![0x10, 0x00], t);
    assert_eq!(l.poll_transmit(), None);
    assert_eq!(l.phase(), LinkPhase::WaitFirstEnq);
}

#[test]
fn auto_selects_standard_on_enq_and_keeps_it_until_power_cycle() {
    let mut l = DeviceLink::new(LinkChoice::Auto, LinkTiming::default());
    let t = Instant::now();
    assert_eq!(l.phase(), LinkPhase::Undecided);
    l.handle_input(&[0x00, 0x42], t);
    assert_eq!(l.layer(), None, "noise does not decide");
    l.handle_input(&[ENQ], t);
    assert_eq!(l.layer(), Some(LinkChoice::Standard));
    assert_eq!(sent(&mut l), [NAK]);
    // A protocol 2.0 ping now is just noise to the standard layer (NAKed byte by byte).
    l.handle_input(&[0x8F], t);
    assert_eq!(l.layer(), Some(LinkChoice::Standard));
    l.power_cycle();
    assert_eq!(l.layer(), None);
}

#[test]
fn input_stops_after_the_byte_that_completes_a_request() {
    let (mut l, t) = idle();
    let mut bytes = frame(&STATUS);
    let frame_len = bytes.len();
    bytes.extend([ENQ, ENQ]);
    assert_eq!(
        l.handle_input(&bytes, t),
        frame_len,
        "the ENQs wait until the request ran"
    );
    assert_eq!(l.poll_request().unwrap(), STATUS);
    assert_eq!(l.handle_input(&bytes[frame_len..], t), 2);
    assert_eq!(sent(&mut l), [ACK, ACK, ACK]);
}

#[test]
fn enqs_are_counted_but_a_0x05_inside_a_frame_is_not() {
    let (mut l, t) = idle();
    // Password byte 0x05 inside the frame: data, not an ENQ.
    l.handle_input(&frame(&[0x10, 0x05, 0x00, 0x00, 0x00]), t);
    assert_eq!(sent(&mut l), [ACK]);
    l.handle_input(&[ENQ], t);
    assert_eq!(l.counters().enqs_received, 2);
    assert_eq!(l.counters().frames_received, 1);
}
