//! gateway-http
