//! A read-only JSON API for tickets, behind the same sign-in: `Authorization: Bearer <token>` (made
//! with `routedesk user token NAME`, valid 90 days unless `--days` says otherwise) or a session cookie. The municipality boundary holds here too.

use axum::Json;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::text::time::rfc3339;

use super::audit::{self, Action};
use super::auth::{self, Staff};
use super::error::WebError;
use super::pages::log::LogQuery;
use super::{AppState, client};
use crate::domain::{Class, TicketStatus};
use crate::store::TicketRow;

#[derive(Serialize)]
pub struct ApiTicket {
    number: String,
    status: TicketStatus,
    class: Class,
    confidence: f64,
    /// The policy's id (`ostre-toten`): what filters and other programs match on.
    municipality: Option<String>,
    /// Its name as people read it (`Østre Toten`).
    municipality_name: Option<String>,
    urgent: bool,
    privacy: bool,
    missing: Vec<String>,
    subject: String,
    reporter: Option<String>,
    route_to: Vec<String>,
    route_cc: Vec<String>,
    created_at: String,
    updated_at: String,
    /// The vendor case, on one ticket's answer (not in the list).
    #[serde(skip_serializing_if = "Option::is_none")]
    vendor_case: Option<ApiVendorCase>,
}

#[derive(Serialize)]
pub struct ApiVendorCase {
    vendor: String,
    number: Option<String>,
    recorded_at: Option<String>,
    open_to_region: bool,
    reminded_at: Option<String>,
    resolved_at: Option<String>,
}

impl ApiVendorCase {
    fn of(v: crate::store::VendorCaseRow, policy: &crate::policy::Policy) -> Self {
        ApiVendorCase {
            vendor: policy.vendor.name.clone(),
            number: v.case_number,
            recorded_at: v.recorded_at.map(rfc3339),
            open_to_region: v.open_to_region,
            reminded_at: v.reminded_at.map(rfc3339),
            resolved_at: v.resolved_at.map(rfc3339),
        }
    }
}

impl ApiTicket {
    fn of(t: TicketRow, policy: &crate::policy::Policy) -> Self {
        ApiTicket {
            municipality_name: t.municipality.as_deref().map(|m| policy.municipality_name(m).to_string()),
            missing: t.missing.iter().map(|d| d.as_str().to_string()).collect(),
            route_to: t.route_to,
            route_cc: t.route_cc,
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
            number: t.number,
            status: t.status,
            class: t.class,
            confidence: t.confidence,
            municipality: t.municipality,
            urgent: t.urgent,
            privacy: t.privacy,
            subject: t.subject,
            reporter: t.reporter,
            vendor_case: None,
        }
    }
}

/// The caller, by bearer token or session; `Err` is a 401 with a JSON body.
async fn caller(headers: &HeaderMap, peer: SocketAddr, state: &AppState) -> Result<Staff, Response> {
    let address = client::address(peer.ip(), headers, &state.trusted_proxies);
    let unauthorized = || {
        (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"error": "sign in or send a bearer token"}))).into_response()
    };
    if let Some(token) = auth::bearer(headers) {
        let now = time::OffsetDateTime::now_utc();
        return match state.desk.store().user_by_api_token(&crate::secret::token_hash(token), now).await {
            Ok(Some(user)) => {
                let lang = auth::lang_of(headers);
                let session = String::new();
                Ok(Staff { user, csrf: String::new(), lang, session, address: Some(address), alerts: Vec::new() })
            }
            Ok(None) => Err(unauthorized()),
            Err(e) => Err(WebError::Internal(e).into_response()),
        };
    }
    match auth::staff_from(headers, Some(peer.ip()), state).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(unauthorized()),
        Err(e) => Err(e.into_response()),
    }
}

#[derive(Serialize)]
struct Page {
    tickets: Vec<ApiTicket>,
    /// Pass as `before` for the next page; `null` on the last page.
    next_before: Option<i64>,
}

pub async fn tickets(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<LogQuery>,
) -> Response {
    let staff = match caller(&headers, peer, &state).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let filter = match q.filter(&staff) {
        Ok(f) => f,
        Err(e) => return WebError::from(e).into_response(),
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    match state.desk.store().ticket_page(&filter, q.before, limit + 1).await {
        Ok(mut rows) => {
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_before = if more { rows.last().map(|t| t.id) } else { None };
            Json(Page {
                tickets: rows.into_iter().map(|t| ApiTicket::of(t, state.desk.policy())).collect(),
                next_before,
            })
            .into_response()
        }
        Err(e) => WebError::Internal(e).into_response(),
    }
}

pub async fn ticket(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Response {
    let staff = match caller(&headers, peer, &state).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let not_found = || (StatusCode::NOT_FOUND, Json(serde_json::json!({"error": "no such ticket"}))).into_response();
    let answer = async {
        match state.desk.store().ticket_by_number(&number).await? {
            Some(t) if staff.can_see(t.municipality.as_deref()) => {
                audit::by(&state, &staff, Action::ViewTicket, &number, "ok").await?;
                let policy = state.desk.policy();
                let case = state.desk.store().vendor_case_of(t.id).await?.map(|v| ApiVendorCase::of(v, policy));
                Ok(Json(ApiTicket { vendor_case: case, ..ApiTicket::of(t, policy) }).into_response())
            }
            Some(_) => {
                audit::by(&state, &staff, Action::Refused, &number, "hidden").await?;
                Ok(not_found())
            }
            None => Ok(not_found()),
        }
    };
    answer.await.unwrap_or_else(|e: WebError| e.into_response())
}
