//! Everything Interlock POSTs (webhook connector, webhook and Slack channels, agent
//! callbacks) goes through [`post_json`]: one timeout, one signature scheme, one reading
//! of the receiver's answer.

use serde_json::json;

use super::Outcome;
use super::signing::signature_header;
use crate::state::AppState;

/// How much of a receiver's answer is kept to show people.
const ANSWER_CHARS: usize = 300;

/// A JSON POST: signed when `secret` is given, with `idempotency_key` so that a retried
/// delivery can be recognised.
#[derive(Debug, Clone, Copy)]
pub struct Post<'a> {
    /// What it is, for error messages: "the webhook", "the Slack webhook", "the callback".
    pub what: &'a str,
    pub url: &'a str,
    pub secret: Option<&'a str>,
    pub idempotency_key: &'a str,
}

pub async fn post_json(state: &AppState, post: Post<'_>, body: &serde_json::Value) -> Outcome {
    let body = match serde_json::to_vec(body) {
        Ok(b) => b,
        Err(e) => {
            return Outcome::Fail {
                error: format!("could not encode the body: {e}"),
            };
        }
    };
    let mut request = state
        .http
        .post(post.url)
        .timeout(state.settings.connector_timeout)
        .header("content-type", "application/json")
        .header("idempotency-key", post.idempotency_key);
    if let Some(secret) = post.secret {
        let signature = signature_header(secret, chrono::Utc::now().timestamp(), &body);
        request = request.header("interlock-signature", signature);
    }
    let what = post.what;
    match request.body(body).send().await {
        Err(e) if e.is_timeout() => Outcome::Retry {
            error: format!(
                "{what} timed out after {:?}",
                state.settings.connector_timeout
            ),
        },
        Err(e) => Outcome::Retry {
            error: format!("{what} could not be reached: {}", without_url(&e)),
        },
        Ok(resp) => {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            classify(what, status, &text)
        }
    }
}

/// 2xx is success; 408, 429 and 5xx are worth retrying; any other answer is final.
fn classify(what: &str, status: reqwest::StatusCode, text: &str) -> Outcome {
    let code = status.as_u16();
    let answer = answer(code, text);
    if status.is_success() {
        Outcome::Done {
            detail: json!({"status": code, "answer": answer}),
        }
    } else if code == 408 || code == 429 || status.is_server_error() {
        Outcome::Retry {
            error: format!("{what} answered {answer}"),
        }
    } else {
        Outcome::Fail {
            error: format!("{what} answered {answer}"),
        }
    }
}

/// The status and the start of the body, on one line: `422 {"error": "bad"}`.
fn answer(code: u16, text: &str) -> String {
    let text: String = text
        .chars()
        .take(ANSWER_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = text.trim();
    if text.is_empty() {
        code.to_string()
    } else {
        format!("{code} {text}")
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

    fn code(c: u16) -> reqwest::StatusCode {
        reqwest::StatusCode::from_u16(c).unwrap()
    }

    #[test]
    fn statuses_are_classified_as_the_spec_says() {
        for ok in [200, 201, 204] {
            assert!(matches!(classify("w", code(ok), ""), Outcome::Done { .. }));
        }
        for retry in [408, 429, 500, 502, 503] {
            assert!(
                matches!(classify("w", code(retry), ""), Outcome::Retry { .. }),
                "{retry}"
            );
        }
        for fail in [400, 401, 404, 409, 422] {
            assert!(
                matches!(classify("w", code(fail), ""), Outcome::Fail { .. }),
                "{fail}"
            );
        }
    }

    #[test]
    fn the_answer_keeps_the_status_and_a_short_single_line_body() {
        assert_eq!(answer(204, ""), "204");
        assert_eq!(answer(422, "bad\nfield\n"), "422 bad field");
        let long = "x".repeat(1000);
        assert_eq!(answer(500, &long).len(), 4 + ANSWER_CHARS);
    }
}
