//! The pages of the staff view.

pub mod audit;
pub mod dashboard;
pub mod files;
pub mod incidents;
pub mod learning;
pub mod log;
pub mod login;
pub mod mail;
pub mod oidc;
pub mod privacy;
pub mod status;
pub mod tester;
pub mod ticket;

use axum::http::header;
use axum::response::{IntoResponse, Redirect};

use super::auth::Staff;
use super::i18n::{Lang, Texts};
use crate::domain::Role;

/// A record with its time as pages show it (`when`).
pub struct Dated<T> {
    pub when: String,
    pub item: T,
}

/// What every page's frame needs: the words, the user, the form token.
pub struct Chrome {
    pub t: &'static Texts,
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub user: String,
    /// The role as shown: `municipal (gjovik)`.
    pub role: String,
    staff_role: Role,
    pub csrf: String,
    /// What keeps routedesk from its job now, in the reader's language.
    pub alerts: Vec<String>,
}

impl Chrome {
    pub fn is_admin(&self) -> bool {
        self.staff_role == Role::Admin
    }

    /// Helpdesk and admins: the pages that span municipalities.
    pub fn is_regional(&self) -> bool {
        self.staff_role != Role::Municipal
    }

    pub fn is_municipal(&self) -> bool {
        self.staff_role == Role::Municipal
    }

    pub fn of(staff: &Staff) -> Chrome {
        Chrome {
            t: staff.lang.texts(),
            lang: staff.lang.code(),
            other_lang: if staff.lang == Lang::Nb { "en" } else { "nb" },
            user: staff.user.name.clone(),
            role: match &staff.user.municipality {
                Some(m) if staff.user.role == Role::Municipal => format!("{} ({m})", staff.user.role),
                _ => staff.user.role.to_string(),
            },
            staff_role: staff.user.role,
            csrf: staff.csrf.clone(),
            alerts: staff
                .alerts
                .iter()
                .map(|a| if staff.lang == Lang::Nb { a.finding.text_nb() } else { a.finding.text_en() })
                .collect(),
        }
    }
}

pub async fn home() -> Redirect {
    Redirect::to("/tickets")
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../../templates/web/app.css"),
    )
}

/// A small icon (a ticket), so browsers do not log a missing favicon on every page.
pub async fn favicon() -> impl IntoResponse {
    const ICON: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\"><rect x=\"1\" y=\"3\" width=\"14\" height=\"10\" rx=\"2\" fill=\"#1f5fa8\"/><rect x=\"4\" y=\"6\" width=\"8\" height=\"1.5\" fill=\"#fff\"/><rect x=\"4\" y=\"9\" width=\"5\" height=\"1.5\" fill=\"#fff\"/></svg>";
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], ICON)
}
