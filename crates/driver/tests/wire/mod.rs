//! Our host link and the emulator's device link face to face in simulated time, with the
//! timings of `lossy_line.rs`, and the messages they carry (layouts from the protocol notes).
#![allow(dead_code)]

use std::time::{Duration, Instant};

use emulator::link::{DeviceLink, LinkChoice, LinkTiming};
use shtrih_proto::frame::ENQ;
use shtrih_proto::link::{HostLink, LinkConfig};

/// The host side, with the lossy-line test's timings and generous retry counts.
pub fn host() -> HostLink {
    HostLink::new(LinkConfig {
        t_ctrl: Duration::from_millis(15),
        t_byte: Duration::from_millis(10),
        n_send: 100,
        n_enq: 100,
        n_reread: 100,
        recover_window: Duration::from_secs(2),
    })
}

/// The device side of the standard link, past its power-on ENQ (§2.5 WAIT_FIRST_ENQ).
pub fn device(now: Instant) -> DeviceLink {
    let mut device = DeviceLink::new(
        LinkChoice::Standard,
        LinkTiming {
            t_byte: Duration::from_millis(10),
            ack_wait: Duration::from_millis(60),
        },
    );
    device.handle_input(&[ENQ], now);
    let _ = device.poll_transmit();
    device
}

/// FF45 close receipt (protocol notes §7.6.4, LEN 118): password 30, 100.00 in cash (slot 1),
/// the other fifteen payment slots, the rounding and the six tax fields zero, tax system
/// bit0 (ОСН), no text line.
pub fn close_receipt() -> Vec<u8> {
    let mut msg = vec![0xFF, 0x45, 0x1E, 0x00, 0x00, 0x00];
    msg.extend_from_slice(&[0x10, 0x27, 0x00, 0x00, 0x00]);
    msg.extend_from_slice(&[0x00; 15 * 5 + 1 + 6 * 5]);
    msg.push(0x01);
    msg
}
