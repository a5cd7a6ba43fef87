//! Stand-in for `shtrih_proto::link` until it lands: the contract's shapes, no behaviour.
#![allow(dead_code)]

use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct LinkConfig {
    pub t_byte: Duration,
    pub t_ctrl: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            t_byte: Duration::from_millis(50),
            t_ctrl: Duration::from_millis(500),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkFailure;
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOutcome;
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    Answer(Vec<u8>),
    NotExecuted(LinkFailure),
    Unknown(UnknownOutcome),
}

pub trait LinkLayer {
    fn start(&mut self, msg: Vec<u8>, answer_timeout: Duration, now: Instant) -> Result<(), Busy>;
    fn handle_input(&mut self, bytes: &[u8], now: Instant);
    fn handle_timeout(&mut self, now: Instant);
    fn poll_transmit(&mut self) -> Option<Vec<u8>>;
    fn poll_timeout(&self) -> Option<Instant>;
    fn poll_event(&mut self) -> Option<LinkEvent>;
}

pub struct HostLink {
    event: Option<LinkEvent>,
}

impl HostLink {
    pub fn new(_config: LinkConfig) -> HostLink {
        HostLink { event: None }
    }
}

pub type HostLink2 = HostLink;

impl LinkLayer for HostLink {
    fn start(&mut self, _msg: Vec<u8>, _t: Duration, _now: Instant) -> Result<(), Busy> {
        self.event = Some(LinkEvent::NotExecuted(LinkFailure));
        Ok(())
    }
    fn handle_input(&mut self, _bytes: &[u8], _now: Instant) {}
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn poll_event(&mut self) -> Option<LinkEvent> {
        self.event.take()
    }
}
