//! The register over TCP on port 0: the link as a host sees it, one client at a time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use emulator::link::standard::{frame, ACK, ENQ, NAK};
use emulator::{Emulator, EmulatorConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const STATUS: [u8; 5] = [0x10, 0x1E, 0x00, 0x00, 0x00];
const LIMIT: Duration = Duration::from_secs(10);

async fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    tokio::time::timeout(LIMIT, s.read_exact(&mut buf))
        .await
        .expect("in time")
        .unwrap();
    buf
}

async fn status(s: &mut TcpStream) -> Vec<u8> {
    s.write_all(&[ENQ]).await.unwrap();
    assert_eq!(read_n(s, 1).await, [NAK]);
    s.write_all(&frame(&STATUS)).await.unwrap();
    assert_eq!(read_n(s, 1).await, [ACK]);
    let head = read_n(s, 2).await;
    let rest = read_n(s, usize::from(head[1]) + 1).await;
    s.write_all(&[ACK]).await.unwrap();
    let wire = [head, rest].concat();
    let msg = wire[2..wire.len() - 1].to_vec();
    assert_eq!(frame(&msg), wire, "LRC");
    msg
}

#[tokio::test]
async fn a_status_command_over_tcp() {
    let emu = Emulator::new(EmulatorConfig::default()).unwrap();
    let (addr, _task) = emu.serve_tcp("127.0.0.1:0").await.unwrap();
    assert_ne!(addr.port(), 0);
    let mut s = TcpStream::connect(addr).await.unwrap();
    let answer = status(&mut s).await;
    assert_eq!(&answer[..2], [0x10, 0x00]);
    assert_eq!(emu.counters().frames_executed, 1);
}

#[tokio::test]
async fn a_new_connection_replaces_the_old_one() {
    let emu = Emulator::new(EmulatorConfig::default()).unwrap();
    let (addr, _task) = emu.serve_tcp("127.0.0.1:0").await.unwrap();
    let mut first = TcpStream::connect(addr).await.unwrap();
    status(&mut first).await;
    let mut second = TcpStream::connect(addr).await.unwrap();
    status(&mut second).await;
    // The first connection was closed by the device side.
    let mut buf = [0u8; 8];
    let n = tokio::time::timeout(LIMIT, first.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert_eq!(emu.counters().frames_executed, 2);
}

#[tokio::test]
async fn the_ff_quirk_follows_the_hosts_ack() {
    let emu = Emulator::new(EmulatorConfig::default()).unwrap();
    emu.update_line_faults(|f| f.ff_after_ack = true);
    let (addr, _task) = emu.serve_tcp("127.0.0.1:0").await.unwrap();
    let mut s = TcpStream::connect(addr).await.unwrap();
    status(&mut s).await;
    assert_eq!(read_n(&mut s, 1).await, [0xFF]);
    s.write_all(&[ENQ]).await.unwrap();
    assert_eq!(read_n(&mut s, 1).await, [NAK]);
}
