//! `/v1/teams/{team}/connectors`: how each category's approved actions are carried out.

use axum::Json;
use axum::extract::{Path, State};
use interlock_core::Category;
use interlock_store::{AuditDraft, ConnectorConfig};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::extract::{ApiJson, team_for};
use crate::auth::{Permission, Principal};
use crate::connectors::kind_name;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_connectors))
        .routes(routes!(put_connector))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorBody {
    /// `log` or `webhook`.
    pub kind: String,
    #[serde(default)]
    pub url: Option<String>,
    /// Signs deliveries (HMAC-SHA256); never shown again.
    #[serde(default)]
    pub secret: Option<String>,
}

/// A connector as shown: secrets redacted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorView {
    pub category: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Whether a secret is set (it is never shown).
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
        has_secret: matches!(c, ConnectorConfig::Webhook { .. }),
    }
}

pub fn check_url(url: &str) -> ApiResult<()> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= 2048
        && !url.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(ApiError::unprocessable(
            "invalid_field",
            "`url` must be an http(s) URL",
        ))
    }
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
    let category: Category = category
        .parse()
        .map_err(|e: interlock_core::ParseNameError| {
            ApiError::unprocessable("unknown_category", e.to_string())
        })?;
    let config = match (body.kind.as_str(), body.url, body.secret) {
        ("log", None, None) => ConnectorConfig::Log,
        ("webhook", Some(url), Some(secret)) => {
            check_url(&url)?;
            if !(16..=256).contains(&secret.len()) {
                return Err(ApiError::unprocessable(
                    "invalid_field",
                    "`secret` is 16 to 256 characters",
                ));
            }
            ConnectorConfig::Webhook { url, secret }
        }
        ("webhook", _, _) => {
            return Err(ApiError::unprocessable(
                "invalid_field",
                "a webhook connector needs `url` and `secret`",
            ));
        }
        ("log", _, _) => {
            return Err(ApiError::unprocessable(
                "invalid_field",
                "the log connector takes no `url` or `secret`",
            ));
        }
        (other, _, _) => {
            return Err(ApiError::unprocessable(
                "unknown_connector",
                format!("unknown connector kind `{other}`; use log or webhook"),
            ));
        }
    };
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
    Ok(Json(shown))
}

/// Every category's connector (`log` where none is set).
#[utoipa::path(get, path = "/v1/teams/{team}/connectors", tag = "connectors", params(("team" = String, Path)),
    responses((status = 200, body = Vec<ConnectorView>)))]
pub async fn list_connectors(
    State(state): State<AppState>,
    principal: Principal,
    Path(team): Path<String>,
) -> ApiResult<Json<Vec<ConnectorView>>> {
    let team = team_for(&state, &principal, &team, Permission::ManageConnectors).await?;
    let set = state.store.connectors(team.id).await?;
    Ok(Json(
        Category::ALL
            .into_iter()
            .map(|c| {
                let config = set
                    .iter()
                    .find(|(cat, _)| *cat == c)
                    .map_or(ConnectorConfig::Log, |(_, cfg)| cfg.clone());
                view(c, &config)
            })
            .collect(),
    ))
}
