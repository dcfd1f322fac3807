//! Privacy incidents: the list and one incident with its stage, coordinator, 72-hour deadline and
//! incident report, and what is done with it. Only admins, the data-protection contacts (role
//! `privacy`) and the incident's coordinator see one; to anyone else it does not exist (404).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Redirect;
use serde::Deserialize;
use time::OffsetDateTime;

use super::Chrome;
use crate::desk::privacy::stamp;
use crate::domain::PrivacyStage;
use crate::store::{PrivacyReport, PrivacyRow};
use crate::text::lang::Lang;
use crate::text::time::when;
use crate::web::AppState;
use crate::web::audit::{self, Action};
use crate::web::auth::Staff;
use crate::web::error::{WebError, WebResult};
use crate::web::visibility::may_see_privacy_case;

/// `47 h left`, or how long ago it ran out.
fn left(p: &PrivacyRow, now: OffsetDateTime, lang: Lang) -> String {
    let h = (p.deadline_at - now).whole_hours();
    match (p.authority_notified_at.is_some(), h >= 0, lang) {
        (true, _, Lang::Nb) => "Datatilsynet varslet".into(),
        (true, _, Lang::En) => "authority notified".into(),
        (false, true, Lang::Nb) => format!("{h} t igjen"),
        (false, true, Lang::En) => format!("{h} h left"),
        (false, false, Lang::Nb) => format!("FORSINKET med {} t", -h),
        (false, false, Lang::En) => format!("OVERDUE by {} h", -h),
    }
}

pub struct Row {
    pub p: PrivacyRow,
    pub deadline: String,
    pub left: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/privacy_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
}

pub async fn list(State(state): State<AppState>, staff: Staff) -> WebResult<impl axum::response::IntoResponse> {
    let now = OffsetDateTime::now_utc();
    let rows = state
        .desk
        .store()
        .privacy_incidents(500)
        .await?
        .into_iter()
        .filter(|p| may_see_privacy_case(&staff, p))
        .map(|p| Row { deadline: stamp(p.deadline_at), left: left(&p, now, staff.lang), p })
        .collect();
    Ok(ListPage { chrome: Chrome::of(&staff), rows })
}

#[derive(Template, WebTemplate)]
#[template(path = "web/privacy.html")]
struct DetailPage {
    chrome: Chrome,
    r: Row,
    recorded: String,
    notified: String,
    closed: String,
    /// The policy's address for alerting the vendor; when it was alerted and answered.
    vendor_alert: Option<String>,
    vendor_alerted: String,
    vendor_answered: String,
    events: Vec<super::Dated<crate::store::EventRow>>,
}

async fn visible(state: &AppState, staff: &Staff, number: &str) -> WebResult<PrivacyRow> {
    match state.desk.store().privacy_by_number(number).await? {
        Some(p) if may_see_privacy_case(staff, &p) => Ok(p),
        Some(_) => {
            audit::by(state, staff, Action::Refused, number, "hidden").await?;
            Err(WebError::NotFound)
        }
        None => Err(WebError::NotFound),
    }
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
) -> WebResult<impl axum::response::IntoResponse> {
    let p = visible(&state, &staff, &number).await?;
    audit::by(&state, &staff, Action::ViewPrivacy, &number, "ok").await?;
    let events = state
        .desk
        .store()
        .events_of(p.ticket_id)
        .await?
        .into_iter()
        .filter(|e| e.kind.starts_with("privacy"))
        .map(|e| super::Dated {
            when: when(e.at),
            item: crate::store::EventRow {
                kind: staff.lang.texts().label(&e.kind).to_string(),
                detail: crate::domain::event::detail_text(&e.detail, staff.lang),
                ..e
            },
        })
        .collect();
    let now = OffsetDateTime::now_utc();
    Ok(DetailPage {
        chrome: Chrome::of(&staff),
        recorded: stamp(p.recorded_at),
        notified: p.authority_notified_at.map(stamp).unwrap_or_default(),
        closed: p.closed_at.map(stamp).unwrap_or_default(),
        vendor_alert: state.desk.policy().privacy.vendor_alert.as_ref().map(ToString::to_string),
        vendor_alerted: p.vendor_alerted_at.map(stamp).unwrap_or_default(),
        vendor_answered: p.vendor_answered_at.map(stamp).unwrap_or_default(),
        events,
        r: Row { deadline: stamp(p.deadline_at), left: left(&p, now, staff.lang), p },
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    coordinator: String,
    stage: String,
    note: String,
    timeline: String,
    root_cause: String,
    data_subjects: String,
    personal_data: String,
    mitigation: String,
    crisis: Option<String>,
    controller: String,
}

/// `coordinator`, `stage`, `report`, `authority` or `close`.
pub async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Path((number, action)): Path<(String, String)>,
    Form(f): Form<ActionForm>,
) -> WebResult<Redirect> {
    staff.check_csrf(&f.csrf)?;
    visible(&state, &staff, &number).await?;
    let actor = staff.actor();
    tracing::info!(privacy = %number, action = %action, by = %actor, "privacy incident action");
    let desk = &state.desk;
    match action.as_str() {
        "coordinator" => desk.appoint_coordinator(&number, &f.coordinator, &actor).await?,
        "stage" => desk.privacy_stage(&number, f.stage.parse()?, &actor).await?,
        "authority" => desk.privacy_authority_notified(&number, &actor).await?,
        "vendor" => desk.alert_vendor(&number, &actor).await?,
        "close" => desk.close_privacy(&number, &f.note, &actor).await?,
        "dismiss" => desk.dismiss_privacy(&number, &f.note, &actor).await?,
        "report" => {
            let report = PrivacyReport {
                timeline: f.timeline,
                root_cause: f.root_cause,
                data_subjects: f.data_subjects,
                personal_data: f.personal_data,
                mitigation: f.mitigation,
                crisis: f.crisis.is_some(),
                controller: f.controller,
            };
            desk.privacy_report(&number, &report, &actor).await?
        }
        _ => return Err(WebError::NotFound),
    }
    Ok(Redirect::to(&format!("/privacy/{number}")))
}
