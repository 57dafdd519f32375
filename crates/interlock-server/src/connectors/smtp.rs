//! Email over SMTP (lettre, rustls): the `smtp` connector sends SEND_EMAIL actions, and
//! email channels send notifications, through [`send`].

use std::time::Duration;

use interlock_store::{SmtpServer, SmtpTls};
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{Value, json};

use super::Outcome;

/// One email: plain text, and HTML alongside when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

impl Email {
    /// The email a SEND_EMAIL payload describes (its schema was checked at proposal).
    pub fn from_payload(payload: &Value) -> Result<Email, String> {
        let list = |field: &str| -> Vec<String> {
            match &payload[field] {
                Value::String(s) => vec![s.clone()],
                Value::Array(items) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            }
        };
        let text = |field: &str| payload[field].as_str().map(str::to_owned);
        Ok(Email {
            to: list("to"),
            cc: list("cc"),
            subject: text("subject").ok_or("the payload has no `subject`")?,
            text: text("text").ok_or("the payload has no `text`")?,
            html: text("html").filter(|h| !h.is_empty()),
        })
    }
}

fn transport(
    server: &SmtpServer,
    timeout: Duration,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match server.tls {
        SmtpTls::None => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host.as_str())
        }
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&server.host)
            .map_err(|e| format!("cannot set up STARTTLS to {}: {e}", server.host))?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&server.host)
            .map_err(|e| format!("cannot set up TLS to {}: {e}", server.host))?,
    };
    let mut builder = builder.port(server.port).timeout(Some(timeout));
    if let (Some(user), Some(password)) = (&server.username, &server.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

fn message(server: &SmtpServer, email: &Email) -> Result<Message, String> {
    let parse = |who: &str, addr: &str| -> Result<Mailbox, String> {
        addr.parse()
            .map_err(|e| format!("{who} address `{addr}` is not valid: {e}"))
    };
    let mut builder = Message::builder()
        .from(parse("the sender", &server.from)?)
        .subject(email.subject.clone());
    for to in &email.to {
        builder = builder.to(parse("a recipient", to)?);
    }
    for cc in &email.cc {
        builder = builder.cc(parse("a copied", cc)?);
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(email.text.clone());
    let built = match &email.html {
        Some(html) => builder.multipart(
            MultiPart::alternative().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html.clone()),
            ),
        ),
        None => builder.singlepart(text),
    };
    built.map_err(|e| format!("the email cannot be built: {e}"))
}

/// Sends one email. A 4xx reply or a connection problem is worth retrying; a 5xx reply
/// (the server refused for good) and a malformed address are final.
pub async fn send(server: &SmtpServer, timeout: Duration, email: &Email) -> Outcome {
    if email.to.is_empty() {
        return Outcome::Fail {
            error: "the email has no recipient".to_owned(),
        };
    }
    let message = match message(server, email) {
        Ok(m) => m,
        Err(error) => return Outcome::Fail { error },
    };
    let transport = match transport(server, timeout) {
        Ok(t) => t,
        Err(error) => return Outcome::Fail { error },
    };
    match transport.send(message).await {
        Ok(reply) => {
            let answer = format!(
                "{} {}",
                reply.code(),
                reply.message().collect::<Vec<_>>().join(" ")
            );
            Outcome::Done {
                detail: json!({"connector": "smtp", "answer": answer.trim(), "recipients": email.to.len() + email.cc.len()}),
            }
        }
        Err(e) => refused(server, &e),
    }
}

/// Connects, says hello (and logs in) and quits: a test that sends nothing.
pub async fn check(server: &SmtpServer, timeout: Duration) -> Outcome {
    let transport = match transport(server, timeout) {
        Ok(t) => t,
        Err(error) => return Outcome::Fail { error },
    };
    match transport.test_connection().await {
        Ok(true) => Outcome::Done {
            detail: json!({"connector": "smtp", "answer": format!("{}:{} accepted the connection", server.host, server.port)}),
        },
        Ok(false) => Outcome::Fail {
            error: format!(
                "{}:{} did not accept the connection",
                server.host, server.port
            ),
        },
        Err(e) => refused(server, &e),
    }
}

fn refused(server: &SmtpServer, e: &lettre::transport::smtp::Error) -> Outcome {
    // lettre's messages name the server and the reply, never the credentials.
    let error = format!("the SMTP server {}:{} said: {e}", server.host, server.port);
    if e.is_permanent() {
        Outcome::Fail { error }
    } else {
        Outcome::Retry { error }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_email_payload_becomes_an_email_with_one_or_many_recipients() {
        let one = Email::from_payload(&json!({"to": "a@x.example", "subject": "S", "text": "T"}))
            .unwrap();
        assert_eq!(one.to, ["a@x.example"]);
        assert_eq!(one.html, None);
        let many = Email::from_payload(&json!({
            "to": ["a@x.example", "b@x.example"], "cc": ["c@x.example"],
            "subject": "S", "text": "T", "html": "<p>T</p>"
        }))
        .unwrap();
        assert_eq!(many.to.len(), 2);
        assert_eq!(many.cc, ["c@x.example"]);
        assert_eq!(many.html.as_deref(), Some("<p>T</p>"));
    }

    #[tokio::test]
    async fn every_tls_mode_builds_a_transport() {
        // As in `build_state`: ring is the one rustls provider in the build.
        let _ = rustls::crypto::ring::default_provider().install_default();
        for tls in [SmtpTls::None, SmtpTls::Starttls, SmtpTls::Tls] {
            let server = SmtpServer {
                host: "smtp.example.com".into(),
                port: 587,
                from: "i@example.com".into(),
                username: Some("u".into()),
                password: Some("p".into()),
                tls,
            };
            assert!(
                transport(&server, Duration::from_secs(1)).is_ok(),
                "{tls:?}"
            );
        }
    }
}
