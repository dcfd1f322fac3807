//! Mail that did not become a ticket — auto-replies, bounces, bulk mail, our own mail coming back,
//! unparseable or oversized mail — with the reason, its raw text, and a button to make a ticket of
//! one.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Chrome;
use super::files::content_disposition;
use crate::domain::{Direction, Verdict};
use crate::text::time::when;
use crate::web::AppState;
use crate::web::audit::{self, Action};
use crate::web::auth::Staff;
use crate::web::error::{WebError, WebResult};

pub struct Row {
    pub id: i64,
    pub at: String,
    pub from: String,
    pub subject: String,
    pub verdict: Verdict,
    pub reason: String,
}

/// A mail on the server the ledger lacks, as the last reconciliation found it.
pub struct Unmatched {
    pub folder: String,
    pub uid: i64,
    pub at: String,
    pub from: String,
    pub subject: String,
    pub message_id: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/mail.html")]
struct MailPage {
    chrome: Chrome,
    rows: Vec<Row>,
    unmatched: Vec<Unmatched>,
    /// When the mailbox was last compared with the ledger, and whether that failed.
    reconciled: Option<(String, bool)>,
}

// Mail that is no ticket belongs to no municipality, so it is for the helpdesk and admins.

pub async fn page(State(state): State<AppState>, staff: Staff) -> WebResult<impl axum::response::IntoResponse> {
    staff.require_regional()?;
    let store = state.desk.store();
    let reconciled = store.last_reconcile().await?.map(|r| (when(r.finished_at), r.error.is_some()));
    let unmatched = store
        .unmatched_mail()
        .await?
        .into_iter()
        .map(|u| Unmatched {
            folder: u.folder,
            uid: u.uid,
            at: u.received_at.map(when).unwrap_or_default(),
            from: u.from_addr.unwrap_or_default(),
            subject: u.subject,
            message_id: u.message_id.unwrap_or_default(),
        })
        .collect();
    let rows = state
        .desk
        .store()
        .untracked_messages(200)
        .await?
        .into_iter()
        .filter(|m| m.direction == Direction::In)
        .map(|m| Row {
            id: m.id,
            at: when(m.received_at),
            from: m.from_addr.unwrap_or_default(),
            subject: m.subject,
            verdict: m.verdict,
            reason: crate::pipeline::set_aside::stored_text(&m.reason.unwrap_or_default(), staff.lang),
        })
        .collect();
    Ok(MailPage { chrome: Chrome::of(&staff), rows, unmatched, reconciled })
}

/// A set-aside mail as it came, byte for byte, as plain text: what staff read when the reason is
/// not enough — also for mail too large, too deep or too broken to be read as a report. Never
/// rendered: plain text in a sandbox, so nothing in it runs or loads.
pub async fn raw(State(state): State<AppState>, staff: Staff, Path(id): Path<i64>) -> WebResult<Response> {
    staff.require_regional()?;
    let raw = state.desk.store().set_aside_raw(id).await?.ok_or(WebError::NotFound)?;
    audit::by(&state, &staff, Action::ViewMail, &format!("mail/{id}"), "ok").await?;
    let headers = [
        (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_string()),
        (header::CONTENT_DISPOSITION, content_disposition("inline", &format!("e-post-{id}.eml"))),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".to_string()),
    ];
    Ok((headers, raw).into_response())
}

#[derive(Deserialize)]
pub struct Token {
    /// Missing is refused like wrong (403), not as a malformed form.
    #[serde(default)]
    pub(super) csrf: String,
}

pub async fn make_ticket(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<Token>,
) -> WebResult<Redirect> {
    staff.require_regional()?;
    staff.check_csrf(&f.csrf)?;
    let number = state.desk.make_ticket(id, &staff.actor()).await?;
    Ok(Redirect::to(&format!("/tickets/{number}")))
}
