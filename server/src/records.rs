//! The facts Baton keeps about a conversation beside its events, as typed records with a
//! schema: why it was escalated, what the escalation policy remembers, the last turn's
//! signals, the model's confidence, the agents' summary, what an agent said before handing
//! back, the visitor's rating, and who the visitor is (verified or not).
//!
//! This module is the one place that names and serialises them. A store keeps each record
//! as one field (its [`Record::field`] name, its JSON as the value), written whole; reading a
//! conversation gives them back as [`Records`]. A field a store does not know (written by a
//! newer node) is kept out of the way, never an error.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::escalation::PolicyState;
use crate::protocol::Reason;
use crate::protocol::agent::Verdict;
use crate::signals::TurnSignals;

/// Why a conversation went to people, as agents and owners see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EscalationRecord {
    pub reason: Reason,
    /// 0-9, higher first in the queue.
    pub priority: u8,
    /// A readable detail with the values behind the reason.
    pub detail: String,
    /// The turn's signals, when a visitor turn triggered it.
    #[serde(default)]
    pub signals: Option<TurnSignals>,
    /// The team that should take it (`None`: anyone).
    #[serde(default)]
    pub team: Option<String>,
    pub at: DateTime<Utc>,
}

/// What the agent told the visitor before handing the conversation back to the bot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Handback {
    /// The agent's name.
    pub agent: String,
    /// The agent's messages, oldest first, cut to a bound.
    pub said: String,
}

/// The visitor's rating of the conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    /// 1-5.
    pub score: u8,
    #[serde(default)]
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

impl Rating {
    /// As agents are shown it.
    pub fn view(&self) -> crate::protocol::agent::RatingView {
        crate::protocol::agent::RatingView { score: self.score, comment: self.comment.clone(), at: self.at }
    }
}

/// How the visitor asked to be reached (a message left for the team): what privacy requests
/// find a visitor by (see `docs/data.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub email: String,
    pub at: DateTime<Utc>,
    /// What the visitor wrote (absent in records written before it was kept).
    #[serde(default)]
    pub text: Option<String>,
}

/// Who the visitor is, as the site's page said (`hello.visitor`, `identify`), and whether the
/// site's backend vouched for it (`user_hash` matched the site's `identity_secret`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    pub verified: bool,
    pub at: DateTime<Utc>,
}

/// An agent's one-click judgement of the escalation they handled: what the reports measure
/// the escalation policy's precision and lateness by, and `baton signals --tune` learns from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerdictRecord {
    /// The agent's id.
    pub agent: String,
    pub verdict: Verdict,
    /// The escalation's reason the verdict is about.
    pub reason: Reason,
    pub at: DateTime<Utc>,
}

/// Every record of one conversation. The large ones are boxed: every live conversation
/// carries this struct, and most never escalate, hand back or get rated (inline, the records
/// cost an idle visitor about 400 bytes; boxed, under 100).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Records {
    pub escalation: Option<Box<EscalationRecord>>,
    pub policy: PolicyState,
    pub signals: Option<Box<TurnSignals>>,
    pub model_confidence: Option<f32>,
    /// The model-written summary for agents (the extractive one is made on demand).
    pub summary: Option<String>,
    pub handback: Option<Box<Handback>>,
    pub rating: Option<Box<Rating>>,
    pub contact: Option<Box<Contact>>,
    pub identity: Option<Box<Identity>>,
    pub verdict: Option<Box<VerdictRecord>>,
}

/// One record, written whole.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Escalation(EscalationRecord),
    Policy(PolicyState),
    Signals(TurnSignals),
    ModelConfidence(f32),
    Summary(String),
    Handback(Handback),
    Rating(Rating),
    Contact(Contact),
    Identity(Identity),
    Verdict(VerdictRecord),
}

impl Record {
    /// The field the record is kept under (stable: stored data carries it).
    pub fn field(&self) -> &'static str {
        match self {
            Record::Escalation(_) => "escalation",
            Record::Policy(_) => "policy",
            Record::Signals(_) => "signals",
            Record::ModelConfidence(_) => "model_confidence",
            Record::Summary(_) => "summary",
            Record::Handback(_) => "handback",
            Record::Rating(_) => "rating",
            Record::Contact(_) => "contact",
            Record::Identity(_) => "identity",
            Record::Verdict(_) => "verdict",
        }
    }

    /// The record's value as stored.
    pub fn to_json(&self) -> String {
        let json = match self {
            Record::Escalation(record) => serde_json::to_string(record),
            Record::Policy(record) => serde_json::to_string(record),
            Record::Signals(record) => serde_json::to_string(record),
            Record::ModelConfidence(record) => serde_json::to_string(record),
            Record::Summary(record) => serde_json::to_string(record),
            Record::Handback(record) => serde_json::to_string(record),
            Record::Rating(record) => serde_json::to_string(record),
            Record::Contact(record) => serde_json::to_string(record),
            Record::Identity(record) => serde_json::to_string(record),
            Record::Verdict(record) => serde_json::to_string(record),
        };
        // unwrap: records are plain data (strings, numbers, enums); a NaN confidence is
        // written as null by serde_json, never an error.
        json.expect("records serialise")
    }

    /// The record stored under `field` with this JSON; `Ok(None)` for a field this version
    /// does not know.
    pub fn parse(field: &str, json: &str) -> Result<Option<Record>, serde_json::Error> {
        Ok(Some(match field {
            "escalation" => Record::Escalation(serde_json::from_str(json)?),
            "policy" => Record::Policy(serde_json::from_str(json)?),
            "signals" => Record::Signals(serde_json::from_str(json)?),
            "model_confidence" => Record::ModelConfidence(serde_json::from_str(json)?),
            "summary" => Record::Summary(serde_json::from_str(json)?),
            "handback" => Record::Handback(serde_json::from_str(json)?),
            "rating" => Record::Rating(serde_json::from_str(json)?),
            "contact" => Record::Contact(serde_json::from_str(json)?),
            "identity" => Record::Identity(serde_json::from_str(json)?),
            "verdict" => Record::Verdict(serde_json::from_str(json)?),
            _ => return Ok(None),
        }))
    }
}

impl Records {
    /// Sets one record, replacing the one of its kind.
    pub fn apply(&mut self, record: Record) {
        match record {
            Record::Escalation(record) => self.escalation = Some(Box::new(record)),
            Record::Policy(record) => self.policy = record,
            Record::Signals(record) => self.signals = Some(Box::new(record)),
            Record::ModelConfidence(record) => self.model_confidence = Some(record),
            Record::Summary(record) => self.summary = Some(record),
            Record::Handback(record) => self.handback = Some(Box::new(record)),
            Record::Rating(record) => self.rating = Some(Box::new(record)),
            Record::Contact(record) => self.contact = Some(Box::new(record)),
            Record::Identity(record) => self.identity = Some(Box::new(record)),
            Record::Verdict(record) => self.verdict = Some(Box::new(record)),
        }
    }

    /// Every record that is set, as written (the archive keeps them by field name).
    pub fn list(&self) -> Vec<Record> {
        let mut list = vec![Record::Policy(self.policy.clone())];
        list.extend(self.escalation.as_deref().cloned().map(Record::Escalation));
        list.extend(self.signals.as_deref().cloned().map(Record::Signals));
        list.extend(self.model_confidence.map(Record::ModelConfidence));
        list.extend(self.summary.clone().map(Record::Summary));
        list.extend(self.handback.as_deref().cloned().map(Record::Handback));
        list.extend(self.rating.as_deref().cloned().map(Record::Rating));
        list.extend(self.contact.as_deref().cloned().map(Record::Contact));
        list.extend(self.identity.as_deref().cloned().map(Record::Identity));
        list.extend(self.verdict.as_deref().cloned().map(Record::Verdict));
        list
    }

    /// Reads one stored field back into these records; unknown fields are skipped.
    pub fn read(&mut self, field: &str, json: &str) -> Result<(), serde_json::Error> {
        if let Some(record) = Record::parse(field, json)? {
            self.apply(record);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_reads_back_as_it_was_written() {
        let at = Utc::now();
        let records = [
            Record::Escalation(EscalationRecord {
                reason: Reason::Topic,
                priority: 7,
                detail: "topic legal".into(),
                signals: None,
                team: Some("legal".into()),
                at,
            }),
            Record::Policy(PolicyState { offered: true, offer_reason: Some(Reason::LowConfidence), offer_score: 0.5 }),
            Record::ModelConfidence(0.25),
            Record::Summary("wants a refund".into()),
            Record::Handback(Handback { agent: "Ana".into(), said: "Sent the label.".into() }),
            Record::Rating(Rating { score: 4, comment: Some("quick".into()), at }),
            Record::Contact(Contact { email: "ann@example.com".into(), at, text: None }),
            Record::Identity(Identity {
                user_id: Some("u-1".into()),
                name: Some("Ann".into()),
                email: None,
                verified: true,
                at,
            }),
        ];
        let mut written = Records::default();
        let mut read = Records::default();
        for record in records {
            read.read(record.field(), &record.to_json()).unwrap();
            written.apply(record);
        }
        assert_eq!(read, written);
        let mut listed = Records::default();
        read.list().into_iter().for_each(|record| listed.apply(record));
        assert_eq!(listed, written, "list gives every record back");
        assert_eq!(read.rating.as_ref().map(|r| r.score), Some(4));
    }

    #[test]
    fn a_conversation_without_records_carries_little() {
        // Every live conversation holds its records: keep the empty ones small.
        assert!(std::mem::size_of::<Records>() <= 112, "{} bytes", std::mem::size_of::<Records>());
    }

    #[test]
    fn unknown_fields_are_skipped_and_bad_values_are_errors() {
        let mut records = Records::default();
        records.read("written_by_a_newer_node", "{}").unwrap();
        assert_eq!(records, Records::default());
        assert!(records.read("rating", "\"five\"").is_err());
    }
}
