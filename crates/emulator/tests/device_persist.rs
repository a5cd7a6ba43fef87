//! State file persistence and power cycles of the pure device model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod device_support;

use std::path::PathBuf;

use device_support::*;
use emulator::device::{Device, DeviceConfig};

struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("device-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        ScratchDir(dir)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn open_receipt_survives_reopen_and_power_cycle() {
    let dir = ScratchDir::new("reopen");
    let path = dir.0.join("state.json");
    let now = t0();
    {
        let mut d = Device::open(DeviceConfig::default(), &path).unwrap();
        ok(&mut d, &open_shift(), now);
        ok(&mut d, &open_receipt(0), now);
        ok(&mut d, &item(1, 2_000_000, 8990, 2, "Молоко 3,2%"), now);
        // Dropped without any shutdown: the process "loses power" here.
    }
    let mut d = Device::open(DeviceConfig::default(), &path).unwrap();
    let a = ok(&mut d, &short_status(SYSADMIN), now);
    assert_eq!(
        (a[5], a[7]),
        (0x08, 1),
        "sale receipt still open with its item"
    );
    d.power_cycle(now);
    let a = ok(&mut d, &close(20000, 0), now);
    assert_eq!(le_at(&a, 3, 5), 20000 - 17980);
    let fd = le_at(&a, 8, 4) as u32;

    let mut again = Device::open(DeviceConfig::default(), &path).unwrap();
    assert_eq!(again.archive().last().unwrap().fd, fd);
    assert_eq!(again.archive().last().unwrap().total, 17980);
    assert_eq!(last_fd(&mut again, now), fd);
    assert_eq!(mode_submode(&mut again, now), (2, 0));
    let tape = std::fs::read_to_string(dir.0.join("state.json.tape.txt")).unwrap();
    assert!(tape.contains("Молоко 3,2%"));
}

#[test]
fn power_cycle_completes_printing() {
    let now = t0();
    let mut d = device();
    d.faults_mut().print_time_per_line = chrono::Duration::seconds(1);
    ok(&mut d, &open_shift(), now);
    assert_eq!(mode_submode(&mut d, now), (2, 5));
    d.power_cycle(now);
    assert_eq!(mode_submode(&mut d, now), (2, 0));
    assert_eq!(d.archive().last().unwrap().doc_type, 2);
}

#[test]
fn corrupt_state_file_is_an_error() {
    let dir = ScratchDir::new("corrupt");
    let path = dir.0.join("state.json");
    std::fs::write(&path, b"not json").unwrap();
    assert!(Device::open(DeviceConfig::default(), &path).is_err());
}

#[test]
fn torn_last_write_is_ignored_on_open() {
    let dir = ScratchDir::new("torn");
    let path = dir.0.join("state.json");
    let now = t0();
    let fd = {
        let mut d = Device::open(DeviceConfig::default(), &path).unwrap();
        ok(&mut d, &open_shift(), now);
        ok(&mut d, &cash(true, 5000), now);
        d.archive().last().unwrap().fd
    };
    // A power cut in the middle of appending the next line.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(br#"{"docs":[{"fd":99,"#);
    std::fs::write(&path, bytes).unwrap();

    let mut d = Device::open(DeviceConfig::default(), &path).unwrap();
    assert_eq!(d.archive().last().unwrap().fd, fd);
    assert_eq!(mode_submode(&mut d, now), (2, 0));
    let drawer = ok(&mut d, &cmd(&[0x1A], CASHIER, &[241]), now);
    assert_eq!(le_at(&drawer, 3, 6), 5000);
    ok(&mut d, &z_report(), now);
    let reopened = Device::open(DeviceConfig::default(), &path).unwrap();
    assert_eq!(reopened.archive().last().unwrap().fd, fd + 1);
    assert_eq!(reopened.state(), d.state());
}
