//! `/audit`: search the audit trail by team, action, actor, type and time, page through
//! it, export what was found, and check that the hash chains are intact.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use interlock_store::audit::verify_all;
use serde::Deserialize;

use super::guard::{Console, Nav, failure};
use super::rows::{ActorNames, AuditRow};
use super::{page, url_escape};
use crate::api::audit::{AuditQuery, filter_for};
use crate::auth::Permission;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const PAGE_SIZE: u32 = 100;

/// The search form as typed: empty inputs mean "any".
#[derive(Debug, Default, Deserialize)]
pub struct AuditForm {
    #[serde(default)]
    team: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default, rename = "type")]
    event: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
}

#[derive(askama::Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Nav,
    form: AuditForm,
    teams: Vec<(String, bool)>,
    entries: Vec<AuditRow>,
    /// The filters as a query string, for export and paging links.
    query: String,
    next: Option<String>,
    can_verify: bool,
    verified: Option<Result<String, String>>,
}

/// A time as typed: RFC 3339, or a browser's `datetime-local` / date value, read as UTC.
fn parse_time(name: &str, text: &str) -> ApiResult<Option<DateTime<Utc>>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let parsed = DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                .ok()
                .map(|t| t.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        });
    parsed.map(Some).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_query",
            format!("`{name}` must be a time such as 2026-03-02T09:00 (UTC)"),
        )
    })
}

fn some(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

impl AuditForm {
    fn query(&self) -> ApiResult<AuditQuery> {
        Ok(AuditQuery {
            team: some(&self.team),
            action: some(&self.action),
            actor: some(&self.actor),
            event: some(&self.event),
            since: parse_time("since", &self.since)?,
            until: parse_time("until", &self.until)?,
            cursor: some(&self.cursor),
            limit: Some(PAGE_SIZE),
            format: None,
        })
    }

    fn query_string(&self) -> String {
        [
            ("team", &self.team),
            ("action", &self.action),
            ("actor", &self.actor),
            ("type", &self.event),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", url_escape(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }
}

async fn load(
    state: &AppState,
    console: &Console,
    form: AuditForm,
    verify: bool,
) -> ApiResult<AuditPage> {
    let q = form.query()?;
    let filter = filter_for(state, &console.principal, &q).await?;
    let found = state
        .store
        .search_audit(&filter, q.cursor.as_deref(), PAGE_SIZE)
        .await?;
    let mut names = ActorNames::default();
    let mut entries = Vec::with_capacity(found.items.len());
    for e in &found.items {
        entries.push(names.audit_row(state, e).await?);
    }
    let teams = state
        .store
        .list_teams()
        .await?
        .into_iter()
        .filter(|t| console.principal.can(Permission::ReadAudit, Some(t.id)))
        .map(|t| (t.slug.clone(), t.slug == form.team))
        .collect();
    // Verifying reads every chain of the deployment: for those who see all of it.
    let can_verify = console.principal.can(Permission::ReadAudit, None);
    let verified = if verify && can_verify {
        Some(match verify_all(state.store.as_ref()).await? {
            Ok(n) => Ok(format!("All chains intact: {n} entries checked.")),
            Err(b) => Err(format!(
                "The audit trail is broken in chain {} at entry {}: {}",
                b.chain, b.seq, b.problem
            )),
        })
    } else {
        None
    };
    Ok(AuditPage {
        nav: console.nav("audit"),
        query: form.query_string(),
        form,
        teams,
        entries,
        next: found.next_cursor.map(|c| url_escape(&c)),
        can_verify,
        verified,
    })
}

pub async fn audit_page(
    State(state): State<AppState>,
    console: Console,
    Query(form): Query<AuditForm>,
) -> Response {
    match load(&state, &console, form, false).await {
        Ok(p) => page(StatusCode::OK, &p),
        Err(e) => failure(e, "/audit"),
    }
}

pub async fn verify_page(State(state): State<AppState>, console: Console) -> Response {
    match load(&state, &console, AuditForm::default(), true).await {
        Ok(p) => page(StatusCode::OK, &p),
        Err(e) => failure(e, "/audit"),
    }
}
