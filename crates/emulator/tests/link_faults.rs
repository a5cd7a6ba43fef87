//! Line noise and power-cut descriptions: reproducible noise, command matching, parsing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use emulator::faults::{command_code, parse_command_code, LineNoise, Noise};
use emulator::{CutPoint, PowerCut};

#[test]
fn the_same_seed_gives_the_same_noise() {
    let noise = Noise {
        corrupt: 0.1,
        drop: 0.05,
    };
    let bytes: Vec<u8> = (0..=255).cycle().take(4096).collect();
    let a = LineNoise::new(42).apply(&noise, &bytes);
    let b = LineNoise::new(42).apply(&noise, &bytes);
    let c = LineNoise::new(43).apply(&noise, &bytes);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn noise_rates_are_roughly_what_was_asked() {
    let bytes = vec![0x55u8; 20_000];
    let dropped = LineNoise::new(1).apply(
        &Noise {
            corrupt: 0.0,
            drop: 0.1,
        },
        &bytes,
    );
    let lost = bytes.len() - dropped.len();
    assert!(
        (1_600..2_400).contains(&lost),
        "{lost} of 20000 dropped at 10 %"
    );
    let corrupted = LineNoise::new(1).apply(
        &Noise {
            corrupt: 0.1,
            drop: 0.0,
        },
        &bytes,
    );
    assert_eq!(corrupted.len(), bytes.len());
    let changed = corrupted.iter().filter(|&&b| b != 0x55).count();
    assert!(
        (1_600..2_400).contains(&changed),
        "{changed} of 20000 corrupted at 10 %"
    );
}

#[test]
fn a_clean_line_changes_nothing() {
    let bytes = [0x02, 0x05, 0x10, 0x1E, 0x00, 0x00, 0x00, 0x0B];
    assert_eq!(LineNoise::new(0).apply(&Noise::default(), &bytes), bytes);
    let everything = Noise {
        corrupt: 1.0,
        drop: 0.0,
    };
    let out = LineNoise::new(0).apply(&everything, &bytes);
    assert!(
        out.iter().zip(bytes).all(|(a, b)| *a != b),
        "a corrupted byte always differs"
    );
}

#[test]
fn command_codes_of_one_and_two_byte_commands() {
    assert_eq!(command_code(&[0x50, 0x1E]), Some(0x50));
    assert_eq!(command_code(&[0xFF, 0x46, 0x01]), Some(0xFF46));
    assert_eq!(command_code(&[]), None);
    assert_eq!(parse_command_code("FF46"), Ok(0xFF46));
    assert_eq!(parse_command_code("e0"), Ok(0xE0));
    assert_eq!(parse_command_code("0x50"), Ok(0x50));
    assert!(parse_command_code("FF460").is_err());
    assert!(parse_command_code("zz").is_err());
    assert!(parse_command_code("").is_err());
}

#[test]
fn a_cut_matches_only_its_command() {
    let cut = PowerCut::on(CutPoint::AfterCommit, 0xFF45);
    assert!(cut.matches(&[0xFF, 0x45, 0x01, 0x00]));
    assert!(!cut.matches(&[0xFF, 0x46, 0x01, 0x00]));
    assert!(!cut.matches(&[0x45]));
    assert!(PowerCut::next_command(CutPoint::MidAnswer).matches(&[0x10]));
    assert_eq!("mid-answer".parse::<CutPoint>(), Ok(CutPoint::MidAnswer));
    assert!("soon".parse::<CutPoint>().is_err());
}
