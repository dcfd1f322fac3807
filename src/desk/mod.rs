//! What happens to one mail that reached the helpdesk mailbox: it becomes a ticket, joins the ticket
//! it answers, or is recorded as ignored or quarantined with its reason — never lost, never doubled.
//! The ticket, its messages, attachments, audit events and every mail it causes are written in one
//! transaction; the outbox worker sends the mail afterwards.

mod actions;
mod bounces;
pub mod dedup;
mod group;
pub mod incidents;
pub mod learning;
pub mod message_id;
pub mod privacy;
mod queue;
pub mod refusal;
mod thread;
pub mod vendor;

use thread::Thread;

pub use actions::ActionError;
pub use group::GroupingState;
pub use refusal::Refusal;
pub use thread::Party;

use std::sync::Arc;

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use crate::config::Config;
use crate::domain::event::Event;
use crate::domain::{Detail, Direction, TicketStatus, Verdict};
use crate::pipeline::parse::ParseLimits;
use crate::pipeline::route::Reply;
use crate::pipeline::set_aside::SetAside;
use crate::pipeline::{Decision, triage};
use crate::policy::Policy;
use crate::store::{NewAttachment, NewMessage, NewTicket, Store, StoredMail, Tx};
use crate::text::address::EmailAddress;

/// Where a mail came from on the IMAP server.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub folder: &'a str,
    pub uidvalidity: u32,
    pub uid: u32,
}

/// What became of one mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ticket {
        number: String,
        status: TicketStatus,
    },
    Reply {
        number: String,
        completed: bool,
    },
    Ignored {
        reason: String,
    },
    Quarantined {
        reason: String,
    },
    /// Already recorded (a re-fetch after a restart or a UIDVALIDITY change).
    Duplicate,
}

/// A fetched batch with its decisions (in the same order) and the time they took.
pub struct Decided {
    mails: Vec<Vec<u8>>,
    decisions: Vec<Result<Decision, crate::pipeline::parse::ParseError>>,
    took: std::time::Duration,
}

/// The application layer: what happens to mail, and what staff do with tickets, incidents and
/// privacy cases. Built once by [`Desk::new`]; clones share everything.
#[derive(Clone)]
pub struct Desk {
    store: Store,
    policy: Arc<Policy>,
    limits: ParseLimits,
    /// The helpdesk address routedesk reads and sends as.
    mailbox: String,
    /// The addresses a report must name in To or Cc to be answered: the mailbox and its aliases.
    addressed_as: Arc<[EmailAddress]>,
    dry_run: bool,
    replies_per_sender_per_hour: u32,
    /// Automatic replies per hour in all (0: no limit).
    replies_per_hour: u32,
    /// How long an address whose mail bounced gets no automatic reply.
    bounce_block_days: u32,
    /// Makes and recognises routedesk's own (signed) Message-IDs.
    ids: message_id::MessageIds,
    /// The authserv-id of our own receiving server; its `Authentication-Results` are believed.
    trusted_authserv_id: String,
    /// Whether a mail without them is unverified, and the internal marker that vouches for one.
    require_authentication: bool,
    internal_marker: Option<crate::pipeline::authres::Marker>,
    /// Reports of the same fault: word weights and features of recent reports.
    grouping: Arc<GroupingState>,
    /// The vendor's status page, as last polled.
    vendor: Arc<crate::vendor::VendorStatus>,
    /// The regional status page's public address, for the acknowledgement.
    status_page: Option<String>,
    /// Working hours, for the vendor case's reminder.
    schedule: crate::alerts::Schedule,
    /// What the classifier learned from staff corrections.
    learning: Arc<learning::LearningState>,
}

impl Desk {
    /// The desk of `cfg` on `store`: its policy (the built-in region's when none is configured),
    /// the key of its Message-IDs (made on first start and kept in the store), and an empty view
    /// of the vendor's status page until it is first polled.
    pub async fn new(cfg: &Config, store: Store) -> Result<Desk> {
        let policy = Policy::load_or_default(cfg.policy.as_deref())?;
        Desk::with_policy(cfg, store, policy).await
    }

    /// The desk of `cfg` with its policy already loaded.
    pub async fn with_policy(cfg: &Config, store: Store, policy: Policy) -> Result<Desk> {
        let ids = message_ids(&store, &cfg.mailbox).await?;
        Ok(Desk {
            store,
            vendor: Arc::new(crate::vendor::VendorStatus::new(policy.components.clone())),
            policy: Arc::new(policy),
            limits: cfg.parse_limits(),
            mailbox: cfg.mailbox.to_lowercase(),
            addressed_as: queue::addressed_as(cfg),
            dry_run: cfg.dry_run,
            replies_per_sender_per_hour: cfg.limits.replies_per_sender_per_hour,
            replies_per_hour: cfg.limits.replies_per_hour,
            bounce_block_days: cfg.limits.bounce_block_days,
            ids,
            trusted_authserv_id: cfg.trusted_authserv_id.clone(),
            require_authentication: cfg.require_authentication,
            internal_marker: crate::pipeline::authres::Marker::parse(&cfg.internal_marker),
            grouping: Arc::default(),
            learning: Arc::default(),
            status_page: (!cfg.web.public_url.is_empty())
                .then(|| format!("{}/status", cfg.web.public_url.trim_end_matches('/'))),
            schedule: crate::alerts::Schedule::new(&cfg.alerts).map_err(|p| anyhow::anyhow!(p.join("; ")))?,
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn limits(&self) -> &ParseLimits {
        &self.limits
    }

    /// The vendor's status page as last polled (the service's poller writes it).
    pub fn vendor(&self) -> &Arc<crate::vendor::VendorStatus> {
        &self.vendor
    }

    /// The regional status page's public address, when the web view has one.
    pub fn status_page(&self) -> Option<&str> {
        self.status_page.as_deref()
    }

    /// Makes and recognises routedesk's own Message-IDs.
    pub fn ids(&self) -> &message_id::MessageIds {
        &self.ids
    }

    /// The authserv-id of our own receiving server.
    pub fn trusted_authserv_id(&self) -> &str {
        &self.trusted_authserv_id
    }
}

/// routedesk's Message-IDs for the helpdesk address: signed with a key made on first start and
/// kept in the store, so every instance makes and recognises the same ones.
async fn message_ids(store: &Store, mailbox: &str) -> Result<message_id::MessageIds> {
    let key = store.setting_or_insert("message-id-key", crate::secret::random_token).await?;
    let domain = crate::text::address::domain_of(mailbox).unwrap_or_else(|| "routedesk.invalid".into());
    Ok(message_id::MessageIds::new(key.as_bytes(), &domain))
}

const ACTOR: &str = "routedesk";

/// How a ticket is opened: by whom, whether the reporter may get an automatic reply (never for a
/// robot's mail that staff made a ticket of, nor for an unverified sender), and which existing
/// ticket the mail named without being allowed to join it.
#[derive(Clone, Copy)]
struct Opening<'a> {
    actor: &'a str,
    reply: bool,
    mentions: Option<&'a crate::store::TicketBrief>,
}

impl Desk {
    /// Records one mail in its own transaction.
    pub async fn ingest(&self, raw: &[u8], source: Option<Source<'_>>) -> Result<Outcome> {
        let started = std::time::Instant::now();
        let decision = self.triage(raw);
        let mut tx = self.store.begin().await?;
        let outcome = self.record(&mut tx, raw, source, decision).await?;
        tx.commit().await?;
        observe(&outcome, started.elapsed());
        Ok(outcome)
    }

    /// The pure pipeline's decisions for a fetched batch, on the blocking pool: while a backlog
    /// drains, the next batch is decided on one core as the last is written on the other.
    pub async fn decide_batch(&self, mails: Vec<Vec<u8>>) -> Result<Decided> {
        let desk = self.clone();
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let decisions = mails.iter().map(|raw| desk.triage(raw)).collect();
            Decided { mails, decisions, took: started.elapsed() }
        })
        .await
        .context("deciding a batch of mail")
    }

    /// Records a decided batch (`sources[i]` is where `mails[i]` came from) in one transaction —
    /// each mail's ticket, messages and outgoing mail still go in together, and one commit serves
    /// them all. If the batch fails, every mail is retried in its own transaction, so one bad mail
    /// cannot hold up the others.
    pub async fn record_batch(&self, batch: Decided, sources: &[Source<'_>]) -> Result<Vec<Outcome>> {
        let started = std::time::Instant::now();
        let Decided { mails, decisions, took } = batch;
        anyhow::ensure!(
            mails.len() == sources.len() && decisions.len() == mails.len(),
            "a batch's sources and decisions do not match its mail"
        );
        let batch = async {
            let mut tx = self.store.begin().await?;
            let mut outcomes = Vec::with_capacity(mails.len());
            for ((raw, source), decision) in mails.iter().zip(sources).zip(decisions) {
                let outcome = self.record(&mut tx, raw, Some(*source), decision).await;
                outcomes.push(outcome.with_context(|| format!("recording UID {}", source.uid))?);
            }
            crate::faults::reached(crate::faults::Point::FetchedNotCommitted);
            tx.commit().await?;
            anyhow::Ok(outcomes)
        };
        match batch.await {
            Ok(outcomes) => {
                // Each mail's share of the batch's time, its decision included.
                let each = (started.elapsed() + took) / u32::try_from(outcomes.len().max(1)).unwrap_or(u32::MAX);
                for o in &outcomes {
                    observe(o, each);
                }
                Ok(outcomes)
            }
            Err(e) if mails.len() > 1 => {
                tracing::warn!(error = format!("{e:#}"), mails = mails.len(), "batch failed; recording one by one");
                let mut outcomes = Vec::with_capacity(mails.len());
                for (raw, source) in mails.iter().zip(sources) {
                    outcomes.push(self.ingest(raw, Some(*source)).await?);
                }
                Ok(outcomes)
            }
            Err(e) => Err(e),
        }
    }

    /// Writes what one mail becomes into `tx`.
    async fn record(
        &self,
        tx: &mut Tx,
        raw: &[u8],
        source: Option<Source<'_>>,
        decision: Result<Decision, crate::pipeline::parse::ParseError>,
    ) -> Result<Outcome> {
        let now = OffsetDateTime::now_utc();
        let key = dedup::key(raw);
        // Our own mail coming back: by its signed Message-ID, or sent as the helpdesk address.
        let own_mail = decision.as_ref().ok().is_some_and(|d| {
            d.mail.from_address().is_some_and(|f| f == *self.mailbox)
                || d.mail.message_id.as_deref().is_some_and(|id| self.ids.is_ours(id))
        });

        let (verdict, reason, subject, from, message_id) = match &decision {
            Err(e) => {
                (Verdict::Quarantined, Some(SetAside::Unreadable { error: e.clone() }), String::new(), None, None)
            }
            Ok(d) => {
                let reason = if own_mail { Some(SetAside::OwnMail) } else { d.ignored.clone().map(SetAside::Robot) };
                let verdict = if reason.is_some() { Verdict::Ignored } else { Verdict::Pending };
                (verdict, reason, d.mail.subject.clone(), d.mail.from_address(), d.mail.message_id.clone())
            }
        };
        let stored_reason = reason.as_ref().map(SetAside::to_stored);
        let new = NewMessage {
            direction: Direction::In,
            dedup_key: &key,
            message_id: message_id.as_deref(),
            verdict,
            reason: stored_reason.as_deref(),
            from_addr: from.as_ref().map(EmailAddress::as_str),
            subject: &subject,
            mailbox: source.map(|s| s.folder),
            uidvalidity: source.map(|s| s.uidvalidity),
            uid: source.map(|s| s.uid),
            raw,
            at: now,
        };
        // Nothing is written before this insert, so a duplicate leaves the transaction untouched.
        let Some(message) = tx.insert_message(&new, None).await? else {
            return Ok(Outcome::Duplicate);
        };
        Ok(match (decision, reason) {
            (Err(_), Some(reason)) => Outcome::Quarantined { reason: reason.log_text() },
            (Ok(d), Some(reason)) => {
                let bounce = d.ignored.as_ref().is_some_and(|i| i.kind == crate::pipeline::ignore::IgnoreKind::Bounce);
                if bounce && !own_mail {
                    self.bounced(tx, raw, message, now).await?;
                }
                Outcome::Ignored { reason: reason.log_text() }
            }
            (Err(e), None) => Outcome::Quarantined { reason: e.to_string() },
            (Ok(d), None) => {
                // A sender our server could not verify joins no existing ticket and gets no automatic
                // reply: a forged "reply" must not reach into a ticket or make us mail its contents.
                let verified = !d.auth.as_ref().is_some_and(|a| a.failed());
                match thread::find(tx, &d).await? {
                    Thread::Joins(ticket, party) if verified => {
                        self.add_to_ticket(tx, ticket, party, message, &d, now).await?
                    }
                    Thread::Joins(ticket, _) | Thread::Mentions(ticket) => {
                        let opened = Opening { actor: ACTOR, reply: verified, mentions: Some(&ticket) };
                        self.open_ticket(tx, message, &d, now, opened).await?
                    }
                    Thread::New => {
                        let opened = Opening { actor: ACTOR, reply: verified, mentions: None };
                        self.open_ticket(tx, message, &d, now, opened).await?
                    }
                }
            }
        })
    }

    /// The pipeline's decision, with our receiving server's verdict on the sender.
    /// A panic in the pipeline (a bug that odd input found) sets that one mail aside as
    /// quarantined — with its bytes, at the first attempt — instead of failing the batch for ever.
    fn triage(&self, raw: &[u8]) -> Result<Decision, crate::pipeline::parse::ParseError> {
        let decided = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::faults::poison(raw);
            triage(raw, &self.policy, &self.limits)
        }));
        let decided = decided.unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "an internal error".into());
            tracing::error!(error = %what, "the mail reader failed on a mail; it is set aside");
            Err(crate::pipeline::parse::ParseError::ReaderFailed { detail: what })
        });
        decided.map(|mut d| {
            let id = &self.trusted_authserv_id;
            d.auth = crate::pipeline::authres::verdict(&d.mail, id).or_else(|| {
                self.require_authentication
                    .then(|| crate::pipeline::authres::required(&d.mail, id, self.internal_marker.as_ref()))
                    .flatten()
            });
            self.withhold_unaddressed_reply(&mut d);
            d
        })
    }

    /// Records a mail that cannot be taken in (too large to fetch): kept as a visible quarantined
    /// record with what was fetched (its header), the reason, and where the original stays.
    pub async fn quarantine(&self, raw: &[u8], reason: &SetAside, source: Source<'_>) -> Result<Outcome> {
        let key = format!("{}:quarantined", dedup::key(raw));
        let mut tx = self.store.begin().await?;
        let parsed = mail_parser::MessageParser::default().parse_headers(raw);
        let subject =
            parsed.as_ref().and_then(|m| m.subject()).map(crate::pipeline::parse::clean_line).unwrap_or_default();
        let from = parsed
            .as_ref()
            .and_then(|m| m.from())
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(str::to_lowercase);
        let recorded = tx
            .insert_message(
                &NewMessage {
                    direction: Direction::In,
                    dedup_key: &key,
                    message_id: parsed.as_ref().and_then(|m| m.message_id()),
                    verdict: Verdict::Quarantined,
                    reason: Some(&reason.to_stored()),
                    from_addr: from.as_deref(),
                    subject: &subject,
                    mailbox: Some(source.folder),
                    uidvalidity: Some(source.uidvalidity),
                    uid: Some(source.uid),
                    raw,
                    at: OffsetDateTime::now_utc(),
                },
                None,
            )
            .await?;
        tx.commit().await?;
        Ok(if recorded.is_some() { Outcome::Quarantined { reason: reason.log_text() } } else { Outcome::Duplicate })
    }

    /// Opens a ticket for a recorded mail.
    async fn open_ticket(
        &self,
        tx: &mut Tx,
        message: i64,
        d: &Decision,
        now: OffsetDateTime,
        opening: Opening<'_>,
    ) -> Result<Outcome> {
        let Opening { actor, reply, mentions } = opening;
        let routing = d.routing.as_ref().context("a ticket decision always has a route")?;
        let number = tx.next_ticket_number(now.year()).await?;
        let status = if routing.held {
            TicketStatus::AwaitingInfo
        } else if routing.manual_triage {
            TicketStatus::Triage
        } else {
            TicketStatus::Routed
        };
        let c = &d.classification;
        let reporter = d.mail.from.as_ref();
        let known = self.vendor.known_for(&c.products);
        let vendor_issue = known.first().map(|k| format!("{} ({}) {}", k.title, k.status, k.link));
        let found = self.find_group(tx, &number, d, now).await?;
        let ticket = tx
            .insert_ticket(&NewTicket {
                number: &number,
                status,
                class: c.class,
                confidence: c.confidence,
                municipality: routing.municipality.as_deref(),
                urgent: c.urgent,
                privacy: c.privacy,
                missing: &d.checks.missing,
                subject: &d.mail.subject,
                reporter: d.checks.email.as_ref().or(reporter.map(|r| &r.address)).map(EmailAddress::as_str),
                reporter_name: reporter.and_then(|r| r.name.as_deref()),
                route_to: &routing.to,
                route_cc: &routing.cc,
                reasons: &crate::pipeline::reason::to_stored(&d.reasons()),
                body: &d.mail.own_text.chars().take(20_000).collect::<String>(),
                auth_result: d.auth.as_ref().map(|a| a.describe()).as_deref(),
                products: &c.products,
                vendor_issue: vendor_issue.as_deref(),
                incident: found.incident(),
                at: now,
            })
            .await?;
        tx.set_message_ticket(message, ticket, Verdict::Ticket).await?;
        self.store_attachments(tx, message, ticket, d).await?;

        let received =
            Event::Received { from: d.mail.from_address().map(String::from), subject: d.mail.subject.clone() };
        tx.record(ticket, now, actor, &received).await?;
        tx.record(ticket, now, ACTOR, &Event::Checked { missing: d.checks.missing.clone() }).await?;
        tx.record(ticket, now, ACTOR, &Event::Classified { class: c.class, confidence: c.confidence }).await?;
        if let Some(v) = &vendor_issue {
            tx.record(ticket, now, ACTOR, &Event::VendorIssue { issue: v.clone() }).await?;
        }
        if let Some(a) = &d.auth {
            tx.record(ticket, now, ACTOR, &Event::SenderCheck { result: a.describe(), failed: a.failed() }).await?;
        }

        if let Some(other) = mentions {
            let from = d.mail.from_address().map_or_else(|| "?".into(), String::from);
            tx.record(ticket, now, ACTOR, &Event::Mentions { other: other.number.clone() }).await?;
            tx.record(other.id, now, ACTOR, &Event::Mentioned { by: number.clone(), from: Some(from) }).await?;
        }
        let joined = self.joined_group(tx, ticket, &number, found, now).await?;
        let opened = queue::Opened { vendor_issue: vendor_issue.as_deref(), group: joined.as_ref() };
        if c.privacy {
            let municipality = routing.municipality.as_deref();
            self.open_privacy(tx, ticket, &number, municipality, &d.mail.subject, now, actor).await?;
        }
        if routing.held {
            tx.record(ticket, now, ACTOR, &Event::Held).await?;
        } else {
            self.queue_routing(tx, ticket, &number, message, d, now, ACTOR, Some(&opened)).await?;
        }
        if let (Some(to), true) = (&routing.reply_to, reply && routing.reply != Reply::None) {
            self.queue_reply(tx, ticket, &number, routing.reply, to, d, now, &opened).await?;
        }
        metrics::counter!("routedesk_tickets_total", "class" => c.class.as_str(), "status" => status.as_str())
            .increment(1);
        Ok(Outcome::Ticket { number, status })
    }

    /// A reply to an existing ticket: kept on the ticket. A reply from the reporter (or staff)
    /// that supplies the missing details completes the ticket, which is then routed; anyone
    /// else's answer is a comment.
    async fn add_to_ticket(
        &self,
        tx: &mut Tx,
        ticket: crate::store::TicketBrief,
        party: Party,
        message: i64,
        d: &Decision,
        now: OffsetDateTime,
    ) -> Result<Outcome> {
        tx.set_message_ticket(message, ticket.id, Verdict::Reply).await?;
        self.store_attachments(tx, message, ticket.id, d).await?;
        let from = d.mail.from_address().map(String::from).unwrap_or_default();
        let reply = Event::Reply { from, party: party.as_str().to_string(), subject: d.mail.subject.clone() };
        tx.record(ticket.id, now, ACTOR, &reply).await?;
        match (party, d.mail.from_address()) {
            (Party::Recipient | Party::Staff, Some(sender)) => self.mail_commands(tx, &ticket, &sender, d, now).await?,
            (Party::Reporter, _) => self.answer_question(tx, &ticket, d, now).await?,
            _ => {}
        }

        if ticket.status != TicketStatus::AwaitingInfo || party == Party::Recipient {
            return Ok(Outcome::Reply { number: ticket.number, completed: false });
        }
        let still_missing: Vec<Detail> =
            ticket.missing.iter().filter(|m| d.checks.missing.contains(m)).copied().collect();
        if !still_missing.is_empty() {
            tx.update_ticket_state(ticket.id, TicketStatus::AwaitingInfo, &still_missing, now).await?;
            tx.record(ticket.id, now, ACTOR, &Event::StillMissing { missing: still_missing.clone() }).await?;
            return Ok(Outcome::Reply { number: ticket.number, completed: false });
        }

        // Complete now: route it as the original report was decided, with the reply's details.
        let StoredMail { id: report_message, raw } =
            tx.opening_message(ticket.id).await?.context("a ticket keeps its report")?;
        let mut original = triage(&raw, &self.policy, &self.limits).context("re-reading the report")?;
        original.checks.missing.clear();
        original.checks.phone = original.checks.phone.or(d.checks.phone.clone());
        original.checks.mobile = original.checks.mobile.or(d.checks.mobile.clone());
        original.checks.email = original.checks.email.or(d.checks.email.clone());
        original.checks.screenshot = original.checks.screenshot.or(d.checks.screenshot.clone());
        let manual = original.routing.as_ref().is_some_and(|r| r.manual_triage);
        let new_status = if manual { TicketStatus::Triage } else { TicketStatus::Routed };
        tx.update_ticket_state(ticket.id, new_status, &[], now).await?;
        tx.record(ticket.id, now, ACTOR, &Event::Completed).await?;
        self.queue_routing(tx, ticket.id, &ticket.number, report_message, &original, now, ACTOR, None).await?;
        Ok(Outcome::Reply { number: ticket.number, completed: true })
    }

    async fn store_attachments(&self, tx: &mut Tx, message: i64, ticket: i64, d: &Decision) -> Result<()> {
        let screenshot = d.checks.screenshot.as_ref().map(|s| s.part);
        for (i, p) in d.mail.parts.iter().enumerate() {
            tx.insert_attachment(&NewAttachment {
                message_id: message,
                ticket_id: Some(ticket),
                filename: p.filename.as_deref(),
                content_type: &p.content_type,
                width: p.image.map(|i| i64::try_from(i.width).unwrap_or(i64::MAX)),
                height: p.image.map(|i| i64::try_from(i.height).unwrap_or(i64::MAX)),
                screenshot: screenshot == Some(i),
                inline: p.inline,
                data: &p.data,
            })
            .await?;
        }
        Ok(())
    }
}

/// Runs `job` every ten minutes on one instance at a time (the lease `name`) until shutdown, and
/// logs the records it acted on and what failed.
async fn every_ten_minutes<F, Fut>(
    desk: Desk,
    name: &'static str,
    instance: String,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    job: F,
) where
    F: Fn(Desk, OffsetDateTime) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<String>>>,
{
    const EVERY: std::time::Duration = std::time::Duration::from_secs(600);
    loop {
        let now = OffsetDateTime::now_utc();
        match desk.store.try_lease(name, &instance, now, time::Duration::minutes(9)).await {
            Ok(true) => match job(desk.clone(), now).await {
                Ok(done) if !done.is_empty() => tracing::warn!(job = name, records = %done.join(", "), "mail sent"),
                Ok(_) => {}
                Err(e) => tracing::error!(job = name, error = format!("{e:#}"), "failed"),
            },
            Ok(false) => {}
            Err(e) => tracing::error!(job = name, error = format!("{e:#}"), "cannot take the lease"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Metrics for one recorded mail.
fn observe(outcome: &Outcome, took: std::time::Duration) {
    metrics::histogram!("routedesk_ingest_seconds").record(took.as_secs_f64());
    let verdict = match outcome {
        Outcome::Ticket { .. } => "ticket",
        Outcome::Reply { .. } => "reply",
        Outcome::Ignored { .. } => "ignored",
        Outcome::Quarantined { .. } => "quarantined",
        Outcome::Duplicate => "duplicate",
    };
    metrics::counter!("routedesk_mail_ingested_total", "verdict" => verdict).increment(1);
}
