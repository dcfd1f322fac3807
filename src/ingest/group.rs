//! Several users with the same fault: a new ticket joins the group of open tickets it resembles
//! (see [`crate::grouping`]); a group with enough reports from enough municipalities becomes a
//! suspected incident, and the helpdesk gets one mail about it instead of a copy of each report.

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::Result;
use time::OffsetDateTime;

use super::{ACTOR, Ingestor};
use crate::grouping::{Corpus, Report, best_match, merged};
use crate::pipeline::Decision;
use crate::reply;
use crate::store::{Candidate, NewOutbox, Tx};

/// Open tickets a new one is compared with, at most.
const CANDIDATES: i64 = 200;

/// What grouping keeps between reports: the word weights of recent reports, and each recent
/// ticket's features (worked out once).
#[derive(Default)]
pub struct GroupingState {
    corpus: Mutex<Option<Corpus>>,
    features: Mutex<HashMap<i64, Report>>,
}

impl GroupingState {
    fn report_of(&self, c: &Candidate) -> Report {
        let mut cache = self.features.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 4 * CANDIDATES as usize {
            cache.clear();
        }
        cache.entry(c.id).or_insert_with(|| Report::new(&c.subject, &c.body, products(&c.products))).clone()
    }
}

fn products(list: &str) -> Vec<String> {
    list.split(',').filter(|p| !p.is_empty()).map(str::to_string).collect()
}

/// A candidate group: an incident, or an open ticket not yet in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Incident(i64),
    Ticket(i64),
}

impl Ingestor {
    /// Joins a new ticket to the group of the same fault, if any; raises a suspected incident when
    /// the group is big enough.
    pub(super) async fn group(
        &self,
        tx: &mut Tx,
        ticket: i64,
        number: &str,
        d: &Decision,
        now: OffsetDateTime,
    ) -> Result<()> {
        let rules = self.policy.incidents;
        let report = Report::new(&d.mail.subject, &d.mail.own_text, d.classification.products.clone());
        let since = now - time::Duration::hours(i64::from(rules.window_hours));
        let candidates: Vec<Candidate> =
            tx.grouping_candidates(since, CANDIDATES).await?.into_iter().filter(|c| c.id != ticket).collect();

        let mut keys: Vec<Key> = Vec::new();
        let mut members: HashMap<Key, Vec<&Candidate>> = HashMap::new();
        for c in &candidates {
            let key = c.incident_id.map_or(Key::Ticket(c.id), Key::Incident);
            if !members.contains_key(&key) {
                keys.push(key);
            }
            members.entry(key).or_default().push(c);
        }
        let groups: Vec<Report> = keys
            .iter()
            .map(|k| merged(members[k].iter().map(|c| self.grouping.report_of(c)).collect::<Vec<_>>().iter()))
            .collect();
        let hours: Vec<f64> = keys
            .iter()
            .map(|k| {
                let last = members[k].iter().map(|c| c.created_at).max().unwrap_or(now);
                (now - last).as_seconds_f64() / 3600.0
            })
            .collect();

        self.load_corpus().await?;
        let best = {
            let mut guard = self.grouping.corpus.lock().unwrap_or_else(|e| e.into_inner());
            let corpus = guard.get_or_insert_with(Corpus::default);
            let best = best_match(&report, &groups, &hours, corpus, rules.similarity);
            corpus.add(&report.features);
            best
        };
        self.grouping.features.lock().unwrap_or_else(|e| e.into_inner()).insert(ticket, report);
        let Some((k, score)) = best else { return Ok(()) };

        let incident = match keys[k] {
            Key::Incident(id) => id,
            Key::Ticket(first) => {
                let title = members[&keys[k]].first().map_or("", |c| c.subject.as_str());
                let (id, inc) = tx.create_incident(title, now).await?;
                tx.set_ticket_incident(first, Some(id)).await?;
                tx.incident_update(id, now, ACTOR, "group", "two reports of the same fault").await?;
                tracing::info!(incident = %inc, ticket = %number, "reports grouped");
                id
            }
        };
        tx.set_ticket_incident(ticket, Some(incident)).await?;
        let (inc, state, _) = tx.incident_state(incident).await?;
        let all = tx.incident_members(incident).await?;
        let others: Vec<&str> = all.iter().map(|m| m.0.as_str()).filter(|n| *n != number).collect();
        let detail = format!("same fault as {} ({inc}, similarity {score:.2})", others.join(", "));
        tx.event(ticket, now, ACTOR, "grouped", &detail).await?;

        let mut municipalities: Vec<&str> = all.iter().filter_map(|m| m.1.as_deref()).collect();
        municipalities.sort_unstable();
        municipalities.dedup();
        if state == "group"
            && all.len() >= rules.min_reports as usize
            && municipalities.len() >= rules.min_municipalities as usize
        {
            let why = format!("{} reports from {} municipalities", all.len(), municipalities.len());
            tx.set_incident_state(incident, "suspected", None, now, ACTOR, &why).await?;
            self.queue_incident_mail(tx, ticket, incident, &inc, now).await?;
            metrics::counter!("routedesk_incidents_suspected_total").increment(1);
            tracing::warn!(incident = %inc, ticket = %number, reports = all.len(), "suspected incident: several users report the same fault");
        }
        Ok(())
    }

    /// The one mail to the helpdesk about a suspected incident.
    async fn queue_incident_mail(
        &self,
        tx: &mut Tx,
        ticket: i64,
        incident: i64,
        number: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let reports = tx.incident_reports(incident).await?;
        let title = reports.first().map_or(String::new(), |r| r.2.clone());
        let named: Vec<(String, String, String)> = reports
            .into_iter()
            .map(|(n, m, s)| {
                let m = m
                    .and_then(|id| self.policy.municipality(&id).map(|m| m.name.clone()))
                    .unwrap_or_else(|| "ukjent kommune".into());
                (n, m, s)
            })
            .collect();
        let text = reply::incident(number, &title, &named, &self.policy)?;
        let id = self.new_message_id();
        tx.insert_outbox(&NewOutbox {
            ticket_id: Some(ticket),
            kind: "incident",
            message_id: &id,
            envelope_from: &self.mailbox,
            to_addrs: &self.policy.helpdesk.email,
            cc_addrs: "",
            in_reply_to: None,
            report_message: None,
            subject: &text.subject,
            body: &text.body,
            status: self.initial_status(),
            at: now,
        })
        .await?;
        tx.event(
            ticket,
            now,
            ACTOR,
            "incident",
            &format!("{number} raised: one mail to {}", self.policy.helpdesk.email),
        )
        .await
    }

    /// Reads the word weights of recent reports from the store the first time.
    async fn load_corpus(&self) -> Result<()> {
        if self.grouping.corpus.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            return Ok(());
        }
        let mut corpus = Corpus::default();
        for (subject, body, list) in self.store.recent_texts(Corpus::SIZE as i64).await?.into_iter().rev() {
            corpus.add(&Report::new(&subject, &body, products(&list)).features);
        }
        self.grouping.corpus.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(corpus);
        Ok(())
    }
}
