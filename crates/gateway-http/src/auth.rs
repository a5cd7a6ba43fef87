//! Bearer-token authentication (JWT) and the per-register access a token grants.
//!
//! A token is accepted when one of the configured keys verifies its signature — an HS256
//! shared secret and/or PEM public keys (RSA: RS256/384/512 and PS256/384/512; EC: ES256/384;
//! Ed25519: EdDSA) — its `exp` lies in the future and its `nbf`, if any, in the past (60 s of
//! clock skew allowed). `exp` is required: a leaked token without one would work forever.
//!
//! When an issuer and/or an audience is configured, `iss` / `aud` must be present and match.
//!
//! Access: a token without the optional claims `cashboxes` / `juridicalPersons` may use every
//! register. With either claim it may use the registers listed in `cashboxes` plus the
//! registers of the juridical persons listed in `juridicalPersons` (each claim grants; neither
//! is needed). A restriction claim that is present but not a list of strings (`null`, a
//! string, a number) makes the token invalid (401): a malformed restriction never widens into
//! "every register".
//!
//! Administration: a token whose `scope` claim is the string `admin`, a space-separated list
//! containing it (OAuth 2.0's spelling, RFC 8693 §4.2), or a list of strings containing it, may
//! use the `/v1.0/admin/*` routes; its `sub` names the person in their log lines and
//! settlements. A `scope` of another JSON type makes the token invalid (401), like a malformed
//! restriction. This module does not know routes or operations.

use jsonwebtoken::{
    decode, decode_header, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};

use crate::{ApiError, RegisterRoute};

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 60;
/// The scope that opens the `/v1.0/admin/*` routes.
pub const ADMIN_SCOPE: &str = "admin";
/// Lifetime of [`dev_token`]: ten years, because `serve --emulator` is for a desk, not a shop.
const DEV_TOKEN_SECONDS: i64 = 10 * 365 * 86_400;

/// Why a public key could not be configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The PEM text holds no RSA, EC or Ed25519 public key jsonwebtoken can use.
    #[error("not an RSA, EC (P-256/P-384) or Ed25519 public key in PEM form")]
    UnsupportedPem,
}

/// One verification key and the algorithms it may verify.
#[derive(Clone)]
struct VerifyingKey {
    key: DecodingKey,
    algorithms: Vec<Algorithm>,
}

/// The keys tokens are checked against. Authentication is always on: with no key configured
/// every request to the operation routes is a 401.
#[derive(Clone, Default)]
pub struct AuthConfig {
    keys: Vec<VerifyingKey>,
    /// Required `iss`, when configured.
    issuer: Option<String>,
    /// Required `aud` (one of the token's audiences), when configured.
    audience: Option<String>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        f.debug_struct("AuthConfig")
            .field("keys", &self.keys.len())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl AuthConfig {
    /// No keys yet.
    pub fn new() -> AuthConfig {
        AuthConfig::default()
    }

    /// The configuration of `serve --emulator`: one HS256 secret (see [`dev_token`]).
    pub fn dev(secret: &[u8]) -> AuthConfig {
        AuthConfig::new().with_hs256(secret)
    }

    /// Accepts HS256 tokens signed with `secret`.
    pub fn with_hs256(mut self, secret: &[u8]) -> AuthConfig {
        self.keys.push(VerifyingKey {
            key: DecodingKey::from_secret(secret),
            algorithms: vec![Algorithm::HS256],
        });
        self
    }

    /// Accepts only tokens whose `iss` is `issuer`.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> AuthConfig {
        self.issuer = Some(issuer.into());
        self
    }

    /// Accepts only tokens whose `aud` is (or lists) `audience`.
    pub fn with_audience(mut self, audience: impl Into<String>) -> AuthConfig {
        self.audience = Some(audience.into());
        self
    }

    /// Accepts tokens signed by the private half of a PEM public key (RSA, EC or Ed25519).
    pub fn with_public_key_pem(mut self, pem: impl AsRef<[u8]>) -> Result<AuthConfig, KeyError> {
        let pem = pem.as_ref();
        let key = if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            VerifyingKey {
                key,
                algorithms: vec![
                    Algorithm::RS256,
                    Algorithm::RS384,
                    Algorithm::RS512,
                    Algorithm::PS256,
                    Algorithm::PS384,
                    Algorithm::PS512,
                ],
            }
        } else if let Ok(key) = DecodingKey::from_ec_pem(pem) {
            VerifyingKey {
                key,
                algorithms: vec![Algorithm::ES256, Algorithm::ES384],
            }
        } else if let Ok(key) = DecodingKey::from_ed_pem(pem) {
            VerifyingKey {
                key,
                algorithms: vec![Algorithm::EdDSA],
            }
        } else {
            return Err(KeyError::UnsupportedPem);
        };
        self.keys.push(key);
        Ok(self)
    }

    /// Verifies the `Authorization` header value; the access the token grants.
    pub fn verify(&self, authorization: Option<&str>) -> Result<Access, ApiError> {
        let header = authorization
            .ok_or_else(|| ApiError::Unauthorized("a Bearer token is required".into()))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::Unauthorized("expected \"Bearer <token>\"".into()))?;
        let alg = decode_header(token)
            .map_err(|e| ApiError::Unauthorized(format!("malformed token: {e}")))?
            .alg;
        let mut last = "no key is configured for its algorithm".to_string();
        for key in self.keys.iter().filter(|k| k.algorithms.contains(&alg)) {
            let mut validation = Validation::new(alg);
            validation.leeway = LEEWAY_SECONDS;
            validation.validate_nbf = true;
            let mut required = vec!["exp"];
            if let Some(issuer) = &self.issuer {
                validation.set_issuer(&[issuer]);
                required.push("iss");
            }
            match &self.audience {
                Some(audience) => {
                    validation.set_audience(&[audience]);
                    required.push("aud");
                }
                // No audience is configured; a token carrying one is still ours if signed by
                // our key.
                None => validation.validate_aud = false,
            }
            validation.set_required_spec_claims(&required);
            match decode::<Claims>(token, &key.key, &validation) {
                Ok(data) => return Ok(Access::from_claims(data.claims)),
                Err(e) => last = describe(&e),
            }
        }
        Err(ApiError::Unauthorized(format!("token rejected: {last}")))
    }
}

fn describe(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "expired".into(),
        ErrorKind::ImmatureSignature => "not valid yet (nbf is in the future)".into(),
        ErrorKind::InvalidSignature => "invalid signature".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("the {c} claim is required"),
        ErrorKind::InvalidIssuer => "the iss claim is not the configured issuer".into(),
        ErrorKind::InvalidAudience => "the aud claim is not the configured audience".into(),
        _ => e.to_string(),
    }
}

/// The claims this gateway reads; others are ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    #[serde(
        default,
        deserialize_with = "cashboxes_claim",
        skip_serializing_if = "Option::is_none"
    )]
    cashboxes: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "juridical_persons_claim",
        skip_serializing_if = "Option::is_none"
    )]
    juridical_persons: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "scope_claim",
        skip_serializing_if = "Option::is_none"
    )]
    scope: Option<Scope>,
}

/// The `scope` claim: one space-separated string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum Scope {
    /// `"admin"`, `"read admin"`.
    Text(String),
    /// `["admin"]`.
    List(Vec<String>),
}

impl Scope {
    fn contains(&self, wanted: &str) -> bool {
        match self {
            Scope::Text(text) => text.split_ascii_whitespace().any(|s| s == wanted),
            Scope::List(items) => items.iter().any(|s| s == wanted),
        }
    }
}

/// `scope`: null is absent (it grants nothing either way); anything but a string or a list of
/// strings is refused.
fn scope_claim<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Scope>, D::Error> {
    Option::<Scope>::deserialize(d).map_err(|_| {
        serde::de::Error::custom(
            "the scope claim must be a space-separated string or a list of strings",
        )
    })
}

/// A restriction claim that is present: only a list of strings will do. `null` is refused
/// rather than read as absent, which would lift the restriction.
fn restriction<'de, D: serde::Deserializer<'de>>(
    d: D,
    claim: &str,
) -> Result<Option<Vec<String>>, D::Error> {
    Vec::<String>::deserialize(d).map(Some).map_err(|e| {
        serde::de::Error::custom(format!(
            "the {claim} claim must be a list of id strings ({e})"
        ))
    })
}

fn cashboxes_claim<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<String>>, D::Error> {
    restriction(d, "cashboxes")
}

fn juridical_persons_claim<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<String>>, D::Error> {
    restriction(d, "juridicalPersons")
}

/// What a verified token may use, and who it says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// `None`: every register. Otherwise lower-cased cashbox and juridical-person ids granted.
    grants: Option<(Vec<String>, Vec<String>)>,
    /// The `scope` claim holds [`ADMIN_SCOPE`].
    admin: bool,
    /// The `sub` claim.
    sub: Option<String>,
}

impl Access {
    /// A token without restricting claims (not an administrator, no subject).
    pub fn everything() -> Access {
        Access {
            grants: None,
            admin: false,
            sub: None,
        }
    }

    fn from_claims(claims: Claims) -> Access {
        let admin = claims
            .scope
            .as_ref()
            .is_some_and(|s| s.contains(ADMIN_SCOPE));
        let sub = claims.sub;
        if claims.cashboxes.is_none() && claims.juridical_persons.is_none() {
            return Access {
                grants: None,
                admin,
                sub,
            };
        }
        let lower = |v: Option<Vec<String>>| {
            v.unwrap_or_default()
                .into_iter()
                .map(|s| s.to_ascii_lowercase())
                .collect::<Vec<_>>()
        };
        Access {
            grants: Some((lower(claims.cashboxes), lower(claims.juridical_persons))),
            admin,
            sub,
        }
    }

    /// The token has no `cashboxes` / `juridicalPersons` claim: every register, configured or
    /// not.
    pub fn is_unrestricted(&self) -> bool {
        self.grants.is_none()
    }

    /// The token's `scope` holds `admin`: it may use the `/v1.0/admin/*` routes.
    pub fn is_admin(&self) -> bool {
        self.admin
    }

    /// The token's `sub` claim, when it has one.
    pub fn sub(&self) -> Option<&str> {
        self.sub.as_deref()
    }

    /// Whether the token may use `register`.
    pub fn allows(&self, register: &RegisterRoute) -> bool {
        let Some((cashboxes, persons)) = &self.grants else {
            return true;
        };
        let id = register.id.to_ascii_lowercase();
        cashboxes.contains(&id)
            || register
                .juridical_person_id
                .as_ref()
                .is_some_and(|p| persons.contains(&p.to_ascii_lowercase()))
    }
}

/// A long-lived HS256 token for `serve --emulator`, without restricting claims, with scope
/// `admin` (the person at the desk is its administrator).
pub fn dev_token(secret: &[u8]) -> String {
    let claims = Claims {
        sub: Some("dev".into()),
        exp: Some(chrono::Utc::now().timestamp() + DEV_TOKEN_SECONDS),
        scope: Some(Scope::Text(ADMIN_SCOPE.into())),
        ..Claims::default()
    };
    // HS256 signing of a small claims struct cannot fail (no key parsing, no I/O).
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap_or_default()
}
