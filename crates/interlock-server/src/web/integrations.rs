//! `/admin/integrations`: a team's connectors (how each category is carried out) and
//! notification channels (who hears about what), with "send a test" for each. The forms
//! go through the same checks as the API; secrets are write-only.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use interlock_core::Category;
use serde::Deserialize;

use super::guard::{Console, Nav, failure};
use super::rows::time_text;
use super::{form_value, page, url_escape};
use crate::api::channels::TestReport;
use crate::api::connectors::{
    ConnectorBody, ConnectorView, category_of, set_connector, team_connectors, test_send,
};
use crate::auth::Permission;
use crate::error::{ApiError, ApiResult};
use crate::service::channels::{self, ChannelBody, ChannelView};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct TeamQuery {
    #[serde(default)]
    team: String,
}

#[derive(askama::Template)]
#[template(path = "integrations.html")]
struct IntegrationsPage {
    nav: Nav,
    csrf_token: String,
    teams: Vec<(String, bool)>,
    team: String,
    connectors: Vec<ConnectorView>,
    channels: Vec<(ChannelView, String)>,
    categories: Vec<&'static str>,
    notice: Option<String>,
    failed: bool,
}

/// A form value, `None` when absent or empty.
fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    Some(form_value(fields, name)).filter(|v| !v.is_empty())
}

fn owned(fields: &[(String, String)], name: &str) -> Option<String> {
    field(fields, name).map(str::to_owned)
}

fn report_text(what: &str, r: &TestReport) -> String {
    let mut text = format!(
        "Test of {what}: {}",
        if r.ok { "delivered" } else { "failed" }
    );
    if let Some(a) = &r.answer {
        text.push_str(&format!("; the receiver answered {a}"));
    }
    if let Some(e) = &r.error {
        text.push_str(&format!("; {e}"));
    }
    text
}

async fn render(
    state: &AppState,
    console: &Console,
    slug: &str,
    notice: Option<String>,
    failed: bool,
) -> ApiResult<Response> {
    let (teams, team) = console
        .team_choice(state, Permission::ManageConnectors, slug)
        .await?;
    let channels = state
        .store
        .channels(team.id)
        .await?
        .iter()
        .map(|c| (channels::view(c, &team.slug), time_text(c.created_at)))
        .collect();
    let status = if failed {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(page(
        status,
        &IntegrationsPage {
            nav: console.nav("admin"),
            csrf_token: console.csrf_token.clone(),
            teams: teams
                .iter()
                .map(|t| (t.slug.clone(), t.id == team.id))
                .collect(),
            connectors: team_connectors(state, &team).await?,
            team: team.slug,
            channels,
            categories: Category::ALL.map(|c| c.as_str()).to_vec(),
            notice,
            failed,
        },
    ))
}

pub async fn integrations_page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<TeamQuery>,
) -> Response {
    render(&state, &console, &q.team, None, false)
        .await
        .unwrap_or_else(|e| failure(e, "/admin"))
}

/// What a form asked for, run; the page comes back with its outcome on top. A refused
/// form shows the reason and stores nothing.
async fn after(
    state: &AppState,
    console: &Console,
    fields: &[(String, String)],
    run: ApiResult<String>,
) -> Response {
    let slug = field(fields, "team").unwrap_or_default();
    let (notice, failed) = match run {
        Ok(done) => (done, false),
        Err(e) if e.status.is_client_error() => (format!("Not saved: {}", e.message), true),
        Err(e) => return failure(e, "/admin/integrations"),
    };
    render(state, console, slug, Some(notice), failed)
        .await
        .unwrap_or_else(|e| {
            let back = format!("/admin/integrations?team={}", url_escape(slug));
            failure(e, &back)
        })
}

pub async fn integration_form(
    State(state): State<AppState>,
    console: Console,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(refused) = console.refusal_of_form(field(&fields, "csrf_token").unwrap_or("")) {
        return refused;
    }
    let run = run_form(&state, &console, &fields).await;
    after(&state, &console, &fields, run).await
}

async fn run_form(
    state: &AppState,
    console: &Console,
    fields: &[(String, String)],
) -> ApiResult<String> {
    let (_, team) = console
        .team_choice(
            state,
            Permission::ManageConnectors,
            field(fields, "team").unwrap_or_default(),
        )
        .await?;
    let principal = &console.principal;
    let now = state.clock.now();
    match field(fields, "do").unwrap_or_default() {
        "set_connector" => {
            let category = category_of(field(fields, "category").unwrap_or_default())?;
            let port = match field(fields, "port") {
                Some(p) => Some(p.parse().map_err(|_| {
                    ApiError::unprocessable("invalid_field", "`port` must be a number")
                })?),
                None => None,
            };
            let body = ConnectorBody {
                kind: owned(fields, "kind").unwrap_or_default(),
                url: owned(fields, "url"),
                secret: owned(fields, "secret"),
                host: owned(fields, "host"),
                port,
                from: owned(fields, "from"),
                username: owned(fields, "username"),
                password: owned(fields, "password"),
                tls: owned(fields, "tls"),
            };
            let shown = set_connector(state, principal, &team, category, body).await?;
            Ok(format!(
                "{category} now runs through the {} connector.",
                shown.kind
            ))
        }
        "test_connector" => {
            let category = category_of(field(fields, "category").unwrap_or_default())?;
            let report = test_send(state, &team, category, field(fields, "to")).await?;
            Ok(report_text(&format!("the {category} connector"), &report))
        }
        "add_channel" => {
            if !principal.can(Permission::ManageChannels, Some(team.id)) {
                return Err(ApiError::forbidden(
                    "forbidden",
                    "your role may not manage channels",
                ));
            }
            let to = field(fields, "to").map(|t| {
                t.split([',', ' ', '\n'])
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect()
            });
            let body = ChannelBody {
                kind: owned(fields, "kind").unwrap_or_default(),
                url: owned(fields, "url"),
                secret: owned(fields, "secret"),
                to,
                smtp: None,
            };
            let config = channels::config(body, state.settings.smtp.is_some())?;
            let c = channels::create(state.store.as_ref(), &team, config, &principal.actor, now)
                .await?;
            Ok(format!("Channel {} added.", c.id))
        }
        "test_channel" | "remove_channel" => {
            if !principal.can(Permission::ManageChannels, Some(team.id)) {
                return Err(ApiError::forbidden(
                    "forbidden",
                    "your role may not manage channels",
                ));
            }
            let id = field(fields, "channel").unwrap_or_default();
            let channel = channels::of_team(state.store.as_ref(), &team, id).await?;
            if field(fields, "do") == Some("remove_channel") {
                channels::delete(state.store.as_ref(), &team, &channel, &principal.actor, now)
                    .await?;
                return Ok(format!("Channel {id} removed."));
            }
            let outcome = crate::notify::test_channel(state, &channel, &team.slug).await;
            Ok(report_text(&format!("channel {id}"), &outcome.into()))
        }
        other => Err(ApiError::bad_request(
            "invalid_field",
            format!("unknown form action `{other}`"),
        )),
    }
}
