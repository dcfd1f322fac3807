//! A small dashboard: open and urgent counts, tickets per day as a bar chart (server-rendered SVG),
//! per municipality and per class.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use time::OffsetDateTime;

use super::Chrome;
use crate::domain::{Class, TicketStatus};
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::WebResult;

pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    pub label: String,
    pub count: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    open: usize,
    urgent_open: usize,
    awaiting: usize,
    total: usize,
    bars: Vec<Bar>,
    max: usize,
    per_municipality: Vec<Line>,
    per_class: Vec<Line>,
}

/// A line of a breakdown: what, and how many tickets.
struct Line {
    label: String,
    tickets: usize,
}

/// The lines of a breakdown, most tickets first.
fn lines<K>(counts: BTreeMap<K, usize>, label: impl Fn(K) -> String) -> Vec<Line> {
    let mut v: Vec<Line> = counts.into_iter().map(|(k, tickets)| Line { label: label(k), tickets }).collect();
    v.sort_by_key(|l| std::cmp::Reverse(l.tickets));
    v
}

const DAYS: i64 = 30;
const CHART_HEIGHT: u32 = 120;

pub async fn page(State(state): State<AppState>, staff: Staff) -> WebResult<impl axum::response::IntoResponse> {
    let today = OffsetDateTime::now_utc().date();
    let since = today - time::Duration::days(DAYS - 1);
    let scope = staff.scope();
    let rows = state.desk.store().ticket_stats_since(since, scope.as_deref()).await?;
    let mut per_day: BTreeMap<time::Date, usize> =
        (0..DAYS).map(|i| (today - time::Duration::days(DAYS - 1 - i), 0)).collect();
    let mut per_municipality: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_class: BTreeMap<Class, usize> = BTreeMap::new();
    let (mut open, mut urgent_open, mut awaiting, mut total) = (0, 0, 0, 0);
    for r in &rows {
        let (n, urgent) = (count(r.n), count(r.urgent));
        total += n;
        *per_day.entry(r.day).or_default() += n;
        let municipality = if r.municipality.is_empty() {
            staff.lang.texts().unknown.to_string()
        } else {
            state.desk.policy().municipality_name(&r.municipality).to_string()
        };
        *per_municipality.entry(municipality).or_default() += n;
        *per_class.entry(r.class).or_default() += n;
        if r.status != TicketStatus::Resolved {
            open += n;
            urgent_open += urgent;
        }
        if r.status == TicketStatus::AwaitingInfo {
            awaiting += n;
        }
    }
    let max = per_day.values().copied().max().unwrap_or(0).max(1);
    let bars = per_day
        .iter()
        .enumerate()
        .map(|(i, (day, n))| {
            let height = (*n as u32 * CHART_HEIGHT) / max as u32;
            Bar {
                x: i as u32 * 20,
                y: CHART_HEIGHT - height,
                height,
                label: format!("{:02}.{:02}", day.day(), u8::from(day.month())),
                count: *n,
            }
        })
        .collect();
    let t = staff.lang.texts();
    let per_municipality = lines(per_municipality, |m| m);
    let per_class = lines(per_class, |c| t.label(c.as_str()).to_string());
    Ok(Dashboard {
        chrome: Chrome::of(&staff),
        open,
        urgent_open,
        awaiting,
        total,
        bars,
        max,
        per_municipality,
        per_class,
    })
}

/// A kept count as a number of tickets (never negative; a negative one would be a bug in the
/// triggers, and is shown as none rather than failing the page).
fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}
