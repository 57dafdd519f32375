//! The JSON API under `/v1` (SPEC §16), and the operations endpoints.

pub mod actions;
pub(crate) mod audit;
mod cards;
pub(crate) mod channels;
pub use audit::{CSV_HEADER as AUDIT_CSV_HEADER, csv_line as audit_csv_line};
pub(crate) mod connectors;
mod events;
pub mod extract;
mod keys;
mod ops;
mod plans;
mod rules;
mod teams;
mod users;
pub mod views;

use axum::Router;
use axum::extract::{FromRequest, Request};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::state::AppState;
use extract::ApiJson;

/// Every error answer: a stable machine-readable code, a message for people, details.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// A JSON body that may also be absent (empty), for commands whose fields are optional.
#[derive(Debug)]
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let empty = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() == b"0")
            || (req
                .headers()
                .get(axum::http::header::CONTENT_LENGTH)
                .is_none()
                && req
                    .headers()
                    .get(axum::http::header::TRANSFER_ENCODING)
                    .is_none());
        if empty {
            return Ok(OptionalJson(T::default()));
        }
        ApiJson::<T>::from_request(req, state)
            .await
            .map(|ApiJson(v)| OptionalJson(v))
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Interlock API", description = "The safety catch between AI agents and the outside world."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "actions", description = "Propose and read actions"),
        (name = "decisions", description = "Approve, hold, reject, withdraw, retry, dismiss"),
        (name = "plans"), (name = "rules"), (name = "teams"), (name = "keys"), (name = "users"),
        (name = "connectors"), (name = "channels"), (name = "cards"), (name = "audit"), (name = "events"), (name = "operations"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The whole HTTP surface; the OpenAPI document is generated from these handlers.
pub fn router(state: AppState) -> Router {
    let (api, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(actions::routes())
        .merge(plans::routes())
        .merge(rules::routes())
        .merge(teams::routes())
        .merge(keys::routes())
        .merge(users::routes())
        .merge(connectors::routes())
        .merge(channels::routes())
        .merge(cards::routes())
        .merge(audit::routes())
        .merge(events::routes())
        .merge(ops::routes())
        .split_for_parts();
    let doc = std::sync::Arc::new(doc);
    api.route(
        "/openapi.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc.as_ref().clone()) }
        }),
    )
    .merge(crate::web::routes())
    .fallback(|| async { ApiError::not_found("route") })
    .with_state(state)
}
