//! `/v1/audit`: search and export the audit trail.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use interlock_store::AuditFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiQuery, team_for};
use super::views::AuditView;
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(export))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub team: Option<String>,
    /// An action id (or another subject: a key id, a team slug).
    pub action: Option<String>,
    /// An actor id: a key id, a user id, or `scheduler`, `executor`, `rules`, `plans`.
    pub actor: Option<String>,
    /// An event type such as `action.approved`.
    #[serde(rename = "type")]
    pub event: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    /// `jsonl` (default) or `csv`, for export.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditView>,
    pub next_cursor: Option<String>,
}

pub async fn filter_for(
    state: &AppState,
    principal: &Principal,
    q: &AuditQuery,
) -> ApiResult<AuditFilter> {
    let mut filter = AuditFilter {
        visible_teams: principal.visible_teams(),
        subject: q.action.clone(),
        actor_id: q.actor.clone(),
        event: q.event.clone(),
        since: q.since,
        until: q.until,
        ..AuditFilter::default()
    };
    match &q.team {
        Some(slug) => {
            filter.team_id = Some(
                team_for(state, principal, slug, Permission::ReadAudit)
                    .await?
                    .id,
            )
        }
        None if !principal.can(Permission::ReadAudit, None) => {
            // Without deployment-wide rights, the team must be named and readable.
            let readable = principal
                .visible_teams()
                .unwrap_or_default()
                .into_iter()
                .any(|t| principal.can(Permission::ReadAudit, Some(t)));
            if !readable {
                return Err(ApiError::forbidden(
                    "forbidden",
                    "your role may not read the audit trail",
                ));
            }
        }
        None => {}
    }
    Ok(filter)
}

/// Search the audit trail, newest first.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = AuditPage)))]
pub async fn search(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let filter = filter_for(&state, &principal, &q).await?;
    let page = state
        .store
        .search_audit(
            &filter,
            q.cursor.as_deref(),
            q.limit.unwrap_or(100).clamp(1, 500),
        )
        .await?;
    let mut entries = Vec::with_capacity(page.items.len());
    for e in &page.items {
        entries.push(AuditView::load(&state, e).await?);
    }
    Ok(Json(AuditPage {
        entries,
        next_cursor: page.next_cursor,
    }))
}

/// At most this many entries per export; narrow the time range for more.
const MAX_EXPORT: usize = 1_000_000;

/// Export matching entries as JSON lines or CSV, oldest first.
#[utoipa::path(get, path = "/v1/audit/export", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "JSON lines or CSV", body = String)))]
pub async fn export(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    let csv = match q.format.as_deref() {
        None | Some("jsonl") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("unknown format `{other}`; use jsonl or csv"),
            ));
        }
    };
    let filter = filter_for(&state, &principal, &q).await?;
    let mut entries = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = state
            .store
            .search_audit(&filter, cursor.as_deref(), 500)
            .await?;
        entries.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() || entries.len() >= MAX_EXPORT {
            break;
        }
    }
    // An export reads in the order things happened.
    entries.reverse();
    let mut out = String::new();
    if csv {
        out.push_str(CSV_HEADER);
    }
    for e in &entries {
        let v = AuditView::load(&state, e).await?;
        if csv {
            out.push_str(&csv_line(&v));
        } else {
            out.push_str(&serde_json::to_string(&v).map_err(ApiError::internal)?);
            out.push('\n');
        }
    }
    let (mime, ext) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/x-ndjson", "jsonl")
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"interlock-audit.{ext}\""),
            ),
        ],
        Body::from(out),
    )
        .into_response())
}

pub const CSV_HEADER: &str =
    "id,chain,seq,at,team,actor_kind,actor_id,subject,type,data,prev_hash,hash\n";

/// One CSV row; fields quoted and inner quotes doubled (RFC 4180).
pub fn csv_line(v: &AuditView) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let fields = [
        v.id.to_string(),
        q(&v.chain),
        v.seq.to_string(),
        v.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        q(v.team.as_deref().unwrap_or("")),
        q(&v.actor.kind),
        q(&v.actor.id),
        q(v.subject.as_deref().unwrap_or("")),
        q(&v.event),
        q(&v.data.to_string()),
        q(&v.prev_hash),
        q(&v.hash),
    ];
    let mut line = fields.join(",");
    line.push('\n');
    line
}
