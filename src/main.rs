//! fiscal-gateway: a local daemon that serves the Smart Cashier API v1.0 and drives a Shtrih-M
//! fiscal register. This file only parses the command line and hands over; see ARCHITECTURE.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod config;
mod desk;
mod observe;
mod operations;
mod selftest;
mod serve;

#[derive(Parser)]
#[command(
    name = "fiscal-gateway",
    version,
    about = "Smart Cashier API v1.0 in front of a Shtrih-M fiscal register"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway: the HTTP API and one worker per configured register.
    Serve(serve::ServeArgs),
    /// Run a virtual Shtrih-M register on a pty or TCP port.
    Emulator(emulator::cli::EmulatorArgs),
    /// Check a register for a technician: link, FN, shift, paper, cover, clock, OFD, taxes.
    Selftest(selftest::SelftestArgs),
    /// Operations a halted register holds for a person: list, show, settle (against the
    /// running service, with an admin token in FISCAL_GATEWAY_TOKEN).
    Operations(operations::OperationsArgs),
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check a configuration file and report every mistake with its key path.
    Check {
        /// The configuration file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fiscal-gateway: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Selftest(args) => match selftest::run(args).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(anyhow::anyhow!("selftest found problems")),
                Err(e) => Err(e),
            },
            Command::Operations(args) => operations::run(args).await,
            Command::Emulator(args) => emulator::cli::run(args).await.map_err(anyhow::Error::from),
            Command::Config {
                command: ConfigCommand::Check { file },
            } => match config::Config::load(&file) {
                Ok(c) => {
                    println!(
                        "{}: ok ({} register(s), listening on {})",
                        file.display(),
                        c.registers.len(),
                        c.listen
                    );
                    Ok(())
                }
                Err(e) => Err(anyhow::anyhow!("{}: {e}", file.display())),
            },
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fiscal-gateway: {e:#}");
            ExitCode::FAILURE
        }
    }
}
