//! The ticket log as staff see it: filters, keyset pagination (newest first; `id < cursor`, never
//! OFFSET, so page 500 costs what page 1 does), search, and counts per filter value.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;

use super::Backend;
use super::Store;
use super::tickets::TICKET_COLUMNS;
use super::tickets::TicketRow;

/// What the log shows. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub status: Option<String>,
    pub class: Option<String>,
    pub municipality: Option<String>,
    pub urgent: bool,
    pub privacy: bool,
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// Words searched in subject, report text and reporter.
    pub search: Option<String>,
    /// A municipal user's own municipality: everything else is invisible to them.
    pub scope: Option<String>,
}

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Time(OffsetDateTime),
    Int(i64),
}

/// `WHERE …` and its binds; placeholders are numbered from 1.
struct Where {
    clauses: Vec<String>,
    binds: Vec<Bind>,
    /// What is read: `tickets`, or on SQLite with a search the full-text index joined to it.
    from: &'static str,
    /// Newest first, in the order the `from` can stream without sorting.
    newest_first: &'static str,
}

impl Where {
    fn new() -> Self {
        Where { clauses: vec![], binds: vec![], from: "tickets", newest_first: "id DESC" }
    }

    /// Adds a clause whose `?`s take `binds` in order.
    fn push(&mut self, clause: &str, binds: impl IntoIterator<Item = Bind>) {
        let mut binds = binds.into_iter();
        let mut out = String::with_capacity(clause.len() + 8);
        for ch in clause.chars() {
            if ch == '?'
                && let Some(b) = binds.next()
            {
                self.binds.push(b);
                out.push_str(&format!("${}", self.binds.len()));
            } else {
                out.push(ch);
            }
        }
        self.clauses.push(out);
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() { String::new() } else { format!(" WHERE {}", self.clauses.join(" AND ")) }
    }
}

/// The words of a search, each made safe for the full-text query languages: letters, digits and
/// `. @ - _` kept (an address or a hyphenated word stays one search term), anything else a break.
fn search_terms(q: &str) -> Vec<String> {
    q.split(|c: char| !(c.is_alphanumeric() || ".@-_".contains(c)))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .take(8)
        .map(str::to_lowercase)
        .collect()
}

/// A ticket number as staff type it: `RD-2026-000123`.
fn is_ticket_number(word: &str) -> bool {
    let mut parts = word.split('-');
    matches!((parts.next(), parts.next(), parts.next(), parts.next()), (Some(p), Some(y), Some(n), None)
        if p.eq_ignore_ascii_case("rd") && y.len() == 4 && [y, n].iter().all(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())))
}

/// The full-text query for `words`: all must match, whole words, or with `prefix` as word
/// beginnings (`kristian` finds Kristiansen).
fn text_query(words: &[String], prefix: bool, backend: Backend) -> String {
    let star = if prefix { "*" } else { "" };
    if backend == Backend::Postgres {
        let star = if prefix { ":*" } else { "" };
        words.iter().map(|w| format!("'{w}'{star}")).collect::<Vec<_>>().join(" & ")
    } else {
        words.iter().map(|w| format!("\"{w}\"{star}")).collect::<Vec<_>>().join(" ")
    }
}

/// The words of a search that are not ticket numbers.
fn text_words(f: &TicketFilter) -> Vec<String> {
    f.search.as_deref().map(search_terms).unwrap_or_default().into_iter().filter(|w| !is_ticket_number(w)).collect()
}

/// The `WHERE` of the log: scope, search and dates, and with `with_facets` the facet filters.
fn scoped(f: &TicketFilter, with_facets: bool, prefix: bool, backend: Backend) -> Where {
    let mut w = Where::new();
    if let Some(m) = &f.scope {
        w.push("municipality = ?", [Bind::Text(m.clone())]);
    }
    let terms = f.search.as_deref().map(search_terms).unwrap_or_default();
    let (numbers, words): (Vec<_>, Vec<_>) = terms.into_iter().partition(|w| is_ticket_number(w));
    for n in numbers {
        w.push("number = ?", [Bind::Text(n.to_uppercase())]);
    }
    if !words.is_empty() {
        let query = text_query(&words, prefix, backend);
        if backend == Backend::Postgres {
            w.push("search @@ to_tsquery('simple', ?)", [Bind::Text(query)]);
        } else {
            // Driven by the index, newest match first, so a page stops after its last row.
            w.push("tickets_fts MATCH ?", [Bind::Text(query)]);
            w.from = "tickets_fts JOIN tickets ON tickets.id = tickets_fts.rowid";
            w.newest_first = "tickets_fts.rowid DESC";
        }
    }
    if let Some(t) = f.from {
        w.push("created_at >= ?", [Bind::Time(t)]);
    }
    if let Some(t) = f.until {
        w.push("created_at < ?", [Bind::Time(t)]);
    }
    if with_facets {
        if let Some(s) = &f.status {
            w.push("status = ?", [Bind::Text(s.clone())]);
        }
        if let Some(c) = &f.class {
            w.push("class = ?", [Bind::Text(c.clone())]);
        }
        if let Some(m) = &f.municipality {
            w.push("COALESCE(municipality, '') = ?", [Bind::Text(m.clone())]);
        }
        // Written out rather than bound, so the partial indexes on the flags are used.
        if f.urgent {
            w.push("urgent", []);
        }
        if f.privacy {
            w.push("privacy", []);
        }
    }
    w
}

/// The same scope and dates over the kept counts: all-time totals without dates, the per-day counts
/// with them (`None` when the dates do not fall on whole days, which the log's date fields always do).
fn counted(f: &TicketFilter, backend: Backend) -> Option<Where> {
    let mut w = Where::new();
    w.from = if f.from.is_none() && f.until.is_none() { "ticket_totals" } else { "ticket_counts" };
    if let Some(m) = &f.scope {
        w.push("municipality = ?", [Bind::Text(m.clone())]);
    }
    for (t, op) in [(f.from, ">="), (f.until, "<")] {
        let Some(t) = t else { continue };
        let t = t.to_offset(time::UtcOffset::UTC);
        if t.time() != time::Time::MIDNIGHT {
            return None;
        }
        let day = format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day());
        let clause =
            if backend == Backend::Postgres { format!("day {op} CAST(? AS DATE)") } else { format!("day {op} ?") };
        w.push(&clause, [Bind::Text(day)]);
    }
    Some(w)
}

/// A search's filter counts cover at most this many of its newest matches.
pub const SEARCH_COUNT_LIMIT: i64 = 1_000;

/// The log's query: `sql` (built here from fixed parts) with `binds` in order, on either backend.
fn query<'q, DB, O>(sql: String, binds: Vec<Bind>) -> sqlx::query::QueryAs<'q, DB, O, DB::Arguments>
where
    DB: sqlx::Database,
    O: for<'r> sqlx::FromRow<'r, DB::Row>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    OffsetDateTime: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    binds.into_iter().fold(sqlx::query_as(AssertSqlSafe(sql)), |q, b| match b {
        Bind::Text(s) => q.bind(s),
        Bind::Time(t) => q.bind(t),
        Bind::Int(i) => q.bind(i),
    })
}

/// Counts of the log per facet value, within scope, search and dates.
#[derive(Debug, Clone, Default)]
pub struct Facets {
    pub total: i64,
    pub status: Vec<(String, i64)>,
    pub class: Vec<(String, i64)>,
    pub municipality: Vec<(String, i64)>,
    pub urgent: i64,
    pub privacy: i64,
    /// A search matched more than [`SEARCH_COUNT_LIMIT`] tickets: the counts are of the newest ones.
    pub capped: bool,
}

impl Store {
    /// Whether a search's words are matched as word beginnings: only when they do not all occur
    /// as whole words (a prefix search over common words is many times slower).
    async fn prefix_search(&self, f: &TicketFilter) -> Result<bool> {
        let words = text_words(f);
        if words.is_empty() {
            return Ok(false);
        }
        let exact = text_query(&words, false, self.backend());
        // On PostgreSQL a plain `… LIMIT 1` is planned to read the table in order until a match, and
        // reads all of it when no ticket has the words (seconds at a million). So: the newest
        // tickets in order (common words are found there at once), then the index alone, planned
        // apart from the LIMIT (few matches, or none, are found there at once).
        let lookups: &[&str] = match self.backend() {
            Backend::Sqlite => &["SELECT 1 FROM tickets_fts WHERE tickets_fts MATCH $1 LIMIT 1"],
            Backend::Postgres => &[
                "SELECT 1 FROM tickets WHERE id > (SELECT MAX(id) FROM tickets) - 1000 \
                 AND search @@ to_tsquery('simple', $1) LIMIT 1",
                "WITH m AS MATERIALIZED (SELECT id FROM tickets WHERE search @@ to_tsquery('simple', $1)) \
                 SELECT 1 FROM m LIMIT 1",
            ],
        };
        for sql in lookups {
            let found: Option<(i32,)> =
                db!(self, c => query(sql.to_string(), vec![Bind::Text(exact.clone())]).fetch_optional(c).await)
                    .context("searching tickets")?;
            if found.is_some() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// One page of the log: up to `limit` tickets older than `before` (a ticket id), newest first.
    pub async fn ticket_page(&self, f: &TicketFilter, before: Option<i64>, limit: i64) -> Result<Vec<TicketRow>> {
        let mut w = scoped(f, true, self.prefix_search(f).await?, self.backend());
        if let Some(b) = before {
            w.push("id < ?", [Bind::Int(b)]);
        }
        w.binds.push(Bind::Int(limit));
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM {}{} ORDER BY {} LIMIT ${}",
            w.from,
            w.sql(),
            w.newest_first,
            w.binds.len()
        );
        db!(self, c => query(sql, w.binds).fetch_all(c).await).context("listing tickets")
    }

    /// The filter counts, in one grouped query: without a search, added up from the kept counts;
    /// with one, counted over its newest matches (at most [`SEARCH_COUNT_LIMIT`] + 1).
    pub async fn facets(&self, f: &TicketFilter) -> Result<Facets> {
        let searching = f.search.as_deref().is_some_and(|q| !search_terms(q).is_empty());
        let (source, w) = match counted(f, self.backend()).filter(|_| !searching) {
            Some(w) => (w.from.to_string(), w),
            None => {
                let mut w = scoped(f, false, self.prefix_search(f).await?, self.backend());
                let source = format!(
                    "(SELECT status, class, COALESCE(municipality, '') AS municipality, 1 AS n, \
                     CASE WHEN urgent THEN 1 ELSE 0 END AS urgent, CASE WHEN privacy THEN 1 ELSE 0 END AS privacy \
                     FROM {}{} ORDER BY {} LIMIT {}) AS m",
                    w.from,
                    w.sql(),
                    w.newest_first,
                    SEARCH_COUNT_LIMIT + 1
                );
                w.clauses.clear();
                (source, w)
            }
        };
        let sql = format!(
            "SELECT status, class, municipality, CAST(SUM(n) AS BIGINT), CAST(SUM(urgent) AS BIGINT), \
             CAST(SUM(privacy) AS BIGINT) FROM {source}{} GROUP BY status, class, municipality",
            w.sql()
        );
        let groups: Vec<(String, String, String, i64, i64, i64)> =
            db!(self, c => query(sql, w.binds).fetch_all(c).await).context("counting tickets")?;
        let mut out = Facets::default();
        let (mut status, mut class, mut municipality) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        for (s, c, m, count, urgent, privacy) in groups {
            out.total += count;
            out.urgent += urgent;
            out.privacy += privacy;
            *status.entry(s).or_insert(0) += count;
            *class.entry(c).or_insert(0) += count;
            *municipality.entry(m).or_insert(0) += count;
        }
        out.capped = searching && out.total > SEARCH_COUNT_LIMIT;
        let ranked = |m: BTreeMap<String, i64>| {
            let mut v: Vec<_> = m.into_iter().filter(|(_, n)| *n > 0).collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v
        };
        (out.status, out.class, out.municipality) = (ranked(status), ranked(class), ranked(municipality));
        Ok(out)
    }
}
