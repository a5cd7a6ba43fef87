//! The `Host` allow-list: every request must name a host this gateway answers for, otherwise
//! 421 Misdirected Request.
//!
//! A web page in the shop PC's browser can make its own DNS name resolve to 127.0.0.1 (DNS
//! rebinding) and then read the loopback port as same-origin. Its requests still carry its own
//! name in `Host`; refusing names not on the list closes that door. By default the list holds
//! the loopback names and addresses (`localhost`, `127.0.0.1`, `::1`); any port is accepted,
//! and names compare without case and without a trailing dot.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::ApiError;

/// Hosts the gateway answers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    /// Normalised names and addresses (lower case, IPv6 without brackets, no trailing dot).
    hosts: Vec<String>,
}

impl Default for AllowedHosts {
    fn default() -> Self {
        AllowedHosts::loopback()
    }
}

impl AllowedHosts {
    /// `localhost`, `127.0.0.1` and `::1`.
    pub fn loopback() -> AllowedHosts {
        AllowedHosts {
            hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
        }
    }

    /// Adds a host name or address (as [`AllowedHosts::entry`] reads it).
    pub fn with(mut self, host: &str) -> Result<AllowedHosts, String> {
        let host = AllowedHosts::entry(host)?;
        if !self.hosts.contains(&host) {
            self.hosts.push(host);
        }
        Ok(self)
    }

    /// Adds an address (e.g. the one the gateway listens on).
    pub fn with_ip(mut self, ip: IpAddr) -> AllowedHosts {
        let host = ip.to_string();
        if !self.hosts.contains(&host) {
            self.hosts.push(host);
        }
        self
    }

    /// Reads one configured entry: a DNS name or an IP address (IPv6 with or without
    /// brackets), without scheme, port or path.
    pub fn entry(text: &str) -> Result<String, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("must not be empty".into());
        }
        if t.contains("://") || t.contains('/') {
            return Err(format!(
                "{text:?}: expected a host name or address without scheme or path, e.g. \"pos-gateway.local\""
            ));
        }
        let bare = t
            .strip_prefix('[')
            .and_then(|v| v.strip_suffix(']'))
            .unwrap_or(t);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(ip.to_string());
        }
        if t.contains(':') {
            return Err(format!(
                "{text:?}: expected a host name or address without a port (every port is accepted)"
            ));
        }
        let name = normalise_name(t);
        let valid = !name.is_empty()
            && name
                .split('.')
                .all(|label| !label.is_empty() && label.len() <= 63)
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_');
        if !valid {
            return Err(format!(
                "{text:?}: not a host name (letters, digits, '-', '.') or an IP address"
            ));
        }
        Ok(name)
    }

    /// Whether a `Host` header value (`name[:port]`, `[v6][:port]`) names an allowed host.
    pub fn allows(&self, host_header: &str) -> bool {
        host_of(host_header).is_some_and(|h| self.hosts.contains(&h))
    }

    /// The allowed hosts, normalised.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }
}

fn normalise_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// The host of a `Host` header value, normalised; `None` when it is not `host[:port]`.
fn host_of(value: &str) -> Option<String> {
    let value = value.trim();
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let ip: std::net::Ipv6Addr = v6.parse().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (ip.to_string(), port)
    } else {
        let (name, port) = match value.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (value, None),
        };
        if name.is_empty() {
            return None;
        }
        let host = match name.parse::<IpAddr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => normalise_name(name),
        };
        (host, port)
    };
    if let Some(port) = port {
        if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) || port.len() > 5 {
            return None;
        }
    }
    Some(host)
}

/// The middleware: 421 in the API's error shape unless `Host` (and an absolute request target,
/// if one was sent) names an allowed host.
pub async fn check(
    State(allowed): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    let header = match request.headers().get(header::HOST) {
        None => None,
        Some(v) => match v.to_str() {
            Ok(text) => Some(text.to_string()),
            Err(_) => {
                return ApiError::MisdirectedRequest("the header is not ASCII".into())
                    .into_response()
            }
        },
    };
    let target = request.uri().authority().map(|a| a.as_str().to_string());
    let named: Vec<&String> = header.iter().chain(target.iter()).collect();
    if named.is_empty() {
        return ApiError::MisdirectedRequest("the header is required".into()).into_response();
    }
    if let Some(bad) = named.into_iter().find(|h| !allowed.allows(h)) {
        return ApiError::MisdirectedRequest(format!(
            "{bad:?} is not a host this gateway answers for (server.allowed_hosts)"
        ))
        .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn loopback_with_any_port_is_allowed_by_default() {
        let hosts = AllowedHosts::default();
        for ok in [
            "localhost",
            "localhost:5897",
            "LOCALHOST:80",
            "localhost.:5897",
            "127.0.0.1",
            "127.0.0.1:5897",
            "[::1]",
            "[::1]:5897",
            "[0:0:0:0:0:0:0:1]:5897",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:5897",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "127.0.0.2",
            "::1",
            "[::1]x",
            "localhost:",
            "localhost:abc",
            "",
            ":5897",
            "[::2]:5897",
        ] {
            assert!(!hosts.allows(bad), "{bad}");
        }
    }

    #[test]
    fn configured_entries_are_checked_and_normalised() {
        let hosts = AllowedHosts::loopback()
            .with("POS-Gateway.local.")
            .unwrap()
            .with("[fe80::1]")
            .unwrap()
            .with("192.168.1.10")
            .unwrap();
        assert!(hosts.allows("pos-gateway.local:5897"));
        assert!(hosts.allows("[fe80::1]:5897"));
        assert!(hosts.allows("192.168.1.10:5897"));
        for bad in ["http://x", "x/y", "x:5897", "", "a..b", "ex ample"] {
            assert!(AllowedHosts::entry(bad).is_err(), "{bad}");
        }
    }
}
