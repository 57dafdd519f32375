//! Request extractors whose refusals are API errors (JSON with a code), not axum's
//! plain-text rejections.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use interlock_store::Team;

/// The most a JSON body may nest: deeper documents are refused before they are built.
pub const MAX_JSON_DEPTH: usize = 32;

/// A JSON body, parsed with clear errors.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the request body is larger than the 1 MiB limit",
                ));
            }
            Err(e) => return Err(ApiError::bad_request("unreadable_body", e.body_text())),
        };
        if json_depth_exceeds(&bytes, MAX_JSON_DEPTH) {
            return Err(ApiError::bad_request(
                "json_too_deep",
                format!("the JSON body nests deeper than {MAX_JSON_DEPTH} levels"),
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::JsonSyntaxError(e)) => {
                Err(ApiError::bad_request("malformed_json", e.body_text()))
            }
            Err(JsonRejection::JsonDataError(e)) => {
                Err(ApiError::unprocessable("invalid_body", e.body_text()))
            }
            Err(e) => Err(ApiError::bad_request("malformed_json", e.body_text())),
        }
    }
}

/// Scans the nesting depth without parsing (strings are skipped, escapes honoured).
fn json_depth_exceeds(bytes: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Query parameters, with clear errors.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                Err(ApiError::bad_request("invalid_query", e.body_text()))
            }
            Err(e) => Err(ApiError::bad_request("invalid_query", e.body_text())),
        }
    }
}

/// Finds a team by slug for a principal: 404 if they may not see it, 403 if they see it
/// but may not do `permission` there.
pub async fn team_for(
    state: &AppState,
    principal: &Principal,
    slug: &str,
    permission: Permission,
) -> ApiResult<Team> {
    let team = state
        .teams
        .by_slug(&state.store, slug)
        .await?
        .filter(|t| principal.sees_team(t.id))
        .ok_or_else(|| ApiError::not_found("team"))?;
    if !principal.can(permission, Some(team.id)) {
        return Err(ApiError::forbidden(
            "forbidden",
            "your role may not do this for this team",
        ));
    }
    Ok(team)
}

/// Parses a duration query value such as `30s` or `2m`.
pub fn parse_wait(text: &str, max: std::time::Duration) -> ApiResult<std::time::Duration> {
    let span: interlock_core::Span = text.parse().map_err(|e: interlock_core::SpanError| {
        ApiError::bad_request("invalid_query", e.to_string())
    })?;
    Ok(std::time::Duration::from_secs(u64::from(span.seconds())).min(max))
}

#[cfg(test)]
mod tests {
    use super::json_depth_exceeds;

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert!(!json_depth_exceeds(br#"{"a": "[[[[[[[["}"#, 2));
        assert!(json_depth_exceeds(b"[[[", 2));
        assert!(!json_depth_exceeds(br#"{"a": "\"[[[[["}"#, 2));
    }
}
