//! The policy tester: paste or upload a mail and see the decision, without making a ticket.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, State};

use super::Chrome;
use crate::pipeline::reason::detail_name;
use crate::pipeline::route::Reply;
use crate::pipeline::set_aside::SetAside;
use crate::pipeline::{Decision, triage};
use crate::policy::Policy;
use crate::text::address::{EmailAddress, join};
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::{WebError, WebResult};
use crate::web::i18n::Lang;

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
    while let Some(field) =
        form.next_field().await.map_err(|e| WebError::BadRequest(crate::desk::Refusal::BrokenForm(e.to_string())))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let data =
            field.bytes().await.map_err(|e| WebError::BadRequest(crate::desk::Refusal::BrokenForm(e.to_string())))?;
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
        Ok(d) => (Some(fields(&d, state.desk.policy(), staff.lang)), None),
        Err(e) => (None, Some(e.text(staff.lang))),
    };
    Ok(TesterPage { chrome: Chrome::of(&staff), input, result, error })
}

/// The decision as label and value pairs, in the reader's language.
fn fields(d: &Decision, policy: &Policy, lang: Lang) -> Vec<(String, String)> {
    let t = lang.texts();
    let list = |v: &[EmailAddress]| if v.is_empty() { "–".to_string() } else { join(v, ", ") };
    let yes_no = |b: bool| if b { t.yes } else { t.no };
    let verdict = match &d.ignored {
        Some(i) => {
            let why = SetAside::Robot(i.clone()).text(lang);
            format!("{} — {why}", t.label("ignored"))
        }
        None => t.label("ticket").to_string(),
    };
    let mut out = vec![
        (t.decision.to_string(), verdict),
        (t.subject.to_string(), d.mail.subject.clone()),
        (t.reporter.to_string(), d.mail.from_address().map(String::from).unwrap_or_default()),
    ];
    if let (None, Some(r)) = (&d.ignored, &d.routing) {
        let c = &d.classification;
        let missing: Vec<&str> = d.checks.missing.iter().map(|m| detail_name(*m, lang)).collect();
        let reply = match (r.reply_sent(), &r.reply_to) {
            (Reply::None, _) | (_, None) => t.none.to_string(),
            (kind, Some(to)) => format!("{} → {to}", t.label(kind.as_str())),
        };
        out.extend([
            (
                t.class.to_string(),
                format!("{} ({} {:.0} %)", t.label(c.class.as_str()), t.confidence, c.confidence * 100.0),
            ),
            (
                t.municipality.to_string(),
                r.municipality.as_deref().map_or(t.unknown, |m| policy.municipality_name(m)).to_string(),
            ),
            (t.missing.to_string(), if missing.is_empty() { "–".into() } else { missing.join(", ") }),
            (t.urgent.to_string(), yes_no(c.urgent).to_string()),
            (t.privacy.to_string(), yes_no(c.privacy).to_string()),
            (t.to.to_string(), list(&r.to)),
            (t.cc.to_string(), list(&r.cc)),
            (t.label("awaiting-info").to_string(), yes_no(r.held).to_string()),
            (t.reply.to_string(), reply),
        ]);
    }
    let reasons: Vec<String> = d.reasons().iter().map(|r| r.text(lang)).collect();
    out.push((t.reasons.to_string(), reasons.join("\n")));
    out
}
