//! Queue order, positions and wait estimates: pure functions over [`QueueEntry`] records.
//!
//! Order: chats given back by an agent first, then higher priority, then longer waiting.
//! A visitor's position counts only the chats ahead of it that the same people would take
//! (same site and team), because that is the line the visitor is actually in.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::store::QueueEntry;

/// A wait estimate needs at least this many recent pickups to mean anything.
const MIN_PICKUPS_FOR_ESTIMATE: usize = 3;
/// Estimates beyond this are not worth promising (and would be wrong): `null` instead.
const MAX_ETA_SECS: u32 = 4 * 3600;

pub fn order(a: &QueueEntry, b: &QueueEntry) -> Ordering {
    b.returned
        .cmp(&a.returned)
        .then(b.priority.cmp(&a.priority))
        .then(a.waiting_since.cmp(&b.waiting_since))
        .then(a.conversation_id.cmp(&b.conversation_id))
}

pub fn sorted(mut entries: Vec<QueueEntry>) -> Vec<QueueEntry> {
    entries.sort_by(order);
    entries
}

/// Same line: same site, same team.
pub fn same_line(a: &QueueEntry, b: &QueueEntry) -> bool {
    a.site == b.site && a.team == b.team
}

/// The 1-based position of each entry of `sorted` (which must be in [`order`]) among the
/// entries of its line, in one pass: the queue's length times a map lookup, not its square.
pub fn positions(sorted: &[QueueEntry]) -> Vec<u32> {
    let mut ahead: HashMap<(&str, Option<&str>), u32> = HashMap::new();
    sorted
        .iter()
        .map(|entry| {
            let count = ahead.entry((entry.site.as_str(), entry.team.as_deref())).or_insert(0);
            *count = count.saturating_add(1);
            *count
        })
        .collect()
}

/// Seconds until a person takes the chat at `position`, from recent pickup waits: the median
/// wait of a chat that reached the front, times its position, shared among the agents who
/// could take it. `None` without enough history or with nobody to take it.
pub fn eta_seconds(position: u32, recent_waits: &[u32], available_agents: usize) -> Option<u32> {
    if recent_waits.len() < MIN_PICKUPS_FOR_ESTIMATE || available_agents == 0 {
        return None;
    }
    let mut waits = recent_waits.to_vec();
    waits.sort_unstable();
    let median = u64::from(waits[waits.len() / 2]).max(1);
    let rounds = u64::from(position).div_ceil(available_agents as u64);
    let eta = median * rounds;
    u32::try_from(eta).ok().filter(|eta| *eta <= MAX_ETA_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ConversationId, Reason};
    use chrono::{Duration, Utc};

    fn entry(site: &str, priority: u8, waited_secs: i64, returned: bool) -> QueueEntry {
        QueueEntry {
            conversation_id: ConversationId::new(),
            site: site.into(),
            team: None,
            reason: Reason::ExplicitRequest,
            priority,
            waiting_since: Utc::now() - Duration::seconds(waited_secs),
            returned,
        }
    }

    #[test]
    fn returned_chats_go_first_then_priority_then_waiting_time() {
        let old_low = entry("a", 3, 600, false);
        let new_high = entry("a", 8, 10, false);
        let older_high = entry("a", 8, 60, false);
        let returned = entry("a", 1, 5, true);
        let order = sorted(vec![old_low.clone(), new_high.clone(), returned.clone(), older_high.clone()]);
        let ids: Vec<_> = order.iter().map(|e| e.conversation_id).collect();
        assert_eq!(
            ids,
            [returned.conversation_id, older_high.conversation_id, new_high.conversation_id, old_low.conversation_id]
        );
    }

    #[test]
    fn a_position_counts_only_the_visitors_own_line() {
        let other_site = entry("b", 9, 900, false);
        let first = entry("a", 5, 300, false);
        let second = entry("a", 5, 100, false);
        let mut other_team = entry("a", 5, 200, false);
        other_team.team = Some("billing".into());
        let all = sorted(vec![second.clone(), other_site, first.clone(), other_team]);
        let ids: Vec<_> = all.iter().map(|e| e.conversation_id).collect();
        let at = |e: &QueueEntry| positions(&all)[ids.iter().position(|id| *id == e.conversation_id).unwrap()];
        assert_eq!(at(&first), 1);
        assert_eq!(at(&second), 2);
        assert_eq!(positions(&all), [1, 1, 1, 2], "other site, first, other team, second");
    }

    #[test]
    fn the_estimate_needs_history_and_someone_to_answer() {
        assert_eq!(eta_seconds(1, &[30, 60], 2), None);
        assert_eq!(eta_seconds(1, &[30, 60, 90], 0), None);
        assert_eq!(eta_seconds(1, &[30, 60, 90], 1), Some(60));
        assert_eq!(eta_seconds(3, &[30, 60, 90], 2), Some(120), "two rounds of the median wait");
        assert_eq!(eta_seconds(1000, &[3000, 3000, 3000], 1), None, "too far out to promise");
    }
}
