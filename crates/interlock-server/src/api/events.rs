//! `GET /v1/events`: server-sent events of action changes in the caller's teams.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Permission, Principal};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

/// A live stream: one `action` event per change (`action_id`, `team_id`, `status`,
/// `version`); read the action for details. `resync` means events were missed.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    responses((status = 200, description = "text/event-stream", content_type = "text/event-stream", body = String)))]
pub async fn events(
    State(state): State<AppState>,
    principal: Principal,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(state.events.subscribe()).filter_map(move |item| {
        let principal = principal.clone();
        async move {
            match item {
                Ok(ev) => {
                    let visible = principal.can(Permission::ReadActions, Some(ev.team_id))
                        && (!principal.is_agent() || ev.proposed_by == principal.actor.id);
                    visible.then(|| {
                        Ok(Event::default()
                            .event("action")
                            .json_data(&ev)
                            .unwrap_or_default())
                    })
                }
                Err(BroadcastStreamRecvError::Lagged(n)) => Some(Ok(Event::default()
                    .event("resync")
                    .data(format!("{n} events were missed")))),
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
