//! The web console: server-rendered pages (askama), forms that work without JavaScript,
//! nothing loaded from outside the binary.

mod action_page;
mod admin_page;
mod audit_page;
mod decide;
mod edit_form;
pub mod guard;
mod inbox;
mod integrations;
mod login;
mod rows;
mod rules_form;
mod rules_page;

/// At most this many actions are approved by one batch form.
const MAX_BATCH: usize = 200;

/// Percent-encodes a query value (filters are slugs and names, but never trust them).
pub fn url_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A submitted form's value by name, trimmed; empty when absent. Forms with repeated
/// names (batch picks, team checkboxes) are read as `Vec<(String, String)>`.
fn form_value<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.trim())
}

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(login::home))
        .route("/login", get(login::login_page).post(login::login))
        .route("/logout", axum::routing::post(login::logout))
        .route("/account", get(login::account))
        .route("/inbox", get(inbox::inbox))
        .route("/inbox/list", get(inbox::inbox_list))
        .route("/inbox/approve", post(decide::approve_batch))
        .route("/actions/{id}", get(action_page::action_page))
        .route("/actions/{id}/decide", post(decide::decide))
        .route(
            "/actions/{id}/approve-with-edits",
            post(decide::approve_with_edits),
        )
        .route(
            "/settings/hitl-rules",
            get(rules_page::rules_page).post(rules_page::save_rules),
        )
        .route("/settings/hitl-rules/rollback", post(rules_page::rollback))
        .route("/audit", get(audit_page::audit_page))
        .route("/audit/verify", get(audit_page::verify_page))
        .route("/admin", get(admin_page::admin_page))
        .route("/admin/teams", post(admin_page::create_team))
        .route("/admin/people", post(admin_page::add_person))
        .route("/admin/people/{id}/role", post(admin_page::set_role))
        .route("/admin/people/{id}/remove", post(admin_page::remove_person))
        .route(
            "/admin/integrations",
            get(integrations::integrations_page).post(integrations::integration_form),
        )
        .route("/admin/keys", post(admin_page::create_key))
        .route("/admin/keys/{id}/revoke", post(admin_page::revoke_key))
        .route("/static/console.css", get(stylesheet))
        .route("/static/console.js", get(script))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/console.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/console.js"),
    )
}

/// Headers every answer carries: no framing, no sniffing, no inline or foreign scripts,
/// no referrers leaking ids.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    resp
}

/// Renders a template into a page, or a plain 500 if the template fails.
pub fn page(status: StatusCode, template: &impl askama::Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut resp = (status, Html(html)).into_response();
            // Pages show a person's data: never keep them in a shared cache.
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "a console page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

#[derive(askama::Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub message: String,
    pub back: &'a str,
}
