//! The policy tester: paste or upload a mail and see the decision, without making a ticket.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, State};

use super::Chrome;
use crate::pipeline::triage;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::{WebError, WebResult};

#[derive(Template, WebTemplate)]
#[template(path = "web/tester.html")]
struct TesterPage {
    chrome: Chrome,
    input: String,
    result: Option<Vec<(String, String)>>,
    error: Option<String>,
}

pub async fn form(staff: Staff) -> impl axum::response::IntoResponse {
    TesterPage { chrome: Chrome::of(&staff), input: String::new(), result: None, error: None }
}

pub async fn decide(
    State(state): State<AppState>,
    staff: Staff,
    mut form: Multipart,
) -> WebResult<impl axum::response::IntoResponse> {
    let (mut csrf, mut pasted, mut uploaded) = (String::new(), Vec::new(), Vec::new());
    while let Some(field) = form.next_field().await.map_err(|e| WebError::BadRequest(e.to_string()))? {
        let name = field.name().unwrap_or_default().to_string();
        let data = field.bytes().await.map_err(|e| WebError::BadRequest(e.to_string()))?;
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&data).into_owned(),
            "eml" => pasted = data.to_vec(),
            "file" => uploaded = data.to_vec(),
            _ => {}
        }
    }
    staff.check_csrf(&csrf)?;
    let raw = if uploaded.is_empty() { pasted } else { uploaded };
    let input = String::from_utf8_lossy(&raw).chars().take(200_000).collect::<String>();
    // A pasted mail has bare line feeds; mail-parser reads those as well as CRLF.
    let (result, error) = match triage(&raw, state.desk.policy(), state.desk.limits()) {
        Ok(d) => (Some(crate::pipeline::report::Report::new("", &d, staff.lang).fields()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(TesterPage { chrome: Chrome::of(&staff), input, result, error })
}
