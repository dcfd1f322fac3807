//! The ticket log: newest first, filters with counts, search, keyset pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::Chrome;
use crate::domain::{Class, TicketStatus, UnknownValue};
use crate::store::{Count, TicketFilter, VendorFilter};
use crate::text::time::when;
use crate::web::AppState;
use crate::web::auth::{Staff, urlencode};
use crate::web::error::WebResult;
use crate::web::i18n::Texts;

pub const PAGE: i64 = 50;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LogQuery {
    pub status: Option<String>,
    pub class: Option<String>,
    pub municipality: Option<String>,
    pub urgent: Option<String>,
    pub privacy: Option<String>,
    pub vendor: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub q: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

fn date(s: Option<&str>) -> Option<time::OffsetDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    s.filter(|s| !s.is_empty()).and_then(|s| time::Date::parse(s, &format).ok()).map(|d| d.midnight().assume_utc())
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl LogQuery {
    /// The store filter, with a municipal user's boundary applied whatever the query says. A
    /// status or class no ticket can have is an error, not an empty log.
    pub fn filter(&self, staff: &Staff) -> Result<TicketFilter, UnknownValue> {
        Ok(TicketFilter {
            status: nonempty(&self.status).map(|s| s.parse()).transpose()?,
            class: nonempty(&self.class).map(|s| s.parse()).transpose()?,
            municipality: nonempty(&self.municipality),
            urgent: self.urgent.as_deref() == Some("1"),
            privacy: self.privacy.as_deref() == Some("1"),
            from: date(self.from.as_deref()),
            until: date(self.to.as_deref()).map(|d| d + time::Duration::days(1)),
            search: nonempty(&self.q),
            scope: staff.scope(),
            vendor: nonempty(&self.vendor)
                .map(|v| VendorFilter::parse(&v).ok_or(UnknownValue { kind: "vendor case filter", value: v }))
                .transpose()?,
            worked_out: Default::default(),
        })
    }

    /// This query with one parameter changed (`None` removes it), without the page cursor.
    fn with(&self, key: &str, value: Option<&str>) -> String {
        let mut pairs: Vec<(&str, String)> = [
            ("status", &self.status),
            ("class", &self.class),
            ("municipality", &self.municipality),
            ("urgent", &self.urgent),
            ("privacy", &self.privacy),
            ("vendor", &self.vendor),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
        ]
        .into_iter()
        .filter(|(k, _)| *k != key)
        .filter_map(|(k, v)| nonempty(v).map(|v| (k, v)))
        .collect();
        if let Some(v) = value {
            pairs.push((key, v.to_string()));
        }
        let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect();
        format!("/tickets?{}", q.join("&"))
    }
}

pub struct Row {
    pub number: String,
    pub subject: String,
    pub status: TicketStatus,
    pub class: Class,
    pub municipality: String,
    pub urgent: bool,
    pub privacy: bool,
    pub reporter: String,
    pub created: String,
}

pub struct Facet {
    pub label: String,
    pub count: i64,
    pub href: String,
    pub active: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/tickets.html")]
struct LogPage {
    chrome: Chrome,
    rows: Vec<Row>,
    total: i64,
    capped: bool,
    /// Suspected and confirmed incidents still going on, shown above the log.
    incidents: Vec<crate::store::IncidentRow>,
    statuses: Vec<Facet>,
    classes: Vec<Facet>,
    municipalities: Vec<Facet>,
    flags: Vec<Facet>,
    /// By vendor case (no counts: they would cost a join the log's kept counts avoid).
    vendor: Vec<Facet>,
    q: String,
    from: String,
    to: String,
    older: Option<String>,
    paged: bool,
    clear: String,
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<LogQuery>,
) -> WebResult<impl axum::response::IntoResponse> {
    let filter = q.filter(&staff)?;
    let store = state.desk.store();
    let policy = state.desk.policy();
    let mut rows = store.ticket_page(&filter, q.before, PAGE + 1).await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let facets = store.facets(&filter).await?;
    let older = if more { rows.last().map(|t| format!("{}&before={}", q.with("", None), t.id)) } else { None };
    let t = staff.lang.texts();
    let flags = vec![
        Facet {
            label: t.urgent.into(),
            count: facets.urgent,
            active: filter.urgent,
            href: q.with("urgent", (!filter.urgent).then_some("1")),
        },
        Facet {
            label: t.privacy.into(),
            count: facets.privacy,
            active: filter.privacy,
            href: q.with("privacy", (!filter.privacy).then_some("1")),
        },
    ];
    let vendor = [(VendorFilter::WithCase, t.vd.with_case), (VendorFilter::Waiting, t.vd.waiting)]
        .into_iter()
        .map(|(v, label)| {
            let active = filter.vendor == Some(v);
            Facet { label: label.into(), count: 0, active, href: q.with("vendor", (!active).then_some(v.as_str())) }
        })
        .collect();
    let page = LogPage {
        vendor,
        rows: rows
            .into_iter()
            .map(|r| Row {
                created: when(r.created_at),
                reporter: r.reporter_name.or(r.reporter).unwrap_or_default(),
                municipality: r
                    .municipality
                    .as_deref()
                    .map(|m| policy.municipality_name(m).to_string())
                    .unwrap_or_default(),
                number: r.number,
                subject: r.subject,
                status: r.status,
                class: r.class,
                urgent: r.urgent,
                privacy: r.privacy,
            })
            .collect(),
        total: facets.total,
        capped: facets.capped,
        incidents: if staff.scope().is_some() { vec![] } else { store.incidents(true, 10).await? },
        statuses: facet(&q, t, "status", &facets.status, filter.status.as_ref(), |v| t.label(v).to_string()),
        classes: facet(&q, t, "class", &facets.class, filter.class.as_ref(), |v| t.label(v).to_string()),
        municipalities: if staff.scope().is_some() {
            vec![]
        } else {
            facet(&q, t, "municipality", &facets.municipality, filter.municipality.as_ref(), |v| {
                policy.municipality_name(v).to_string()
            })
        },
        flags,
        q: q.q.clone().unwrap_or_default(),
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        older,
        paged: q.before.is_some(),
        clear: "/tickets".into(),
        chrome: Chrome::of(&staff),
    };
    Ok(page)
}

/// The links of one filter: each value with its count, a click setting it or (when set) clearing it;
/// `label` says a value as people read it.
fn facet<T: std::fmt::Display + PartialEq>(
    q: &LogQuery,
    t: &Texts,
    key: &str,
    counts: &[Count<T>],
    current: Option<&T>,
    label: impl Fn(&str) -> String,
) -> Vec<Facet> {
    counts
        .iter()
        .map(|c| {
            let value = c.value.to_string();
            let active = current == Some(&c.value);
            Facet {
                label: if value.is_empty() { t.unknown.to_string() } else { label(&value) },
                count: c.tickets,
                active,
                href: q.with(key, (!active).then_some(value.as_str())),
            }
        })
        .collect()
}
