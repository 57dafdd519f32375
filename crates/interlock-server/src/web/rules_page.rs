//! `/settings/hitl-rules`: a team's rules — each category's level, time-bomb settings,
//! threshold bands, advisory tags — with inline validation, version history, a readable
//! diff per version, and rollback. Only people who may write rules see editing controls.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use interlock_core::Level;
use interlock_core::rules::{MAX_TIME_BOMB, MIN_TIME_BOMB, RuleSet};
use interlock_store::Team;
use serde::Deserialize;
use serde_json::json;

use super::guard::{Console, Nav, failure};
use super::rows::{ActorNames, time_text};
use super::rules_form::{BAND_KINDS, RulesForm};
use super::{form_value, page, url_escape};
use crate::auth::Permission;
use crate::error::{ApiError, ApiResult};
use crate::service::diff::document_diff;
use crate::service::rules::{self, doc_json, save};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct RulesQuery {
    #[serde(default)]
    team: String,
    /// Show what this version changed.
    #[serde(default)]
    diff: Option<u64>,
    #[serde(default)]
    saved: Option<u64>,
}

#[derive(Debug)]
struct VersionRow {
    version: u64,
    at: String,
    by: String,
    current: bool,
}

#[derive(Debug)]
struct DiffLine {
    path: String,
    before: String,
    after: String,
}

#[derive(askama::Template)]
#[template(path = "rules.html")]
struct RulesPage {
    nav: Nav,
    csrf_token: String,
    teams: Vec<(String, String, bool)>,
    team: String,
    team_name: String,
    version: u64,
    editable: bool,
    form: RulesForm,
    notice: Option<String>,
    levels: Vec<(&'static str, &'static str)>,
    band_kinds: [(&'static str, &'static str); 5],
    duration_range: String,
    history: Vec<VersionRow>,
    diff_version: Option<u64>,
    diff: Vec<DiffLine>,
}

fn shown(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn diff_of(state: &AppState, team: &Team, version: u64) -> ApiResult<Vec<DiffLine>> {
    let after = state
        .store
        .rules_version(team.id, version)
        .await?
        .ok_or_else(|| ApiError::not_found("rules version"))?;
    let before = match version.checked_sub(1) {
        Some(v) if v >= 1 => state.store.rules_version(team.id, v).await?,
        _ => None,
    };
    let before = before.map_or(json!({}), |b| doc_json(&b.rules));
    let mut after = doc_json(&after.rules);
    let mut before = before;
    // The version number itself always changes; it is the heading, not a difference.
    for doc in [&mut before, &mut after] {
        if let Some(o) = doc.as_object_mut() {
            o.remove("version");
        }
    }
    Ok(document_diff("", &before, &after)
        .iter()
        .map(|d| DiffLine {
            path: d["path"].as_str().unwrap_or_default().to_owned(),
            before: shown(&d["before"]),
            after: shown(&d["after"]),
        })
        .collect())
}

async fn render(
    state: &AppState,
    console: &Console,
    q: &RulesQuery,
    submitted: Option<RulesForm>,
) -> ApiResult<Response> {
    let (teams, team) = console
        .team_choice(state, Permission::ReadRules, &q.team)
        .await?;
    let current = state.store.current_rules(team.id).await?;
    let mut names = ActorNames::default();
    let mut history = Vec::new();
    for v in state.store.list_rules_versions(team.id).await? {
        history.push(VersionRow {
            version: v.version,
            at: time_text(v.created_at),
            by: names.name(state, &v.created_by).await,
            current: v.version == current.version,
        });
    }
    let diff = match q.diff {
        Some(v) => diff_of(state, &team, v).await?,
        None => Vec::new(),
    };
    let refused = submitted.is_some();
    let form = submitted.unwrap_or_else(|| RulesForm::from_rules(&current.rules));
    let notice = q
        .saved
        .filter(|_| !refused)
        .map(|v| format!("Saved as version {v}."));
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(page(
        status,
        &RulesPage {
            nav: console.nav("rules"),
            csrf_token: console.csrf_token.clone(),
            teams: teams
                .iter()
                .map(|t| (t.slug.clone(), t.name.clone(), t.id == team.id))
                .collect(),
            editable: console.principal.can(Permission::WriteRules, Some(team.id)),
            team: team.slug.clone(),
            team_name: team.name.clone(),
            version: current.version,
            form,
            notice,
            levels: Level::ALL.map(|l| (l.as_str(), l.label())).to_vec(),
            band_kinds: BAND_KINDS,
            duration_range: format!("{MIN_TIME_BOMB} to {MAX_TIME_BOMB}"),
            history,
            diff_version: q.diff,
            diff,
        },
    ))
}

pub async fn rules_page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<RulesQuery>,
) -> Response {
    render(&state, &console, &q, None)
        .await
        .unwrap_or_else(|e| failure(e, "/settings/hitl-rules"))
}

/// The team named by a submitted form, which the person must be allowed to write.
async fn writable_team(state: &AppState, console: &Console, slug: &str) -> ApiResult<Team> {
    let (_, team) = console
        .team_choice(state, Permission::ReadRules, slug)
        .await?;
    if !console.principal.can(Permission::WriteRules, Some(team.id)) {
        return Err(ApiError::forbidden(
            "forbidden",
            "your role may read these rules but not change them",
        ));
    }
    Ok(team)
}

fn after_save(team: &str, version: u64) -> Response {
    Redirect::to(&format!(
        "/settings/hitl-rules?team={}&saved={version}",
        url_escape(team)
    ))
    .into_response()
}

pub async fn save_rules(
    State(state): State<AppState>,
    console: Console,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(refused) = console.refusal_of_form(form_value(&fields, "csrf_token")) {
        return refused;
    }
    let slug = form_value(&fields, "team").to_owned();
    let back = format!("/settings/hitl-rules?team={}", url_escape(&slug));
    let team = match writable_team(&state, &console, &slug).await {
        Ok(t) => t,
        Err(e) => return failure(e, &back),
    };
    let expected = form_value(&fields, "expected_version").parse().ok();
    let mut form = RulesForm::from_fields(&fields);
    let rules = match RuleSet::from_doc(&form.to_doc()) {
        Ok(r) => r,
        Err(errors) => {
            // Nothing is saved; the form comes back as typed, with every problem in place.
            form.place(&errors.0);
            let q = RulesQuery {
                team: slug,
                ..RulesQuery::default()
            };
            return render(&state, &console, &q, Some(form.with_blank_rows()))
                .await
                .unwrap_or_else(|e| failure(e, &back));
        }
    };
    match save(
        &state,
        &console.principal,
        team.id,
        expected,
        rules,
        "rules.changed",
        json!({}),
    )
    .await
    {
        Ok(saved) => after_save(&team.slug, saved.version),
        Err(e) => failure(e, &back),
    }
}

pub async fn rollback(
    State(state): State<AppState>,
    console: Console,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(refused) = console.refusal_of_form(form_value(&fields, "csrf_token")) {
        return refused;
    }
    let slug = form_value(&fields, "team").to_owned();
    let back = format!("/settings/hitl-rules?team={}", url_escape(&slug));
    let result = async {
        let team = writable_team(&state, &console, &slug).await?;
        let version: u64 = form_value(&fields, "version")
            .parse()
            .map_err(|_| ApiError::bad_request("invalid_field", "choose a version to return to"))?;
        let saved = rules::rollback(&state, &console.principal, team.id, version).await?;
        Ok::<_, ApiError>(after_save(&team.slug, saved.version))
    }
    .await;
    result.unwrap_or_else(|e| failure(e, &back))
}
