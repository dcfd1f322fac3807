//! Reports of the same fault: the groups and incidents, one incident with its reports and
//! timeline, and what staff do with it (confirm, post an update, take a report out, dismiss).
//! Incidents span municipalities, so they are for the helpdesk and admins.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Redirect;
use serde::Deserialize;

use super::Chrome;
use crate::domain::{IncidentState, IncidentStatus};
use crate::store::{IncidentRow, IncidentUpdate, TicketRow};
use crate::text::time::when;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::{WebError, WebResult};

#[derive(Template, WebTemplate)]
#[template(path = "web/incidents.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<IncidentRow>,
}

pub async fn list(State(state): State<AppState>, staff: Staff) -> WebResult<impl axum::response::IntoResponse> {
    staff.require_regional()?;
    let rows = state.desk.store().incidents(false, 200).await?;
    Ok(ListPage { chrome: Chrome::of(&staff), rows })
}

#[derive(Template, WebTemplate)]
#[template(path = "web/incident.html")]
struct DetailPage {
    chrome: Chrome,
    i: IncidentRow,
    created: String,
    /// Each ticket with its municipality as people read it and its vendor case number.
    tickets: Vec<(TicketRow, String, String)>,
    vendor: String,
    updates: Vec<super::Dated<IncidentUpdate>>,
    stages: &'static [IncidentStatus],
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
) -> WebResult<impl axum::response::IntoResponse> {
    staff.require_regional()?;
    let store = state.desk.store();
    let i = store.incident_by_number(&number).await?.ok_or(WebError::NotFound)?;
    let t = staff.lang.texts();
    let cases: std::collections::HashMap<i64, String> = store.incident_vendor_cases(i.id).await?.into_iter().collect();
    let tickets = store
        .incident_tickets(i.id)
        .await?
        .into_iter()
        .map(|row| {
            let m = row.municipality.as_deref().map_or(t.unknown, |m| state.desk.policy().municipality_name(m));
            let m = m.to_string();
            let case = cases.get(&row.id).cloned().unwrap_or_default();
            (row, m, case)
        })
        .collect();
    // A dismissal without staff's own words (written in English before the timeline was worded
    // for its reader) reads in the reader's language.
    let updates = store
        .incident_updates(i.id)
        .await?
        .into_iter()
        .map(|mut u| {
            if u.body.is_empty() || u.body == "dismissed: not the same fault" {
                u.body = t.dismissed_note.to_string();
            }
            super::Dated { when: when(u.at), item: u }
        })
        .collect();
    Ok(DetailPage {
        chrome: Chrome::of(&staff),
        created: when(i.created_at),
        i,
        tickets,
        vendor: state.desk.policy().vendor.name.clone(),
        updates,
        stages: IncidentStatus::ALL,
    })
}

#[derive(Deserialize)]
pub struct ActionForm {
    /// Missing is refused like wrong (403), not as a malformed form.
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    ticket: String,
    /// The "show on the status page" box: present when ticked.
    public: Option<String>,
}

/// `confirm`, `update`, `split` or `dismiss`.
pub async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Path((number, action)): Path<(String, String)>,
    Form(f): Form<ActionForm>,
) -> WebResult<Redirect> {
    staff.require_regional()?;
    staff.check_csrf(&f.csrf)?;
    let actor = staff.actor();
    tracing::info!(incident = %number, action = %action, by = %actor, "incident action");
    let desk = &state.desk;
    match action.as_str() {
        "confirm" => desk.confirm_incident(&number, &f.text, f.public.is_some(), &actor).await?,
        "update" => desk.update_incident(&number, f.stage.parse()?, &f.text, f.public.is_some(), &actor).await?,
        "split" => desk.split_incident(&number, &f.ticket, &actor).await?,
        "dismiss" => desk.dismiss_incident(&number, &f.text, &actor).await?,
        _ => return Err(WebError::NotFound),
    }
    Ok(Redirect::to(&format!("/incidents/{number}")))
}
