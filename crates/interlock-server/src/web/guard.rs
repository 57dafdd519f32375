//! Who is looking at a console page: the signed-in person, their rights, and the session's
//! CSRF token that every form they submit must carry.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use interlock_store::{Team, UserRecord};

use super::{MessagePage, page};
use crate::auth::session;
use crate::auth::{Permission, Principal, constant_time_eq};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A signed-in person on a console page. Pages without one redirect to `/login`.
#[derive(Debug, Clone)]
pub struct Console {
    pub user: UserRecord,
    pub principal: Principal,
    pub csrf_token: String,
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Console, Response> {
        match session::current(state, &parts.headers).await {
            Ok(Some((s, user))) => Ok(Console {
                principal: Principal::person(&user, None),
                user,
                csrf_token: s.csrf_token,
            }),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(failure(e, "/")),
        }
    }
}

/// The navigation bar's facts, shared by every signed-in page.
#[derive(Debug, Clone)]
pub struct Nav {
    pub email: String,
    pub csrf_token: String,
    /// Which page is open: `inbox`, `rules`, `audit`, `admin` or `account`.
    pub active: &'static str,
    pub admin: bool,
}

impl Console {
    pub fn nav(&self, active: &'static str) -> Nav {
        Nav {
            email: self.user.email.clone(),
            csrf_token: self.csrf_token.clone(),
            active,
            admin: self.principal.can(Permission::ReadUsers, None),
        }
    }

    /// The teams on which the person may do `permission`, and the one named by `slug`
    /// (the first of them when `slug` is empty); 404 when there is none.
    pub async fn team_choice(
        &self,
        state: &AppState,
        permission: Permission,
        slug: &str,
    ) -> ApiResult<(Vec<Team>, Team)> {
        let teams: Vec<Team> = state
            .store
            .list_teams()
            .await?
            .into_iter()
            .filter(|t| self.principal.can(permission, Some(t.id)))
            .collect();
        let chosen = if slug.is_empty() {
            teams.first()
        } else {
            teams.iter().find(|t| t.slug == slug)
        };
        let chosen = chosen.cloned().ok_or_else(|| ApiError::not_found("team"))?;
        Ok((teams, chosen))
    }

    /// Every console form carries the session's token; a form from another site cannot.
    /// Returns the refusal page when the token is not the session's.
    pub fn refusal_of_form(&self, sent: &str) -> Option<Response> {
        if constant_time_eq(sent, &self.csrf_token) {
            None
        } else {
            Some(page(
                StatusCode::FORBIDDEN,
                &MessagePage {
                    title: "Form expired",
                    message: "This form did not come from your session. Reload the page and retry."
                        .to_owned(),
                    back: "/",
                },
            ))
        }
    }
}

/// An error as a console page: the API's message, except for server faults, whose
/// details stay in the log.
pub fn failure(e: ApiError, back: &str) -> Response {
    if e.status.is_server_error() {
        return e.into_response();
    }
    let title = match e.status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::CONFLICT => "Changed in the meantime",
        StatusCode::TOO_MANY_REQUESTS => "Slow down",
        _ => "Not done",
    };
    page(
        e.status,
        &MessagePage {
            title,
            message: e.message,
            back,
        },
    )
}
