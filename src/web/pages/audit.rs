//! The audit log for admins: the newest entries (sign-ins, refused access, views of reports, files
//! and privacy cases). Anyone else gets "not found".

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use super::Chrome;
use crate::domain::Role;
use crate::store::AuditRow;
use crate::text::time::when;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::{WebError, WebResult};

/// Entries shown on the page (`routedesk audit --limit N` lists more).
const SHOWN: i64 = 500;

#[derive(Template, WebTemplate)]
#[template(path = "web/audit.html")]
struct AuditPage {
    chrome: Chrome,
    rows: Vec<super::Dated<AuditRow>>,
}

pub async fn page(State(state): State<AppState>, staff: Staff) -> WebResult<impl axum::response::IntoResponse> {
    if staff.user.role != Role::Admin {
        return Err(WebError::NotFound);
    }
    let rows = state
        .desk
        .store()
        .audit_recent(SHOWN)
        .await?
        .into_iter()
        .map(|r| super::Dated { when: when(r.at), item: r })
        .collect();
    Ok(AuditPage { chrome: Chrome::of(&staff), rows })
}
