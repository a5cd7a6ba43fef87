//! The host link against the emulator's device link, byte for byte in simulated time, on a
//! line scripted to do what the noisy line of `lossy_line.rs` did: the first send of a
//! receipt close loses its STX, so the idle device NAKs each of its other bytes (§2.5 IDLE);
//! a copy of the frame that reaches the device while it waits for the ACK of its answer has
//! its STX damaged into 06. The device takes that 06 for the host's ACK and goes idle; with
//! a copy of the frame per NAK on the line, the copy after it found the device idle and
//! closed the receipt a second time (the FN's last FD two past the snapshot: `reconcile`
//! said NeedsOperator). One refusal, one resend: the receipt is closed once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod wire;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use emulator::link::LinkPhase;
use shtrih_proto::frame::{self, ACK};
use shtrih_proto::link::{LinkEvent, LinkLayer, Resend};

use wire::close_receipt;

#[test]
fn a_run_of_naks_never_closes_a_receipt_twice() {
    let t0 = Instant::now();
    let mut now = t0;
    let mut host = wire::host();
    let mut device = wire::device(now);

    let msg = close_receipt();
    let wire = frame::encode(&msg).unwrap();
    host.start_command(
        msg.clone(),
        Duration::from_millis(60),
        Resend::OnlyOnProof,
        now,
    )
    .unwrap();

    let mut closed = 0u32;
    let mut frames_sent = 0;
    let mut to_device: VecDeque<Vec<u8>> = VecDeque::new();
    let mut outcome = None;
    let mut damaged = false;
    for _ in 0..10_000 {
        while let Some(mut bytes) = host.poll_transmit() {
            if bytes == wire {
                frames_sent += 1;
                if frames_sent == 1 {
                    bytes.remove(0);
                }
            }
            to_device.push_back(bytes);
        }
        while let Some(event) = host.poll_event() {
            if event.is_final() {
                outcome = Some(event);
            }
        }
        if outcome.is_some() && to_device.is_empty() {
            break;
        }
        now += Duration::from_micros(100);
        // The device reads all the host wrote, then the host reads all the device wrote.
        let mut reply = Vec::new();
        while let Some(mut bytes) = to_device.pop_front() {
            if bytes == wire && device.phase() == LinkPhase::WaitAck && !damaged {
                damaged = true;
                bytes[0] = ACK;
            }
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let used = device.handle_input(rest, now);
                rest = &rest[used..];
                reply.extend(device.poll_transmit().unwrap_or_default());
                if let Some(request) = device.poll_request() {
                    assert_eq!(request, msg);
                    closed += 1;
                    let fd = 100 + closed;
                    let mut answer = vec![0xFF, 0x45, 0x00];
                    answer.extend_from_slice(&fd.to_le_bytes());
                    device.answer_ready(answer, now);
                    reply.extend(device.poll_transmit().unwrap_or_default());
                }
            }
        }
        if !reply.is_empty() {
            now += Duration::from_micros(100);
            host.handle_input(&reply, now);
            continue;
        }
        if outcome.is_some() {
            continue;
        }
        // Nothing on the line: the next deadline of either side.
        let next = [host.poll_timeout(), device.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .expect("a deadline while the exchange runs");
        now = now.max(next);
        device.handle_timeout(now);
        if let Some(bytes) = device.poll_transmit() {
            host.handle_input(&bytes, now);
        }
        host.handle_timeout(now);
    }
    assert!(
        frames_sent >= 2,
        "the first send was refused and sent again"
    );
    assert_eq!(closed, 1, "the receipt was closed {closed} times");
    let mut answer = vec![0xFF, 0x45, 0x00];
    answer.extend_from_slice(&101u32.to_le_bytes());
    assert_eq!(outcome, Some(LinkEvent::Answer(answer)));
}
