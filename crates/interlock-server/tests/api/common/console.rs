//! A console client for HTTP tests: a cookie-carrying client that signs in through the
//! login form, as a browser would (without following redirects, to see them).

use reqwest::StatusCode;

use super::TestServer;

pub const PASSWORD: &str = "correct horse battery staple";

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `name=value` of a Set-Cookie header with that name.
pub fn set_cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// The value of the hidden `csrf_token` field of a page.
pub fn csrf_field(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .expect("a csrf_token field")
        + 25;
    html[at..].split('"').next().unwrap().to_owned()
}

pub struct Console {
    pub http: reqwest::Client,
    pub base: String,
}

impl Console {
    pub fn of(s: &TestServer) -> Console {
        Console {
            http: browser(),
            base: s.base.clone(),
        }
    }

    /// Opens the login form and posts it; returns the answer.
    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        let form = self
            .http
            .get(format!("{}/login", self.base))
            .send()
            .await
            .unwrap();
        let csrf_cookie = cookie_pair(&set_cookie(&form, "interlock_login_csrf").unwrap());
        let token = csrf_field(&form.text().await.unwrap());
        self.http
            .post(format!("{}/login", self.base))
            .header("cookie", csrf_cookie)
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf_token", &token),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the session cookie pair.
    pub async fn session(&self, email: &str) -> String {
        let r = self.sign_in(email, PASSWORD).await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{}",
            r.text().await.unwrap()
        );
        cookie_pair(&set_cookie(&r, "interlock_session").unwrap())
    }

    pub async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form as the signed-in person; `fields` go as they are (add the CSRF token).
    pub async fn post_form(
        &self,
        path: &str,
        cookie: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// A page's HTML, asserting the status.
    pub async fn page(&self, path: &str, cookie: &str, status: StatusCode) -> String {
        let r = self.get(path, cookie).await;
        let got = r.status();
        let html = r.text().await.unwrap();
        assert_eq!(got, status, "{path}: {html}");
        html
    }
}
