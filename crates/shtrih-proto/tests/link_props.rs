//! Properties of both link layers: frames and packets survive a round trip, decoders make
//! progress on any input, and the host links end every exchange with exactly one final event
//! whatever the line does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use proptest::prelude::*;
use shtrih_proto::frame::v2::{self as frame2, Decoded2};
use shtrih_proto::frame::{self, Decoded};
use shtrih_proto::link::{HostLink, HostLink2, LinkConfig, LinkLayer, Resend};

/// Bytes a device line plausibly carries: control bytes, frame starts, fillers and anything.
fn line_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(frame::ACK),
        Just(frame::NAK),
        Just(frame::STX),
        Just(0xFF),
        Just(frame2::STX2),
        any::<u8>(),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Bytes(Vec<u8>),
    Frame(Vec<u8>),
    Packet(u16, Vec<u8>),
    Timeout,
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        prop::collection::vec(line_byte(), 1..8).prop_map(Step::Bytes),
        prop::collection::vec(any::<u8>(), 1..8).prop_map(Step::Frame),
        (0u16..4, prop::collection::vec(any::<u8>(), 0..6)).prop_map(|(n, d)| Step::Packet(n, d)),
        Just(Step::Timeout),
        (0u64..2_000).prop_map(Step::Wait),
    ]
}

fn resend() -> impl Strategy<Value = Resend> {
    prop_oneof![Just(Resend::Safe), Just(Resend::OnlyOnProof)]
}

/// Runs `steps` against a started link, then only timeouts; returns the final events seen.
fn run(link: &mut dyn LinkLayer, resend: Resend, steps: &[Step]) -> usize {
    let mut now = Instant::now();
    link.start_command(
        vec![0x10, 0x1E, 0, 0, 0],
        Duration::from_secs(3),
        resend,
        now,
    )
    .unwrap();
    let mut finals = 0;
    let mut drain = |link: &mut dyn LinkLayer| {
        while link.poll_transmit().is_some() {}
        while let Some(event) = link.poll_event() {
            if event.is_final() {
                finals += 1;
            }
        }
    };
    for step in steps {
        match step {
            Step::Bytes(bytes) => link.handle_input(bytes, now),
            Step::Frame(msg) => link.handle_input(&frame::encode(msg).unwrap(), now),
            Step::Packet(num, data) => link.handle_input(&frame2::encode(*num, data).unwrap(), now),
            Step::Timeout => {
                if let Some(deadline) = link.poll_timeout() {
                    now = now.max(deadline);
                    link.handle_timeout(now);
                }
            }
            Step::Wait(ms) => {
                now += Duration::from_millis(*ms);
                link.handle_timeout(now);
            }
        }
        drain(link);
    }
    // With the line silent from here on, the timers alone must end the exchange.
    let mut steps_left = 1_000;
    while let Some(deadline) = link.poll_timeout() {
        assert!(steps_left > 0, "no final event after 1000 timeouts");
        steps_left -= 1;
        now = now.max(deadline);
        link.handle_timeout(now);
        drain(link);
    }
    assert!(link.is_idle());
    finals
}

proptest! {
    #[test]
    fn frame_round_trip(msg in prop::collection::vec(any::<u8>(), 1..=255), tail in prop::collection::vec(any::<u8>(), 0..4)) {
        let mut bytes = frame::encode(&msg).unwrap();
        let len = bytes.len();
        bytes.extend(tail);
        prop_assert_eq!(frame::decode(&bytes), Decoded::Frame { msg, consumed: len });
    }

    #[test]
    fn frame2_round_trip(num in any::<u16>(), data in prop::collection::vec(any::<u8>(), 0..300), tail in prop::collection::vec(any::<u8>(), 0..4)) {
        let mut bytes = frame2::encode(num, &data).unwrap();
        let len = bytes.len();
        bytes.extend(tail);
        prop_assert_eq!(frame2::decode(&bytes), Decoded2::Packet { num: Some(num), data, consumed: len });
    }

    #[test]
    fn frame_decode_always_progresses(buf in prop::collection::vec(line_byte(), 0..300)) {
        let mut rest = &buf[..];
        loop {
            match frame::decode(rest) {
                Decoded::NeedMore => break,
                Decoded::Frame { consumed, .. } | Decoded::Garbage { skipped: consumed } => {
                    prop_assert!(consumed > 0 && consumed <= rest.len());
                    rest = &rest[consumed..];
                }
            }
        }
    }

    #[test]
    fn frame2_decode_always_progresses(buf in prop::collection::vec(line_byte(), 0..300)) {
        let mut rest = &buf[..];
        loop {
            match frame2::decode(rest) {
                Decoded2::NeedMore => break,
                Decoded2::Packet { consumed, .. } | Decoded2::Garbage { skipped: consumed } => {
                    prop_assert!(consumed > 0 && consumed <= rest.len());
                    rest = &rest[consumed..];
                }
            }
        }
    }

    #[test]
    fn host_link_always_ends_with_one_final_event(resend in resend(), steps in prop::collection::vec(step(), 0..40)) {
        let mut link = HostLink::new(LinkConfig::default());
        prop_assert_eq!(run(&mut link, resend, &steps), 1);
    }

    #[test]
    fn host_link2_always_ends_with_one_final_event(resend in resend(), steps in prop::collection::vec(step(), 0..40)) {
        let mut link = HostLink2::new(LinkConfig::default());
        prop_assert_eq!(run(&mut link, resend, &steps), 1);
    }
}
