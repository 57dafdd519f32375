//! A notification as an email: plain text and HTML with the same content.

use super::render::Notice;
use crate::connectors::smtp::Email;

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn email(n: &Notice, to: Vec<String>) -> Email {
    let mut text = format!("{}\n\n{}\n\n", n.headline, n.title);
    for (label, value) in &n.facts {
        text.push_str(&format!("{label}: {value}\n"));
    }
    if let Some(url) = &n.link {
        text.push_str(&format!("\nOpen in Interlock: {url}\n"));
    }
    let mut html = format!(
        "<p><strong>{}</strong></p>\n<p>{}</p>\n<table>\n",
        escape_html(&n.headline),
        escape_html(&n.title)
    );
    for (label, value) in &n.facts {
        html.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td>{}</td></tr>\n",
            escape_html(label),
            escape_html(value)
        ));
    }
    html.push_str("</table>\n");
    if let Some(url) = &n.link {
        html.push_str(&format!(
            "<p><a href=\"{}\">Open in Interlock</a></p>\n",
            escape_html(url)
        ));
    }
    Email {
        to,
        cc: Vec::new(),
        subject: format!("[Interlock] {}: {}", n.headline, n.title),
        text,
        html: Some(html),
    }
}
