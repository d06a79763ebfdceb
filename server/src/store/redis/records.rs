//! How conversations, records and events are written as Redis values, and read back, and
//! how a [`Delivery`] travels as a pub/sub payload.
//!
//! # Payloads
//! A payload is a small ASCII header, `:`, and the frame's JSON exactly as the [`Delivery`]
//! carries it. The header names the audience and the [`Kind`], so a receiving node rebuilds
//! the very delivery that was sent without looking inside the JSON:
//!
//! ```text
//! payload  = audience kind ":" json
//! audience = "e" (everyone) | "a" (agents only)
//! kind     = "f"                                  Kind::Frame
//!          | "n" seq                              Kind::Event, no change
//!          | "s" seq "." state                    Kind::Event, a change with no agent
//!          | "s" seq "." state "." len "." agent  Kind::Event, a change to an agent
//!          | "g" conversation-id                  Kind::Assigned
//!          | "c" call-id ("1" | "0")              Kind::ActionAnswer (confirmed or not)
//! ```
//!
//! `seq` and `len` are decimal; `state` is the state's snake_case name (letters and `_`);
//! `agent` is exactly `len` bytes of the agent id, so an id may hold any character (`:` and
//! `.` included) without ambiguity. A payload in any other form (an older node's) is not
//! read. The scripts number an event while they store it, so they are handed the header in
//! two parts, before and after the `seq` ([`event_header`]), and splice the digits between.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::delivery::{Change, Kind};
use crate::protocol::{ConversationId, Event, EventBody, State};
use crate::store::{Audience, Conversation, Counter, Delivery, NewConversation, StoreError};

/// Meta hash fields of counters and records carry these prefixes (`a:` fields, the untyped
/// attributes of older versions, are ignored).
const COUNTER: &str = "n:";
const RECORD: &str = "r:";

/// The meta hash of a new conversation.
pub fn new_meta(new: &NewConversation, now: DateTime<Utc>) -> Vec<(&'static str, String)> {
    vec![
        ("site", new.site.clone()),
        ("state", name(&State::Bot)),
        ("last_seq", "0".into()),
        ("created_at", now.to_rfc3339()),
        ("visitor", to_json(&new.visitor)),
        ("token_hash", new.token_hash.clone()),
        ("token_touched", now.timestamp().to_string()),
        ("provisional_ttl", crate::store::PROVISIONAL.as_secs().to_string()),
        // The change number the archive feed goes by (see `store::feed`).
        ("arev", "1".into()),
    ]
}

/// The conversation a meta hash describes (`None` for an empty hash: no such conversation).
pub fn conversation(
    id: ConversationId,
    mut fields: HashMap<String, String>,
) -> Result<Option<Conversation>, StoreError> {
    if fields.is_empty() {
        return Ok(None);
    }
    let mut take = |field: &str| fields.remove(field).ok_or_else(|| corrupt(format!("meta has no {field}")));
    let site = take("site")?;
    let state = from_name(&take("state")?)?;
    let last_seq = take("last_seq")?.parse().map_err(|_| corrupt("last_seq is not a number"))?;
    let created_at =
        DateTime::parse_from_rfc3339(&take("created_at")?).map_err(|_| corrupt("created_at"))?.with_timezone(&Utc);
    let visitor = from_json(&take("visitor")?)?;
    let mut conversation = Conversation {
        id,
        site,
        state,
        last_seq,
        created_at,
        visitor,
        counters: Default::default(),
        records: Default::default(),
    };
    for (field, value) in fields {
        if let Some(counter) = field.strip_prefix(COUNTER) {
            let counter: Counter = from_name(counter)?;
            conversation.counters.insert(counter, value.parse().map_err(|_| corrupt("counter is not a number"))?);
        } else if let Some(record) = field.strip_prefix(RECORD) {
            conversation.records.read(record, &value).map_err(|error| corrupt(format!("record {record}: {error}")))?;
        }
    }
    Ok(Some(conversation))
}

/// A conversation id as Redis holds it (a field of `queue` or `assignments`, a token's value).
pub fn conversation_id(text: &str) -> Result<ConversationId, StoreError> {
    uuid::Uuid::parse_str(text).map(ConversationId).map_err(|_| corrupt(format!("not a conversation id: {text}")))
}

pub fn counter_field(counter: Counter) -> String {
    format!("{COUNTER}{}", name(&counter))
}

/// The meta hash field a record is kept under.
pub fn record_field(field: &str) -> String {
    format!("{RECORD}{field}")
}

/// The event's JSON after its `{"seq":N`; the scripts put the real seq in front. The
/// event's first field is `seq` (serde writes fields in declaration order), so what the
/// script builds is byte for byte `serde_json::to_string` of the numbered event.
pub fn json_after_seq(id: ConversationId, at: DateTime<Utc>, body: &EventBody) -> String {
    let unnumbered = Event { seq: 0, conversation_id: id, at, body: body.clone() };
    let json = to_json(&unnumbered);
    // unwrap: `seq` is Event's first field, so its JSON always starts this way (unit-tested).
    json.strip_prefix(r#"{"seq":0"#).expect("an event's JSON starts with its seq").to_owned()
}

fn audience_letter(audience: Audience) -> char {
    match audience {
        Audience::Everyone => 'e',
        Audience::Agents => 'a',
    }
}

/// The header of a stored event's payload, before and after its `seq` (see the module doc).
pub fn event_header(audience: Audience, change: Option<&Change>) -> (String, String) {
    let letter = audience_letter(audience);
    let Some(change) = change else { return (format!("{letter}n"), String::new()) };
    let mut after = format!(".{}", name(&change.state));
    if let Some(agent) = &change.agent_id {
        after.push_str(&format!(".{}.{agent}", agent.len()));
    }
    (format!("{letter}s"), after)
}

/// A delivery as a pub/sub payload (see the module doc).
pub fn payload(delivery: &Delivery) -> String {
    let letter = audience_letter(delivery.audience);
    let json = &delivery.json;
    match &delivery.kind {
        Kind::Frame => format!("{letter}f:{json}"),
        Kind::Assigned { conversation_id } => format!("{letter}g{conversation_id}:{json}"),
        Kind::ActionAnswer { call_id, confirmed } => format!("{letter}c{call_id}{}:{json}", u8::from(*confirmed)),
        Kind::Event { seq, change } => {
            let (before, after) = event_header(delivery.audience, change.as_ref());
            format!("{before}{seq}{after}:{json}")
        }
    }
}

/// The parts of a pub/sub payload (`None` for one in another form).
pub fn parse_payload(payload: &[u8]) -> Option<(Audience, Kind, &str)> {
    let text = std::str::from_utf8(payload).ok()?;
    let audience = match text.as_bytes().first()? {
        b'e' => Audience::Everyone,
        b'a' => Audience::Agents,
        _ => return None,
    };
    let rest = text.get(1..)?;
    let kind_letter = rest.as_bytes().first()?;
    let rest = &rest[1..];
    let (kind, rest) = match kind_letter {
        b'f' => (Kind::Frame, rest),
        b'g' => {
            let (id, rest) = rest.split_once(':')?;
            let id = uuid::Uuid::parse_str(id).ok()?;
            return Some((audience, Kind::Assigned { conversation_id: ConversationId(id) }, rest));
        }
        b'c' => {
            let (head, rest) = rest.split_once(':')?;
            let (id, confirmed) = head.split_at_checked(head.len().checked_sub(1)?)?;
            let call_id = uuid::Uuid::parse_str(id).ok()?;
            let confirmed = match confirmed {
                "1" => true,
                "0" => false,
                _ => return None,
            };
            return Some((audience, Kind::ActionAnswer { call_id, confirmed }, rest));
        }
        b'n' => {
            let (seq, rest) = digits(rest)?;
            (Kind::Event { seq, change: None }, rest)
        }
        b's' => {
            let (seq, rest) = digits(rest)?;
            let (change, rest) = parse_change(rest.strip_prefix('.')?)?;
            (Kind::Event { seq, change: Some(change) }, rest)
        }
        _ => return None,
    };
    Some((audience, kind, rest.strip_prefix(':')?))
}

/// `state [ "." len "." agent ]`, and what follows it.
fn parse_change(text: &str) -> Option<(Change, &str)> {
    let end = text.find(['.', ':'])?;
    let state: State = from_name(&text[..end]).ok()?;
    let rest = &text[end..];
    let Some(rest) = rest.strip_prefix('.') else { return Some((Change { state, agent_id: None }, rest)) };
    let (len, rest) = digits(rest)?;
    let rest = rest.strip_prefix('.')?;
    let len = usize::try_from(len).ok()?;
    let agent = rest.get(..len)?;
    Some((Change { state, agent_id: Some(Arc::from(agent)) }, &rest[len..]))
}

/// A decimal number at the start of `text` (at least one digit), and what follows it.
fn digits(text: &str) -> Option<(u64, &str)> {
    let end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    Some((text[..end].parse().ok()?, &text[end..]))
}

/// The snake_case name serde gives a unit variant (`State::Queued` → `queued`).
pub fn name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        other => unreachable!("a unit variant serialises to a string, not {other:?}"),
    }
}

pub fn from_name<T: DeserializeOwned>(name: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).map_err(|_| corrupt(format!("unknown {name}")))
}

pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    // unwrap: stored records are plain data (strings, numbers, enums) and always serialise.
    serde_json::to_string(value).expect("records serialise")
}

pub fn from_json<T: DeserializeOwned>(json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|error| corrupt(format!("unreadable record: {error}")))
}

pub fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Unavailable(format!("corrupt data in Redis: {}", what.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Author, Speaker};
    use crate::store::Delivery;

    fn message() -> EventBody {
        EventBody::Message {
            id: uuid::Uuid::new_v4(),
            from: Speaker::Agent,
            text: "a \"quoted\" reply: 10% off".into(),
            author: Some(Author { name: "Ana".into() }),
            client_id: Some("c1".into()),
            sources: vec![],
            actions: vec![],
            notice: None,
        }
    }

    #[test]
    fn the_spliced_event_json_is_exactly_what_serde_writes_for_the_numbered_event() {
        let id = ConversationId::new();
        let at = Utc::now();
        for body in [message(), EventBody::State { state: State::Queued, reason: None, agent: None }] {
            let tail = json_after_seq(id, at, &body);
            let event = Event { seq: 1234, conversation_id: id, at, body };
            assert_eq!(format!("{{\"seq\":1234{tail}"), *Delivery::event(&event).json);
        }
    }

    fn delivered(audience: Audience, kind: Kind, json: &str) -> Delivery {
        let id = ConversationId::new();
        Delivery { topic: crate::delivery::Topic::Conversation(id), kind, audience, json: json.into() }
    }

    fn round_trip(delivery: &Delivery) {
        let written = payload(delivery);
        let (audience, kind, json) = parse_payload(written.as_bytes()).unwrap_or_else(|| panic!("unread: {written}"));
        assert_eq!((audience, &kind, json), (delivery.audience, &delivery.kind, &*delivery.json), "{written}");
    }

    #[test]
    fn every_kind_of_payload_reads_back_as_it_was_sent() {
        let json = r#"{"type":"note","text":"a: b. c"}"#;
        let change = |state, agent: Option<&str>| Some(Change { state, agent_id: agent.map(Arc::from) });
        let kinds = [
            Kind::Frame,
            Kind::Event { seq: 42, change: None },
            Kind::Event { seq: 1, change: change(State::Queued, None) },
            Kind::Event { seq: u64::MAX, change: change(State::Agent, Some("ana")) },
            Kind::Event { seq: 7, change: change(State::Resolved, None) },
            Kind::Assigned { conversation_id: ConversationId::new() },
            Kind::ActionAnswer { call_id: uuid::Uuid::new_v4(), confirmed: true },
            Kind::ActionAnswer { call_id: uuid::Uuid::new_v4(), confirmed: false },
        ];
        for kind in kinds {
            for audience in [Audience::Everyone, Audience::Agents] {
                round_trip(&delivered(audience, kind.clone(), json));
                round_trip(&delivered(audience, kind.clone(), ""));
            }
        }
    }

    #[test]
    fn agent_ids_with_separators_digits_and_unicode_read_back_whole() {
        let odd = ["", ":", ".", "a.b:c", "3.x", "12", "ünï✓", "a b\n\"", "9:{\"seq\":1}", "x.5.yyyyy"];
        for agent in odd {
            let kind =
                Kind::Event { seq: 3, change: Some(Change { state: State::Agent, agent_id: Some(agent.into()) }) };
            round_trip(&delivered(Audience::Everyone, kind, r#"{"seq":3}"#));
        }
    }

    #[test]
    fn the_script_header_parts_make_the_same_payload() {
        let change = Change { state: State::Agent, agent_id: Some("a:1".into()) };
        let (before, after) = event_header(Audience::Agents, Some(&change));
        let json = r#"{"seq":12}"#;
        let spliced = format!("{before}12{after}:{json}");
        let kind = Kind::Event { seq: 12, change: Some(change) };
        assert_eq!(spliced, payload(&delivered(Audience::Agents, kind, json)));
        assert_eq!(spliced, "as12.agent.3.a:1:{\"seq\":12}");
    }

    #[test]
    fn payloads_in_any_other_form_are_not_read() {
        for bad in [
            &b"e42:{}"[..],
            b"e:{}",
            b"x",
            b"",
            b"ef",
            b"en:{}",
            b"enx:{}",
            b"es1:{}",
            b"es1.nope:{}",
            b"es1.agent.9.ana:{}",
            b"es1.agent.3.ana{}",
            b"egnot-a-uuid:",
            b"ef\xff:{}",
        ] {
            assert_eq!(parse_payload(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_meta_hash_reads_back_as_the_conversation_it_describes() {
        let id = ConversationId::new();
        let new = NewConversation { id, site: "demo".into(), token_hash: "h".into(), visitor: Default::default() };
        let mut fields: HashMap<String, String> =
            new_meta(&new, Utc::now()).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        fields.insert(counter_field(Counter::BotErrors), "2".into());
        fields.insert("a:csat".into(), r#"{"score":5}"#.into());
        let rating = crate::records::Record::Summary("wants a refund".into());
        fields.insert(record_field(rating.field()), rating.to_json());
        let conversation = conversation(id, fields).unwrap().unwrap();
        assert_eq!((conversation.site.as_str(), conversation.state, conversation.last_seq), ("demo", State::Bot, 0));
        assert_eq!(conversation.counter(Counter::BotErrors), 2);
        assert_eq!(conversation.records.summary.as_deref(), Some("wants a refund"), "old `a:` fields are ignored");
        assert!(super::conversation(id, HashMap::new()).unwrap().is_none());
    }
}
