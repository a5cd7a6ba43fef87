//! Prints the OpenAPI document the gateway serves at `/openapi.json`, for reading or diffing
//! without starting a gateway.
//!
//! `cargo run -p gateway-http --example openapi > openapi.json`

fn main() {
    println!("{}", gateway_http::openapi_json());
}
