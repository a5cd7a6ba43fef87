//! Faults of the line and of the power supply: byte noise in each direction, slow answers,
//! the RNDIS 0xFF quirk (§1.3) and a power cut armed at a named point of a command.
//!
//! Faults of the device itself (cover, paper, print time, clock) live in the device model;
//! the `Emulator` handle passes them through. Noise is drawn from a seeded generator so a
//! test that uses it is reproducible.

use std::str::FromStr;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Byte noise in one direction. Rates are probabilities per byte, 0.0 ..= 1.0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Noise {
    /// Probability that a byte arrives with some bits flipped.
    pub corrupt: f64,
    /// Probability that a byte is lost.
    pub drop: f64,
}

impl Noise {
    /// No noise.
    pub fn is_clean(&self) -> bool {
        self.corrupt <= 0.0 && self.drop <= 0.0
    }
}

/// Everything that can go wrong on the line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LineFaults {
    /// Noise on bytes from the host to the device.
    pub to_device: Noise,
    /// Noise on bytes from the device to the host.
    pub from_device: Noise,
    /// Extra time between executing a command and sending its answer (the device answers ENQ
    /// with ACK meanwhile, §2.5).
    pub answer_delay: Duration,
    /// Send 0xFF after the host ACKs an answer, as devices on RNDIS do (§1.3).
    pub ff_after_ack: bool,
}

impl LineFaults {
    /// The same noise in both directions.
    pub fn with_noise(corrupt: f64, drop: f64) -> LineFaults {
        let noise = Noise { corrupt, drop };
        LineFaults {
            to_device: noise,
            from_device: noise,
            ..LineFaults::default()
        }
    }
}

/// Where in the life of a command the power goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CutPoint {
    /// The frame was ACKed, then the power went before the command executed.
    BeforeExecution,
    /// The command executed and was persisted; its answer was never sent.
    AfterCommit,
    /// Half the answer's bytes were sent, then the power went.
    MidAnswer,
}

impl FromStr for CutPoint {
    type Err = FaultParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "before-execution" => Ok(CutPoint::BeforeExecution),
            "after-commit" => Ok(CutPoint::AfterCommit),
            "mid-answer" => Ok(CutPoint::MidAnswer),
            other => Err(FaultParseError::CutPoint(other.to_string())),
        }
    }
}

/// A power cut armed for the next command that matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerCut {
    /// Where it strikes.
    pub point: CutPoint,
    /// Only this command code (`0x50`, `0xFF46` …); any command when `None`.
    pub command: Option<u16>,
    /// The power stays off after the cut until `power on` (the register answers nothing).
    #[serde(default)]
    pub stay_off: bool,
}

impl PowerCut {
    /// A cut at `point` of the next command, whatever it is.
    pub fn next_command(point: CutPoint) -> PowerCut {
        PowerCut {
            point,
            command: None,
            stay_off: false,
        }
    }

    /// A cut at `point` of the next command with code `code`.
    pub fn on(point: CutPoint, code: u16) -> PowerCut {
        PowerCut {
            point,
            command: Some(code),
            stay_off: false,
        }
    }

    /// Whether this cut applies to the command message `msg`.
    pub fn matches(&self, msg: &[u8]) -> bool {
        match self.command {
            None => true,
            Some(code) => command_code(msg) == Some(code),
        }
    }
}

/// The command code of a message: one byte, or `FF xx` as 0xFFxx (§3).
pub fn command_code(msg: &[u8]) -> Option<u16> {
    match msg {
        [0xFF, sub, ..] => Some(0xFF00 | u16::from(*sub)),
        [code, ..] => Some(u16::from(*code)),
        [] => None,
    }
}

/// Parses a command code written in hex as the protocol notes do: `50`, `E0`, `FF46`.
pub fn parse_command_code(s: &str) -> Result<u16, FaultParseError> {
    let digits = s.trim_start_matches("0x").trim_start_matches("0X");
    if digits.is_empty() || digits.len() > 4 {
        return Err(FaultParseError::CommandCode(s.to_string()));
    }
    u16::from_str_radix(digits, 16).map_err(|_| FaultParseError::CommandCode(s.to_string()))
}

/// A fault description that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultParseError {
    /// Not one of before-execution, after-commit, mid-answer.
    #[error("unknown power-cut point {0:?} (before-execution, after-commit, mid-answer)")]
    CutPoint(String),
    /// Not a hex command code such as 50, E0 or FF46.
    #[error("bad command code {0:?} (hex, e.g. 50, E0, FF46)")]
    CommandCode(String),
}

/// The seeded generator behind line noise.
#[derive(Debug)]
pub struct LineNoise {
    rng: StdRng,
}

impl LineNoise {
    /// Reproducible noise from `seed`.
    pub fn new(seed: u64) -> LineNoise {
        LineNoise {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// `bytes` after crossing a line with `noise`.
    pub fn apply(&mut self, noise: &Noise, bytes: &[u8]) -> Vec<u8> {
        if noise.is_clean() {
            return bytes.to_vec();
        }
        let mut out = Vec::with_capacity(bytes.len());
        for &b in bytes {
            if self.rng.gen_bool(noise.drop.clamp(0.0, 1.0)) {
                continue;
            }
            if self.rng.gen_bool(noise.corrupt.clamp(0.0, 1.0)) {
                // Flip at least one bit so the byte really differs.
                let mask: u8 = self.rng.gen_range(1..=255);
                out.push(b ^ mask);
            } else {
                out.push(b);
            }
        }
        out
    }
}
