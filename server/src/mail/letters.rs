//! The emails' words: plain text, short, each with the link back to the conversation.

use crate::protocol::{Event, EventBody, Speaker};

/// Subject and body of a left message's confirmation.
pub fn confirmation(site_title: &str, text: &str, link: &str) -> (String, String) {
    let subject = format!("{site_title}: we got your message");
    let body = format!(
        "Thanks for your message to {site_title}. Someone from our team will answer it in the \
         conversation, and we will email you when they do.\n\nOpen the conversation at any time:\n{link}\n\n\
         Your message:\n{text}\n"
    );
    (subject, body)
}

/// Subject and body of an agent's reply to a left message.
pub fn reply(site_title: &str, agent: &str, text: &str, link: &str) -> (String, String) {
    let subject = format!("{site_title}: {agent} answered your message");
    let body = format!("{agent} wrote:\n\n{text}\n\nRead the whole conversation and answer live:\n{link}\n");
    (subject, body)
}

/// Subject and body of a transcript: every message, none of the internal notes.
pub fn transcript(site_title: &str, events: &[std::sync::Arc<Event>], link: &str) -> (String, String) {
    let mut body = format!("Your conversation with {site_title}:\n\n");
    for event in events {
        let EventBody::Message { from, text, author, .. } = &event.body else { continue };
        let who = match (from, author) {
            (Speaker::Visitor, _) => "You".to_owned(),
            (Speaker::System, _) => site_title.to_owned(),
            (_, Some(author)) => author.name.clone(),
            (_, None) => site_title.to_owned(),
        };
        body.push_str(&format!("[{}] {who}: {text}\n", event.at.format("%Y-%m-%d %H:%M UTC")));
    }
    body.push_str(&format!("\nOpen the conversation again:\n{link}\n"));
    (format!("{site_title}: your conversation"), body)
}
