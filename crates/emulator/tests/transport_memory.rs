//! The register over an in-memory pipe, with handwritten bytes: the link as a host sees it,
//! power cuts at each point, lost ACKs, line faults.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use emulator::link::standard::{frame, ACK, ENQ, NAK};
use emulator::{CutPoint, Emulator, EmulatorConfig, LineFaults, LinkChoice, LinkPhase, PowerCut};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// Short status, system administrator's password 30 (§6.1).
const STATUS: [u8; 5] = [0x10, 0x1E, 0x00, 0x00, 0x00];
/// Cash in 1.00, password 30 (§7.7).
const CASH_IN: [u8; 10] = [0x50, 0x1E, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00];

/// Generous bound on any single read: the machine may be busy, nothing here waits on time.
const LIMIT: Duration = Duration::from_secs(10);

fn emulator() -> Emulator {
    Emulator::new(EmulatorConfig {
        link: LinkChoice::Standard,
        ..EmulatorConfig::default()
    })
    .unwrap()
}

async fn read_n(s: &mut DuplexStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    tokio::time::timeout(LIMIT, s.read_exact(&mut buf))
        .await
        .expect("device answered in time")
        .unwrap();
    buf
}

/// Reads one control byte then, if it is STX, the rest of the frame; returns the message.
async fn read_frame(s: &mut DuplexStream) -> Vec<u8> {
    let head = read_n(s, 2).await;
    assert_eq!(head[0], 0x02, "STX");
    let rest = read_n(s, usize::from(head[1]) + 1).await;
    let msg = rest[..rest.len() - 1].to_vec();
    assert_eq!(
        frame(&msg),
        [head, rest].concat(),
        "LRC of the device's frame"
    );
    msg
}

async fn enq(s: &mut DuplexStream) -> u8 {
    s.write_all(&[ENQ]).await.unwrap();
    read_n(s, 1).await[0]
}

/// ENQ → NAK, then the command; returns its answer (ACKed).
async fn command(s: &mut DuplexStream, msg: &[u8]) -> Vec<u8> {
    assert_eq!(enq(s).await, NAK);
    s.write_all(&frame(msg)).await.unwrap();
    assert_eq!(read_n(s, 1).await, [ACK]);
    let answer = read_frame(s).await;
    s.write_all(&[ACK]).await.unwrap();
    answer
}

#[tokio::test]
async fn enq_gets_nak_and_a_status_frame_gets_ack_and_an_answer() {
    let emu = emulator();
    let mut s = emu.in_memory();
    assert_eq!(enq(&mut s).await, NAK);
    s.write_all(&frame(&STATUS)).await.unwrap();
    assert_eq!(read_n(&mut s, 1).await, [ACK]);
    let answer = read_frame(&mut s).await;
    assert_eq!(&answer[..2], [0x10, 0x00], "short status, no error");
    s.write_all(&[ACK]).await.unwrap();
    assert_eq!(enq(&mut s).await, NAK, "answer consumed");
    let c = emu.counters();
    assert_eq!((c.link.frames_received, c.frames_executed), (1, 1));
}

#[tokio::test]
async fn a_corrupted_frame_is_naked_and_not_executed() {
    let emu = emulator();
    let mut s = emu.in_memory();
    assert_eq!(enq(&mut s).await, NAK);
    let mut f = frame(&CASH_IN);
    f[4] ^= 0x01;
    s.write_all(&f).await.unwrap();
    assert_eq!(read_n(&mut s, 1).await, [NAK]);
    assert_eq!(emu.counters().frames_executed, 0);
}

#[tokio::test]
async fn an_unacked_answer_is_replayed_on_enq() {
    let emu = emulator();
    let mut s = emu.in_memory();
    assert_eq!(enq(&mut s).await, NAK);
    s.write_all(&frame(&STATUS)).await.unwrap();
    assert_eq!(read_n(&mut s, 1).await, [ACK]);
    let first = read_frame(&mut s).await;
    s.write_all(&[NAK]).await.unwrap();
    assert_eq!(enq(&mut s).await, ACK);
    assert_eq!(read_frame(&mut s).await, first);
    s.write_all(&[ACK]).await.unwrap();
    assert_eq!(emu.counters().frames_executed, 1, "replay is not execution");
}

#[tokio::test]
async fn power_cut_before_execution_acks_then_forgets() {
    let emu = emulator();
    let mut s = emu.in_memory();
    command(&mut s, &STATUS).await;
    emu.arm_power_cut(PowerCut::on(CutPoint::BeforeExecution, 0x50));
    assert_eq!(enq(&mut s).await, NAK);
    s.write_all(&frame(&CASH_IN)).await.unwrap();
    assert_eq!(read_n(&mut s, 1).await, [ACK], "the frame was accepted");
    // The device restarted: it waits for the first ENQ and holds nothing.
    assert_eq!(enq(&mut s).await, NAK);
    let c = emu.counters();
    assert_eq!(
        (c.frames_executed, c.power_cycles),
        (1, 1),
        "only the status ran"
    );
    assert_eq!(emu.armed_power_cut(), None, "a cut strikes once");
}

#[tokio::test]
async fn power_cut_after_commit_executes_but_loses_the_answer() {
    let emu = emulator();
    let mut s = emu.in_memory();
    emu.arm_power_cut(PowerCut::on(CutPoint::AfterCommit, 0x10));
    assert_eq!(enq(&mut s).await, NAK);
    s.write_all(&frame(&STATUS)).await.unwrap();
    assert_eq!(read_n(&mut s, 1).await, [ACK]);
    assert_eq!(enq(&mut s).await, NAK, "no retained answer");
    let c = emu.counters();
    assert_eq!((c.frames_executed, c.power_cycles), (1, 1));
}

#[tokio::test]
async fn power_cut_mid_answer_sends_half_a_frame() {
    let emu = emulator();
    let mut s = emu.in_memory();
    let full = command(&mut s, &STATUS).await;
    let full_len = full.len() + 3;
    emu.arm_power_cut(PowerCut::next_command(CutPoint::MidAnswer));
    assert_eq!(enq(&mut s).await, NAK);
    s.write_all(&frame(&STATUS)).await.unwrap();
    let got = read_n(&mut s, 1 + full_len / 2).await;
    assert_eq!(got[0], ACK);
    assert_eq!(got[1], 0x02, "the answer had started");
    assert_eq!(enq(&mut s).await, NAK, "after the cut nothing is held");
    assert_eq!(emu.counters().frames_executed, 2);
}

#[tokio::test]
async fn a_cut_filtered_by_command_spares_other_commands() {
    let emu = emulator();
    let mut s = emu.in_memory();
    emu.arm_power_cut(PowerCut::on(CutPoint::AfterCommit, 0xFF46));
    command(&mut s, &STATUS).await;
    assert_eq!(emu.counters().power_cycles, 0);
    assert!(emu.armed_power_cut().is_some());
}

#[tokio::test]
async fn enq_during_a_delayed_answer_gets_ack() {
    let emu = emulator();
    let mut s = emu.in_memory();
    emu.update_line_faults(|f| f.answer_delay = Duration::from_secs(30));
    assert_eq!(enq(&mut s).await, NAK);
    s.write_all(&frame(&STATUS)).await.unwrap();
    assert_eq!(read_n(&mut s, 1).await, [ACK]);
    assert_eq!(enq(&mut s).await, ACK, "still preparing the answer");
    assert_eq!(
        emu.counters().frames_executed,
        1,
        "executed at once, answered later"
    );
}

#[tokio::test(start_paused = true)]
async fn a_delayed_answer_arrives_after_the_delay() {
    let emu = emulator();
    let mut s = emu.in_memory();
    emu.update_line_faults(|f| f.answer_delay = Duration::from_millis(700));
    assert_eq!(enq(&mut s).await, NAK);
    s.write_all(&frame(&STATUS)).await.unwrap();
    assert_eq!(read_n(&mut s, 1).await, [ACK]);
    let started = tokio::time::Instant::now();
    let answer = read_frame(&mut s).await;
    assert_eq!(answer[0], 0x10);
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn bytes_lost_on_the_line_get_no_reply() {
    let emu = Emulator::new(EmulatorConfig {
        faults: LineFaults::with_noise(0.0, 1.0),
        seed: 7,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let mut s = emu.in_memory();
    s.write_all(&[ENQ, ENQ, ENQ]).await.unwrap();
    // Wait until the device has read them (it counts bytes before the noise).
    tokio::time::timeout(LIMIT, async {
        while emu.counters().bytes_in < 3 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap();
    emu.set_line_faults(LineFaults::default());
    assert_eq!(enq(&mut s).await, NAK, "only the clean ENQ got through");
    assert_eq!(emu.counters().link.naks_sent, 1);
}

#[tokio::test]
async fn a_new_connection_takes_the_line_over() {
    let emu = emulator();
    let mut old = emu.in_memory();
    assert_eq!(enq(&mut old).await, NAK);
    let mut new = emu.in_memory();
    assert_eq!(enq(&mut new).await, NAK);
    old.write_all(&[ENQ]).await.unwrap();
    let mut buf = [0u8; 1];
    let r = tokio::time::timeout(LIMIT, old.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r, 0, "the old connection was closed");
}

#[tokio::test]
async fn a_lost_ack_still_executes_and_the_answer_follows() {
    let emu = emulator();
    let mut s = emu.in_memory();
    emu.arm_drop_next_ack(0x50);
    assert_eq!(enq(&mut s).await, NAK);
    s.write_all(&frame(&CASH_IN)).await.unwrap();
    // The first byte back is the answer's STX: the ACK never left the device.
    let answer = read_frame(&mut s).await;
    assert_eq!(&answer[..2], [0x50, 0x00], "cash in, no error");
    s.write_all(&[ACK]).await.unwrap();
    assert_eq!(enq(&mut s).await, NAK, "answer consumed");
    let c = emu.counters();
    assert_eq!((c.frames_executed, c.acks_lost), (1, 1));
    assert_eq!(c.link.acks_sent, 1, "the device sent it; the line lost it");
    assert_eq!(emu.status_report().cash_in_count, 1);
    assert_eq!(emu.armed_drop_ack(), None, "a lost ACK strikes once");
}

#[tokio::test]
async fn a_lost_ack_filtered_by_command_spares_other_commands() {
    let emu = emulator();
    let mut s = emu.in_memory();
    emu.arm_drop_next_ack(0xFF45);
    command(&mut s, &STATUS).await;
    assert_eq!(emu.counters().acks_lost, 0);
    assert_eq!(emu.armed_drop_ack(), Some(0xFF45));
}

/// Both faults on one cash in: it executes, the ACK is lost, the power goes before the answer
/// and the retained answer with it. The host sees nothing after its frame, then ENQ→NAK:
/// exactly what it would see had the frame never arrived.
#[tokio::test]
async fn a_lost_ack_and_a_cut_after_commit_look_like_a_frame_never_received() {
    let emu = emulator();
    let mut s = emu.in_memory();
    emu.arm_drop_next_ack(0x50);
    emu.arm_power_cut(PowerCut::on(CutPoint::AfterCommit, 0x50));
    assert_eq!(enq(&mut s).await, NAK);
    s.write_all(&frame(&CASH_IN)).await.unwrap();
    assert_eq!(enq(&mut s).await, NAK, "no ACK came, and nothing is held");
    let c = emu.counters();
    assert_eq!((c.frames_executed, c.power_cycles, c.acks_lost), (1, 1, 1));
    assert_eq!(emu.status_report().cash_in_count, 1, "it ran");
    assert_eq!(emu.executions(0x50), 1);
    assert_eq!(emu.executions(0xFF45), 0);
}

mod v2 {
    //! The same faults on the protocol 2.0 layer (§2.9), packets written by hand.

    use super::*;
    use emulator::link::v2::packet;

    async fn read_packet(s: &mut DuplexStream, expected: &[u8]) {
        assert_eq!(read_n(s, expected.len()).await, expected);
    }

    /// Reads one whole packet as sent (stuffed), whatever its length.
    async fn read_any_packet(s: &mut DuplexStream) -> Vec<u8> {
        let mut wire = read_n(s, 1).await;
        assert_eq!(wire[0], 0x8F);
        let mut logical = Vec::new();
        loop {
            let b = read_n(s, 1).await[0];
            wire.push(b);
            if b == 0x9F {
                let e = read_n(s, 1).await[0];
                wire.push(e);
                logical.push(if e == 0x81 { 0x8F } else { 0x9F });
            } else {
                logical.push(b);
            }
            if logical.len() >= 2
                && logical.len() == usize::from(u16::from_le_bytes([logical[0], logical[1]])) + 4
            {
                return wire;
            }
        }
    }

    /// Lets the register's tasks run until `done` holds (bounded: the clock may be paused,
    /// so no timer would end a wait).
    async fn until(done: impl Fn() -> bool) {
        for _ in 0..100_000 {
            if done() {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the register never got there");
    }

    fn v2_emulator() -> Emulator {
        Emulator::new(EmulatorConfig {
            link: LinkChoice::V2,
            ..EmulatorConfig::default()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_resent_number_is_answered_from_memory() {
        let emu = v2_emulator();
        let mut s = emu.in_memory();
        s.write_all(&packet(Some(1), &STATUS)).await.unwrap();
        let first = read_any_packet(&mut s).await;
        s.write_all(&packet(Some(1), &STATUS)).await.unwrap();
        read_packet(&mut s, &first).await;
        assert_eq!(emu.counters().frames_executed, 1);
    }

    #[tokio::test]
    async fn after_a_cut_the_device_is_back_at_number_zero() {
        let emu = v2_emulator();
        let mut s = emu.in_memory();
        emu.arm_power_cut(PowerCut::next_command(CutPoint::AfterCommit));
        s.write_all(&packet(Some(1), &CASH_IN)).await.unwrap();
        // Nothing comes back; a ping shows the restarted device: number 0, nothing held.
        s.write_all(&packet(None, &[])).await.unwrap();
        read_packet(&mut s, &packet(Some(0), &[])).await;
        let c = emu.counters();
        assert_eq!((c.frames_executed, c.power_cycles), (1, 1));
    }

    #[tokio::test]
    async fn a_cut_before_execution_leaves_nothing_done() {
        let emu = v2_emulator();
        let mut s = emu.in_memory();
        emu.arm_power_cut(PowerCut::on(CutPoint::BeforeExecution, 0x50));
        s.write_all(&packet(Some(1), &CASH_IN)).await.unwrap();
        s.write_all(&packet(None, &[])).await.unwrap();
        read_packet(&mut s, &packet(Some(0), &[])).await;
        assert_eq!(emu.counters().frames_executed, 0);
    }

    #[tokio::test]
    async fn a_lost_ack_on_v2_loses_the_answer_packet_which_a_ping_brings_back() {
        let emu = v2_emulator();
        let mut s = emu.in_memory();
        emu.arm_drop_next_ack(0x50);
        s.write_all(&packet(Some(1), &CASH_IN)).await.unwrap();
        s.write_all(&packet(None, &[])).await.unwrap();
        // The only packet that comes back is the ping's reply: the retained answer, NUM 1.
        let reply = read_any_packet(&mut s).await;
        assert_eq!(reply[..5], [0x8F, 0x07, 0x00, 0x01, 0x00]);
        assert_eq!(reply[5..7], [0x50, 0x00], "cash in, no error");
        assert_eq!(emu.counters().bytes_out, reply.len() as u64);
        let c = emu.counters();
        assert_eq!((c.frames_executed, c.acks_lost), (1, 1));
        assert_eq!(c.link.answers_replayed, 1);
    }

    /// A slow command: its answer is lost when it is finally ready, not sent late.
    #[tokio::test(start_paused = true)]
    async fn a_lost_ack_on_v2_also_loses_a_delayed_answer() {
        let emu = v2_emulator();
        let mut s = emu.in_memory();
        emu.update_line_faults(|f| f.answer_delay = Duration::from_millis(700));
        emu.arm_drop_next_ack(0x50);
        s.write_all(&packet(Some(1), &CASH_IN)).await.unwrap();
        until(|| emu.counters().frames_executed == 1).await;
        tokio::time::advance(Duration::from_secs(1)).await;
        // The answer is ready (held for a ping) but was never sent.
        until(|| emu.link_phase() == LinkPhase::Hold).await;
        assert_eq!(emu.counters().bytes_out, 0, "the answer never left");
        s.write_all(&packet(None, &[])).await.unwrap();
        let reply = read_any_packet(&mut s).await;
        assert_eq!(reply[..7], [0x8F, 0x07, 0x00, 0x01, 0x00, 0x50, 0x00]);
        assert_eq!(emu.counters().bytes_out, reply.len() as u64);
    }

    #[tokio::test]
    async fn a_lost_ack_and_a_cut_after_commit_on_v2_leave_number_zero_and_nothing_held() {
        let emu = v2_emulator();
        let mut s = emu.in_memory();
        emu.arm_drop_next_ack(0x50);
        emu.arm_power_cut(PowerCut::on(CutPoint::AfterCommit, 0x50));
        s.write_all(&packet(Some(1), &CASH_IN)).await.unwrap();
        s.write_all(&packet(None, &[])).await.unwrap();
        read_packet(&mut s, &packet(Some(0), &[])).await;
        let c = emu.counters();
        assert_eq!((c.frames_executed, c.power_cycles, c.acks_lost), (1, 1, 1));
        assert_eq!(emu.status_report().cash_in_count, 1, "it ran");
    }
}

#[tokio::test]
async fn a_cut_that_stays_off_answers_nothing_until_the_power_is_back() {
    let emu = emulator();
    let mut s = emu.in_memory();
    emu.arm_power_cut(PowerCut {
        stay_off: true,
        ..PowerCut::on(CutPoint::AfterCommit, 0x50)
    });
    assert_eq!(enq(&mut s).await, NAK);
    s.write_all(&frame(&CASH_IN)).await.unwrap();
    assert_eq!(read_n(&mut s, 1).await, [ACK]);
    let before = emu.counters();
    s.write_all(&[ENQ]).await.unwrap();
    // Wait until the register has read the ENQ; it must not have said anything.
    let deadline = tokio::time::Instant::now() + LIMIT;
    while emu.counters().bytes_in == before.bytes_in {
        assert!(tokio::time::Instant::now() < deadline, "ENQ never read");
        tokio::task::yield_now().await;
    }
    assert_eq!(
        emu.counters().bytes_out,
        before.bytes_out,
        "silent while off"
    );
    assert_eq!(
        emu.status_report().cash_in_count,
        1,
        "it ran before the cut"
    );
    assert_eq!(emu.control_line("power on"), "ok");
    assert_eq!(enq(&mut s).await, NAK, "back, holding no answer");
    assert_eq!(emu.control_line("power off"), "ok");
    assert_eq!(emu.control_line("power on"), "ok");
    assert_eq!(emu.counters().power_cycles, 2);
}
