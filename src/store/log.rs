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
use crate::domain::{Class, TicketStatus};

/// What the log shows. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub status: Option<TicketStatus>,
    pub class: Option<Class>,
    pub municipality: Option<String>,
    pub urgent: bool,
    pub privacy: bool,
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// Words searched in subject, report text and reporter.
    pub search: Option<String>,
    /// A municipal user's own municipality: everything else is invisible to them.
    pub scope: Option<String>,
    pub vendor: Option<VendorFilter>,
}

/// Tickets by their vendor case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VendorFilter {
    /// The vendor's case number is recorded.
    WithCase,
    /// Asked for, not recorded, not resolved.
    Waiting,
}

impl VendorFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            VendorFilter::WithCase => "case",
            VendorFilter::Waiting => "waiting",
        }
    }

    pub fn parse(s: &str) -> Option<VendorFilter> {
        [VendorFilter::WithCase, VendorFilter::Waiting].into_iter().find(|v| v.as_str() == s)
    }
}

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Time(OffsetDateTime),
    Int(i64),
}

/// `WHERE …` and its binds; placeholders are numbered from 1.
#[derive(Clone)]
struct Where {
    clauses: Vec<String>,
    binds: Vec<Bind>,
    /// What is read: `tickets`, or on SQLite with a search the full-text index joined to it.
    from: &'static str,
    /// Newest first, in the order the `from` can stream without sorting.
    newest_first: &'static str,
    /// Whether the words of a search are among the clauses.
    text: bool,
}

impl Where {
    fn new() -> Self {
        Where { clauses: vec![], binds: vec![], from: "tickets", newest_first: "id DESC", text: false }
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

/// Words shorter than this are matched whole only: as a word beginning, `i` would match nearly
/// every ticket (`i`, `ikke`, `igjen`, …) and cost a search seconds for no use.
const PREFIX_CHARS: usize = 3;

/// The full-text query for `words`: all must match, whole words, or with `prefix` as word
/// beginnings (`kristian` finds Kristiansen) those of at least [`PREFIX_CHARS`] characters.
fn text_query(words: &[String], prefix: bool, backend: Backend) -> String {
    let (star, quote, and) = match backend {
        Backend::Postgres => (":*", "'", " & "),
        Backend::Sqlite => ("*", "\"", " "),
    };
    words
        .iter()
        .map(|w| {
            let star = if prefix && w.chars().count() >= PREFIX_CHARS { star } else { "" };
            format!("{quote}{w}{quote}{star}")
        })
        .collect::<Vec<_>>()
        .join(and)
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
        w.text = true;
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
    if !w.text && (f.from.is_some() || f.until.is_some()) {
        // The dates' index in its order: the page is a short range of it. In id order the rows
        // newer than the range would be read first (a third of a million for half a year, 1.5 s).
        w.newest_first = "created_at DESC, id DESC";
    }
    if with_facets {
        if let Some(s) = &f.status {
            w.push("status = ?", [Bind::Text(s.to_string())]);
        }
        if let Some(c) = &f.class {
            w.push("class = ?", [Bind::Text(c.to_string())]);
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
        match f.vendor {
            Some(VendorFilter::WithCase) => {
                w.push("tickets.id IN (SELECT ticket_id FROM vendor_cases WHERE case_number IS NOT NULL)", [])
            }
            Some(VendorFilter::Waiting) => w.push(
                "tickets.id IN (SELECT ticket_id FROM vendor_cases WHERE case_number IS NULL AND resolved_at IS NULL)",
                [],
            ),
            None => {}
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
    DB: sqlx::Database + sqlx::database::HasStatementCache,
    O: for<'r> sqlx::FromRow<'r, DB::Row>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    OffsetDateTime: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    // Not kept prepared: PostgreSQL would then reuse one generic plan, made without the words and
    // ids, for every search (the full-text index read whole, hundreds of ms), where each search's
    // own plan takes a few.
    binds.into_iter().fold(sqlx::query_as(AssertSqlSafe(sql)).persistent(false), |q, b| match b {
        Bind::Text(s) => q.bind(s),
        Bind::Time(t) => q.bind(t),
        Bind::Int(i) => q.bind(i),
    })
}

/// Counts of the log per facet value, within scope, search and dates.
#[derive(Debug, Clone, Default)]
pub struct Facets {
    pub total: i64,
    pub status: Vec<Count<TicketStatus>>,
    pub class: Vec<Count<Class>>,
    /// Empty for tickets of no known municipality.
    pub municipality: Vec<Count<String>>,
    pub urgent: i64,
    pub privacy: i64,
    /// A search matched more than [`SEARCH_COUNT_LIMIT`] tickets: the counts are of some of them
    /// only, and not to be shown as counts.
    pub capped: bool,
}

/// How many tickets have one value of a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count<T> {
    pub value: T,
    pub tickets: i64,
}

/// On PostgreSQL, how many of the newest tickets a search reads in order before it asks the
/// full-text index (see [`Store::newest_matches`]).
const NEWEST: i64 = 2_000;

/// The columns a search's filter counts are made of, one row per ticket.
const FACET_COLUMNS: &str = "status, class, COALESCE(municipality, '') AS municipality, 1 AS n, \
     CASE WHEN urgent THEN 1 ELSE 0 END AS urgent, CASE WHEN privacy THEN 1 ELSE 0 END AS privacy";

/// Counts of one status, class and municipality: tickets, urgent ones, privacy ones.
#[derive(sqlx::FromRow)]
struct Group {
    status: TicketStatus,
    class: Class,
    municipality: String,
    n: i64,
    urgent: i64,
    privacy: i64,
}

impl Store {
    /// Whether a search's words are matched as word beginnings: only when they do not all occur
    /// as whole words (a prefix search over common words is many times slower).
    async fn prefix_search(&self, f: &TicketFilter) -> Result<bool> {
        let words = text_words(f);
        if words.is_empty() {
            return Ok(false);
        }
        let mut w = Where::new();
        let found: Vec<(i64,)> = match self.backend() {
            Backend::Sqlite => {
                w.push("tickets_fts MATCH ?", [Bind::Text(text_query(&words, false, Backend::Sqlite))]);
                let sql = format!("SELECT rowid FROM tickets_fts{} LIMIT 1", w.sql());
                db!(self, c => query(sql, w.binds).fetch_all(c).await).context("searching tickets")?
            }
            Backend::Postgres => {
                w.push("search @@ to_tsquery('simple', ?)", [Bind::Text(text_query(&words, false, Backend::Postgres))]);
                let top = self.top_id().await?;
                self.newest_matches(&w, "id", top, 1).await?
            }
        };
        Ok(found.is_empty())
    }

    /// One more than the greatest ticket id: the start of a walk from the newest ticket down.
    async fn top_id(&self) -> Result<i64> {
        let (top,): (i64,) = db!(self, fetch_one, "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM tickets")
            .context("listing tickets")?;
        Ok(top)
    }

    /// Up to `limit` of the tickets `w` selects below id `top`, newest first, as `columns`; for a
    /// search on PostgreSQL. There `… @@ q ORDER BY id DESC LIMIT n` is planned as a walk down the
    /// primary key (a word without statistics is guessed to be in 0.5 % of the tickets), and reads
    /// every row when few or none match. So: the newest [`NEWEST`] tickets in order first (common
    /// words fill the page there), then the matches below them from the full-text index alone (a
    /// `MATERIALIZED` CTE, planned apart from the LIMIT; few when the newest held few), sorted.
    async fn newest_matches<O>(&self, w: &Where, columns: &str, top: i64, limit: i64) -> Result<Vec<O>>
    where
        O: Send + Unpin,
        O: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let (mut recent, mut older) = newest_and_older(w, top);
        recent.binds.push(Bind::Int(limit));
        let sql =
            format!("SELECT {columns} FROM tickets{} ORDER BY id DESC LIMIT ${}", recent.sql(), recent.binds.len());
        let mut rows: Vec<O> =
            db!(self, c => query(sql, recent.binds).fetch_all(c).await).context("searching tickets")?;
        let missing = limit - rows.len() as i64;
        if missing > 0 {
            older.binds.push(Bind::Int(missing));
            let sql = format!(
                "WITH m AS MATERIALIZED (SELECT id FROM tickets{}) SELECT {columns} FROM tickets \
                 WHERE id IN (SELECT id FROM m ORDER BY id DESC LIMIT ${}) ORDER BY id DESC",
                older.sql(),
                older.binds.len()
            );
            rows.extend(
                db!(self, c => query::<_, O>(sql, older.binds).fetch_all(c).await).context("searching tickets")?,
            );
        }
        Ok(rows)
    }

    /// One page of the log: up to `limit` tickets older than `before` (a ticket id), newest first.
    pub async fn ticket_page(&self, f: &TicketFilter, before: Option<i64>, limit: i64) -> Result<Vec<TicketRow>> {
        let mut w = scoped(f, true, self.prefix_search(f).await?, self.backend());
        if w.text && self.backend() == Backend::Postgres {
            let top = match before {
                Some(b) => b,
                None => self.top_id().await?,
            };
            return self.newest_matches(&w, TICKET_COLUMNS, top, limit).await;
        }
        if let Some(b) = before {
            if w.newest_first.starts_with("created_at") {
                // In the dates' order, the cursor ticket's place is its time, then its id.
                w.push(
                    "(created_at, id) < ((SELECT created_at FROM tickets WHERE id = ?), ?)",
                    [Bind::Int(b), Bind::Int(b)],
                );
            } else {
                w.push("id < ?", [Bind::Int(b)]);
            }
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

    /// Counts per status, class and municipality of the rows `source` (a subquery named `m`, of
    /// [`FACET_COLUMNS`]) gives, with `w`'s binds.
    async fn groups(&self, source: &str, w: Where) -> Result<Vec<Group>> {
        let sql = format!(
            "{source} SELECT status, class, municipality, CAST(SUM(n) AS BIGINT) AS n, \
             CAST(SUM(urgent) AS BIGINT) AS urgent, CAST(SUM(privacy) AS BIGINT) AS privacy FROM m{} GROUP BY status, class, municipality",
            w.sql()
        );
        db!(self, c => query(sql, w.binds).fetch_all(c).await).context("counting tickets")
    }

    /// The counts of a search: of all its matches while they are at most [`SEARCH_COUNT_LIMIT`];
    /// beyond that only that there are more (counting them all would read them all).
    async fn search_groups(&self, f: &TicketFilter) -> Result<Vec<Group>> {
        let w = scoped(f, false, self.prefix_search(f).await?, self.backend());
        let limit = SEARCH_COUNT_LIMIT + 1;
        if self.backend() == Backend::Sqlite {
            let source = format!(
                "WITH m AS (SELECT {FACET_COLUMNS} FROM {}{} ORDER BY {} LIMIT {limit})",
                w.from,
                w.sql(),
                w.newest_first
            );
            return self.groups(&source, Where { clauses: vec![], ..w }).await;
        }
        // As for the page (`newest_matches`): the newest tickets in order, then the full-text index
        // alone for the rest, read only as far as the limit (a CTE is read as it is asked for).
        let (recent, older) = newest_and_older(&w, self.top_id().await?);
        let source = format!("WITH m AS (SELECT {FACET_COLUMNS} FROM tickets{})", recent.sql());
        let mut groups = self.groups(&source, Where { clauses: vec![], ..recent }).await?;
        let found: i64 = groups.iter().map(|g| g.n).sum();
        if found < limit {
            let source = format!(
                "WITH o AS MATERIALIZED (SELECT {FACET_COLUMNS} FROM tickets{}), m AS (SELECT * FROM o LIMIT {})",
                older.sql(),
                limit - found
            );
            groups.extend(self.groups(&source, Where { clauses: vec![], ..older }).await?);
        }
        Ok(groups)
    }

    /// The filter counts, in one grouped query: without a search, added up from the kept counts;
    /// with one, counted over its matches (see [`Store::search_groups`]).
    pub async fn facets(&self, f: &TicketFilter) -> Result<Facets> {
        let searching = f.search.as_deref().is_some_and(|q| !search_terms(q).is_empty());
        let groups = match counted(f, self.backend()).filter(|_| !searching) {
            Some(w) => self.groups(&format!("WITH m AS (SELECT * FROM {})", w.from), w).await?,
            None if searching => self.search_groups(f).await?,
            None => {
                let w = scoped(f, false, false, self.backend());
                let source = format!("WITH m AS (SELECT {FACET_COLUMNS} FROM tickets{})", w.sql());
                self.groups(&source, Where { clauses: vec![], ..w }).await?
            }
        };
        let mut out = Facets::default();
        let (mut status, mut class, mut municipality) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        for g in groups {
            out.total += g.n;
            out.urgent += g.urgent;
            out.privacy += g.privacy;
            *status.entry(g.status).or_insert(0) += g.n;
            *class.entry(g.class).or_insert(0) += g.n;
            *municipality.entry(g.municipality).or_insert(0) += g.n;
        }
        out.capped = searching && out.total > SEARCH_COUNT_LIMIT;
        out.status = ranked(status);
        out.class = ranked(class);
        out.municipality = ranked(municipality);
        Ok(out)
    }
}

/// `w` split at the newest [`NEWEST`] tickets below id `top`: those, and the ones below them.
fn newest_and_older(w: &Where, top: i64) -> (Where, Where) {
    let mut recent = w.clone();
    recent.push("id < ?", [Bind::Int(top)]);
    recent.push("id >= ?", [Bind::Int(top - NEWEST)]);
    let mut older = w.clone();
    older.push("id < ?", [Bind::Int(top - NEWEST)]);
    (recent, older)
}

/// The values that have tickets, most tickets first, then by value.
fn ranked<K: Ord + Clone>(m: BTreeMap<K, i64>) -> Vec<Count<K>> {
    let mut v: Vec<_> =
        m.into_iter().filter(|(_, n)| *n > 0).map(|(value, tickets)| Count { value, tickets }).collect();
    v.sort_by(|a, b| b.tickets.cmp(&a.tickets).then_with(|| a.value.cmp(&b.value)));
    v
}
