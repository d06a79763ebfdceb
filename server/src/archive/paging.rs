//! One query builder for pages of archived conversations, newest first: the owner API's
//! listing ([`super::listing`]) and the console's archive search ([`super::search`]) both
//! narrow `conversations c` with clauses added here, page by `(started_at, id)` descending,
//! and bind their parameters in order. The same SQL runs on SQLite and PostgreSQL.

use sqlx::any::AnyArguments;
use sqlx::query::Query;

use super::Cursor;
use super::sql::millis;

/// A value bound to a placeholder.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
}

/// The `WHERE` clauses over `conversations c` and their parameters, numbered from `$1`.
#[derive(Default)]
pub(crate) struct ConversationPage {
    pub(crate) clauses: Vec<String>,
    pub(crate) params: Vec<Param>,
}

impl ConversationPage {
    /// Adds `clause`, its `?` placeholders numbered in order, binding `params`.
    pub(crate) fn add(&mut self, clause: &str, params: Vec<Param>) {
        let mut numbered = String::new();
        let mut pieces = clause.split('?');
        numbered.push_str(pieces.next().unwrap_or_default());
        for (n, piece) in pieces.enumerate() {
            numbered.push_str(&format!("${}", self.params.len() + 1 + n));
            numbered.push_str(piece);
        }
        self.params.extend(params);
        self.clauses.push(numbered);
    }

    /// Only conversations started in `[since, until)` (either end open when `None`).
    pub(crate) fn started(&mut self, since: Option<i64>, until: Option<i64>) {
        if let Some(since) = since {
            self.add("c.started_at >= ?", vec![Param::Int(since)]);
        }
        if let Some(until) = until {
            self.add("c.started_at < ?", vec![Param::Int(until)]);
        }
    }

    /// Only conversations after `cursor` (the last of the previous page) in the page order.
    pub(crate) fn after(&mut self, cursor: Option<&Cursor>) {
        if let Some(cursor) = cursor {
            let at = millis(cursor.started_at);
            let id = cursor.id.to_string();
            self.add(
                "(c.started_at < ? OR (c.started_at = ? AND c.id < ?))",
                vec![Param::Int(at), Param::Int(at), Param::Text(id)],
            );
        }
    }

    /// `SELECT {columns} FROM conversations c WHERE … ORDER BY` newest first `LIMIT {limit}`.
    pub(crate) fn sql(&self, columns: &str, limit: usize) -> String {
        let condition = if self.clauses.is_empty() { "1 = 1".to_owned() } else { self.clauses.join(" AND ") };
        format!(
            "SELECT {columns} FROM conversations c WHERE {condition} ORDER BY c.started_at DESC, c.id DESC LIMIT {limit}"
        )
    }

    /// Binds the parameters, in order, to `query` (built from [`Self::sql`]).
    pub(crate) fn bind<'q>(
        self,
        mut query: Query<'q, sqlx::Any, AnyArguments<'q>>,
    ) -> Query<'q, sqlx::Any, AnyArguments<'q>> {
        for param in self.params {
            query = match param {
                Param::Text(text) => query.bind(text),
                Param::Int(int) => query.bind(int),
            };
        }
        query
    }
}
