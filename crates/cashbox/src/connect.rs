//! How a worker reaches its register: a serial port, TCP, or the built-in emulator. Only the
//! driver opens devices; this only says which.

use std::time::Duration;

use driver::{LinkLayerChoice, Register, RegisterError, RegisterOptions, Transport};

use crate::settings::{LinkLayerSetting, RegisterSettings, TransportSettings};

/// Makes a fresh connection on each call (after an unplug, a power cut, a restart).
pub struct Connector {
    target: Endpoint,
    options: RegisterOptions,
}

enum Endpoint {
    Device(TransportSettings),
    Emulator(emulator::Emulator),
}

impl Connector {
    /// For a configured register; `emulator` is the in-process virtual register when the
    /// transport is `emulator`.
    pub fn new(settings: &RegisterSettings, emulator: Option<emulator::Emulator>) -> Connector {
        let link = match settings.link_layer {
            LinkLayerSetting::Auto => LinkLayerChoice::Auto,
            LinkLayerSetting::Standard => LinkLayerChoice::Standard,
            LinkLayerSetting::V2 => LinkLayerChoice::V2,
        };
        let mut options = RegisterOptions {
            link,
            operator_password: settings.operator_password,
            admin_password: settings.admin_password,
            answer_timeout_cap: Some(settings.answer_timeout),
            marking_policy: settings.marking_policy,
            ..RegisterOptions::default()
        };
        if matches!(settings.transport, TransportSettings::Tcp { .. }) {
            // §2.4: a TCP link wants a more generous control-byte timeout than a serial one.
            options.link_config.t_ctrl = Duration::from_secs(2);
        }
        let target = match emulator {
            Some(e) => Endpoint::Emulator(e),
            None => Endpoint::Device(settings.transport.clone()),
        };
        Connector { target, options }
    }

    /// Opens the link and greets the register.
    pub async fn connect(&self) -> Result<Register, RegisterError> {
        let transport = match &self.target {
            Endpoint::Emulator(e) => Transport::Stream(Box::new(e.in_memory())),
            Endpoint::Device(TransportSettings::Serial { path, baud }) => Transport::Serial {
                path: path.clone(),
                baud: match baud {
                    Some(b) => driver::Baud::Fixed(*b),
                    None => driver::Baud::Auto,
                },
            },
            Endpoint::Device(TransportSettings::Tcp { address }) => Transport::Tcp {
                addr: address.clone(),
            },
            Endpoint::Device(TransportSettings::Emulator { .. }) => {
                return Err(RegisterError::Link(driver::LinkError::Unavailable(
                    "the emulator transport needs an emulator instance".into(),
                )));
            }
        };
        Register::connect(transport, self.options.clone()).await
    }
}
