use std::collections::BTreeMap;

use chrono::TimeZone;
use serde_json::Value;

use super::*;
use crate::protocol::{AgentRef, ConversationId, Reason, Speaker};
use crate::records::{Contact, EscalationRecord, Rating, Records};
use crate::store::Visitor;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_764_000_000 + secs, 0).unwrap()
}

fn conversation(records: Records) -> Conversation {
    Conversation {
        id: ConversationId::new(),
        site: "demo".into(),
        state: State::Bot,
        last_seq: 0,
        created_at: at(0),
        visitor: Visitor::default(),
        counters: BTreeMap::new(),
        records,
    }
}

fn event(conversation: &Conversation, seq: u64, secs: i64, body: EventBody) -> Arc<Event> {
    Arc::new(Event { seq, conversation_id: conversation.id, at: at(secs), body })
}

fn message(text: &str) -> EventBody {
    EventBody::Message {
        id: uuid::Uuid::new_v4(),
        from: Speaker::Visitor,
        text: text.into(),
        author: None,
        client_id: None,
        sources: vec![],
        actions: vec![],
        notice: None,
    }
}

fn queued() -> EventBody {
    EventBody::State { state: State::Queued, reason: Some(Reason::ExplicitRequest), agent: None }
}

fn escalation(secs: i64) -> Box<EscalationRecord> {
    Box::new(EscalationRecord {
        reason: Reason::ExplicitRequest,
        priority: 7,
        detail: "asked for a person".into(),
        signals: None,
        team: Some("support".into()),
        at: at(secs),
    })
}

fn types(derived: &[WebhookEvent]) -> Vec<&'static str> {
    derived.iter().map(|e| e.kind.name()).collect()
}

fn body(event: &WebhookEvent) -> Value {
    serde_json::from_str(&event.body).unwrap()
}

#[test]
fn a_whole_conversation_becomes_its_events_in_order_once() {
    let records = Records {
        escalation: Some(escalation(2)),
        rating: Some(Box::new(Rating { score: 4, comment: Some("ok".into()), at: at(9) })),
        ..Records::default()
    };
    let c = conversation(records);
    let agent = AgentRef { id: "ana".into(), name: "Ana".into() };
    let events = vec![
        event(&c, 1, 1, message("hello")),
        event(&c, 2, 3, queued()),
        event(&c, 3, 4, EventBody::State { state: State::Agent, reason: None, agent: Some(agent) }),
        event(&c, 4, 8, EventBody::State { state: State::Resolved, reason: None, agent: None }),
    ];
    let mut marks = Marks::default();
    let derived = derive(&c, &events, &mut marks, at(60));
    assert_eq!(
        types(&derived),
        [
            "conversation.created",
            "message.created",
            "conversation.escalated",
            "conversation.assigned",
            "conversation.resolved",
            "csat.submitted"
        ]
    );
    let escalated = body(&derived[2]);
    assert_eq!(escalated["type"], "conversation.escalated");
    assert_eq!(escalated["site"], "demo");
    assert_eq!(escalated["data"]["reason"], "explicit_request");
    assert_eq!(escalated["data"]["priority"], 7);
    assert_eq!(escalated["data"]["team"], "support");
    assert_eq!(escalated["id"], derived[2].id.as_str());
    assert_eq!(body(&derived[3])["data"]["agent"]["id"], "ana");
    assert_eq!(body(&derived[5])["data"]["score"], 4);
    assert_eq!(marks.folded_seq, 4);
    assert_eq!(marks.next_ord, 6);

    // The same write again (a replay) derives nothing; the ids are stable.
    let mut again = marks.clone();
    assert!(derive(&c, &events, &mut again, at(61)).is_empty());
    assert_eq!(again, marks);
    let mut fresh = Marks::default();
    let ids: Vec<String> = derive(&c, &events, &mut fresh, at(62)).into_iter().map(|e| e.id).collect();
    assert_eq!(ids, derived.iter().map(|e| e.id.clone()).collect::<Vec<_>>());
}

#[test]
fn an_escalation_waits_for_its_record_while_it_is_young_then_goes_without_it() {
    let c = conversation(Records::default());
    let events = vec![event(&c, 1, 1, message("hi")), event(&c, 2, 2, queued()), event(&c, 3, 3, message("hello?"))];
    let mut marks = Marks::default();
    let derived = derive(&c, &events, &mut marks, at(3));
    assert_eq!(types(&derived), ["conversation.created", "message.created"]);
    assert_eq!(marks.folded_seq, 1, "the queued event and what follows wait");

    let with_record = conversation(Records { escalation: Some(escalation(2)), ..Records::default() });
    let with_record = Conversation { id: c.id, ..with_record };
    let derived = derive(&with_record, &events, &mut marks.clone(), at(4));
    assert_eq!(types(&derived), ["conversation.escalated", "message.created"]);
    assert_eq!(body(&derived[0])["data"]["detail"], "asked for a person");

    let late = derive(&c, &events, &mut marks, at(60));
    assert_eq!(types(&late), ["conversation.escalated", "message.created"]);
    assert_eq!(body(&late[0])["data"]["reason"], "explicit_request");
    assert_eq!(body(&late[0])["data"]["signals"], Value::Null);
}

#[test]
fn a_left_message_goes_before_the_events_that_came_after_it() {
    let contact = Contact { email: "lea@example.com".into(), at: at(5), text: Some("Call me".into()) };
    let c = conversation(Records { contact: Some(Box::new(contact)), ..Records::default() });
    let mut marks = Marks { folded_seq: 3, next_ord: 4, ..Marks::default() };
    let events = vec![
        event(
            &c,
            4,
            5,
            EventBody::Note { text: "left".into(), author: crate::protocol::Author { name: "Visitor".into() } },
        ),
        event(&c, 5, 6, message("We will email you")),
    ];
    let derived = derive(&c, &events, &mut marks, at(7));
    assert_eq!(types(&derived), ["left_message.created", "message.created"]);
    let left = body(&derived[0]);
    assert_eq!(left["data"]["email"], "lea@example.com");
    assert_eq!(left["data"]["text"], "Call me");
    assert_eq!(marks.next_ord, 6);
    assert!(derive(&c, &events, &mut marks, at(8)).is_empty(), "once");
}
