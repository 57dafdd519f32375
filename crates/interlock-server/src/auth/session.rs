//! Console sessions: a random token in an HttpOnly, SameSite=Strict cookie (Secure behind
//! TLS); only its SHA-256 is stored, with a CSRF token that every console form and every
//! cookie-authenticated API write must send back.

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use chrono::{DateTime, TimeDelta, Utc};
use interlock_store::{SessionRecord, UserRecord};
use rand::RngCore;

use super::keys::{constant_time_eq, hash_secret};
use super::principal::Principal;
use crate::error::ApiError;
use crate::state::AppState;

pub const COOKIE: &str = "interlock_session";
/// How long a console session lasts.
pub const LIFETIME: TimeDelta = TimeDelta::hours(8);

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Reads one cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the request reached us over TLS (directly or through a proxy that says so).
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// A new session for a person who just proved who they are; returns the cookie token.
pub async fn start(
    state: &AppState,
    user: &UserRecord,
    real_now: DateTime<Utc>,
) -> Result<(String, SessionRecord), ApiError> {
    let token = random_token();
    let session = SessionRecord {
        id_hash: hash_secret(&token),
        user_id: user.id,
        csrf_token: random_token(),
        created_at: real_now,
        expires_at: real_now + LIFETIME,
    };
    state.store.create_session(session.clone()).await?;
    Ok((token, session))
}

/// The live session named by the request's cookie, with its person.
pub async fn current(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(SessionRecord, UserRecord)>, ApiError> {
    let Some(token) = cookie(headers, COOKIE) else {
        return Ok(None);
    };
    let Some(session) = state.store.session(&hash_secret(token)).await? else {
        return Ok(None);
    };
    if session.expires_at <= Utc::now() {
        state.store.delete_session(&session.id_hash).await?;
        return Ok(None);
    }
    Ok(state
        .store
        .user(session.user_id)
        .await?
        .map(|u| (session, u)))
}

/// Cookie authentication for the API: reads may go as they are; writes must carry the
/// session's CSRF token in `X-CSRF-Token`, which a page of another site cannot know.
pub async fn from_cookie(parts: &Parts, state: &AppState) -> Result<Option<Principal>, ApiError> {
    let Some((session, user)) = current(state, &parts.headers).await? else {
        return Ok(None);
    };
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let sent = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !safe && !constant_time_eq(sent, &session.csrf_token) {
        return Err(ApiError::forbidden(
            "csrf_token_invalid",
            "this request needs the session's X-CSRF-Token header",
        ));
    }
    Ok(Some(Principal::person(&user, None)))
}
