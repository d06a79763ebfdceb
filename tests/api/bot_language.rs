//! A visitor who writes another language than the help pages: the offline answerer says so in
//! the visitor's language before the passage it quotes; a model is told the visitor's language.

use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, spawn_app, spawn_app_with_llm};
use crate::notices::built_in;

/// A French question whose place names match the English shipping page.
const FRENCH: &str = "Livrez-vous au Canada, en Alaska et à Hawaii ?";

/// A demo-site visitor whose `hello` carries `locale`, if any, past the greeting.
async fn visitor(app: &TestApp, locale: Option<&str>) -> Client {
    let mut client = app.open_visitor("demo", Some("http://localhost:3000")).await.unwrap();
    let hello = match locale {
        Some(locale) => json!({"type": "hello", "locale": locale}),
        None => json!({"type": "hello"}),
    };
    client.send(hello).await;
    client.next_of_type("welcome").await;
    client
}

fn text(reply: &Value) -> &str {
    reply["text"].as_str().unwrap()
}

#[tokio::test]
async fn a_french_visitor_is_told_in_french_that_the_help_pages_are_in_english_above_the_best_passage() {
    let app = spawn_app().await;
    let note = built_in("fr")["kb_in_english"].clone();
    // The language written decides, whatever the browser's: French under an English locale too.
    for locale in [Some("fr-FR"), None, Some("en-US")] {
        let mut french = visitor(&app, locale).await;
        french.say("q1", FRENCH).await;
        let reply = french.next_bot_message().await;
        let (head, passage) = text(&reply).split_once("\n\n").unwrap_or_else(|| panic!("{reply}"));
        assert_eq!(head, note, "hello locale {locale:?}");
        assert!(passage.contains("Alaska") && passage.contains("Canada"), "{passage}");
        assert_eq!(reply["sources"].as_array().map(Vec::len), Some(1), "{reply}");
    }
    // The same question in English gets the passage alone, from a German browser too.
    let mut english = visitor(&app, Some("de-DE")).await;
    english.say("q1", "Do you deliver to Canada, Alaska and Hawaii?").await;
    let reply = english.next_bot_message().await;
    assert!(text(&reply).contains("Alaska"), "{reply}");
    for locale in ["fr", "de", "en"] {
        assert!(!text(&reply).contains(&built_in(locale)["kb_in_english"]), "{reply}");
    }
}

#[tokio::test]
async fn the_model_is_told_the_visitor_writes_french_and_the_excerpts_are_english() {
    let app = spawn_app_with_llm(|_| {}).await;
    let mut french = visitor(&app, Some("fr")).await;
    french.say("q1", FRENCH).await;
    french.next_bot_message().await;
    let mut english = visitor(&app, Some("en")).await;
    english.say("q1", "Do you deliver to Canada?").await;
    english.next_bot_message().await;
    let requests = app.llm().requests();
    let system = |i: usize| requests[i]["messages"][0]["content"].as_str().unwrap().to_owned();
    let line = "The visitor writes in French; the excerpts are in English. Answer in French";
    assert!(system(0).contains(line), "{}", system(0));
    assert!(!system(1).contains("The visitor writes in"), "{}", system(1));
}
