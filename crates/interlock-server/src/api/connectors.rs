//! `/v1/teams/{team}/connectors`: how each category's approved actions are carried out.

use axum::Json;
use axum::extract::{Path, State};
use interlock_core::Category;
use interlock_store::{AuditDraft, ConnectorConfig, Team};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, team_for};
use super::{ErrorBody, OptionalJson};
use crate::auth::{Permission, Principal};
use crate::connectors::{default_for, kind_name};
use crate::error::{ApiError, ApiResult};
use crate::service::channels::{SmtpBody, check_secret, check_url, smtp_server};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_connectors))
        .routes(routes!(put_connector))
        .routes(routes!(test_connector))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorBody {
    /// `log`, `webhook`, `smtp` (SEND_EMAIL) or `builtin` (INTERNAL_NOTE, ESCALATE).
    pub kind: String,
    /// webhook: where to POST.
    #[serde(default)]
    pub url: Option<String>,
    /// webhook: signs deliveries (HMAC-SHA256); never shown again.
    #[serde(default)]
    pub secret: Option<String>,
    /// smtp: the server.
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    /// smtp: the sender address.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    /// smtp: never shown again.
    #[serde(default)]
    pub password: Option<String>,
    /// smtp: `none`, `starttls` (the default) or `tls`.
    #[serde(default)]
    pub tls: Option<String>,
}

/// A connector as shown: secrets redacted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorView {
    pub category: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// smtp: host, port, from, username and TLS mode (never the password).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub smtp: Option<serde_json::Value>,
    /// Whether a secret (webhook secret, SMTP password) is set (it is never shown).
    pub has_secret: bool,
}

fn view(category: Category, c: &ConnectorConfig) -> ConnectorView {
    ConnectorView {
        category: category.as_str().to_owned(),
        kind: kind_name(c).to_owned(),
        url: match c {
            ConnectorConfig::Webhook { url, .. } => Some(url.clone()),
            _ => None,
        },
        smtp: c.smtp_server().map(|s| {
            json!({"host": s.host, "port": s.port, "from": s.from, "username": s.username, "tls": s.tls})
        }),
        has_secret: match c {
            ConnectorConfig::Webhook { .. } => true,
            ConnectorConfig::Smtp { password, .. } => password.is_some(),
            _ => false,
        },
    }
}

fn invalid(message: &str) -> ApiError {
    ApiError::unprocessable("invalid_field", message)
}

/// Checks a connector body for a category: every field its kind needs, none it does not.
fn config(category: Category, b: ConnectorBody) -> ApiResult<ConnectorConfig> {
    let smtp_fields = b.host.is_some()
        || b.port.is_some()
        || b.from.is_some()
        || b.username.is_some()
        || b.password.is_some()
        || b.tls.is_some();
    let hook_fields = b.url.is_some() || b.secret.is_some();
    match b.kind.as_str() {
        "log" if !smtp_fields && !hook_fields => Ok(ConnectorConfig::Log),
        "log" => Err(invalid("the log connector takes no other field")),
        "builtin" if !matches!(category, Category::InternalNote | Category::Escalate) => Err(
            invalid("the builtin connector carries out INTERNAL_NOTE and ESCALATE only"),
        ),
        "builtin" if !smtp_fields && !hook_fields => Ok(ConnectorConfig::Builtin),
        "builtin" => Err(invalid("the builtin connector takes no other field")),
        "webhook" => match (b.url, b.secret, smtp_fields) {
            (Some(url), Some(secret), false) => {
                check_url(&url)?;
                check_secret(&secret)?;
                Ok(ConnectorConfig::Webhook { url, secret })
            }
            _ => Err(invalid(
                "a webhook connector needs `url` and `secret`, nothing else",
            )),
        },
        "smtp" if category != Category::SendEmail => {
            Err(invalid("the smtp connector sends SEND_EMAIL actions only"))
        }
        "smtp" => match (b.host, b.port, b.from, hook_fields) {
            (Some(host), Some(port), Some(from), false) => {
                let s = smtp_server(SmtpBody {
                    host,
                    port,
                    from,
                    username: b.username,
                    password: b.password,
                    tls: b.tls,
                })?;
                Ok(ConnectorConfig::Smtp {
                    host: s.host,
                    port: s.port,
                    from: s.from,
                    username: s.username,
                    password: s.password,
                    tls: s.tls,
                })
            }
            _ => Err(invalid(
                "an smtp connector needs `host`, `port` and `from` (and may take `username`, `password`, `tls`)",
            )),
        },
        other => Err(ApiError::unprocessable(
            "unknown_connector",
            format!("unknown connector kind `{other}`; use log, webhook, smtp or builtin"),
        )),
    }
}

pub(crate) fn category_of(text: &str) -> ApiResult<Category> {
    text.parse().map_err(|e: interlock_core::ParseNameError| {
        ApiError::unprocessable("unknown_category", e.to_string())
    })
}

/// Set the connector of one category.
#[utoipa::path(put, path = "/v1/teams/{team}/connectors/{category}", tag = "connectors",
    params(("team" = String, Path), ("category" = String, Path)), request_body = ConnectorBody,
    responses((status = 200, body = ConnectorView), (status = 422, body = ErrorBody)))]
pub async fn put_connector(
    State(state): State<AppState>,
    principal: Principal,
    Path((team, category)): Path<(String, String)>,
    ApiJson(body): ApiJson<ConnectorBody>,
) -> ApiResult<Json<ConnectorView>> {
    let team = team_for(&state, &principal, &team, Permission::ManageConnectors).await?;
    let category = category_of(&category)?;
    Ok(Json(
        set_connector(&state, &principal, &team, category, body).await?,
    ))
}

/// Checks and saves a category's connector, audited; shared by the API and the console.
pub(crate) async fn set_connector(
    state: &AppState,
    principal: &Principal,
    team: &Team,
    category: Category,
    body: ConnectorBody,
) -> ApiResult<ConnectorView> {
    let config = config(category, body)?;
    let shown = view(category, &config);
    let audit = AuditDraft {
        team_id: Some(team.id),
        actor: principal.actor.clone(),
        subject: Some(format!("{}/{}", team.slug, category)),
        event: "connector.changed".to_owned(),
        data: json!({"category": category, "kind": shown.kind, "url": shown.url}),
    };
    state
        .store
        .set_connector(team.id, category, config, state.clock.now(), audit)
        .await?;
    state.connectors.forget(Some(team.id));
    Ok(shown)
}

#[utoipa::path(get, path = "/v1/teams/{team}/connectors", tag = "connectors", params(("team" = String, Path)),
    responses((status = 200, body = Vec<ConnectorView>)))]
pub async fn list_connectors(
    State(state): State<AppState>,
    principal: Principal,
    Path(team): Path<String>,
) -> ApiResult<Json<Vec<ConnectorView>>> {
    let team = team_for(&state, &principal, &team, Permission::ManageConnectors).await?;
    Ok(Json(team_connectors(&state, &team).await?))
}

/// Every category's connector of a team, the default where none is set.
pub(crate) async fn team_connectors(
    state: &AppState,
    team: &Team,
) -> ApiResult<Vec<ConnectorView>> {
    let set = state.store.connectors(team.id).await?;
    Ok(Category::ALL
        .into_iter()
        .map(|c| {
            let config = set
                .iter()
                .find(|(cat, _)| *cat == c)
                .map_or_else(|| default_for(c), |(_, cfg)| cfg.clone());
            view(c, &config)
        })
        .collect())
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestConnectorBody {
    /// smtp: send a test email to this address; without it, only connect and log in.
    #[serde(default)]
    pub to: Option<String>,
}

/// Send a test through a category's connector and report the receiver's answer. Nothing
/// is executed: a webhook gets a signed `test` event, an SMTP server a test email.
#[utoipa::path(post, path = "/v1/teams/{team}/connectors/{category}/test", tag = "connectors",
    params(("team" = String, Path), ("category" = String, Path)), request_body = Option<TestConnectorBody>,
    responses((status = 200, body = super::channels::TestReport), (status = 422, body = ErrorBody)))]
pub async fn test_connector(
    State(state): State<AppState>,
    principal: Principal,
    Path((team, category)): Path<(String, String)>,
    OptionalJson(body): OptionalJson<TestConnectorBody>,
) -> ApiResult<Json<super::channels::TestReport>> {
    let team = team_for(&state, &principal, &team, Permission::ManageConnectors).await?;
    let category = category_of(&category)?;
    if let Some(to) = &body.to
        && (to.len() > 320 || to.parse::<lettre::message::Mailbox>().is_err())
    {
        return Err(invalid("`to` is not an email address"));
    }
    Ok(Json(
        test_send(&state, &team, category, body.to.as_deref()).await?,
    ))
}

/// Sends a test through a category's connector; shared by the API and the console.
pub(crate) async fn test_send(
    state: &AppState,
    team: &Team,
    category: Category,
    to: Option<&str>,
) -> ApiResult<super::channels::TestReport> {
    let config = state
        .store
        .connector(team.id, category)
        .await?
        .unwrap_or_else(|| default_for(category));
    let outcome = crate::connectors::test(state, category, &config, to).await;
    Ok(outcome.into())
}
