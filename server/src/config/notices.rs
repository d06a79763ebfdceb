//! The texts of Baton's own notices to the visitor (escalation, queue, nobody available,
//! left message, transfer, a person joining, hand-back, resolve, model failure), one field per notice, as a site writes them under
//! `[notices.LOCALE]` to replace the built-in text of that locale. The built-in texts of
//! every locale are data files read into the same struct (`conversation/notices/`).
//!
//! Unknown keys are an error, so a typo is reported when the site loads.

use serde::Deserialize;

/// The locales Baton writes its notices in: the widget's locales, in the same order.
pub const NOTICE_LOCALES: [&str; 18] =
    ["en", "es", "fr", "de", "pt", "it", "nl", "ro", "bg", "lv", "pl", "zh", "ru", "tr", "ja", "hi", "ar", "he"];

/// Defines [`NoticeTexts`] (one optional text per notice) and [`NoticeKey`] (its names),
/// from one list, so the two cannot drift apart.
macro_rules! notice_keys {
    ($($(#[doc = $doc:expr])* $field:ident => $variant:ident),* $(,)?) => {
        /// One locale's texts; an absent one falls back (site → built-in → English).
        #[derive(Debug, Clone, Default, PartialEq, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct NoticeTexts {
            $($(#[doc = $doc])* pub $field: Option<String>,)*
        }

        /// Which notice.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum NoticeKey {
            $($(#[doc = $doc])* $variant,)*
        }

        impl NoticeKey {
            pub const ALL: &[NoticeKey] = &[$(NoticeKey::$variant,)*];

            /// The key as written in the files.
            pub fn name(self) -> &'static str {
                match self {
                    $(NoticeKey::$variant => stringify!($field),)*
                }
            }
        }

        impl NoticeTexts {
            pub fn get(&self, key: NoticeKey) -> Option<&str> {
                match key {
                    $(NoticeKey::$variant => self.$field.as_deref(),)*
                }
            }
        }
    };
}

notice_keys! {
    /// Escalated because the visitor asked for a person.
    explicit_request => ExplicitRequest,
    negative_sentiment => NegativeSentiment,
    low_confidence => LowConfidence,
    repeated_question => RepeatedQuestion,
    topic => Topic,
    bot_error => BotError,
    max_turns => MaxTurns,
    /// Escalated through an agent's transfer.
    transfer => Transfer,
    model_handoff => ModelHandoff,
    /// The bot's offer of a person, and its quick reply's label.
    offer => Offer,
    offer_action => OfferAction,
    /// The offer of a person to an upset visitor, with an apology, before any answer.
    apology_offer => ApologyOffer,
    /// The site's model budget for the day is spent and the knowledge base had no answer.
    model_budget => ModelBudget,
    /// Nobody can take the chat: no agent online or all full; outside the site's hours.
    no_agents => NoAgents,
    outside_hours => OutsideHours,
    /// The label of the quick reply that opens the leave-a-message form.
    leave_message_action => LeaveMessageAction,
    /// The confirmation of a left message; `{email}` is the visitor's address.
    left_message => LeftMessage,
    /// A transfer to a person: `{name}`, and `{team}` in the second.
    transfer_to_agent => TransferToAgent,
    transfer_to_agent_team => TransferToAgentTeam,
    /// A transfer to a team's queue: `{team}`.
    transfer_to_team => TransferToTeam,
    /// The agent left (or lost the connection) and the chat went back to the queue.
    agent_left => AgentLeft,
    /// The agent did not answer in time and the chat went back to the queue.
    back_in_queue => BackInQueue,
    /// The model failed and the bot keeps the chat.
    model_failure => ModelFailure,
    /// Streamed while a bot action's endpoint works, unless the action has its own `progress`.
    action_progress => ActionProgress,
    /// A bot action's endpoint failed or was too slow.
    action_failed => ActionFailed,
    /// The site's queue is at `handoff.max_queue`: nobody can take the chat now.
    queue_full => QueueFull,
    /// A person took the chat (accepted it, or opened one routing gave them): `{name}`.
    agent_joined => AgentJoined,
    /// The agent handed the chat back to the bot.
    handed_back => HandedBack,
    /// The chat was resolved (by its agent, or ended by the visitor).
    resolved => Resolved,
    /// The visitor has not answered for the site's `inactivity.nudge_after_secs`.
    idle_nudge => IdleNudge,
    /// The chat was resolved after the site's `inactivity.resolve_after_secs` without an answer.
    idle_resolved => IdleResolved,
    /// The offline answerer's line before the passage it quotes when the visitor writes
    /// another language than the help pages': pages in English, or in another language.
    kb_in_english => KbInEnglish,
    kb_other_language => KbOtherLanguage,
    /// The left message's confirmation email: subject (`{site}`) and body (`{site}`,
    /// `{link}`, `{text}`: the visitor's message).
    email_confirmation_subject => EmailConfirmationSubject,
    email_confirmation => EmailConfirmation,
    /// An agent's answer to a left message, by email: subject (`{site}`, `{agent}`) and body
    /// (`{agent}`, `{link}`, `{text}`: what the agent wrote).
    email_reply_subject => EmailReplySubject,
    email_reply => EmailReply,
    /// A transcript by email: subject (`{site}`), the line before the messages (`{site}`),
    /// the link after them (`{link}`), and what the visitor is called in it.
    email_transcript_subject => EmailTranscriptSubject,
    email_transcript_intro => EmailTranscriptIntro,
    email_transcript_link => EmailTranscriptLink,
    email_you => EmailYou,
}

/// Checks a site's `[notices]` tables: each names a locale Baton has.
pub fn check_locales<'a>(mut locales: impl Iterator<Item = &'a String>) -> Result<(), String> {
    match locales.find(|l| !NOTICE_LOCALES.contains(&l.as_str())) {
        Some(locale) => Err(format!("notices.{locale}: no such locale (one of {})", NOTICE_LOCALES.join(", "))),
        None => Ok(()),
    }
}
