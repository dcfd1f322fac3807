//! The ticket log as staff see it: filters, keyset pagination (newest first; `id < cursor`, never
//! OFFSET, so page 500 costs what page 1 does), search, and counts per filter value.

use std::collections::{BTreeMap, HashMap};

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
    /// The search's words as the store worked them out, kept so that a page and its counts (one
    /// request, one filter) look them up once; filled in by the store.
    pub worked_out: WorkedOut,
}

/// A search's words and what they were worked out to (see [`Store::search_terms`]).
#[derive(Debug, Clone, Default)]
pub struct WorkedOut(std::sync::Arc<std::sync::Mutex<Option<Words>>>);

/// A search's words, and what they were worked out to.
type Words = (Vec<String>, Search);

/// A search as the store takes it: its full-text terms and, on PostgreSQL, when it matches few
/// tickets, their ids (looked up once; the page and its counts then read those tickets by key
/// instead of each asking the full-text index again).
#[derive(Debug, Clone, Default)]
struct Search {
    terms: Vec<Term>,
    few: Option<Vec<i64>>,
    /// On PostgreSQL, the share of the tickets the statistics foretell to match (0: a word too
    /// rare for them to name, or no statistics; see [`Store::word_shares`]).
    share: f64,
    /// On PostgreSQL, one more than the greatest ticket id when the search was worked out: where
    /// its page and counts start down the key (see [`Store::top_id`]).
    top: i64,
}

/// How many tickets match a search's terms.
enum Matching {
    None,
    /// Many, or (on SQLite, which is not asked how many) at least one.
    Some,
    /// On PostgreSQL, at most [`SEARCH_COUNT_LIMIT`], newest first.
    Few(Vec<i64>),
}

impl Matching {
    /// The matches a page and its counts read by key: all of them when none or few; `None` when
    /// many (they are searched for as words).
    fn few(self) -> Option<Vec<i64>> {
        match self {
            Matching::None => Some(vec![]),
            Matching::Some => None,
            Matching::Few(ids) => Some(ids),
        }
    }
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
    /// On PostgreSQL, which clause holds the words of a search.
    text_at: Option<usize>,
}

impl Where {
    fn new() -> Self {
        Where { clauses: vec![], binds: vec![], from: "tickets", newest_first: "id DESC", text: false, text_at: None }
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

    /// The binds alone, for a query whose clauses are already written into its source.
    fn binds_only(self) -> Where {
        Where { clauses: vec![], text_at: None, ..self }
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

/// Words shorter than this are matched whole only: as a word beginning, `i` would stand for nearly
/// every word the tickets have (`i`, `ikke`, `igjen`, …).
const PREFIX_CHARS: usize = 3;

/// One word of a search as the full-text query takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// The word itself.
    Whole(String),
    /// Any word so beginning, by the index's own prefix match (when it stands for too many words
    /// to name, or is not a plain word).
    Beginning(String),
    /// Any of these words: a beginning, expanded to the words of the index it stands for.
    AnyOf(Vec<String>),
}

/// The full-text query for `terms`: all must match.
fn text_query(terms: &[Term], backend: Backend) -> String {
    let quoted = |w: &str| match backend {
        // Dots and at signs are breaks to the index (migration 0023), so an address is the phrase
        // of its parts: `to_tsquery` makes a quoted run of words a phrase.
        Backend::Postgres => format!("'{}'", w.replace(['.', '@'], " ").replace('\\', "\\\\").replace('\'', "''")),
        Backend::Sqlite => format!("\"{}\"", w.replace('"', "\"\"")),
    };
    let (star, or, and) = match backend {
        Backend::Postgres => (":*", " | ", " & "),
        Backend::Sqlite => ("*", " OR ", " AND "),
    };
    terms
        .iter()
        .map(|t| match t {
            Term::Whole(w) => quoted(w),
            Term::Beginning(w) => format!("{}{star}", quoted(w)),
            Term::AnyOf(ws) => format!("({})", ws.iter().map(|w| quoted(w)).collect::<Vec<_>>().join(or)),
        })
        .collect::<Vec<_>>()
        .join(and)
}

/// The words of a search that are not ticket numbers.
fn text_words(f: &TicketFilter) -> Vec<String> {
    f.search.as_deref().map(search_terms).unwrap_or_default().into_iter().filter(|w| !is_ticket_number(w)).collect()
}

/// The `WHERE` of the log: scope, search and dates, and with `with_facets` the facet filters.
fn scoped(f: &TicketFilter, with_facets: bool, search: &Search, backend: Backend) -> Where {
    let mut w = Where::new();
    if let Some(m) = &f.scope {
        w.push("municipality = ?", [Bind::Text(m.clone())]);
    }
    let searched = f.search.as_deref().map(search_terms).unwrap_or_default();
    for n in searched.into_iter().filter(|w| is_ticket_number(w)) {
        w.push("number = ?", [Bind::Text(n.to_uppercase())]);
    }
    if let Some(ids) = &search.few {
        // The search's few matches by key (ids the database gave, so written out as numbers).
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        w.push(&if ids.is_empty() { "FALSE".to_string() } else { format!("tickets.id IN ({list})") }, []);
    } else if !search.terms.is_empty() {
        let query = text_query(&search.terms, backend);
        w.text = true;
        if backend == Backend::Postgres {
            w.text_at = Some(w.clauses.len());
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

/// The same scope and dates over the kept counts, as a source `m` of [`COUNT_COLUMNS`] rows and its
/// binds: all-time totals without dates; with them, the whole months of the range from the monthly
/// counts and the days at either end from the daily ones. `None` when the dates do not fall on
/// whole days (the log's date fields always do).
fn counted(f: &TicketFilter, backend: Backend) -> Option<(String, Vec<Bind>)> {
    let whole_day = |t: Option<OffsetDateTime>| match t.map(|t| t.to_offset(time::UtcOffset::UTC)) {
        Some(t) if t.time() != time::Time::MIDNIGHT => Err(()),
        t => Ok(t.map(OffsetDateTime::date)),
    };
    let (from, until) = (whole_day(f.from).ok()?, whole_day(f.until).ok()?);
    let mut w = Where::new();
    let mut parts = Vec::new();
    let mut part = |table: &str, column: &str, lo: Option<time::Date>, hi: Option<time::Date>| {
        let mut clauses = Vec::new();
        if let Some(m) = &f.scope {
            clauses.push(("municipality = ?".to_string(), Bind::Text(m.clone())));
        }
        for (bound, op) in [(lo, ">="), (hi, "<")] {
            let Some(d) = bound else { continue };
            let value = match (backend, column) {
                (Backend::Sqlite, "month") => format!("{:04}-{:02}", d.year(), u8::from(d.month())),
                _ => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
            };
            let placeholder = if backend == Backend::Postgres { "CAST(? AS DATE)" } else { "?" };
            clauses.push((format!("{column} {op} {placeholder}"), Bind::Text(value)));
        }
        let start = w.clauses.len();
        for (clause, bind) in clauses {
            w.push(&clause, [bind]);
        }
        let filter: Vec<String> = w.clauses.drain(start..).collect();
        let filter = if filter.is_empty() { String::new() } else { format!(" WHERE {}", filter.join(" AND ")) };
        parts.push(format!("SELECT {COUNT_COLUMNS} FROM {table}{filter}"));
    };
    if from.is_none() && until.is_none() {
        part("ticket_totals", "", None, None);
    } else {
        // The months wholly inside the range: from the first that starts on or after `from`, up
        // to the one `until` falls in.
        let first = from.map(|d| if d.day() == 1 { d } else { month_after(d) });
        let last = until.map(|d| d.replace_day(1).unwrap_or(d));
        match (first, last) {
            (Some(a), Some(b)) if a >= b => part("ticket_counts", "day", from, until),
            _ => {
                part("ticket_months", "month", first, last);
                if from.is_some() && from != first {
                    part("ticket_counts", "day", from, first);
                }
                if until.is_some() && until != last {
                    part("ticket_counts", "day", last, until);
                }
            }
        }
    }
    Some((format!("WITH m AS ({})", parts.join(" UNION ALL ")), w.binds))
}

/// The first day of the month after `d`'s.
fn month_after(d: time::Date) -> time::Date {
    let (y, m) = if d.month() == time::Month::December {
        (d.year() + 1, time::Month::January)
    } else {
        (d.year(), d.month().next())
    };
    time::Date::from_calendar_date(y, m, 1).unwrap_or(d)
}

/// The columns of the kept counts (daily, monthly, totals).
const COUNT_COLUMNS: &str = "status, class, municipality, n, urgent, privacy";

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

/// A search matching at least one in this many of the newest tickets is called common (many
/// matches in all, most likely).
const COMMON: i64 = 100;

/// A search matching at least one in this many of the newest tickets is counted on down the key:
/// the walk reads every ticket on the way (about 0.4 µs each), the full-text index first gathers
/// every match there is, so the walk wins only where matches are this close (measured at a million
/// tickets, `docs/benchmarks.md`: a word in 5 % of the tickets 7.6 ms walked, 20 ms from the index;
/// two words together in 1.4 %, 26 ms and 12 ms).
const DENSE: i64 = 25;

/// A page walks down the key for the matches the newest tickets did not fill it with when their
/// share of matches foretells the rest within this many tickets (and walks at most twice as far);
/// else the full-text index gives them, reading every match below from its row to put them in
/// order (about 5 µs a match).
const WALK: i64 = 20_000;

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
    /// A search's words as the full-text query takes them: whole while some ticket has them all
    /// (a beginning over common words is many times slower); else each as the words it begins
    /// (`kristian` finds Kristiansen), read from the index's words (see [`Store::words_beginning`]).
    async fn search_terms(&self, f: &TicketFilter) -> Result<Search> {
        let words = text_words(f);
        let known = f.worked_out.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some((_, search)) = known.filter(|(w, _)| *w == words) {
            return Ok(search);
        }
        let search = self.work_out(words.clone()).await?;
        *f.worked_out.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((words, search.clone()));
        Ok(search)
    }

    /// What [`Store::search_terms`] does the first time for a filter.
    async fn work_out(&self, words: Vec<String>) -> Result<Search> {
        let whole: Vec<Term> = words.iter().cloned().map(Term::Whole).collect();
        if whole.is_empty() {
            return Ok(Search::default());
        }
        let shares = self.word_shares().await?;
        let top = match self.backend() {
            Backend::Sqlite => 0,
            Backend::Postgres => self.top_id().await?,
        };
        let share = foretold_share(&whole, &shares);
        let found = self.matching(&whole, share, top).await?;
        if !matches!(found, Matching::None) {
            return Ok(Search { terms: whole, few: found.few(), share, top });
        }
        // The longest words first: the likeliest to begin no word at all, which ends the search
        // before the common short ones are looked up (on SQLite a lookup reads past each word's
        // list of tickets to the next word: 0.8 ms after `ikke`).
        let mut order: Vec<usize> = (0..words.len()).collect();
        order.sort_by_key(|i| std::cmp::Reverse(words[*i].chars().count()));
        let mut terms: Vec<Term> = words.iter().cloned().map(Term::Whole).collect();
        for i in order {
            let w = &words[i];
            terms[i] = if w.chars().count() < PREFIX_CHARS {
                Term::Whole(w.clone())
            } else if !w.chars().all(char::is_alphanumeric) {
                // An address or a hyphenated word is several words to the index.
                Term::Beginning(w.clone())
            } else {
                let mut found = self.words_beginning(w).await?;
                match found.len() {
                    // No word so begins: no ticket matches (the word itself is found nowhere), so
                    // the rest need no lookup — whole, they find nothing more.
                    0 => break,
                    1 => Term::Whole(found.remove(0)),
                    n if n as i64 > super::words::MAX_EXPANSION => Term::Beginning(w.clone()),
                    _ => Term::AnyOf(found),
                }
            };
        }
        let share = foretold_share(&terms, &shares);
        let few = match self.backend() {
            Backend::Sqlite => None,
            Backend::Postgres => self.matching(&terms, share, top).await?.few(),
        };
        Ok(Search { terms, few, share, top })
    }

    /// Whether any ticket matches all of `terms`; on PostgreSQL also whether few do, and which
    /// (below id `top`); `share` as foretold (see [`Search::share`]).
    async fn matching(&self, terms: &[Term], share: f64, top: i64) -> Result<Matching> {
        let mut w = Where::new();
        if self.backend() == Backend::Sqlite {
            w.push("tickets_fts MATCH ?", [Bind::Text(text_query(terms, Backend::Sqlite))]);
            let sql = format!("SELECT rowid FROM tickets_fts{} LIMIT 1", w.sql());
            let found: Vec<(i64,)> =
                db!(self, c => query(sql, w.binds).fetch_all(c).await).context("searching tickets")?;
            return Ok(if found.is_empty() { Matching::None } else { Matching::Some });
        }
        // As for a page (`newest_matches`): the newest tickets in order, where a common word soon
        // fills the few it takes to be called common; only a rarer search asks the full-text index
        // for the rest, and that once for the page and its counts.
        // Here the planner may also take the full-text index for the newest tickets (see
        // [`between`]): it is the quicker for the rarer words, most of what this first look is
        // asked about; words foretold to be common are read in order, where their matches are.
        w.push("search @@ to_tsquery('simple', ?)", [Bind::Text(text_query(terms, Backend::Postgres))]);
        if common(share) {
            w.text_at = Some(0);
        }
        let (mut recent, mut older) = newest_and_older(&w, top);
        recent.binds.push(Bind::Int(NEWEST / COMMON));
        let sql = format!("SELECT id FROM tickets{} ORDER BY id DESC LIMIT ${}", recent.sql(), recent.binds.len());
        let mut ids: Vec<(i64,)> =
            db!(self, c => query(sql, recent.binds).fetch_all(c).await).context("searching tickets")?;
        // Found in the newest tickets as often as one with more than the limit in all would be,
        // spread evenly: many, most likely, and learning it for sure would read them all.
        let found = ids.len() as i64;
        if found >= NEWEST / COMMON || found.saturating_mul(top) > SEARCH_COUNT_LIMIT.saturating_mul(NEWEST) {
            return Ok(Matching::Some);
        }
        older.binds.push(Bind::Int(SEARCH_COUNT_LIMIT + 1 - ids.len() as i64));
        let sql = format!(
            "WITH m AS MATERIALIZED (SELECT id FROM tickets{}) SELECT id FROM m ORDER BY id DESC LIMIT ${}",
            older.sql(),
            older.binds.len()
        );
        ids.extend(
            db!(self, c => query::<_, (i64,)>(sql, older.binds).fetch_all(c).await).context("searching tickets")?,
        );
        Ok(match ids.len() as i64 {
            0 => Matching::None,
            n if n > SEARCH_COUNT_LIMIT => Matching::Some,
            _ => Matching::Few(ids.into_iter().map(|(id,)| id).collect()),
        })
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
    /// words fill the page there); then, if the newest held matches often enough that the rest are
    /// at most [`WALK`] tickets further down, on down the key; else the matches below them from the
    /// full-text index alone (a `MATERIALIZED` CTE, planned apart from the LIMIT), sorted.
    async fn newest_matches<O>(&self, w: &Where, columns: &str, top: i64, limit: i64) -> Result<Vec<O>>
    where
        O: Send + Unpin,
        O: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let mut rows: Vec<O> = self.in_order(between(w, top - NEWEST, top), columns, limit).await?;
        let mut missing = limit - rows.len() as i64;
        let mut below = top - NEWEST;
        if missing > 0 && !rows.is_empty() {
            // The newest held all their matches. Walked only twice as far as the rest is foretold
            // to be, so a word gathered in the newest tickets does not walk them all.
            let ahead = foretold(missing, rows.len() as i64);
            if ahead <= WALK {
                rows.extend(self.in_order(between(w, below - 2 * ahead, below), columns, missing).await?);
                missing = limit - rows.len() as i64;
                below -= 2 * ahead;
            }
        }
        if missing > 0 {
            let mut older = between(w, i64::MIN, below);
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

    /// Up to `limit` of the tickets `w` selects, newest first, as `columns`, read down the key.
    async fn in_order<O>(&self, mut w: Where, columns: &str, limit: i64) -> Result<Vec<O>>
    where
        O: Send + Unpin,
        O: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        w.binds.push(Bind::Int(limit));
        let sql = format!("SELECT {columns} FROM tickets{} ORDER BY id DESC LIMIT ${}", w.sql(), w.binds.len());
        db!(self, c => query(sql, w.binds).fetch_all(c).await).context("searching tickets")
    }

    /// One page of the log: up to `limit` tickets older than `before` (a ticket id), newest first.
    pub async fn ticket_page(&self, f: &TicketFilter, before: Option<i64>, limit: i64) -> Result<Vec<TicketRow>> {
        let search = self.search_terms(f).await?;
        let mut w = scoped(f, true, &search, self.backend());
        if w.text && self.backend() == Backend::Postgres {
            return self.newest_matches(&w, TICKET_COLUMNS, before.unwrap_or(search.top), limit).await;
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
        let search = self.search_terms(f).await?;
        let w = scoped(f, false, &search, self.backend());
        let limit = SEARCH_COUNT_LIMIT + 1;
        if !w.text {
            // PostgreSQL's few matches, by key: all of them, at most the limit.
            let source = format!("WITH m AS (SELECT {FACET_COLUMNS} FROM tickets{})", w.sql());
            return self.groups(&source, w.binds_only()).await;
        }
        if self.backend() == Backend::Sqlite {
            let source = format!(
                "WITH m AS (SELECT {FACET_COLUMNS} FROM {}{} ORDER BY {} LIMIT {limit})",
                w.from,
                w.sql(),
                w.newest_first
            );
            return self.groups(&source, w.binds_only()).await;
        }
        // For words foretold to be dense, as for the page (`newest_matches`): the newest tickets
        // in order, and on down the key as far as the rest is likely to be, twice over. Then (and
        // for all other searches at once) the full-text index alone for the rest, read only as far
        // as the limit (a CTE is read as it is asked for).
        let top = search.top;
        let mut groups = Vec::new();
        let count = |groups: &[Group]| groups.iter().map(|g| g.n).sum::<i64>();
        let mut found = 0;
        let mut below = top;
        // Known to be rarer than that, the newest would tell nothing more; not known (a word too
        // rare for the statistics to name, or none yet), they tell.
        let dense = search.share * DENSE as f64 >= 1.0;
        if dense || search.share == 0.0 {
            let recent = between(&w, top - NEWEST, top);
            let source = format!("WITH m AS (SELECT {FACET_COLUMNS} FROM tickets{})", recent.sql());
            groups = self.groups(&source, recent.binds_only()).await?;
            found = count(&groups);
            below = top - NEWEST;
        }
        if found < limit && found * DENSE >= NEWEST {
            // The next matches are a short walk down the key away, where the full-text index would
            // first gather every ticket with the word (15 ms for one in 50,000 tickets) to count a
            // thousand.
            let ahead = foretold(limit - found, found);
            let stretch = between(&w, below - 2 * ahead, below);
            let source = format!(
                "WITH m AS (SELECT {FACET_COLUMNS} FROM tickets{} ORDER BY id DESC LIMIT {})",
                stretch.sql(),
                limit - found
            );
            groups.extend(self.groups(&source, stretch.binds_only()).await?);
            found = count(&groups);
            below -= 2 * ahead;
        }
        if found < limit {
            let older = between(&w, i64::MIN, below);
            let source = format!(
                "WITH o AS MATERIALIZED (SELECT {FACET_COLUMNS} FROM tickets{}), m AS (SELECT * FROM o LIMIT {})",
                older.sql(),
                limit - found
            );
            groups.extend(self.groups(&source, older.binds_only()).await?);
        }
        Ok(groups)
    }

    /// The filter counts, in one grouped query: without a search, added up from the kept counts;
    /// with one, counted over its matches (see [`Store::search_groups`]).
    pub async fn facets(&self, f: &TicketFilter) -> Result<Facets> {
        let searching = f.search.as_deref().is_some_and(|q| !search_terms(q).is_empty());
        let groups = match counted(f, self.backend()).filter(|_| !searching) {
            Some((source, binds)) => self.groups(&source, Where { binds, ..Where::new() }).await?,
            None if searching => self.search_groups(f).await?,
            None => {
                let w = scoped(f, false, &Search::default(), self.backend());
                let source = format!("WITH m AS (SELECT {FACET_COLUMNS} FROM tickets{})", w.sql());
                self.groups(&source, w.binds_only()).await?
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

/// The share of the tickets foretold to match all of `terms`, from the common words' `shares`: as
/// if the words were found independently (a beginning: any of its words); 0 when a word is not
/// among them.
fn foretold_share(terms: &[Term], shares: &HashMap<String, f64>) -> f64 {
    let share = |w: &String| shares.get(w).copied().unwrap_or(0.0);
    if terms.is_empty() {
        return 0.0;
    }
    terms
        .iter()
        .map(|t| match t {
            Term::Whole(w) => share(w),
            Term::AnyOf(words) => words.iter().map(share).sum::<f64>().min(1.0),
            Term::Beginning(_) => 0.0,
        })
        .product()
}

/// Whether a search foretold to match `share` of the tickets would be called common in the
/// newest (half as often as [`COMMON`] says, spread evenly, is enough: their matches are near).
fn common(share: f64) -> bool {
    share * (NEWEST as f64) * 2.0 >= (NEWEST / COMMON) as f64
}

/// How far below the newest [`NEWEST`] tickets, which held `found` matches, the next `missing`
/// are likely to be: as many per ticket below as among them.
fn foretold(missing: i64, found: i64) -> i64 {
    missing.saturating_mul(NEWEST) / found.max(1)
}

/// `w` split at the newest [`NEWEST`] tickets below id `top`: those, and the ones below them.
fn newest_and_older(w: &Where, top: i64) -> (Where, Where) {
    (between(w, top - NEWEST, top), between(w, i64::MIN, top - NEWEST))
}

/// `w` within the ids from `low` (`i64::MIN`: from the first) up to but not including `high`.
/// A stretch with both ends is read down the key, its words checked on each ticket: offered the
/// full-text index as well, the planner would take common words' whole lists (6 ms for two words
/// found together in 10,000 tickets) to pick out the few in a stretch it walks in 1.5 ms.
fn between(w: &Where, low: i64, high: i64) -> Where {
    let mut w = w.clone();
    w.push("id < ?", [Bind::Int(high)]);
    if low > i64::MIN {
        w.push("id >= ?", [Bind::Int(low)]);
        if let Some(c) = w.text_at.and_then(|i| w.clauses.get_mut(i)) {
            // A test of the clause's value rather than the clause: no index answers it.
            *c = format!("({c}) IS TRUE");
        }
    }
    w
}

/// The values that have tickets, most tickets first, then by value.
fn ranked<K: Ord + Clone>(m: BTreeMap<K, i64>) -> Vec<Count<K>> {
    let mut v: Vec<_> =
        m.into_iter().filter(|(_, n)| *n > 0).map(|(value, tickets)| Count { value, tickets }).collect();
    v.sort_by(|a, b| b.tickets.cmp(&a.tickets).then_with(|| a.value.cmp(&b.value)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_quotes_every_word_for_its_language() {
        let terms = [
            Term::Whole("o'neil".into()),
            Term::Beginning("kristian".into()),
            Term::AnyOf(vec!["lønn".into(), "lønna".into()]),
            Term::Whole("a\\\"b".into()),
            Term::Beginning("randi.bak".into()),
        ];
        assert_eq!(
            text_query(&terms, Backend::Postgres),
            r#"'o''neil' & 'kristian':* & ('lønn' | 'lønna') & 'a\\"b' & 'randi bak':*"#
        );
        assert_eq!(
            text_query(&terms, Backend::Sqlite),
            r#""o'neil" AND "kristian"* AND ("lønn" OR "lønna") AND "a\""b" AND "randi.bak"*"#
        );
    }
}
