//! Signing in and out. The login form is protected against CSRF by a double-submit token
//! (a cookie and a hidden field that must match); once signed in, every form carries the
//! session's own CSRF token.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::guard::{Console, Nav};
use super::{MessagePage, page};
use crate::auth::constant_time_eq;
use crate::auth::session::{self, COOKIE, LIFETIME};
use crate::service::people::{self, LoginOutcome};
use crate::state::AppState;

const LOGIN_CSRF_COOKIE: &str = "interlock_login_csrf";

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf_token: String,
    email: String,
    error: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    email: String,
    role: &'static str,
    teams: Vec<String>,
}

fn with_cookie(mut resp: Response, cookie: String) -> Response {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// The login form, with a fresh double-submit token.
fn login_form(
    headers: &HeaderMap,
    status: StatusCode,
    email: String,
    error: Option<String>,
) -> Response {
    let token = session::random_token();
    let resp = page(
        status,
        &LoginPage {
            csrf_token: token.clone(),
            email,
            error,
        },
    );
    with_cookie(
        resp,
        session::set_cookie(LOGIN_CSRF_COOKIE, &token, 3600, session::is_https(headers)),
    )
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match session::current(&state, &headers).await {
        Ok(Some(_)) => Redirect::to("/inbox").into_response(),
        _ => Redirect::to("/login").into_response(),
    }
}

pub async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Ok(Some(_)) = session::current(&state, &headers).await {
        return Redirect::to("/").into_response();
    }
    login_form(&headers, StatusCode::OK, String::new(), None)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
}

fn refused(status: StatusCode, title: &str, message: String, back: &str) -> Response {
    page(
        status,
        &MessagePage {
            title,
            message,
            back,
        },
    )
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = session::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !constant_time_eq(expected, &form.csrf_token) {
        let msg =
            "The sign-in form expired or did not come from this site. Open it again and retry."
                .to_owned();
        return refused(StatusCode::FORBIDDEN, "Form expired", msg, "/login");
    }
    let address = peer.ip().to_string();
    if let Err(wait) = state.login_limits.check(&address) {
        let msg = format!(
            "Too many sign-in attempts from your address. Try again in {} s.",
            wait.as_secs() + 1
        );
        let mut resp = refused(StatusCode::TOO_MANY_REQUESTS, "Slow down", msg, "/login");
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs() + 1));
        return resp;
    }
    let now = Utc::now();
    match people::login(
        state.store.as_ref(),
        &form.email,
        &form.password,
        &address,
        now,
    )
    .await
    {
        Ok(LoginOutcome::Success(user)) => match session::start(&state, &user, now).await {
            Ok((token, _)) => {
                let secure = session::is_https(&headers);
                let resp = Redirect::to("/").into_response();
                let resp = with_cookie(
                    resp,
                    session::set_cookie(COOKIE, &token, LIFETIME.num_seconds(), secure),
                );
                with_cookie(resp, session::set_cookie(LOGIN_CSRF_COOKIE, "", 0, secure))
            }
            Err(e) => e.into_response(),
        },
        Ok(LoginOutcome::Refused) => login_form(
            &headers,
            StatusCode::UNAUTHORIZED,
            form.email,
            Some("Wrong email or password.".to_owned()),
        ),
        Ok(LoginOutcome::Locked(wait)) => {
            let minutes = wait.as_secs().div_ceil(60).max(1);
            let msg = format!(
                "Too many failed sign-ins for this account. It is locked for {minutes} more minute(s)."
            );
            let mut resp = refused(
                StatusCode::TOO_MANY_REQUESTS,
                "Account locked",
                msg,
                "/login",
            );
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
            resp
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let current = match session::current(&state, &headers).await {
        Ok(Some((s, _))) => s,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(e) => return e.into_response(),
    };
    if !constant_time_eq(&form.csrf_token, &current.csrf_token) {
        let msg = "This form did not come from your session. Reload the page and retry.".to_owned();
        return refused(StatusCode::FORBIDDEN, "Form expired", msg, "/");
    }
    if let Err(e) = state.store.delete_session(&current.id_hash).await {
        return crate::error::ApiError::from(e).into_response();
    }
    let resp = Redirect::to("/login").into_response();
    with_cookie(
        resp,
        session::set_cookie(COOKIE, "", 0, session::is_https(&headers)),
    )
}

pub async fn account(State(state): State<AppState>, console: Console) -> Response {
    let mut teams = Vec::new();
    for t in &console.user.teams {
        match state.teams.slug(&state.store, *t).await {
            Ok(slug) => teams.push(slug),
            Err(e) => return crate::error::ApiError::from(e).into_response(),
        }
    }
    page(
        StatusCode::OK,
        &AccountPage {
            nav: console.nav("account"),
            email: console.user.email.clone(),
            role: console.user.role.as_str(),
            teams,
        },
    )
}
