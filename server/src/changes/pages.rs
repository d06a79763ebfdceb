//! Knowledge-base pages uploaded through the API: their paths (the same namespace as the
//! files of `sites/SITE/kb/`), HTML turned into the Markdown the indexer reads, and the
//! documents a site indexes (its folder's, with the stored pages over them).

use std::collections::BTreeMap;
use std::path::Path;

use crate::archive::owner::pages::{PageFormat, StoredPage};
use crate::knowledge::{Document, KnowledgeBase, KnowledgeError};

/// A page path is at most this long (it is stored, listed and part of a URL).
pub const MAX_PATH_CHARS: usize = 200;

/// Elements whose content is never text for the visitor: dropped with everything in them.
const SKIPPED_TAGS: [&str; 7] = ["script", "style", "noscript", "template", "iframe", "svg", "head"];

/// Checks a page path: `/`-separated names of letters, digits, `-`, `_` and `.` (none
/// starting with a dot), ending in `.md` like the folder's files.
pub fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.chars().count() > MAX_PATH_CHARS {
        return Err(format!("path: 1 to {MAX_PATH_CHARS} characters"));
    }
    if !path.ends_with(".md") || path.len() == 3 {
        return Err(format!("path {path:?} must end in .md (an HTML page is stored as Markdown too)"));
    }
    let name_ok = |name: &str| {
        !name.is_empty()
            && !name.starts_with('.')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if !path.split('/').all(name_ok) {
        return Err(format!(
            "path {path:?}: each part is letters, digits, '-', '_' and '.', and none starts with a dot"
        ));
    }
    Ok(())
}

/// What the indexer reads for an uploaded body: Markdown as it is, HTML converted (headings
/// stay headings, so the page splits into passages the same way; scripts, styles and other
/// non-text elements are dropped with their content).
pub fn to_markdown(format: PageFormat, body: &str) -> Result<String, String> {
    match format {
        PageFormat::Md => Ok(body.to_owned()),
        PageFormat::Html => {
            let converter = htmd::HtmlToMarkdown::builder().skip_tags(SKIPPED_TAGS.to_vec()).build();
            converter.convert(body).map_err(|error| format!("the HTML could not be read: {error}"))
        }
    }
}

/// The folder's documents with the stored pages over them, by path: a page replaces the file
/// of its path, a deleted page hides it.
pub fn documents(kb_dir: &Path, pages: &[StoredPage]) -> Result<Vec<Document>, KnowledgeError> {
    let mut by_path: BTreeMap<String, String> =
        KnowledgeBase::read_folder(kb_dir)?.into_iter().map(|doc| (doc.path, doc.markdown)).collect();
    for page in pages {
        if page.deleted {
            by_path.remove(&page.path);
        } else {
            by_path.insert(page.path.clone(), page.markdown.clone());
        }
    }
    Ok(by_path.into_iter().map(|(path, markdown)| Document { path, markdown }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_markdown_names_without_dot_parts() {
        assert!(check_path("returns.md").is_ok());
        assert!(check_path("help/shipping-2.md").is_ok());
        for bad in ["", ".md", "returns.html", "../x.md", "a//b.md", "/abs.md", ".hidden.md", "a b.md", "a/../b.md"] {
            assert!(check_path(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn html_becomes_markdown_with_headings_and_without_scripts() {
        let html = "<html><head><title>T</title><script>var leak = 1;</script></head><body>\
                    <h1>Gift cards</h1><p>Gift cards <b>never</b> expire.</p><style>p{}</style>\
                    <h2>Balance</h2><p>Check it online.</p><script>alert('x')</script></body></html>";
        let markdown = to_markdown(PageFormat::Html, html).unwrap();
        assert!(markdown.contains("# Gift cards"), "{markdown}");
        assert!(markdown.contains("## Balance"), "{markdown}");
        assert!(markdown.contains("never"), "{markdown}");
        assert!(!markdown.contains("leak") && !markdown.contains("alert") && !markdown.contains("p{}"), "{markdown}");
    }
}
