//! The language the visitor writes in against the help pages': when they differ, the offline answerer
//! says so (in the visitor's language) before the passage it quotes, and the model is told
//! which language to answer in, since its passages are in another one.

use crate::conversation::notices::{self, Notice};
use crate::knowledge::DEFAULT_LANGUAGE;
use crate::sites::Site;
use crate::store::Conversation;

/// The share of `bot.min_confidence` from which the offline answerer quotes a passage to a
/// visitor in another language: only the words the two languages share can match (names,
/// places, brands), and the visitor's own words all count as unknown to the pages, so a
/// passage that is about the question scores about half what it would in the pages'
/// language (on the demo pages: "Livrez-vous au Canada, en Alaska et à Hawaii ?" 0.31,
/// "Combien coûte la livraison express au Canada ?" 0.24; a French question about
/// something else 0.00). The note says it is the closest part, not that it is the answer.
pub const CROSS_LANGUAGE_SHARE: f32 = 0.5;

/// A visitor who writes another language than the help pages are in.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// The offline answerer's line before its passage, in the visitor's language.
    pub note: String,
    /// The line the model's system prompt gets.
    pub instruction: String,
}

/// The mismatch between the language the visitor writes in (the one detected in their
/// latest message, else the `hello` locale, else the site's: a visitor whose browser speaks
/// German but who writes English reads English pages fine) and the knowledge base's.
pub fn mismatch(site: &Site, conversation: &Conversation) -> Option<Mismatch> {
    let detected = conversation.records.signals.as_ref().map(|s| s.language.as_str());
    let visitor = notices::language(&site.config, detected, conversation.visitor.locale.as_deref());
    let configured = site.config.knowledge.language.as_deref().unwrap_or(DEFAULT_LANGUAGE);
    let pages = configured.split(['-', '_']).next().unwrap_or(configured).to_ascii_lowercase();
    if visitor == pages {
        return None;
    }
    let note = notices::text(&site.config, visitor, &Notice::HelpPagesLanguage { english: pages == "en" });
    let instruction = format!(
        "The visitor writes in {}; the excerpts are in {}. Answer in {}, from the excerpts.\n",
        name(visitor),
        name(&pages),
        name(visitor)
    );
    Some(Mismatch { note, instruction })
}

/// A language's English name, for the model (the code itself when Baton has no name for it).
fn name(code: &str) -> &str {
    match code {
        "en" => "English",
        "es" => "Spanish",
        "fr" => "French",
        "de" => "German",
        "pt" => "Portuguese",
        "it" => "Italian",
        "nl" => "Dutch",
        "ro" => "Romanian",
        "bg" => "Bulgarian",
        "lv" => "Latvian",
        "pl" => "Polish",
        "zh" => "Chinese",
        "ru" => "Russian",
        "tr" => "Turkish",
        "ja" => "Japanese",
        "hi" => "Hindi",
        "ar" => "Arabic",
        "he" => "Hebrew",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_has_an_english_name_for_the_model() {
        for locale in crate::config::notices::NOTICE_LOCALES {
            assert_ne!(name(locale), locale, "{locale}");
        }
    }
}
