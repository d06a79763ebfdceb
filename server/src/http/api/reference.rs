//! The API's own description: the OpenAPI 3 document at `/v1/api/openapi.json`, collected
//! from the handlers [`super::services`] registers, and a reference page at
//! `/v1/api/reference` that renders it in the browser with no outside scripts.

use std::sync::LazyLock;

use actix_web::{HttpResponse, get};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa_actix_web::AppExt;

/// Built once, from the same registration the server uses.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    // unwrap: the document is plain data (strings and maps), which always serialises.
    serde_json::to_string_pretty(&document()).expect("the OpenAPI document serialises")
});

const REFERENCE_PAGE: &str = include_str!("reference.html");

/// The OpenAPI document of everything [`super::services`] registers.
pub fn document() -> OpenApi {
    let info = InfoBuilder::new()
        .title("Baton owner API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "A site owner's API: keys, conversations and their actions, reports, webhooks. See docs/api.md.",
        ))
        .build();
    let (_, mut document) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(OpenApiBuilder::new().info(info).build())
        .configure(super::services)
        .split_for_parts();
    let bearer = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("An API key: baton keys create"));
    document
        .components
        .get_or_insert_with(Default::default)
        .add_security_scheme("bearer", SecurityScheme::Http(bearer.build()));
    document
}

/// This document (no key needed).
#[utoipa::path(operation_id = "openapi", tag = "reference", responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json")))]
#[get("/v1/api/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(DOCUMENT.as_str())
}

/// The document rendered for people (no key needed; the page loads nothing from elsewhere).
#[utoipa::path(operation_id = "reference", tag = "reference", responses((status = 200, description = "An HTML page", content_type = "text/html")))]
#[get("/v1/api/reference")]
pub async fn reference_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
        ))
        .body(REFERENCE_PAGE)
}
