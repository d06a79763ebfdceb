//! `GET /v1/resume?t=LINK`: where a resume link in an email leads. A page of this server that
//! opens the site's widget on the conversation the link names, with the whole thread; an
//! expired or forged link gets a page that says so (410), never another conversation.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;

use super::Http;

#[derive(Deserialize)]
pub struct ResumeQuery {
    t: String,
}

#[get("/v1/resume")]
pub async fn resume_page(query: web::Query<ResumeQuery>, http: web::Data<Http>) -> HttpResponse {
    let conversations = &http.visitor.conversations;
    let site = match conversations.resume_site(&query.t).await {
        Ok(Some(site)) => http.sites.get(&site),
        Ok(None) => None,
        Err(error) => {
            tracing::warn!(%error, "resume link not checked: store unavailable");
            return page(HttpResponse::ServiceUnavailable(), "Please try again in a moment", "");
        }
    };
    let Some(site) = site else {
        let body = "<p>This link has expired or is not valid. Open the chat on our website to write to us again.</p>";
        return page(HttpResponse::Gone(), "This link has expired", body);
    };
    // The link and the site id are [a-z0-9._-] only (checked by the signature and the site
    // loader), so they go into the attributes as they are; the title is escaped.
    let script = format!(
        "<script async src=\"/widget.js\" data-site=\"{}\" data-resume=\"{}\"></script>",
        site.config.id, query.t
    );
    page(HttpResponse::Ok(), &site.config.title, &script)
}

fn page(mut response: actix_web::HttpResponseBuilder, title: &str, body: &str) -> HttpResponse {
    let title = escape(title);
    response.content_type("text/html; charset=utf-8").insert_header(("Cache-Control", "no-store")).body(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font:16px system-ui,sans-serif;margin:2rem;color:#1d2433}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
