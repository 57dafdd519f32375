//! `/admin`: teams, people and keys for admins and owners. Each form calls the same
//! service functions as the API and the CLI, under the same permission table; a new key's
//! token is shown once, on the page that created it.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use interlock_store::{KeyKind, Team};
use uuid::Uuid;

use super::guard::{Console, Nav, failure};
use super::page;
use super::rows::time_text;
use crate::auth::Permission;
use crate::error::{ApiError, ApiResult};
use crate::service::{admin, people};
use crate::state::AppState;

#[derive(Debug)]
struct PersonRow {
    id: String,
    email: String,
    role: &'static str,
    teams: String,
    team_slugs: Vec<String>,
    locked: bool,
}

impl PersonRow {
    fn in_team(&self, slug: &str) -> bool {
        self.team_slugs.iter().any(|s| s == slug)
    }
}

#[derive(Debug)]
struct KeyRow {
    id: String,
    kind: &'static str,
    owner: String,
    name: String,
    created: String,
    last_used: String,
    state: String,
    revoked: bool,
}

#[derive(askama::Template)]
#[template(path = "admin.html")]
struct AdminPage {
    nav: Nav,
    csrf_token: String,
    teams: Vec<Team>,
    people: Vec<PersonRow>,
    keys: Vec<KeyRow>,
    manage_teams: bool,
    manage_people: bool,
    manage_keys: bool,
    /// A key just created: shown once.
    new_token: Option<String>,
    notice: Option<String>,
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.trim())
}

fn require(console: &Console, permission: Permission) -> ApiResult<()> {
    if console.principal.can(permission, None) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "forbidden",
            "your role may not change this",
        ))
    }
}

async fn load(
    state: &AppState,
    console: &Console,
    new_token: Option<String>,
    notice: Option<String>,
) -> ApiResult<AdminPage> {
    require(console, Permission::ReadUsers)?;
    let teams = state.store.list_teams().await?;
    let slug = |id: &Uuid| {
        teams
            .iter()
            .find(|t| t.id == *id)
            .map_or_else(|| id.to_string(), |t| t.slug.clone())
    };
    let users = state.store.list_users().await?;
    let people = users
        .iter()
        .map(|u| PersonRow {
            id: u.id.to_string(),
            email: u.email.clone(),
            role: u.role.as_str(),
            teams: u.teams.iter().map(slug).collect::<Vec<_>>().join(", "),
            team_slugs: u.teams.iter().map(slug).collect(),
            locked: u.locked_until.is_some_and(|t| t > chrono::Utc::now()),
        })
        .collect();
    let keys = state
        .store
        .list_keys()
        .await?
        .iter()
        .map(|k| KeyRow {
            id: k.id.clone(),
            kind: k.kind.as_str(),
            owner: match (k.team_id, k.user_id) {
                (Some(t), _) => format!("team {}", slug(&t)),
                (_, Some(u)) => users
                    .iter()
                    .find(|p| p.id == u)
                    .map_or_else(|| u.to_string(), |p| p.email.clone()),
                _ => "deployment".to_owned(),
            },
            name: k.name.clone().unwrap_or_default(),
            created: time_text(k.created_at),
            last_used: k
                .last_used_at
                .map(time_text)
                .unwrap_or_else(|| "never".into()),
            state: match (k.revoked_at, k.expires_at) {
                (Some(at), _) => format!("revoked {}", time_text(at)),
                (None, Some(at)) if at <= chrono::Utc::now() => {
                    format!("expired {}", time_text(at))
                }
                (None, Some(at)) => format!("expires {}", time_text(at)),
                (None, None) => "active".to_owned(),
            },
            revoked: k.revoked_at.is_some(),
        })
        .collect();
    let can = |p| console.principal.can(p, None);
    Ok(AdminPage {
        nav: console.nav("admin"),
        csrf_token: console.csrf_token.clone(),
        teams,
        people,
        keys,
        manage_teams: can(Permission::ManageDeployment),
        manage_people: can(Permission::ManageUsers),
        manage_keys: can(Permission::ManageKeys),
        new_token,
        notice,
    })
}

pub async fn admin_page(State(state): State<AppState>, console: Console) -> Response {
    match load(&state, &console, None, None).await {
        Ok(p) => page(StatusCode::OK, &p),
        Err(e) => failure(e, "/inbox"),
    }
}

/// Runs a form's change after the CSRF check, then goes back to the admin page.
async fn change<F>(console: &Console, fields: &[(String, String)], run: F) -> Response
where
    F: AsyncFnOnce() -> ApiResult<()>,
{
    if let Some(refused) = console.refusal_of_form(field(fields, "csrf_token")) {
        return refused;
    }
    match run().await {
        Ok(()) => Redirect::to("/admin").into_response(),
        Err(e) => failure(e, "/admin"),
    }
}

pub async fn create_team(
    State(state): State<AppState>,
    console: Console,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    change(&console, &fields, async || {
        require(&console, Permission::ManageDeployment)?;
        let actor = &console.principal.actor;
        let (slug, name) = (field(&fields, "slug"), field(&fields, "name"));
        admin::create_team(state.store.as_ref(), slug, name, actor, state.clock.now()).await?;
        Ok(())
    })
    .await
}

/// The team ids named in a form (`team` inputs, one per ticked team).
async fn picked_teams(state: &AppState, fields: &[(String, String)]) -> ApiResult<Vec<Uuid>> {
    let slugs: Vec<String> = fields
        .iter()
        .filter(|(n, v)| n == "team" && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect();
    people::team_ids(state.store.as_ref(), &slugs).await
}

pub async fn add_person(
    State(state): State<AppState>,
    console: Console,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    change(&console, &fields, async || {
        require(&console, Permission::ManageUsers)?;
        let role = people::parse_role(field(&fields, "role"))?;
        let teams = picked_teams(&state, &fields).await?;
        let password = Some(field(&fields, "password")).filter(|p| !p.is_empty());
        let actor = &console.principal.actor;
        let email = field(&fields, "email");
        let now = state.clock.now();
        people::add(
            state.store.as_ref(),
            email,
            role,
            teams,
            password,
            actor,
            now,
        )
        .await?;
        Ok(())
    })
    .await
}

fn user_id(id: &str) -> ApiResult<Uuid> {
    id.parse().map_err(|_| ApiError::not_found("user"))
}

pub async fn set_role(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    change(&console, &fields, async || {
        require(&console, Permission::ManageUsers)?;
        let role = people::parse_role(field(&fields, "role"))?;
        let teams = picked_teams(&state, &fields).await?;
        let actor = &console.principal.actor;
        let now = state.clock.now();
        people::set_role(state.store.as_ref(), user_id(&id)?, role, teams, actor, now).await?;
        Ok(())
    })
    .await
}

pub async fn remove_person(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    change(&console, &fields, async || {
        require(&console, Permission::ManageUsers)?;
        if console.user.id.to_string() == id {
            return Err(ApiError::conflict(
                "self_removal",
                "you cannot remove yourself; ask another owner",
            ));
        }
        let actor = &console.principal.actor;
        people::remove(
            state.store.as_ref(),
            user_id(&id)?,
            actor,
            state.clock.now(),
        )
        .await
    })
    .await
}

pub async fn create_key(
    State(state): State<AppState>,
    console: Console,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(refused) = console.refusal_of_form(field(&fields, "csrf_token")) {
        return refused;
    }
    let created = async {
        require(&console, Permission::ManageKeys)?;
        let team = match field(&fields, "team") {
            "" => None,
            slug => Some(
                state
                    .teams
                    .by_slug(&state.store, slug)
                    .await?
                    .ok_or_else(|| ApiError::not_found("team"))?,
            ),
        };
        let kind = match field(&fields, "kind") {
            "agent" => KeyKind::Agent,
            "admin" => KeyKind::Admin,
            other => {
                return Err(ApiError::unprocessable(
                    "invalid_field",
                    format!("unknown key kind `{other}`; use agent or admin"),
                ));
            }
        };
        let new = admin::NewKey {
            kind,
            team: team.as_ref().filter(|_| kind == KeyKind::Agent),
            user_id: None,
            name: Some(field(&fields, "name").to_owned()).filter(|n| !n.is_empty()),
            expires_at: None,
        };
        let actor = &console.principal.actor;
        admin::create_key(state.store.as_ref(), new, actor, state.clock.now()).await
    }
    .await;
    let result = match created {
        Ok(key) => {
            let notice = format!(
                "Key {} created. Copy its token now: it is not stored and will not be shown again.",
                key.record.id
            );
            load(&state, &console, Some(key.token), Some(notice)).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => page(StatusCode::CREATED, &p),
        Err(e) => failure(e, "/admin"),
    }
}

pub async fn revoke_key(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    change(&console, &fields, async || {
        require(&console, Permission::ManageKeys)?;
        let actor = &console.principal.actor;
        admin::revoke_key(state.store.as_ref(), &id, actor, state.clock.now()).await?;
        Ok(())
    })
    .await
}
