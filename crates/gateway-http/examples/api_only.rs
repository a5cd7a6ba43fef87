//! The API alone, without registers or workers: operations stay queued (status 1). For trying
//! the HTTP surface and running `scripts/schemathesis-run` against it while the full gateway is
//! not at hand. Prints `listening on http://ADDR` and `development token: TOKEN`.
//!
//! `cargo run -p gateway-http --example api_only`

use std::sync::Arc;
use std::time::Duration;

use gateway_http::{app, dev_token, AppState, AuthConfig, RegisterRoute};

const CASHBOX: &str = "da2bb850-63ef-47e4-8b45-7b5b841eaa9b";
const SECRET: &[u8] = b"api-only-example-secret-0123456789abcdef";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(queue::Store::open(
        dir.path(),
        queue::StoreConfig::default(),
    )?);
    let state = AppState {
        store,
        registers: vec![RegisterRoute {
            id: CASHBOX.into(),
            group_id: None,
            juridical_person_id: None,
            utc_offset: chrono::FixedOffset::east_opt(3 * 3600).ok_or("offset")?,
            taxes: fiscal_model::TaxGroupMap::default(),
            seller: gateway_http::Seller::default(),
        }],
        default_register: Some(CASHBOX.into()),
        auth: AuthConfig::dev(SECRET),
        body_limit: 256 * 1024,
        max_wait: Duration::from_secs(5),
        readiness: None,
        allowed_hosts: gateway_http::AllowedHosts::default(),
        desk: None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    println!("development token: {}", dev_token(SECRET));
    gateway_http::serve(
        listener,
        app(state),
        gateway_http::ServeLimits::default(),
        std::future::pending(),
    )
    .await;
    Ok(())
}
