//! How conversations and events are written as Redis values, and read back.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::protocol::{ConversationId, Event, EventBody, State};
use crate::store::{Audience, Conversation, Counter, NewConversation, StoreError};

/// Meta hash fields of counters and attributes carry these prefixes.
const COUNTER: &str = "n:";
const ATTR: &str = "a:";

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
        attrs: Default::default(),
    };
    for (field, value) in fields {
        if let Some(counter) = field.strip_prefix(COUNTER) {
            let counter: Counter = from_name(counter)?;
            conversation.counters.insert(counter, value.parse().map_err(|_| corrupt("counter is not a number"))?);
        } else if let Some(attr) = field.strip_prefix(ATTR) {
            conversation.attrs.insert(attr.to_owned(), from_json(&value)?);
        }
    }
    Ok(Some(conversation))
}

pub fn counter_field(counter: Counter) -> String {
    format!("{COUNTER}{}", name(&counter))
}

pub fn attr_field(key: &str) -> String {
    format!("{ATTR}{key}")
}

/// The event's JSON after its `{"seq":N`; the append script puts the real seq in front. The
/// event's first field is `seq` (serde writes fields in declaration order), so what the
/// script builds is byte for byte `serde_json::to_string` of the numbered event.
pub fn json_after_seq(id: ConversationId, at: DateTime<Utc>, body: &EventBody) -> String {
    let unnumbered = Event { seq: 0, conversation_id: id, at, body: body.clone() };
    let json = to_json(&unnumbered);
    // unwrap: `seq` is Event's first field, so its JSON always starts this way (unit-tested).
    json.strip_prefix(r#"{"seq":0"#).expect("an event's JSON starts with its seq").to_owned()
}

/// The audience letter of a published payload.
pub fn audience_letter(audience: Audience) -> &'static str {
    match audience {
        Audience::Everyone => "e",
        Audience::Agents => "a",
    }
}

/// A pub/sub payload: the audience letter, the seq (events only), `:`, then the frame's JSON.
pub fn payload(audience: Audience, seq: Option<u64>, json: &str) -> String {
    let seq = seq.map(|seq| seq.to_string()).unwrap_or_default();
    format!("{}{seq}:{json}", audience_letter(audience))
}

/// The parts of a pub/sub payload (`None` for one this version did not write).
pub fn parse_payload(payload: &[u8]) -> Option<(Audience, Option<u64>, &str)> {
    let text = std::str::from_utf8(payload).ok()?;
    let (head, json) = text.split_once(':')?;
    let audience = match head.as_bytes().first()? {
        b'e' => Audience::Everyone,
        b'a' => Audience::Agents,
        _ => return None,
    };
    let seq = &head[1..];
    let seq = if seq.is_empty() { None } else { Some(seq.parse().ok()?) };
    Some((audience, seq, json))
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

    #[test]
    fn payloads_carry_audience_and_seq_and_read_back() {
        let json = r#"{"type":"note","text":"a: b"}"#;
        let written = payload(Audience::Agents, Some(42), json);
        assert_eq!(written, format!("a42:{json}"));
        assert_eq!(parse_payload(written.as_bytes()), Some((Audience::Agents, Some(42), json)));
        let ephemeral = payload(Audience::Everyone, None, json);
        assert_eq!(parse_payload(ephemeral.as_bytes()), Some((Audience::Everyone, None, json)));
        assert_eq!(parse_payload(b"x1:{}"), None);
    }

    #[test]
    fn a_meta_hash_reads_back_as_the_conversation_it_describes() {
        let id = ConversationId::new();
        let new = NewConversation { id, site: "demo".into(), token_hash: "h".into(), visitor: Default::default() };
        let mut fields: HashMap<String, String> =
            new_meta(&new, Utc::now()).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        fields.insert(counter_field(Counter::BotErrors), "2".into());
        fields.insert(attr_field("csat"), r#"{"score":5}"#.into());
        let conversation = conversation(id, fields).unwrap().unwrap();
        assert_eq!((conversation.site.as_str(), conversation.state, conversation.last_seq), ("demo", State::Bot, 0));
        assert_eq!(conversation.counter(Counter::BotErrors), 2);
        assert_eq!(conversation.attrs["csat"]["score"], 5);
        assert!(super::conversation(id, HashMap::new()).unwrap().is_none());
    }
}
