//! Splitting a Markdown page into passages.
//!
//! A help page answers many questions, one per section, and a visitor's question is about
//! one of them; so a page is split at its headings (down to [`SPLIT_DEPTH`]) and each
//! section becomes a [`Passage`] titled by its heading path ("Returns and refunds › How to
//! return an item") and linked to its anchor. The heading path keeps a short section such
//! as "Fees" meaningful on its own, both to the ranker and in a prompt.
//!
//! What is understood of Markdown is deliberately small: YAML-like front matter with `url`
//! and `title`, ATX headings (`## Title`, optionally closed by `#`s), and fenced code blocks
//! (so a `# comment` inside one is not a heading). Setext headings (underlined with `===`)
//! are body text. The body is kept as written, Markdown and all.

use std::collections::HashMap;

use super::chunk::chunks;
use super::{Document, KnowledgeOptions, Passage};

/// Headings down to this level (`###`) start a new passage; deeper ones stay inside their
/// section's text, which keeps passages from shrinking to a line.
pub const SPLIT_DEPTH: usize = 3;

/// The separator between a passage title's parts.
pub const TITLE_SEPARATOR: &str = " › ";

/// Splits one document into its non-empty passages, in document order.
pub(crate) fn passages(document: &Document, options: &KnowledgeOptions) -> Vec<Passage> {
    let lines: Vec<&str> = document.markdown.lines().collect();
    let (front, body) = front_matter(&lines);
    let page = page_url(&document.path, front.url, options.base_url.as_deref());
    let title = front
        .title
        .map(str::to_owned)
        .or_else(|| first_h1(body))
        .unwrap_or_else(|| file_stem(&document.path).to_owned());
    let mut passages = Vec::new();
    for section in sections(body, &title) {
        let url = match &section.slug {
            Some(slug) => format!("{page}#{slug}"),
            None => page.clone(),
        };
        for text in chunks(&section.body) {
            passages.push(Passage { title: section.title.clone(), text, url: url.clone() });
        }
    }
    passages
}

/// A page's title: its front matter's `title`, else its first `#` heading, else its file name.
pub fn page_title(document: &Document) -> String {
    let lines: Vec<&str> = document.markdown.lines().collect();
    let (front, body) = front_matter(&lines);
    front.title.map(str::to_owned).or_else(|| first_h1(body)).unwrap_or_else(|| file_stem(&document.path).to_owned())
}

/// The `url` and `title` of a front-matter block.
#[derive(Default)]
struct FrontMatter<'a> {
    url: Option<&'a str>,
    title: Option<&'a str>,
}

/// Splits a leading `---` ... `---` block off `lines`. Without a closing line there is no
/// front matter. Keys other than `url` and `title` are ignored.
fn front_matter<'a, 'b>(lines: &'b [&'a str]) -> (FrontMatter<'a>, &'b [&'a str]) {
    let mut front = FrontMatter::default();
    if lines.first().map(|l| l.trim_end()) != Some("---") {
        return (front, lines);
    }
    let Some(end) = lines.iter().skip(1).position(|l| matches!(l.trim_end(), "---" | "...")) else {
        return (front, lines);
    };
    for line in &lines[1..=end] {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        match key.trim() {
            "url" if !value.is_empty() => front.url = Some(value),
            "title" if !value.is_empty() => front.title = Some(value),
            _ => {}
        }
    }
    (front, &lines[end + 2..])
}

fn page_url(path: &str, front_url: Option<&str>, base_url: Option<&str>) -> String {
    if let Some(url) = front_url {
        return url.to_owned();
    }
    let page = path.strip_suffix(".md").unwrap_or(path);
    match base_url {
        Some(base) if !base.ends_with('/') => format!("{base}/{page}"),
        Some(base) => format!("{base}{page}"),
        None => page.to_owned(),
    }
}

fn file_stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".md").unwrap_or(name)
}

fn first_h1(lines: &[&str]) -> Option<String> {
    let mut fence = Fence::default();
    lines
        .iter()
        .filter(|line| !fence.inside_after(line))
        .find_map(|line| heading(line).filter(|(level, _)| *level == 1))
        .map(|(_, text)| text.to_owned())
}

/// One heading's text, before chunking.
struct Section {
    title: String,
    /// The heading's anchor; `None` for the page's top (its `#` title and any text before it).
    slug: Option<String>,
    body: String,
}

/// Splits the body at headings of level 1 to [`SPLIT_DEPTH`].
fn sections(lines: &[&str], doc_title: &str) -> Vec<Section> {
    let mut splitter = Splitter::new(doc_title);
    let mut fence = Fence::default();
    for line in lines {
        let in_code = fence.inside_after(line);
        match heading(line) {
            Some((level, text)) if !in_code && level <= SPLIT_DEPTH => splitter.start(level, text),
            _ => {
                splitter.current.body.push_str(line);
                splitter.current.body.push('\n');
            }
        }
    }
    splitter.done.push(splitter.current);
    splitter.done
}

/// The state of [`sections`]: the heading path so far and the section being filled.
struct Splitter<'a> {
    doc_title: &'a str,
    /// The title's first part: the document title, or a later `#` heading's text.
    root: String,
    /// The open headings below the root, as (level, text).
    path: Vec<(usize, String)>,
    slugs: Slugs,
    seen_h1: bool,
    current: Section,
    done: Vec<Section>,
}

impl<'a> Splitter<'a> {
    fn new(doc_title: &'a str) -> Self {
        let current = Section { title: doc_title.to_owned(), slug: None, body: String::new() };
        let (root, path, slugs) = (doc_title.to_owned(), Vec::new(), Slugs::default());
        Splitter { doc_title, root, path, slugs, seen_h1: false, current, done: Vec::new() }
    }

    /// Closes the current section at a heading. The first `#` heading is the page title, so
    /// its section is titled by the document title and linked to the page itself.
    fn start(&mut self, level: usize, text: &str) {
        let page_top = level == 1 && !self.seen_h1;
        let slug = (!page_top).then(|| self.slugs.next(text));
        if level == 1 {
            self.seen_h1 = true;
            self.root = if page_top { self.doc_title.to_owned() } else { text.to_owned() };
            self.path.clear();
        } else {
            self.path.retain(|(l, _)| *l < level);
            self.path.push((level, text.to_owned()));
        }
        let parts = std::iter::once(self.root.as_str()).chain(self.path.iter().map(|(_, t)| t.as_str()));
        let title = parts.collect::<Vec<_>>().join(TITLE_SEPARATOR);
        let next = Section { title, slug, body: String::new() };
        self.done.push(std::mem::replace(&mut self.current, next));
    }
}

/// An ATX heading's level and text: up to three spaces, one to six `#`, a space, the text,
/// an optional closing run of `#`.
fn heading(line: &str) -> Option<(usize, &str)> {
    let trimmed = line.trim_start_matches(' ');
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let level = trimmed.bytes().take_while(|b| *b == b'#').count();
    let rest = &trimmed[level..];
    if !(1..=6).contains(&level) || !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let text = rest.trim();
    let unclosed = text.trim_end_matches('#');
    let text = if unclosed.is_empty() || unclosed.ends_with([' ', '\t']) { unclosed.trim_end() } else { text };
    Some((level, text))
}

/// Tracks whether lines are inside a fenced code block (```` ``` ```` or `~~~`).
#[derive(Default)]
struct Fence {
    open: Option<(u8, usize)>,
}

impl Fence {
    /// Feeds one line; true if the line is part of a code block (its fences included).
    fn inside_after(&mut self, line: &str) -> bool {
        let trimmed = line.trim_start_matches(' ');
        let marker = trimmed.bytes().next().filter(|b| *b == b'`' || *b == b'~');
        let run = marker.map_or(0, |m| trimmed.bytes().take_while(|b| *b == m).count());
        let is_fence = line.len() - trimmed.len() <= 3 && run >= 3;
        match (self.open, marker) {
            (None, Some(m)) if is_fence => {
                self.open = Some((m, run));
                true
            }
            (Some((m, n)), Some(c)) if is_fence && c == m && run >= n && trimmed[run..].trim().is_empty() => {
                self.open = None;
                true
            }
            (open, _) => open.is_some(),
        }
    }
}

/// GitHub-style anchors, numbered when a heading repeats within a page.
#[derive(Default)]
struct Slugs {
    seen: HashMap<String, usize>,
}

impl Slugs {
    fn next(&mut self, heading: &str) -> String {
        let base: String = heading
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .flat_map(char::to_lowercase)
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let count = self.seen.entry(base.clone()).or_insert(0);
        *count += 1;
        if *count == 1 { base } else { format!("{base}-{}", *count - 1) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(path: &str, markdown: &str) -> Vec<Passage> {
        split_with(path, markdown, &KnowledgeOptions::default())
    }

    fn split_with(path: &str, markdown: &str, options: &KnowledgeOptions) -> Vec<Passage> {
        passages(&Document { path: path.to_owned(), markdown: markdown.to_owned() }, options)
    }

    fn titles(passages: &[Passage]) -> Vec<&str> {
        passages.iter().map(|p| p.title.as_str()).collect()
    }

    const RETURNS: &str = "---\nurl: https://shop.example/help/returns\ntitle: Returns and refunds\n---\n\
        # Returns\n\nYou have 30 days.\n\n## How to return an item\n\n1. Sign in.\n2. Choose the order.\n\n\
        ### Labels\n\nPrint the label.\n\n## Refunds\n\nWithin 10 days.\n";

    #[test]
    fn sections_are_titled_by_their_heading_path() {
        let passages = split("returns.md", RETURNS);
        assert_eq!(
            titles(&passages),
            [
                "Returns and refunds",
                "Returns and refunds › How to return an item",
                "Returns and refunds › How to return an item › Labels",
                "Returns and refunds › Refunds",
            ]
        );
        assert_eq!(passages[1].text, "1. Sign in.\n2. Choose the order.");
    }

    #[test]
    fn front_matter_url_and_title_override_the_defaults() {
        let passages = split("returns.md", RETURNS);
        assert_eq!(passages[0].url, "https://shop.example/help/returns");
        assert_eq!(passages[1].url, "https://shop.example/help/returns#how-to-return-an-item");
        assert_eq!(passages[3].url, "https://shop.example/help/returns#refunds");
    }

    #[test]
    fn without_front_matter_the_first_h1_is_the_title_and_the_url_is_relative() {
        let passages = split("help/returns.md", "Intro.\n\n# Returns\n\n## Why?\n\nBecause.\n");
        assert_eq!(titles(&passages), ["Returns", "Returns › Why?"]);
        assert_eq!(passages[0].url, "help/returns");
        assert_eq!(passages[1].url, "help/returns#why");
    }

    #[test]
    fn without_any_heading_the_file_name_is_the_title() {
        let passages = split("faq/opening-hours.md", "We are open 9 to 5.");
        assert_eq!(titles(&passages), ["opening-hours"]);
    }

    #[test]
    fn base_url_is_joined_with_the_path_and_the_anchor() {
        let with_slash = KnowledgeOptions { base_url: Some("https://s.example/help/".into()), ..Default::default() };
        let without = KnowledgeOptions { base_url: Some("https://s.example/help".into()), ..Default::default() };
        for options in [with_slash, without] {
            let passages = split_with("a/b.md", "## Step one\n\nText.", &options);
            assert_eq!(passages[0].url, "https://s.example/help/a/b#step-one");
        }
    }

    #[test]
    fn headings_inside_code_fences_do_not_split() {
        let markdown = "## Setup\n\n```sh\n# not a heading\necho hi\n```\n\n~~~\n## nor this\n~~~\nDone.\n";
        let passages = split("setup.md", markdown);
        assert_eq!(titles(&passages), ["setup › Setup"]);
        assert!(passages[0].text.contains("# not a heading") && passages[0].text.ends_with("Done."));
    }

    #[test]
    fn deep_headings_stay_inside_their_section() {
        let passages = split("a.md", "## Fees\n\n#### Small print\n\nNone.\n");
        assert_eq!(titles(&passages), ["a › Fees"]);
        assert!(passages[0].text.starts_with("#### Small print"));
    }

    #[test]
    fn empty_sections_are_skipped_but_still_name_their_children() {
        let passages = split("a.md", "# Title\n\n## Empty\n\n### Child\n\nText.\n");
        assert_eq!(titles(&passages), ["Title › Empty › Child"]);
    }

    #[test]
    fn repeated_headings_get_numbered_anchors() {
        let passages = split("a.md", "## Fees\n\nOne.\n\n## Fees\n\nTwo.\n");
        let urls: Vec<&str> = passages.iter().map(|p| p.url.as_str()).collect();
        assert_eq!(urls, ["a#fees", "a#fees-1"]);
    }

    #[test]
    fn heading_syntax_follows_atx_rules() {
        assert_eq!(heading("## Fees ##"), Some((2, "Fees")));
        assert_eq!(heading("   # C# tips"), Some((1, "C# tips")));
        assert_eq!(heading("#hashtag"), None);
        assert_eq!(heading("    # indented code"), None);
        assert_eq!(heading("####### seven"), None);
    }

    #[test]
    fn windows_line_endings_are_understood() {
        let passages = split("a.md", "---\r\ntitle: T\r\n---\r\n## Part\r\n\r\nText.\r\n");
        assert_eq!(titles(&passages), ["T › Part"]);
        assert_eq!(passages[0].text, "Text.");
    }
}
