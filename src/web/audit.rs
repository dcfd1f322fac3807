//! What the web view writes to the audit log (`store::audit`): sign-ins (with a password or at the
//! OpenID provider) and failed or refused ones, sign-outs, access refused to a ticket or case the
//! user may not see, views of reports, files and privacy cases, changes of a ticket's municipality
//! and re-routes; the command line adds exports and erasures of a person's data. A view that cannot
//! be logged is not shown.

use std::net::IpAddr;

use time::OffsetDateTime;

use super::AppState;
use super::auth::Staff;
use super::error::WebResult;
use crate::store::AuditEntry;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignIn,
    /// A sign-in at the region's OpenID provider, taken or refused.
    SsoSignIn,
    SignOut,
    /// A ticket or case that exists, asked for by someone who may not see it.
    Refused,
    /// A ticket's page: the report as sent.
    ViewTicket,
    ViewFile,
    ViewPrivacy,
    /// A set-aside mail's raw text.
    ViewMail,
    /// A ticket's municipality changed by staff.
    SetMunicipality,
    /// A ticket's routing mail sent again, to the recipients of its municipality and class now.
    Reroute,
    /// Everything kept about a person, handed out (`routedesk export`).
    Export,
    /// Everything kept about a person removed (`routedesk erase`).
    Erase,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::SignIn => "sign-in",
            Action::SsoSignIn => "sso-sign-in",
            Action::SignOut => "sign-out",
            Action::Refused => "refused",
            Action::ViewTicket => "view-ticket",
            Action::ViewFile => "view-file",
            Action::ViewPrivacy => "view-privacy",
            Action::ViewMail => "view-mail",
            Action::SetMunicipality => "set-municipality",
            Action::Reroute => "reroute",
            Action::Export => "export",
            Action::Erase => "erase",
        }
    }
}

/// Records `action` on `object` by `actor`, with its `result`.
pub async fn record(
    state: &AppState,
    actor: &str,
    action: Action,
    object: &str,
    result: &str,
    address: Option<IpAddr>,
) -> WebResult<()> {
    let address = address.map(|a| a.to_string());
    let entry = AuditEntry { actor, action: action.as_str(), object, result, address: address.as_deref() };
    state.desk.store().audit(&entry, OffsetDateTime::now_utc()).await?;
    Ok(())
}

/// Records what a signed-in staff member did.
pub async fn by(state: &AppState, staff: &Staff, action: Action, object: &str, result: &str) -> WebResult<()> {
    record(state, &staff.actor(), action, object, result, staff.address).await
}
