//! The webhook connector: POST `{"event": "action.execute", "action": {…}}`, signed, with
//! the action id as idempotency key, so a retried delivery can be recognised.

use serde_json::json;

use super::Outcome;
use super::signing::signature_header;
use crate::api::views::ActionView;
use crate::state::AppState;

pub async fn deliver(state: &AppState, url: &str, secret: &str, action: &ActionView) -> Outcome {
    let body = match serde_json::to_vec(&json!({"event": "action.execute", "action": action})) {
        Ok(b) => b,
        Err(e) => {
            return Outcome::Fail {
                error: format!("could not encode the action: {e}"),
            };
        }
    };
    let signature = signature_header(secret, chrono::Utc::now().timestamp(), &body);
    let sent = state
        .http
        .post(url)
        .timeout(state.settings.connector_timeout)
        .header("content-type", "application/json")
        .header("idempotency-key", action.id.to_string())
        .header("interlock-signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Err(e) if e.is_timeout() => Outcome::Retry {
            error: format!(
                "the webhook timed out after {:?}",
                state.settings.connector_timeout
            ),
        },
        Err(e) => Outcome::Retry {
            error: format!("the webhook could not be reached: {}", without_url(&e)),
        },
        Ok(resp) => classify(resp.status()),
    }
}

/// 2xx is success; 408, 429 and 5xx are worth retrying; any other answer is final.
fn classify(status: reqwest::StatusCode) -> Outcome {
    let code = status.as_u16();
    if status.is_success() {
        Outcome::Done {
            detail: json!({"connector": "webhook", "status": code}),
        }
    } else if code == 408 || code == 429 || status.is_server_error() {
        Outcome::Retry {
            error: format!("the webhook answered {code}"),
        }
    } else {
        Outcome::Fail {
            error: format!("the webhook answered {code}"),
        }
    }
}

/// reqwest errors name the URL, which may carry credentials in its query: leave it out.
fn without_url(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    if let Some(url) = e.url() {
        msg = msg.replace(url.as_str(), "<url>");
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_as_the_spec_says() {
        assert!(matches!(
            classify(reqwest::StatusCode::OK),
            Outcome::Done { .. }
        ));
        assert!(matches!(
            classify(reqwest::StatusCode::NO_CONTENT),
            Outcome::Done { .. }
        ));
        for retry in [408, 429, 500, 502, 503] {
            assert!(
                matches!(
                    classify(reqwest::StatusCode::from_u16(retry).unwrap()),
                    Outcome::Retry { .. }
                ),
                "{retry}"
            );
        }
        for fail in [400, 401, 404, 409, 422] {
            assert!(
                matches!(
                    classify(reqwest::StatusCode::from_u16(fail).unwrap()),
                    Outcome::Fail { .. }
                ),
                "{fail}"
            );
        }
    }
}
