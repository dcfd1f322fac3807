//! One ticket: the report as sent (text; HTML only sanitised, remote content blocked), screenshots
//! and files, the checks, the decision and its reasons, every outgoing mail with its delivery state,
//! the conversation, linked tickets and the audit trail — and the actions staff take on it.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::Chrome;
use super::files::file_name;
use crate::domain::{Class, Direction, IncidentState, OutboxKind, OutboxStatus, TicketStatus, Verdict};
use crate::pipeline::parse::{ParseLimits, parse};
use crate::store::{EventRow, TicketRow};
use crate::text::address::join;
use crate::text::time::when;
use crate::web::AppState;
use crate::web::audit::{self, Action};
use crate::web::auth::Staff;
use crate::web::error::{WebError, WebResult};
use crate::web::i18n::{Lang, Texts};
use crate::web::visibility::{self, Sight};

pub struct FileView {
    pub id: i64,
    pub name: String,
    pub content_type: String,
    pub size: String,
    pub dims: String,
    pub thumbnail: bool,
    pub screenshot: bool,
}

pub struct MailView {
    pub kind: OutboxKind,
    pub to: String,
    pub cc: String,
    pub subject: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub error: String,
    pub maybe_twice: bool,
}

pub struct MessageView {
    pub direction: Direction,
    pub from: String,
    pub subject: String,
    pub verdict: Verdict,
    pub at: String,
}

/// A ticket's vendor case as the page shows it.
pub struct VendorView {
    pub case_number: Option<String>,
    /// When and by whom the number was recorded.
    pub recorded: String,
    pub asked: String,
    pub reminded: Option<String>,
    pub open_to_region: bool,
    pub resolved: Option<String>,
}

fn vendor_view(v: crate::store::VendorCaseRow) -> VendorView {
    let by = |at: Option<time::OffsetDateTime>, who: Option<String>| match (at, who) {
        (Some(at), Some(who)) => format!("{} · {who}", when(at)),
        (Some(at), None) => when(at),
        _ => String::new(),
    };
    VendorView {
        recorded: by(v.recorded_at, v.recorded_by),
        resolved: v.resolved_at.map(|at| by(Some(at), v.resolved_by)),
        case_number: v.case_number,
        asked: when(v.asked_at),
        reminded: v.reminded_at.map(when),
        open_to_region: v.open_to_region,
    }
}

pub struct EventView {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/ticket.html")]
struct TicketPage {
    chrome: Chrome,
    t: TicketRow,
    /// The ticket's municipality as people read it.
    municipality: String,
    created: String,
    /// The report as sent, rendered by [`render_report`].
    report: String,
    files: Vec<FileView>,
    missing: Vec<&'static str>,
    reasons: Vec<String>,
    confidence: String,
    to: String,
    cc: String,
    mails: Vec<MailView>,
    messages: Vec<MessageView>,
    links: Vec<crate::store::LinkedTicket>,
    events: Vec<EventView>,
    classes: &'static [Class],
    municipalities: Vec<crate::policy::Municipality>,
    held: bool,
    resolved: bool,
    /// The group of reports of the same fault this ticket is in.
    incident: Option<crate::store::IncidentRow>,
    /// The ticket's privacy incident, for those who may see it.
    privacy_incident: Option<String>,
    /// Its vendor case, shown for an application fault or once it has one.
    vendor: Option<VendorView>,
    vendor_name: String,
}

/// The ticket, if it exists and the user may see it; 404 otherwise (a municipal user cannot learn
/// that another municipality's ticket exists).
pub(super) async fn visible(state: &AppState, staff: &Staff, number: &str) -> WebResult<TicketRow> {
    match state.desk.store().ticket_by_number(number).await? {
        Some(t) if staff.can_see(t.municipality.as_deref()) => Ok(t),
        Some(_) => {
            audit::by(state, staff, Action::Refused, number, "hidden").await?;
            Err(WebError::NotFound)
        }
        None => Err(WebError::NotFound),
    }
}

/// Mail HTML made harmless: no scripts, handlers, styles, forms or frames; no images at all (remote
/// ones would tell the sender the mail was read; attached ones show as thumbnails instead). `cite`
/// goes too: ammonia passes its URL through unchecked (`javascript:` included), and it is never shown.
pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .rm_tags(["img"])
        .rm_tag_attributes("blockquote", &["cite"])
        .rm_tag_attributes("q", &["cite"])
        .rm_tag_attributes("del", &["cite"])
        .rm_tag_attributes("ins", &["cite"])
        .url_schemes(["http", "https", "mailto"].into())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(html)
        .to_string()
}

fn size(n: i64) -> String {
    if n >= 1024 * 1024 { format!("{:.1} MB", n as f64 / 1048576.0) } else { format!("{} kB", (n + 1023) / 1024) }
}

/// The report as sent, read from its raw mail: sender, date, text and sanitised HTML.
#[derive(Template)]
#[template(path = "web/report.html")]
struct ReportView {
    t: &'static crate::web::i18n::Texts,
    from: String,
    date: String,
    text: String,
    html: Option<String>,
}

/// The report section of a ticket's page, from its raw mail: what staff read of any mail, so the
/// fuzz target renders exactly this (`fuzz/fuzz_targets/render.rs`).
pub fn render_report(raw: &[u8], t: &'static crate::web::i18n::Texts) -> Result<String, askama::Error> {
    let Ok(mail) = parse(raw, &ParseLimits::default()) else {
        return ReportView { t, from: String::new(), date: String::new(), text: String::new(), html: None }.render();
    };
    ReportView {
        t,
        from: mail
            .from
            .as_ref()
            .map(|f| f.name.as_ref().map_or_else(|| f.address.to_string(), |n| format!("{n} <{}>", f.address)))
            // No valid sender: show what the header said, so staff see what was refused.
            .or_else(|| mail.header("From").map(crate::pipeline::parse::clean_line))
            .unwrap_or_default(),
        date: mail.date.clone().unwrap_or_default(),
        html: mail.html.as_deref().map(sanitize),
        text: mail.text,
    }
    .render()
}

/// Parsing a large mail is CPU work: it runs on a blocking thread, beside the page's queries.
async fn report_of(raw: Option<Vec<u8>>, t: &'static crate::web::i18n::Texts) -> WebResult<String> {
    let raw = raw.unwrap_or_default();
    let view = tokio::task::spawn_blocking(move || render_report(&raw, t));
    view.await
        .map_err(|e| WebError::from(anyhow::anyhow!("reading the report: {e}")))?
        .map_err(|e| WebError::from(anyhow::anyhow!("rendering the report: {e}")))
}

fn file_view(a: crate::store::AttachmentRow, t: &Texts) -> FileView {
    FileView {
        id: a.id,
        name: a.filename.as_deref().map_or_else(|| t.unnamed.into(), file_name),
        thumbnail: a.width.is_some(),
        dims: match (a.width, a.height) {
            (Some(w), Some(h)) => format!("{w}×{h}"),
            _ => String::new(),
        },
        screenshot: a.screenshot,
        content_type: a.content_type,
        size: size(a.size),
    }
}

fn mail_view(o: crate::store::OutboxRow) -> MailView {
    MailView {
        kind: o.kind,
        to: join(&o.to, ", "),
        cc: join(&o.cc, ", "),
        subject: o.subject,
        status: o.status,
        attempts: o.attempts,
        error: o.last_error.unwrap_or_default(),
        maybe_twice: o.maybe_sent,
    }
}

fn message_view(m: crate::store::MessageRow) -> MessageView {
    MessageView {
        direction: m.direction,
        from: m.from_addr.unwrap_or_default(),
        subject: m.subject,
        verdict: m.verdict,
        at: when(m.received_at),
    }
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
) -> WebResult<impl IntoResponse> {
    let t = visible(&state, &staff, &number).await?;
    // The page shows the report as sent.
    audit::by(&state, &staff, Action::ViewTicket, &number, "ok").await?;
    let store = state.desk.store();
    // Everything the page shows about the ticket, read at once rather than one query after another.
    let privacy_case = async {
        match store.privacy_of_ticket(t.id).await? {
            Some(n) => store.privacy_by_number(&n).await,
            None => Ok(None),
        }
    };
    let report = async { report_of(store.report_raw(t.id).await?, staff.lang.texts()).await };
    let (report, files, incident, privacy_case, links, outbox, events, messages, vendor) = tokio::try_join!(
        report,
        async { Ok::<_, WebError>(store.attachments_of(t.id).await?) },
        async { Ok(store.incident_of_ticket(t.id).await?) },
        async { Ok(privacy_case.await?) },
        async { Ok(store.linked_tickets(t.id).await?) },
        async { Ok(store.outbox_of(t.id).await?) },
        async { Ok(store.events_of(t.id).await?) },
        async { Ok(store.messages_of(t.id).await?) },
        async { Ok(store.vendor_case_of(t.id).await?) },
    )?;
    let vendor = match vendor {
        Some(v) => Some(vendor_view(v)),
        None if t.class == Class::Application => Some(VendorView {
            case_number: None,
            recorded: String::new(),
            asked: String::new(),
            reminded: None,
            open_to_region: false,
            resolved: None,
        }),
        None => None,
    };
    let sight = Sight::new(&staff, privacy_case.as_ref());
    let privacy_incident = privacy_case.filter(|p| visibility::may_see_privacy_case(&staff, p)).map(|p| p.number);
    let links: Vec<_> = links.into_iter().filter(|l| staff.can_see(l.municipality.as_deref())).collect();
    let events: Vec<EventRow> = events.into_iter().filter(|e| sight.event(&e.kind)).collect();
    // The history names other tickets (grouped with, linked to): those of other municipalities
    // are withheld from a municipal user.
    let mut details: Vec<String> =
        events.iter().map(|e| crate::domain::event::detail_text(&e.detail, staff.lang)).collect();
    sight.redact(&state, &mut details, staff.lang.texts().other_ticket).await?;
    let texts = staff.lang.texts();
    let events = events
        .into_iter()
        .zip(details)
        .map(|(e, detail)| EventView { at: when(e.at), actor: e.actor, kind: texts.label(&e.kind).to_string(), detail })
        .collect();
    let page =
        TicketPage {
            municipality: t
                .municipality
                .as_deref()
                .map_or(staff.lang.texts().unknown, |m| state.desk.policy().municipality_name(m))
                .to_string(),
            incident: incident.filter(|i| i.state != IncidentState::Dismissed),
            privacy_incident,
            vendor,
            vendor_name: state.desk.policy().vendor.name.clone(),
            created: when(t.created_at),
            report,
            files: files.into_iter().map(|f| file_view(f, staff.lang.texts())).collect(),
            missing: t
                .missing
                .iter()
                .map(|d| {
                    if staff.lang == Lang::Nb {
                        d.label_nb()
                    } else {
                        crate::pipeline::reason::detail_name(*d, Lang::En)
                    }
                })
                .collect(),
            reasons: crate::pipeline::reason::stored_texts(&t.reasons, staff.lang),
            confidence: format!("{:.0} %", t.confidence * 100.0),
            to: t.route_to.join(", "),
            cc: t.route_cc.join(", "),
            mails: outbox.into_iter().filter(|o| sight.mail(o.kind)).map(mail_view).collect(),
            messages: messages.into_iter().map(message_view).collect(),
            links,
            events,
            classes: &Class::ALL,
            municipalities: state.desk.policy().municipalities.clone(),
            held: t.status == TicketStatus::AwaitingInfo,
            resolved: t.status == TicketStatus::Resolved,
            chrome: Chrome::of(&staff),
            t,
        };
    Ok(page)
}

#[derive(Deserialize)]
pub struct ActionForm {
    /// Missing is refused like wrong (403), not as a malformed form.
    #[serde(default)]
    csrf: String,
    class: Option<String>,
    municipality: Option<String>,
    status: Option<String>,
    text: Option<String>,
    other: Option<String>,
    /// The vendor's case number, and "open for all in the region" (a checkbox: present when ticked).
    case: Option<String>,
    open: Option<String>,
}

/// Checks the token and that the ticket is the user's to act on.
async fn authorize(state: &AppState, staff: &Staff, number: &str, f: &ActionForm) -> WebResult<()> {
    staff.check_csrf(&f.csrf)?;
    visible(state, staff, number).await.map(|_| ())
}

/// One of the ticket's actions (`class`, `municipality`, `reroute`, `status`, `note`, `link`).
pub async fn act(
    State(s): State<AppState>,
    staff: Staff,
    Path((n, action)): Path<(String, String)>,
    Form(f): Form<ActionForm>,
) -> WebResult<Redirect> {
    authorize(&s, &staff, &n, &f).await?;
    let actor = staff.actor();
    tracing::info!(ticket = %n, action = %action, by = %actor, "staff action");
    let desk = &s.desk;
    match action.as_str() {
        "class" => desk.reclassify(&n, f.class.as_deref().unwrap_or("").parse()?, &actor).await?,
        "municipality" => {
            let to = f.municipality.as_deref().filter(|m| !m.is_empty());
            desk.set_municipality(&n, to, &actor).await?;
            audit::by(&s, &staff, Action::SetMunicipality, &n, &format!("ok: {}", to.unwrap_or("-"))).await?;
        }
        "reroute" => {
            let r = desk.reroute(&n, &actor).await?;
            tracing::info!(ticket = %n, to = %join(&r.to, ","), "re-routed");
            audit::by(&s, &staff, Action::Reroute, &n, &format!("ok: to {}", join(&r.to, ","))).await?;
        }
        "status" => desk.set_status(&n, f.status.as_deref().unwrap_or(""), &actor).await?,
        "note" => desk.add_note(&n, f.text.as_deref().unwrap_or(""), &actor).await?,
        "vendor" => {
            let open = f.open.as_deref().is_some_and(|v| !v.is_empty());
            desk.set_vendor_case(&n, f.case.as_deref().unwrap_or(""), open, &actor).await?
        }
        "vendor-resolved" => desk.resolve_vendor_case(&n, &actor).await?,
        "privacy" => {
            let prv = desk.flag_privacy(&n, &actor).await?;
            tracing::warn!(ticket = %n, privacy = %prv, "flagged as a privacy matter");
        }
        "link" => {
            let other = f.other.as_deref().unwrap_or("").trim().to_uppercase();
            // The other ticket must be visible to the user too.
            visible(&s, &staff, &other)
                .await
                .map_err(|_| WebError::BadRequest(crate::desk::Refusal::NoSuchTicket(other.clone())))?;
            desk.link(&n, &other, &actor).await?;
        }
        _ => return Err(WebError::NotFound),
    }
    Ok(Redirect::to(&format!("/tickets/{n}")))
}
