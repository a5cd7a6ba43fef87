//! `fiscal-gateway operations`: the technician's hands on the operations a halted register
//! holds for a person (`list`, `show`, `settle`). It talks to the running service's admin API
//! (`/v1.0/admin/operations`) with the admin token in `FISCAL_GATEWAY_TOKEN`; it opens neither
//! the register nor the store, so the worker that holds the register stays the one that
//! checks a claim against the FN and acts on it.
//!
//! The answers are read leniently (`serde_json::Value`): what the service sends is printed,
//! field by field, so a field added on the service side shows up here without a release.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};

use crate::config::Config;
use render::{needing_operator, render_list, render_operation, render_settled};

mod render;

/// The environment variable holding the admin token (a JWT with the claim `"scope": "admin"`).
pub const TOKEN_VARIABLE: &str = "FISCAL_GATEWAY_TOKEN";

/// How long the service may take to answer: a settlement waits for the register's worker to
/// check the claim against the FN between operations.
const ANSWER_LIMIT: Duration = Duration::from_secs(60);

/// How long connecting may take (the service is on this PC: a refusal comes at once).
const CONNECT_LIMIT: Duration = Duration::from_secs(3);

/// Arguments of `operations`.
#[derive(clap::Args, Debug)]
pub struct OperationsArgs {
    #[command(subcommand)]
    command: OperationsCommand,
    /// Configuration whose listen address the running service uses.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        default_value = "/etc/fiscal-gateway/fiscal-gateway.toml"
    )]
    config: PathBuf,
    /// The running service's address instead of the configuration's (http://HOST:PORT).
    #[arg(long, global = true, value_name = "URL")]
    url: Option<String>,
}

#[derive(clap::Subcommand, Debug)]
enum OperationsCommand {
    /// Operations a halted register holds for a person, with the command that settles each.
    List,
    /// One stored operation in full: its request, snapshot and attempts.
    Show {
        /// operationId.
        id: String,
    },
    /// Say how a held operation ended, once you have checked the register's FN (its last
    /// receipt or report). The register checks the claim against its FN before it resumes.
    Settle(SettleArgs),
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("outcome").required(true).args(["done", "not_done"])))]
struct SettleArgs {
    /// operationId of the held operation.
    id: String,
    /// The register made the document: its FD number (may be left out only with --force, for
    /// a cash movement, which has no FD).
    #[arg(long, value_name = "FD", num_args = 0..=1)]
    done: Option<Option<u32>>,
    /// The register made nothing: the operation is queued again and runs once more.
    #[arg(long)]
    not_done: bool,
    /// Accept the claim even where the FN cannot prove it (needs --reason).
    #[arg(long, requires = "reason")]
    force: bool,
    /// Why (recorded with the settlement).
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
}

/// Runs one `operations` subcommand; the error is the one line to print.
pub async fn run(args: OperationsArgs) -> anyhow::Result<()> {
    let token = admin_token(std::env::var(TOKEN_VARIABLE).ok())?;
    let base = service_url(args.url.as_deref(), &args.config)?;
    let service = Service::new(base, token)?;
    match args.command {
        OperationsCommand::List => {
            let list = service
                .get(&["v1.0", "admin", "operations"], &[("state", "unsettled")])
                .await?;
            // The list says per register what it is halted on; a service without the
            // registers' facts leaves that null, and then `/health` tells which registers
            // need an operator.
            let halted = service
                .get(&["health"], &[])
                .await
                .map(|h| needing_operator(&h))
                .unwrap_or_default();
            print!("{}", render_list(&list, &halted));
        }
        OperationsCommand::Show { id } => {
            let op = service
                .get(&["v1.0", "admin", "operations", &id], &[])
                .await
                .with_context(|| format!("operation {id}"))?;
            let mut out = format!("Операция {id}\n");
            render_operation(&op, 1, &mut out);
            print!("{out}");
        }
        OperationsCommand::Settle(settle) => {
            let body = settle_body(&settle);
            let id = settle.id;
            let answer = service
                .post(&["v1.0", "admin", "operations", &id, "settle"], &body)
                .await
                .with_context(|| format!("operation {id}"))?;
            print!("{}", render_settled(&id, &answer));
        }
    }
    Ok(())
}

/// The token, or the error that names the variable.
fn admin_token(value: Option<String>) -> anyhow::Result<String> {
    match value.map(|v| v.trim().to_string()) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => bail!(
            "{TOKEN_VARIABLE} is not set: export {TOKEN_VARIABLE}=<admin token> \
             (a JWT the service accepts, with the claim \"scope\": \"admin\")"
        ),
    }
}

/// `--url`, or the configuration's listen address (an unspecified address is reached on
/// loopback).
fn service_url(url: Option<&str>, config: &std::path::Path) -> anyhow::Result<String> {
    if let Some(url) = url {
        return parse_url(url);
    }
    let hint = "give the service's address with --url http://HOST:PORT";
    let text = std::fs::read_to_string(config)
        .map_err(|e| anyhow!("cannot read {}: {e} ({hint})", config.display()))?;
    // Only the listen address is read. The signing secret may live in the service's
    // environment only, and the public key files may be readable by the service only: neither
    // is this client's business (its token is), so a stand-in secret satisfies the check that
    // some key is configured, and no key file is opened.
    let config_read = Config::parse(&text, Some(STAND_IN_SECRET.to_string()))
        .map_err(|e| anyhow!("{}: {e} ({hint})", config.display()))?;
    Ok(format!("http://{}", reachable(config_read.listen)))
}

/// See [`service_url`]: never used to sign or check anything.
const STAND_IN_SECRET: &str = "operations-cli-reads-only-the-listen-address";

fn reachable(mut listen: SocketAddr) -> SocketAddr {
    if listen.ip().is_unspecified() {
        listen.set_ip(match listen {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    listen
}

/// `http://HOST:PORT` (or `HOST:PORT`), without a trailing slash. The service speaks plain
/// HTTP on localhost; there is no TLS client here.
fn parse_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/');
    let rest = match url.split_once("://") {
        Some(("http", rest)) => rest,
        Some((scheme, _)) => {
            bail!("--url: {scheme}:// is not supported; the service speaks plain http://")
        }
        None => url,
    };
    if rest.is_empty() || rest.contains('/') {
        bail!("--url: expected http://HOST:PORT, got {url:?}");
    }
    Ok(format!("http://{rest}"))
}

/// The body of `POST …/settle`.
fn settle_body(args: &SettleArgs) -> Value {
    let mut body = json!({
        "outcome": if args.not_done { "notDone" } else { "done" },
    });
    if let Some(Some(fd)) = args.done {
        body["fiscalDocumentNumber"] = fd.into();
    }
    if args.force {
        body["force"] = true.into();
    }
    if let Some(reason) = &args.reason {
        body["reason"] = reason.clone().into();
    }
    body
}

/// The running service's admin API.
struct Service {
    http: reqwest::Client,
    base: reqwest::Url,
    token: String,
}

impl Service {
    fn new(base: String, token: String) -> anyhow::Result<Service> {
        let base = reqwest::Url::parse(&base).map_err(|e| anyhow!("--url {base}: {e}"))?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_LIMIT)
            .timeout(ANSWER_LIMIT)
            .build()
            .context("cannot make an HTTP client")?;
        Ok(Service { http, base, token })
    }

    /// `base` + the segments, each escaped (an operationId may hold any character).
    fn url(&self, segments: &[&str]) -> anyhow::Result<reqwest::Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| anyhow!("{} cannot carry a path", self.base))?
            .clear()
            .extend(segments);
        Ok(url)
    }

    async fn get(&self, segments: &[&str], query: &[(&str, &str)]) -> anyhow::Result<Value> {
        let request = self.http.get(self.url(segments)?).query(query);
        self.send(request).await
    }

    async fn post(&self, segments: &[&str], body: &Value) -> anyhow::Result<Value> {
        let request = self.http.post(self.url(segments)?).json(body);
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let answer = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = answer.status();
        let text = answer
            .text()
            .await
            .map_err(|e| anyhow!("{}: the answer broke off: {e}", self.base))?;
        let body: Option<Value> = serde_json::from_str(&text).ok();
        if status.is_success() {
            return body.ok_or_else(|| anyhow!("{status}: the answer is not JSON: {text}"));
        }
        Err(anyhow!(refusal(status, body.as_ref(), &text)))
    }

    fn unreachable(&self, e: &reqwest::Error) -> anyhow::Error {
        if e.is_connect() {
            anyhow!(
                "the service does not answer at {}: it is not running or listens elsewhere \
                 (systemctl status fiscal-gateway; --url gives the address)",
                self.base
            )
        } else if e.is_timeout() {
            anyhow!(
                "the service at {} did not answer within {} s",
                self.base,
                ANSWER_LIMIT.as_secs()
            )
        } else {
            anyhow!("{}: {e}", self.base)
        }
    }
}

/// The one line a 4xx/5xx becomes: the server's errorMessage first, its code and the HTTP
/// status after, and for 401/403 what to do about the token.
fn refusal(status: reqwest::StatusCode, body: Option<&Value>, text: &str) -> String {
    let message = body
        .and_then(|b| b.get("errorMessage"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            let text = text.trim();
            if text.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("no message")
                    .to_string()
            } else {
                text.chars().take(300).collect()
            }
        });
    let mut line = message;
    let code = body
        .and_then(|b| b.get("errorCode"))
        .and_then(Value::as_str);
    match code {
        Some(code) => {
            let _ = write!(line, " [{code}, HTTP {}]", status.as_u16());
        }
        None => {
            let _ = write!(line, " [HTTP {}]", status.as_u16());
        }
    }
    if let Some(field) = body.and_then(|b| b.get("field")).and_then(Value::as_str) {
        let _ = write!(line, " (field {field})");
    }
    match status.as_u16() {
        401 => line.push_str(&format!(
            "; the service did not accept the token in {TOKEN_VARIABLE}"
        )),
        403 => line.push_str(&format!(
            "; the token in {TOKEN_VARIABLE} lacks the claim \"scope\": \"admin\""
        )),
        _ => {}
    }
    line
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: OperationsArgs,
    }

    fn settle(args: &[&str]) -> Result<Value, clap::Error> {
        let cli = Cli::try_parse_from(
            ["fiscal-gateway", "settle"]
                .iter()
                .chain(args)
                .copied()
                .collect::<Vec<_>>(),
        )?;
        match cli.args.command {
            OperationsCommand::Settle(s) => Ok(settle_body(&s)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn settle_takes_one_outcome_and_force_needs_a_reason() {
        assert_eq!(
            settle(&["op-1", "--done", "17"]).unwrap(),
            json!({"outcome": "done", "fiscalDocumentNumber": 17})
        );
        assert_eq!(
            settle(&["op-1", "--not-done"]).unwrap(),
            json!({"outcome": "notDone"})
        );
        assert_eq!(
            settle(&["op-1", "--done", "--force", "--reason", "cash in, seen"]).unwrap(),
            json!({"outcome": "done", "force": true, "reason": "cash in, seen"})
        );
        assert!(settle(&["op-1"]).is_err(), "an outcome is required");
        assert!(settle(&["op-1", "--done", "5", "--not-done"]).is_err());
        assert!(settle(&["op-1", "--not-done", "--force"]).is_err());
    }

    #[test]
    fn the_address_is_the_url_or_the_configured_listen_address() {
        assert_eq!(
            parse_url("http://127.0.0.1:5897/").unwrap(),
            "http://127.0.0.1:5897"
        );
        assert_eq!(
            parse_url("127.0.0.1:5897").unwrap(),
            "http://127.0.0.1:5897"
        );
        assert!(parse_url("https://127.0.0.1:5897")
            .unwrap_err()
            .to_string()
            .contains("https"));
        assert!(parse_url("http://127.0.0.1:5897/v1.0").is_err());
        assert_eq!(
            reachable("0.0.0.0:5897".parse().unwrap()).to_string(),
            "127.0.0.1:5897"
        );
        assert_eq!(
            reachable("[::]:5897".parse().unwrap()).to_string(),
            "[::1]:5897"
        );
        let missing = service_url(None, std::path::Path::new("/nonexistent/gw.toml"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("--url"), "{missing}");
        // The configuration's address, though its secret is only in the service's environment.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gw.toml");
        std::fs::write(
            &file,
            format!(
                "[server]\nlisten = \"0.0.0.0:6001\"\n[storage]\ndata_dir = \"{}\"\n\
                 [[registers]]\nid = \"da2bb850-63ef-47e4-8b45-7b5b841eaa9b\"\n\
                 [registers.transport]\nkind = \"tcp\"\naddress = \"192.0.2.1:7778\"\n",
                dir.path().display()
            ),
        )
        .unwrap();
        assert_eq!(service_url(None, &file).unwrap(), "http://127.0.0.1:6001");
    }

    #[test]
    fn a_missing_token_names_the_variable() {
        for value in [None, Some(String::new()), Some("  ".into())] {
            let e = admin_token(value).unwrap_err().to_string();
            assert!(e.contains(TOKEN_VARIABLE), "{e}");
        }
        assert_eq!(admin_token(Some(" t \n".into())).unwrap(), "t");
    }

    #[test]
    fn a_refusal_carries_the_servers_message() {
        let body = json!({"errorCode": "CONFLICT", "errorMessage": "ФН: последний ФД 12, не 13", "field": null});
        let line = refusal(reqwest::StatusCode::CONFLICT, Some(&body), "");
        assert_eq!(line, "ФН: последний ФД 12, не 13 [CONFLICT, HTTP 409]");
        let line = refusal(reqwest::StatusCode::FORBIDDEN, None, "");
        assert!(
            line.contains("Forbidden") && line.contains("scope"),
            "{line}"
        );
    }
}
