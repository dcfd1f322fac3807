//! What the classifier learned from staff: the model in use and how it stands, the corrections
//! it learned from by label, and the latest corrections with an undo. Helpdesk and admins only
//! (corrections span municipalities).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Redirect;

use super::Chrome;
use super::mail::Token;
use crate::desk::learning::Trained;
use crate::pipeline::learn::Correction;
use crate::text::time::when;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::WebResult;
use crate::web::i18n::Lang;

/// Corrections listed on the page.
const SHOWN: i64 = 200;

pub struct Row {
    pub id: i64,
    pub when: String,
    pub actor: String,
    pub ticket: String,
    pub what: String,
    pub label: String,
    /// When and by whom it was undone.
    pub undone: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/learning.html")]
struct LearningPage {
    chrome: Chrome,
    trained: Option<String>,
    corrections: usize,
    /// `(label, value)` of the model's standing; empty while it is measured.
    standing: Vec<(String, String)>,
    counts: Vec<(String, usize)>,
    rows: Vec<Row>,
}

fn pct(x: f64, lang: Lang) -> String {
    let s = format!("{:.1} %", x * 100.0);
    if lang == Lang::Nb { s.replace('.', ",") } else { s }
}

/// A correction's kind and label in the reader's words.
fn words(c: &Correction, state: &AppState, lang: Lang) -> (String, String) {
    let t = lang.texts();
    match c {
        Correction::Class(class) => (t.label("correction-class").into(), t.label(class.as_str()).into()),
        Correction::Privacy(p) => {
            (t.label("correction-privacy").into(), t.label(if *p { "privacy-yes" } else { "privacy-no" }).into())
        }
        Correction::Municipality(m) => (
            t.label("correction-municipality").into(),
            m.as_deref().map_or(t.unknown, |m| state.desk.policy().municipality_name(m)).into(),
        ),
    }
}

pub async fn page(State(state): State<AppState>, staff: Staff) -> WebResult<impl axum::response::IntoResponse> {
    staff.require_regional()?;
    let lang = staff.lang;
    let t = lang.texts();
    let desk = &state.desk;
    let Trained { at, learned_from, standing, .. } = desk.trained();
    let corrections = learned_from.len();
    if standing.is_none() {
        desk.measure_in_background();
    }
    let standing = standing
        .map(|s| {
            vec![
                (t.label("learning-accuracy").to_string(), pct(s.accuracy, lang)),
                (t.label("learning-coverage").to_string(), pct(s.coverage, lang)),
                (t.label("learning-privacy-recall").to_string(), pct(s.privacy_recall, lang)),
                (t.label("learning-privacy-precision").to_string(), pct(s.privacy_precision, lang)),
            ]
        })
        .unwrap_or_default();
    let mut counts: Vec<(String, usize)> = Vec::new();
    for (_, c) in desk.corrections_in_use().await? {
        let (what, label) = words(&c, &state, lang);
        let key = format!("{what}: {label}");
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    counts.sort();
    let rows = desk
        .store()
        .recent_examples(SHOWN)
        .await?
        .into_iter()
        .map(|r| {
            let (what, label) = words(&r.correction, &state, lang);
            let undone = r
                .undone_at
                .map(|at| format!("{} {} ({})", when(at), r.undone_by.unwrap_or_default(), t.label("learning-undone")));
            Row { id: r.id, when: when(r.created_at), actor: r.actor, ticket: r.ticket, what, label, undone }
        })
        .collect();
    Ok(LearningPage { chrome: Chrome::of(&staff), trained: at.map(when), corrections, standing, counts, rows })
}

/// Undoes a correction; the page shows it undone (an unknown or already undone one changes nothing).
pub async fn undo(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<Token>,
) -> WebResult<Redirect> {
    staff.require_regional()?;
    staff.check_csrf(&f.csrf)?;
    state.desk.undo_correction(id, &staff.actor()).await?;
    Ok(Redirect::to("/learning"))
}
