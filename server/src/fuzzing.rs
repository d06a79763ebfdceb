//! Entry points for the fuzzers: every parser of outside input, fed arbitrary bytes, with
//! the properties it must keep whatever arrives. The coverage-guided fuzzers (`fuzz/`, run
//! with `scripts/fuzz`) call these, the replay of their corpus (`fuzz/corpus/`) and the
//! bounded property tests below call the same ones in an ordinary `cargo test`. Each panics
//! when a property breaks, so a fuzzer reports it as a crash.
//!
//! | target | the parser | its properties |
//! |---|---|---|
//! | `visitor_frame`, `agent_frame` | a socket's JSON frames ([`crate::protocol`]) | never panics; what is accepted keeps its bounds (text, ids, email); errors are short |
//! | `frames` | the frame decoder ([`crate::session::frames`]) over any reads | never panics; nothing over the limit is taken; what it holds stays bounded |
//! | `settings`, `site` | the settings and a site file ([`crate::config`]) | never panics; what is accepted is valid |
//! | `markdown` | a knowledge-base file ([`crate::knowledge`]) | never panics; passages are bounded and searchable |
//! | `resume_token` | a `hello`'s token, looked up in the store | never panics; only the exact token opens its conversation |

use std::sync::Arc;

use actix_web::web::Bytes;
use futures_util::StreamExt;

use crate::knowledge::{Document, KnowledgeBase, KnowledgeOptions, MAX_PASSAGE_CHARS};
use crate::protocol::agent::AgentFrame;
use crate::protocol::{MAX_FRAME_BYTES, MAX_TEXT_CHARS, VisitorFrame};
use crate::session::{Frames, Incoming};
use crate::store::EventLog;

/// Error messages sent back to a client are at most this long, whatever it sent.
pub const MAX_ERROR_CHARS: usize = 300;

/// One fuzz target: it panics when a property breaks.
pub type Target = fn(&[u8]);

/// Every target, by the name of its corpus folder and fuzz binary.
pub const TARGETS: &[(&str, Target)] = &[
    ("visitor_frame", visitor_frame),
    ("agent_frame", agent_frame),
    ("frames", frames),
    ("settings", settings),
    ("site", site),
    ("markdown", markdown),
    ("resume_token", resume_token),
];

/// A visitor socket's text frame.
pub fn visitor_frame(data: &[u8]) {
    let Ok(json) = std::str::from_utf8(data) else { return };
    match VisitorFrame::parse(json) {
        Ok(VisitorFrame::Message { client_id, text }) => {
            assert!(!client_id.as_str().is_empty() && client_id.as_str().chars().count() <= 64);
            assert_text(text.as_str());
        }
        Ok(VisitorFrame::LeaveMessage { email, text }) => {
            assert!(email.len() <= 254 && email.contains('@'), "{email:?}");
            assert!(!email.contains(['?', '&', '%', '/', '#', ' ', '<', '>', '"', '\n']), "{email:?}");
            assert_text(text.as_str());
        }
        Ok(VisitorFrame::Csat { score, comment }) => {
            assert!((1..=5).contains(&score));
            if let Some(comment) = comment {
                assert_text(comment.as_str());
            }
        }
        Ok(_) => {}
        Err(error) => assert_short(&error.to_string()),
    }
}

/// An agent socket's text frame.
pub fn agent_frame(data: &[u8]) {
    let Ok(json) = std::str::from_utf8(data) else { return };
    match AgentFrame::parse(json) {
        Ok(AgentFrame::Message { text, .. } | AgentFrame::Note { text, .. }) => assert_text(text.as_str()),
        Ok(_) => {}
        Err(error) => assert_short(&error.to_string()),
    }
}

fn assert_text(text: &str) {
    assert!(text.chars().count() <= MAX_TEXT_CHARS, "{} characters", text.chars().count());
    assert!(!text.trim().is_empty(), "{text:?}");
}

fn assert_short(message: &str) {
    assert!(message.chars().count() <= MAX_ERROR_CHARS, "an error of {} characters", message.chars().count());
}

/// A socket's bytes, split into reads: the first byte picks the limit and the read size.
pub fn frames(data: &[u8]) {
    let Some((&shape, bytes)) = data.split_first() else { return };
    let max = [125, 256, 1024, 8192][usize::from(shape & 3)];
    let read = usize::from(shape >> 2) + 1;
    let chunks: Vec<Result<Bytes, actix_http::error::PayloadError>> =
        bytes.chunks(read).map(|chunk| Ok(Bytes::copy_from_slice(chunk))).collect();
    let stream: actix_http::BoxedPayloadStream = Box::pin(futures_util::stream::iter(chunks));
    let mut frames = Frames::new(actix_http::Payload::from(stream), max);
    // The bound the decoder promises: a frame and its header, a read, and fragments so far,
    // with the slack a growing buffer takes.
    let bound = 2 * (max + 14 + read) + 64 + 2 * max + 64;
    futures_util::FutureExt::now_or_never(async {
        while let Some(item) = frames.next().await {
            assert!(frames.held() <= bound, "held {} of at most {bound}", frames.held());
            match item {
                Ok(Incoming::Text(text)) => assert!(text.len() <= max.min(MAX_FRAME_BYTES)),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    })
    .expect("an in-memory stream never waits");
}

/// A `local.toml`: accepted only when valid.
pub fn settings(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(settings) = crate::config::Settings::from_toml(text) {
        assert!(settings.limits.rate_burst > 0 && settings.limits.first_frame_bytes >= 256);
        assert!(settings.llm.timeout_secs >= settings.llm.first_token_timeout_secs);
    }
}

/// A site file.
pub fn site(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(site) = crate::config::site::from_text("fuzz", text) {
        assert!(!site.persona.greeting.trim().is_empty() && !site.title.trim().is_empty());
        assert!((0.0..=1.0).contains(&site.bot.min_confidence));
        assert_eq!(site.origins.len(), site.allowed_origins.len());
        let _ = site.allows_origin(Some("https://example.com"));
    }
}

/// A knowledge-base Markdown file: its passages, then a search with its own words.
pub fn markdown(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let document = Document { path: "fuzz/page.md".into(), markdown: text.to_owned() };
    let kb = KnowledgeBase::from_documents(vec![document], &KnowledgeOptions::default());
    let words: String = text.split_whitespace().take(8).collect::<Vec<_>>().join(" ");
    let retrieval = kb.search(&words, 4);
    assert!(retrieval.hits.len() <= 4);
    assert!((0.0..=1.0).contains(&retrieval.confidence), "confidence {}", retrieval.confidence);
    for hit in &retrieval.hits {
        let chars = hit.passage.text.chars().count();
        assert!(chars <= MAX_PASSAGE_CHARS && !hit.passage.text.trim().is_empty(), "a passage of {chars}");
    }
}

/// A resume token as a `hello` carries it: only the one the store gave opens the conversation.
pub fn resume_token(data: &[u8]) {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let store = crate::store::memory::MemoryStore::new(Arc::new(|_| {}), 10, std::time::Duration::from_secs(60));
    let issued = "a-token-the-server-issued";
    let new = crate::store::NewConversation {
        id: crate::protocol::ConversationId::new(),
        site: "fuzz".into(),
        token_hash: crate::conversation::hash_token(issued),
        visitor: Default::default(),
    };
    futures_util::FutureExt::now_or_never(async {
        let id = store.create_conversation(new).await.expect("the memory store creates").id;
        // As a client sends it (the server hashes it), and as a stored hash could be named.
        let sent = store.conversation_by_token(&crate::conversation::hash_token(token)).await;
        let named = store.conversation_by_token(token).await;
        assert_eq!(sent.expect("answers").map(|c| c.id), (token == issued).then_some(id), "{token:?}");
        let is_hash = token == crate::conversation::hash_token(issued);
        assert_eq!(named.expect("answers").map(|c| c.id), is_hash.then_some(id), "{token:?}");
    })
    .expect("the memory store never waits");
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Every input the fuzzers kept (`fuzz/corpus/<target>/`), through the same entry points.
    #[test]
    fn the_fuzz_corpus_replays_without_a_broken_property() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        for (name, target) in TARGETS {
            let dir = root.join(name);
            let inputs: Vec<_> = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).collect();
            assert!(!inputs.is_empty(), "no corpus for {name}");
            for entry in inputs {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| target(&data));
                assert!(outcome.is_ok(), "{name}: {} breaks a property", path.display());
            }
        }
    }

    /// Strings a hostile client likes: markup, quotes, invisible and bidi characters, long runs.
    fn nasty() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "",
            " ",
            "\n",
            "\u{200b}",
            "\u{202e}",
            "\u{0}",
            "\"",
            "\\",
            "<script>",
            "é",
            "@",
            ".",
            "?bcc=",
            "a",
            "[x](javascript:alert(1))",
            "**",
            "`",
            "#",
            "- ",
            "1. ",
            "```",
            "---",
            "url: ",
            "%",
            "\u{feff}",
            "😀",
        ]);
        (prop::collection::vec(pieces, 0..24), any::<String>(), 0usize..5000).prop_map(|(parts, tail, run)| {
            let mut s = parts.concat();
            s.push_str(&tail);
            if run % 7 == 0 {
                s.push_str(&"x".repeat(run));
            }
            s
        })
    }

    fn frame_json() -> impl Strategy<Value = String> {
        let kind = prop::sample::select(vec![
            "hello",
            "message",
            "typing",
            "request_human",
            "action",
            "leave_message",
            "csat",
            "end",
            "auth",
            "status",
            "accept",
            "note",
            "transfer",
            "handback",
            "resolve",
            "preview",
            "other",
        ]);
        let field = prop::sample::select(vec![
            "text",
            "client_id",
            "email",
            "id",
            "token",
            "score",
            "comment",
            "on",
            "conversation_id",
            "to",
            "status",
        ]);
        let value = prop_oneof![
            nasty().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
            Just(serde_json::Value::Null),
        ];
        (kind, prop::collection::vec((field, value), 0..5)).prop_map(|(kind, fields)| {
            let mut object = serde_json::Map::new();
            object.insert("type".into(), kind.into());
            for (name, value) in fields {
                object.insert(name.into(), value);
            }
            serde_json::Value::Object(object).to_string()
        })
    }

    /// Frames as a client could put them on the wire: any opcode, fin bit, length and mask.
    fn wire() -> impl Strategy<Value = Vec<u8>> {
        let one = (any::<bool>(), 0u8..16, prop::collection::vec(any::<u8>(), 0..400), any::<u8>(), any::<u64>())
            .prop_map(|(fin, opcode, payload, style, huge)| {
                let mut bytes = vec![if fin { 0x80 } else { 0 } | opcode];
                match style % 4 {
                    0 => {
                        bytes.push(0xFF);
                        bytes.extend(huge.to_be_bytes());
                    }
                    1 => bytes.extend(&payload),
                    _ => {
                        let len = payload.len();
                        match len {
                            0..=125 => bytes.push(0x80 | len as u8),
                            _ => bytes.extend([0x80 | 126, (len >> 8) as u8, len as u8]),
                        }
                        bytes.extend([0, 0, 0, 0]);
                        bytes.extend(&payload);
                    }
                }
                bytes
            });
        (any::<u8>(), prop::collection::vec(one, 1..8)).prop_map(|(shape, frames)| {
            let mut data = vec![shape];
            frames.into_iter().for_each(|f| data.extend(f));
            data
        })
    }

    fn markdown_text() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            nasty(),
            prop::sample::select(vec!["# Title", "## Section", "### Deep", "---", "title: T", "```", "", "- item"])
                .prop_map(str::to_owned),
        ];
        prop::collection::vec(line, 0..40).prop_map(|lines| lines.join("\n"))
    }

    /// A site file or settings text: known keys under known tables, any values.
    fn toml_text(tables: &'static [&'static str], keys: &'static [&'static str]) -> impl Strategy<Value = String> {
        let value = prop_oneof![
            nasty().prop_map(|s| format!("{s:?}")),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| format!("{f:?}")),
            prop::collection::vec(nasty(), 0..3).prop_map(|v| format!("{v:?}")),
            nasty(),
        ];
        let entry = (prop::sample::select(tables), prop::sample::select(keys), value);
        prop::collection::vec(entry, 0..12).prop_map(|entries| {
            entries.into_iter().map(|(table, key, value)| format!("[{table}]\n{key} = {value}\n")).collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn any_frame_json_keeps_the_protocols_bounds(json in frame_json()) {
            visitor_frame(json.as_bytes());
            agent_frame(json.as_bytes());
        }

        #[test]
        fn any_bytes_as_a_frame_are_refused_or_bounded(data in prop::collection::vec(any::<u8>(), 0..2000)) {
            visitor_frame(&data);
            agent_frame(&data);
            frames(&data);
            resume_token(&data);
        }

        #[test]
        fn any_wire_frames_in_any_reads_stay_bounded(data in wire()) {
            frames(&data);
        }

        #[test]
        fn any_resume_token_opens_only_its_own_conversation(token in nasty()) {
            resume_token(token.as_bytes());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 60, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn any_markdown_gives_bounded_searchable_passages(text in markdown_text()) {
            markdown(text.as_bytes());
        }

        #[test]
        fn any_site_file_is_valid_or_refused(text in toml_text(
            &["persona", "widget", "knowledge", "llm", "bot", "escalation", "handoff", "handoff.hours"],
            &["title", "greeting", "bot_name", "position", "min_confidence", "temperature", "base_url", "timezone", "routing"],
        )) {
            let demo = include_str!("../../config/sites/demo.toml");
            site(format!("{demo}\n{text}").as_bytes());
            site(text.as_bytes());
        }

        #[test]
        fn any_settings_text_is_valid_or_refused(text in toml_text(
            &["server", "store", "llm", "limits", "handoff", "archive"],
            &["port", "redis_url", "timeout_secs", "rate_burst", "first_frame_bytes", "trusted_proxies", "url", "max_concurrent"],
        )) {
            settings(text.as_bytes());
        }
    }
}
