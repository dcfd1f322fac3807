//! The region's public status page (no sign-in) and its JSON feed, in the shape people know from
//! the vendor's page: our products with their state, ongoing incidents (the region's confirmed ones
//! and the vendor's own) with their updates, and past incidents by day — so users look here before
//! they write. Only staff-written text is shown: titles of confirmed incidents and the updates
//! staff marked "show on the status page", never a report.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::domain::{IncidentState, IncidentStatus};
use crate::text::time::{rfc3339, when};
use crate::web::AppState;
use crate::web::auth::lang_of;
use crate::web::error::WebResult;
use crate::web::i18n::{Lang, Texts};

#[derive(Debug, Clone, Serialize)]
pub struct Component {
    pub name: String,
    /// operational | degraded_performance | partial_outage | major_outage | under_maintenance
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Update {
    pub status: String,
    pub body: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    pub name: String,
    pub status: String,
    /// `region` (confirmed by the helpdesk) or `vendor` (from the vendor's status page).
    pub source: &'static str,
    pub shortlink: String,
    pub incident_updates: Vec<Update>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Day {
    pub date: String,
    pub incidents: Vec<Incident>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub page: serde_json::Value,
    pub status: serde_json::Value,
    pub components: Vec<Component>,
    pub incidents: Vec<Incident>,
    pub past_incidents: Vec<Day>,
}

/// Worst first.
const SEVERITY: &[&str] =
    &["major_outage", "partial_outage", "degraded_performance", "under_maintenance", "operational"];

fn worse(a: &str, b: &str) -> bool {
    let rank = |s: &str| SEVERITY.iter().position(|x| *x == s).unwrap_or(SEVERITY.len());
    rank(a) < rank(b)
}

async fn status(state: &AppState) -> anyhow::Result<Status> {
    let desk = &state.desk;
    let (summary, fetched, _) = desk.vendor().latest();
    // Each product takes the worst state of the vendor components it depends on.
    let mut components: Vec<Component> = desk
        .policy()
        .status_products
        .iter()
        .map(|p| Component { name: p.clone(), status: "operational".into() })
        .collect();
    if let Some(s) = &summary {
        for c in components.iter_mut() {
            for (component, product) in &desk.policy().components {
                if *product != c.name {
                    continue;
                }
                if let Some(v) = s.components.iter().find(|v| v.name.eq_ignore_ascii_case(component))
                    && worse(&v.status, &c.status)
                {
                    c.status = v.status.clone();
                }
            }
        }
    }

    let store = desk.store();
    let mut incidents = Vec::new();
    let mut past: BTreeMap<String, Vec<Incident>> = BTreeMap::new();
    let since = OffsetDateTime::now_utc() - time::Duration::days(14);
    // Only what staff marked for the public (see `public_updates`), all incidents in one query.
    let mut public = store.public_updates().await?;
    for i in store.incidents(false, 200).await?.into_iter().filter(|i| i.state == IncidentState::Confirmed) {
        let updates: Vec<Update> = public
            .remove(&i.id)
            .unwrap_or_default()
            .into_iter()
            .map(|u| Update { status: u.status.to_string(), body: u.body, created_at: rfc3339(u.at) })
            .collect();
        // A confirmed incident always has a status; one without is shown as under investigation.
        let status = i.status.unwrap_or(IncidentStatus::Investigating);
        let entry = Incident {
            name: i.title.clone(),
            status: status.to_string(),
            source: "region",
            shortlink: String::new(),
            incident_updates: updates,
        };
        if status == IncidentStatus::Resolved {
            if i.updated_at >= since {
                past.entry(i.updated_at.date().to_string()).or_default().push(entry);
            }
        } else {
            incidents.push(entry);
        }
    }
    if let Some(s) = &summary {
        let ours = desk.vendor().known();
        for v in s.incidents.iter().chain(&s.scheduled_maintenances) {
            if !ours.iter().any(|k| k.title == v.name) {
                continue;
            }
            let updates = v
                .incident_updates
                .iter()
                .map(|u| Update { status: u.status.clone(), body: u.body.clone(), created_at: u.created_at.clone() })
                .collect();
            incidents.push(Incident {
                name: v.name.clone(),
                status: v.status.clone(),
                source: "vendor",
                shortlink: v.shortlink.clone(),
                incident_updates: updates,
            });
        }
    }
    let indicator =
        if incidents.iter().any(|i| i.source == "region") || components.iter().any(|c| c.status.ends_with("outage")) {
            "major"
        } else if incidents.is_empty() && components.iter().all(|c| c.status == "operational") {
            "none"
        } else {
            "minor"
        };
    let description = match indicator {
        "none" => "All Systems Operational",
        "minor" => "Minor Service Outage",
        _ => "Service Disruption",
    };
    Ok(Status {
        page: serde_json::json!({
            "name": desk.policy().region,
            "url": desk.status_page(),
            "updated_at": rfc3339(OffsetDateTime::now_utc()),
            "vendor_checked_at": fetched.map(rfc3339),
        }),
        status: serde_json::json!({ "indicator": indicator, "description": description }),
        components,
        incidents,
        past_incidents: past.into_iter().rev().map(|(date, incidents)| Day { date, incidents }).collect(),
    })
}

pub async fn json(State(state): State<AppState>) -> WebResult<Json<Status>> {
    Ok(Json(status(&state).await?))
}

#[derive(Template, WebTemplate)]
#[template(path = "web/status.html")]
struct StatusPage {
    t: &'static Texts,
    lang: &'static str,
    region: String,
    /// The summary in the reader's language (the JSON keeps the status-page words).
    summary: &'static str,
    s: Status,
    checked: String,
}

#[derive(Deserialize)]
pub struct StatusQuery {
    lang: Option<String>,
}

/// Bokmål unless the reader asked for another language (`?lang=en`, or the staff view's choice).
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StatusQuery>,
) -> WebResult<impl axum::response::IntoResponse> {
    let lang = q.lang.as_deref().and_then(Lang::parse).unwrap_or_else(|| lang_of(&headers));
    let t = lang.texts();
    let s = status(&state).await?;
    let (_, fetched, _) = state.desk.vendor().latest();
    let summary = match s.status["indicator"].as_str() {
        Some("none") => t.status_all_ok,
        Some("minor") => t.status_minor,
        _ => t.status_major,
    };
    Ok(StatusPage {
        t,
        lang: lang.code(),
        region: state.desk.policy().region.clone(),
        summary,
        checked: fetched.map(when).unwrap_or_default(),
        s,
    })
}
