//! The emails' words: plain text, short, each with the link back to the conversation, in
//! the conversation's language. Each part is a notice ([`notices`]): built in for every
//! widget locale, and a site replaces any of them per locale under `[notices.LOCALE]`.

use crate::config::SiteConfig;
use crate::config::notices::NoticeKey;
use crate::conversation::notices::{self, Notice};
use crate::protocol::{Event, EventBody, Speaker};

/// One part of a letter in `lang`, its placeholders filled in order.
fn part(site: &SiteConfig, lang: &str, key: NoticeKey, vars: &[(&'static str, &str)]) -> String {
    let vars = vars.iter().map(|(name, value)| (*name, (*value).to_owned())).collect();
    notices::text(site, lang, &Notice::Email { key, vars })
}

/// Subject and body of a left message's confirmation.
pub fn confirmation(site: &SiteConfig, lang: &str, text: &str, link: &str) -> (String, String) {
    let title = site.title.as_str();
    let subject = part(site, lang, NoticeKey::EmailConfirmationSubject, &[("site", title)]);
    let body = part(site, lang, NoticeKey::EmailConfirmation, &[("site", title), ("link", link), ("text", text)]);
    (subject, body)
}

/// Subject and body of an agent's reply to a left message.
pub fn reply(site: &SiteConfig, lang: &str, agent: &str, text: &str, link: &str) -> (String, String) {
    let title = site.title.as_str();
    let subject = part(site, lang, NoticeKey::EmailReplySubject, &[("site", title), ("agent", agent)]);
    let body = part(site, lang, NoticeKey::EmailReply, &[("agent", agent), ("link", link), ("text", text)]);
    (subject, body)
}

/// Subject and body of a transcript: every message, none of the internal notes.
pub fn transcript(site: &SiteConfig, lang: &str, events: &[std::sync::Arc<Event>], link: &str) -> (String, String) {
    let title = site.title.as_str();
    let you = part(site, lang, NoticeKey::EmailYou, &[]);
    let mut body = format!("{}\n\n", part(site, lang, NoticeKey::EmailTranscriptIntro, &[("site", title)]));
    for event in events {
        let EventBody::Message { from, text, author, .. } = &event.body else { continue };
        let who = match (from, author) {
            (Speaker::Visitor, _) => you.as_str(),
            (Speaker::System, _) | (_, None) => title,
            (_, Some(author)) => author.name.as_str(),
        };
        body.push_str(&format!("[{}] {who}: {text}\n", event.at.format("%Y-%m-%d %H:%M UTC")));
    }
    body.push('\n');
    body.push_str(&part(site, lang, NoticeKey::EmailTranscriptLink, &[("link", link)]));
    (part(site, lang, NoticeKey::EmailTranscriptSubject, &[("site", title)]), body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::notices::NoticeTexts;

    fn site() -> SiteConfig {
        let toml = "title = \"Acme\"\nallowed_origins = []\n[persona]\nbot_name = \"B\"\nsystem_prompt = \"S\"\n\
                    greeting = \"G\"\nai_notice = \"A\"\n";
        toml::from_str(toml).unwrap()
    }

    #[test]
    fn a_confirmation_is_in_the_asked_language_with_the_link_and_the_message() {
        let (subject, body) = confirmation(&site(), "fr", "Rappelez-moi", "https://x/r/1");
        assert_eq!(subject, "Acme : nous avons bien reçu votre message");
        assert!(body.contains("https://x/r/1") && body.contains("Votre message :\nRappelez-moi"), "{body}");
    }

    #[test]
    fn braces_in_what_people_wrote_are_left_as_written() {
        let (_, body) = reply(&site(), "en", "Ana", "see {link} and {agent}", "https://x/r/1");
        assert!(body.contains("see {link} and {agent}"), "{body}");
    }

    #[test]
    fn a_site_rewords_one_part_for_one_locale() {
        let mut site = site();
        let texts = NoticeTexts { email_reply_subject: Some("{agent} vous a répondu".into()), ..Default::default() };
        site.notices.insert("fr".into(), texts);
        assert_eq!(reply(&site, "fr", "Ana", "Bonjour", "l").0, "Ana vous a répondu");
        assert_eq!(reply(&site, "de", "Ana", "Hallo", "l").0, "Acme: Ana hat Ihre Nachricht beantwortet");
    }
}
