//! `fiscal-gateway emulator …`: a virtual register as its own process, on a pty and/or a TCP
//! port, with an optional control socket and state file.
//!
//! The first lines on stdout are the addresses a host should use, pty first, then TCP, one
//! per line, printed once everything (control socket included) is ready; tests wait for
//! them. It runs until SIGTERM or SIGINT. It does not daemonize or log to files.

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};

use crate::device::{tax_table, DeviceConfig, TaxTableProfile};
use crate::faults::{LineFaults, Noise};
use crate::handle::{Emulator, EmulatorConfig, EmulatorError};
use crate::link::{LinkChoice, LinkTiming};

/// `--tax-table`: which firmware's table 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TaxTableArg {
    /// 2026 firmware, 12 rows.
    #[value(name = "2026")]
    Y2026,
    /// Older firmware, 6 rows.
    #[value(name = "2021")]
    Y2021,
}

/// Command-line options of the emulator.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Serve on a new pseudo-terminal (the default when --tcp is not given).
    #[arg(long)]
    pub pty: bool,
    /// Create a symlink to the pty at this path (a stable name for configurations).
    #[arg(long = "link", value_name = "PATH")]
    pub link_path: Option<PathBuf>,
    /// Serve over TCP on this address (port 0 picks a free port), one client at a time.
    #[arg(long, value_name = "HOST:PORT")]
    pub tcp: Option<String>,
    /// Keep the device state (FN archive, shift, counters) in this JSON file.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Accept control commands (cover, paper, power-cut, drop-next-ack, noise, archive, status …) on this
    /// unix socket.
    #[arg(long, value_name = "SOCKET")]
    pub control: Option<PathBuf>,
    /// Lower level: standard, v2 or auto (chosen by the first byte after power-on).
    #[arg(long, value_name = "LAYER", default_value = "auto")]
    pub link_layer: LinkChoice,
    /// Probability that a byte is corrupted, in each direction (0..1).
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub noise_corrupt: f64,
    /// Probability that a byte is lost, in each direction (0..1).
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub noise_drop: f64,
    /// Seed of the line noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Delay between executing a command and sending its answer, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub answer_delay_ms: u64,
    /// Printing time per line, in milliseconds (submode 5 meanwhile).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub print_time_ms: u64,
    /// Send 0xFF after the host ACKs an answer, like a register on RNDIS (§1.3).
    #[arg(long)]
    pub ff_after_ack: bool,
    /// Longest gap between bytes of one frame, in milliseconds (§2.4).
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pub t_byte_ms: u64,
    /// Table 6 of which firmware: 2026 (12 rows, with 5 %, 7 %, 5/105, 7/107, 22 %, 22/122
    /// in rows 7..12) or 2021 (6 rows: 20 %, 10 %, 0 %, no VAT, 20/120, 10/110).
    #[arg(long, value_name = "YEAR", default_value = "2026")]
    pub tax_table: TaxTableArg,
    /// Rewrite the rates of the first rows of table 6, in 1/100 %, e.g. "2200,1000,0,0,2200,1000"
    /// for older firmware a technician set to 22 % (names follow: "НДС 22%", "НДС 22/122").
    #[arg(long, value_name = "R1,..", value_delimiter = ',')]
    pub tax_rates: Vec<u16>,
    /// On a pty, answer only a host that opened the port at this speed (as a real register
    /// set to it does); without it any speed works.
    #[arg(long, value_name = "N")]
    pub baud: Option<u32>,
    /// The OFD is unreachable and the oldest unsent document is this many days old.
    #[arg(long, value_name = "DAYS")]
    pub ofd_unsent_days: Option<i64>,
}

impl EmulatorArgs {
    fn config(&self) -> EmulatorConfig {
        let noise = Noise {
            corrupt: self.noise_corrupt.clamp(0.0, 1.0),
            drop: self.noise_drop.clamp(0.0, 1.0),
        };
        EmulatorConfig {
            state_file: self.state.clone(),
            link: self.link_layer,
            timing: LinkTiming {
                t_byte: Duration::from_millis(self.t_byte_ms),
                ..LinkTiming::default()
            },
            faults: LineFaults {
                to_device: noise,
                from_device: noise,
                answer_delay: Duration::from_millis(self.answer_delay_ms),
                ff_after_ack: self.ff_after_ack,
            },
            seed: self.seed,
            device: self.device_config(),
            baud: self.baud,
        }
    }

    fn device_config(&self) -> DeviceConfig {
        let mut device = DeviceConfig {
            tax_rates: tax_table(match self.tax_table {
                TaxTableArg::Y2026 => TaxTableProfile::Firmware2026,
                TaxTableArg::Y2021 => TaxTableProfile::Firmware2021,
            }),
            ..DeviceConfig::default()
        };
        for (row, rate) in device.tax_rates.iter_mut().zip(&self.tax_rates) {
            let percent = rate / 100;
            // The name keeps the row's kind: calculated ("/"), "no VAT", or plain.
            if row.1.contains('/') {
                row.1 = format!("НДС {percent}/{}", 100 + percent);
            } else if !row.1.contains("БЕЗ") {
                row.1 = format!("НДС {percent}%");
            }
            row.0 = *rate;
        }
        device
    }
}

fn io_error(what: &str) -> impl Fn(std::io::Error) -> EmulatorError + '_ {
    move |source| EmulatorError::Io {
        what: what.to_string(),
        source,
    }
}

/// Runs the emulator until SIGTERM or SIGINT, announcing its addresses on stdout.
pub async fn run(args: EmulatorArgs) -> Result<(), EmulatorError> {
    let mut terminate = signal(SignalKind::terminate()).map_err(io_error("SIGTERM handler"))?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(io_error("SIGINT handler"))?;
    let shutdown = async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    };
    let announce = |lines: &[String]| {
        let mut out = std::io::stdout().lock();
        for line in lines {
            writeln!(out, "{line}")?;
        }
        out.flush()
    };
    serve(args, announce, shutdown).await
}

/// Runs the emulator until `shutdown` completes. `announce` gets the addresses (pty path
/// first, then the TCP address) once everything, control socket included, is ready.
pub async fn serve(
    args: EmulatorArgs,
    announce: impl FnOnce(&[String]) -> std::io::Result<()>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), EmulatorError> {
    let emulator = Emulator::new(args.config())?;
    if args.print_time_ms > 0 {
        let per_line = i64::try_from(args.print_time_ms).unwrap_or(i64::MAX);
        emulator.set_print_time_per_line(chrono::Duration::milliseconds(per_line));
    }
    let _control = args
        .control
        .as_deref()
        .map(|path| emulator.serve_control(path))
        .transpose()?;
    let mut addresses = Vec::new();
    let pty = if args.pty || args.tcp.is_none() {
        let handle = emulator.serve_pty(args.link_path.as_deref())?;
        addresses.push(handle.path().display().to_string());
        Some(handle)
    } else {
        None
    };
    let tcp = match &args.tcp {
        Some(addr) => {
            let (bound, task) = emulator.serve_tcp(addr).await?;
            addresses.push(bound.to_string());
            Some(task)
        }
        None => None,
    };
    if let Some(days) = args.ofd_unsent_days {
        let since = crate::handle::wall_clock() - chrono::Duration::days(days);
        emulator.with_device_faults(|f| {
            f.ofd_offline = true;
            f.ofd_unsent_since = Some(since);
        });
    }
    announce(&addresses).map_err(io_error("stdout"))?;

    shutdown.await;
    tracing::info!("emulator stopping");
    if let Some(task) = tcp {
        task.abort();
    }
    // Dropping the pty and control handles removes the symlink and the socket file; the
    // device state is already on disk (it is written on every change).
    drop(pty);
    Ok(())
}
