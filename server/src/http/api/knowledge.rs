//! `/v1/api/sites/{site}/kb`: a site's knowledge base, listed, and its pages uploaded,
//! replaced and deleted (write scope). A page is Markdown or HTML (`Content-Type`), at most
//! `api.max_page_bytes`; its path is the same namespace as the files under
//! `sites/SITE/kb/`, so a page can replace or hide a file. Every node answers from the new
//! content within seconds (`changes`), this node as soon as the request returns.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::{Api, ApiError, ErrorBody, body};
use crate::archive::keys::Scope;
use crate::archive::owner::pages::{PageFormat, StoredPage};
use crate::changes::{pages, scope_of_site};
use crate::knowledge::{Document, KnowledgeBase, page_title};

/// One page of a site's knowledge base.
#[derive(Serialize, ToSchema)]
pub struct Page {
    /// Relative to the knowledge base, `/`-separated, ending in `.md`.
    pub path: String,
    pub title: String,
    pub format: PageFormat,
    /// The page's size as uploaded (as the file, for a page from the folder).
    pub bytes: usize,
    /// `file` (from `sites/SITE/kb/`) or `api` (uploaded).
    pub source: String,
    /// When it was uploaded (absent for a file).
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct PageList {
    pub items: Vec<Page>,
    pub search: SearchStatus,
}

/// How this node searches the site's knowledge base now.
#[derive(Serialize, ToSchema)]
pub struct SearchStatus {
    /// Passages the pages were split into (the current build, this node).
    pub passages: usize,
    /// The embedding model (`llm.embedding_model`), or null: BM25 alone.
    pub embedding_model: Option<String>,
    /// The passages' vectors are in: questions are searched by meaning as well as by words.
    /// False while they are being computed (after a change, or while the embedding server
    /// is away), when searches use BM25 alone.
    pub embedded: bool,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PagePath {
    /// The page's path, e.g. `help/gift-cards.md`.
    pub path: String,
}

/// The site's pages: its folder's files with the uploaded pages over them (read scope).
#[utoipa::path(
    operation_id = "list_pages",
    tag = "knowledge",
    params(("site" = String, Path, description = "The site")),
    responses(
        (status = 200, body = PageList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/api/sites/{site}/kb")]
pub async fn list(caller: Caller, site: web::Path<String>, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    caller.require(&site, Scope::Read)?;
    let changes = api.changes()?;
    let base = changes.base_site(&site).ok_or(ApiError::NotFound("no such site"))?;
    let stored = changes.archive().pages(&site).await?;
    let kb_dir = base.kb_dir.clone();
    let files = tokio::task::spawn_blocking(move || KnowledgeBase::read_folder(&kb_dir))
        .await
        .map_err(|error| ApiError::Unavailable(error.to_string()))?
        .map_err(|error| ApiError::Unavailable(error.to_string()))?;
    let built = api.sites.get(&site).ok_or(ApiError::NotFound("no such site"))?;
    let search = SearchStatus {
        passages: built.knowledge.len(),
        embedding_model: built.embedder.as_ref().map(|embedder| embedder.model().to_owned()),
        embedded: built.knowledge.has_vectors(),
    };
    Ok(HttpResponse::Ok().json(PageList { items: listing(files, &stored), search }))
}

fn listing(files: Vec<Document>, stored: &[StoredPage]) -> Vec<Page> {
    let mut items: Vec<Page> = files
        .into_iter()
        .filter(|file| !stored.iter().any(|page| page.path == file.path))
        .map(|file| Page {
            title: page_title(&file),
            bytes: file.markdown.len(),
            path: file.path,
            format: PageFormat::Md,
            source: "file".into(),
            updated_at: None,
        })
        .collect();
    items.extend(stored.iter().filter(|page| !page.deleted).map(|page| {
        let document = Document { path: page.path.clone(), markdown: page.markdown.clone() };
        Page {
            path: page.path.clone(),
            title: page_title(&document),
            format: page.format,
            bytes: page.body.len(),
            source: "api".into(),
            updated_at: Some(page.updated_at),
        }
    }));
    items.sort_by(|a, b| a.path.cmp(&b.path));
    items
}

/// Uploads or replaces a page (write scope): the body is the page, `Content-Type:
/// text/markdown` or `text/html` (scripts and styles are dropped; headings split it into
/// passages as in Markdown).
#[utoipa::path(
    operation_id = "put_page",
    tag = "knowledge",
    params(("site" = String, Path, description = "The site"), PagePath),
    request_body(content = String, content_type = "text/markdown", description = "The page (or text/html)"),
    responses(
        (status = 200, description = "Stored and indexed on this node", body = Page),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[put("/v1/api/sites/{site}/kb/page")]
pub async fn put(
    req: HttpRequest,
    caller: Caller,
    site: web::Path<String>,
    query: web::Query<PagePath>,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&site, Scope::Write)?;
    let changes = api.changes()?;
    changes.base_site(&site).ok_or(ApiError::NotFound("no such site"))?;
    pages::check_path(&query.path).map_err(ApiError::Invalid)?;
    let format = format_of(&req)?;
    let bytes = body::read(&req, payload, api.settings.max_page_bytes).await?;
    let text =
        String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::Invalid("the page must be UTF-8 text".into()))?;
    let stored = changes.archive().pages(&site).await?;
    let live = stored.iter().filter(|page| !page.deleted && page.path != query.path).count();
    if live >= api.settings.max_pages {
        return Err(ApiError::Conflict(format!("the site has {live} pages, the most api.max_pages allows")));
    }
    let source = text.clone();
    let converted = tokio::task::spawn_blocking(move || pages::to_markdown(format, &source)).await;
    let markdown = converted.map_err(|error| ApiError::Unavailable(error.to_string()))?.map_err(ApiError::Invalid)?;
    let page = StoredPage {
        path: query.path.clone(),
        format,
        body: text,
        markdown,
        deleted: false,
        updated_at: chrono::Utc::now(),
    };
    changes.archive().put_page(&site, &page).await?;
    changes.announce(&scope_of_site(&site)).await?;
    let listed = listing(Vec::new(), std::slice::from_ref(&page));
    Ok(HttpResponse::Ok().json(&listed[0]))
}

/// Deletes a page (write scope): an uploaded one, or the folder's file of that path (hidden
/// until a page of that path is uploaded again).
#[utoipa::path(
    operation_id = "delete_page",
    tag = "knowledge",
    params(("site" = String, Path, description = "The site"), PagePath),
    responses(
        (status = 204, description = "Deleted, and no longer used on this node"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[delete("/v1/api/sites/{site}/kb/page")]
pub async fn remove(
    caller: Caller,
    site: web::Path<String>,
    query: web::Query<PagePath>,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&site, Scope::Write)?;
    let changes = api.changes()?;
    let base = changes.base_site(&site).ok_or(ApiError::NotFound("no such site"))?;
    pages::check_path(&query.path).map_err(ApiError::Invalid)?;
    let stored = changes.archive().pages(&site).await?;
    let uploaded = stored.iter().any(|page| page.path == query.path && !page.deleted);
    let file = base.kb_dir.join(&query.path).is_file() && !stored.iter().any(|page| page.path == query.path);
    if !uploaded && !file {
        return Err(ApiError::NotFound("the site has no page at this path"));
    }
    let tombstone = StoredPage {
        path: query.path.clone(),
        format: PageFormat::Md,
        body: String::new(),
        markdown: String::new(),
        deleted: true,
        updated_at: chrono::Utc::now(),
    };
    changes.archive().put_page(&site, &tombstone).await?;
    changes.announce(&scope_of_site(&site)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The page's format from its `Content-Type` (415 for anything else).
fn format_of(req: &HttpRequest) -> Result<PageFormat, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match mime.as_str() {
        "text/markdown" | "text/x-markdown" | "text/plain" => Ok(PageFormat::Md),
        "text/html" => Ok(PageFormat::Html),
        _ => Err(ApiError::Unsupported(format!("Content-Type {content_type:?}: send text/markdown or text/html"))),
    }
}
