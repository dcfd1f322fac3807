//! Several users with the same fault: a new ticket joins the group of open tickets it resembles
//! (see [`crate::grouping`]); a group with enough reports from enough municipalities becomes a
//! suspected incident, and the helpdesk gets one mail about it instead of a copy of each report.

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::Result;
use time::OffsetDateTime;

use super::{ACTOR, Desk};
use crate::domain::event::Event;
use crate::domain::{IncidentState, IncidentStep, OutboxKind};
use crate::grouping::{Corpus, GROUP_SAMPLE, Report, Vector, best_match};
use crate::pipeline::Decision;
use crate::reply;
use crate::store::{Candidate, IncidentReport, IncidentStanding, Tx};

/// Open tickets a new one is compared with, at most (the newest).
const CANDIDATES: i64 = 100;

/// What grouping keeps between reports: the word weights of recent reports, and each recent
/// ticket's vector (worked out once, when it arrives).
#[derive(Default)]
pub struct GroupingState {
    corpus: Mutex<Option<Corpus>>,
    vectors: Mutex<HashMap<i64, Vector>>,
    /// A group's summed vector, with the members it was summed from (redone when they change).
    sums: Mutex<HashMap<Key, (Vec<i64>, Vector)>>,
}

/// A candidate group: an incident, or an open ticket not yet in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Incident(i64),
    Ticket(i64),
}

/// The incident a ticket is in, as its routing mail names it.
pub(super) struct InIncident {
    pub number: String,
    pub state: IncidentState,
    pub reports: i64,
    /// Other reports' numbers, the newest ten.
    pub shown: Vec<String>,
}

/// The incident a report joined, as it stands after the report.
struct Joined {
    id: i64,
    municipalities: i64,
    incident: InIncident,
}

/// The open tickets a new one may join, gathered by group: each group's key in the order first
/// met, its members, and how many hours ago its newest member arrived.
struct Groups<'a> {
    keys: Vec<Key>,
    members: HashMap<Key, Vec<&'a Candidate>>,
    hours: Vec<f64>,
}

impl<'a> Groups<'a> {
    fn of(candidates: &'a [Candidate], now: OffsetDateTime) -> Groups<'a> {
        let mut keys: Vec<Key> = Vec::new();
        let mut members: HashMap<Key, Vec<&Candidate>> = HashMap::new();
        for c in candidates {
            let key = c.incident_id.map_or(Key::Ticket(c.id), Key::Incident);
            if !members.contains_key(&key) {
                keys.push(key);
            }
            members.entry(key).or_default().push(c);
        }
        let hours = keys
            .iter()
            .map(|k| {
                let last = members[k].iter().map(|c| c.created_at).max().unwrap_or(now);
                (now - last).as_seconds_f64() / 3600.0
            })
            .collect();
        Groups { keys, members, hours }
    }
}

/// What the grouping found for a new report before its ticket is written, so that the ticket is
/// written with its incident (a link made afterwards would write the ticket's row, and every index
/// of it, a second time).
pub(super) struct Found {
    /// The incident the ticket joins (made now when the group was a lone ticket), with the
    /// similarity; `None` when it resembles no group.
    group: Option<(i64, f64)>,
    /// The report's vector, kept under the ticket's id once it has one.
    own: Vector,
}

impl Found {
    pub(super) fn incident(&self) -> Option<i64> {
        self.group.map(|(id, _)| id)
    }
}

impl Desk {
    /// The group of open tickets a new report resembles, if any: its incident, made now (with the
    /// lone ticket it is made from linked to it) when the group had none.
    pub(super) async fn find_group(
        &self,
        tx: &mut Tx,
        number: &str,
        d: &Decision,
        now: OffsetDateTime,
    ) -> Result<Found> {
        let rules = self.policy.incidents;
        let report = Report::of_words(d.words.clone(), d.classification.products.clone());
        let since = now - time::Duration::hours(i64::from(rules.window_hours));
        self.load_corpus().await?;
        let candidates: Vec<Candidate> = tx.grouping_candidates(since, CANDIDATES).await?;
        let texts = self.unseen_texts(tx, &candidates).await?;
        let groups = Groups::of(&candidates, now);
        let (best, own) = self.best_group(&report, &texts, &candidates, &groups);
        let Some((k, score)) = best else {
            return Ok(Found { group: None, own });
        };
        let incident = match groups.keys[k] {
            Key::Incident(id) => id,
            Key::Ticket(first) => {
                let title = tx.ticket_text(first).await?.subject;
                let (id, inc) = tx.create_incident(&title, now).await?;
                tx.set_ticket_incident(first, Some(id)).await?;
                tx.incident_update(
                    id,
                    now,
                    ACTOR,
                    IncidentStep::State(IncidentState::Group),
                    "two reports of the same fault",
                )
                .await?;
                tracing::info!(incident = %inc, ticket = %number, "reports grouped");
                id
            }
        };
        Ok(Found { group: Some((incident, score)), own })
    }

    /// Keeps the new ticket's vector for the reports after it and, when it was written with the
    /// incident of a group, records that it joined; raises a suspected incident when the group is
    /// big enough. Returns the group it joined.
    pub(super) async fn joined_group(
        &self,
        tx: &mut Tx,
        ticket: i64,
        number: &str,
        found: Found,
        now: OffsetDateTime,
    ) -> Result<Option<InIncident>> {
        let Found { group, own } = found;
        self.grouping.vectors.lock().unwrap_or_else(|e| e.into_inner()).insert(ticket, own);
        let Some((incident, score)) = group else {
            return Ok(None);
        };
        let mut joined = self.join_group(tx, ticket, number, incident, score, now).await?;
        self.suspect_incident(tx, ticket, number, &mut joined, now).await?;
        Ok(Some(joined.incident))
    }

    /// The reports of candidates that have no vector yet (tickets from before a restart): their
    /// text is read once.
    async fn unseen_texts(&self, tx: &mut Tx, candidates: &[Candidate]) -> Result<Vec<(i64, Report)>> {
        let missing: Vec<i64> = {
            let vectors = self.grouping.vectors.lock().unwrap_or_else(|e| e.into_inner());
            candidates.iter().map(|c| c.id).filter(|id| !vectors.contains_key(id)).collect()
        };
        let mut texts = Vec::with_capacity(missing.len());
        for id in missing {
            let text = tx.ticket_text(id).await?;
            texts.push((id, Report::new(&text.subject, &text.body, text.products)));
        }
        Ok(texts)
    }

    /// The group the new report resembles most, with its similarity, if any is similar enough, and
    /// the report's vector (kept once its ticket has an id). Learns the report's words. No awaits
    /// here: the locks are held only while scoring.
    fn best_group(
        &self,
        report: &Report,
        texts: &[(i64, Report)],
        candidates: &[Candidate],
        groups: &Groups<'_>,
    ) -> (Option<(usize, f64)>, Vector) {
        let mut corpus = self.grouping.corpus.lock().unwrap_or_else(|e| e.into_inner());
        let corpus = corpus.get_or_insert_with(Corpus::default);
        let mut vectors = self.grouping.vectors.lock().unwrap_or_else(|e| e.into_inner());
        if vectors.len() > 10 * CANDIDATES as usize {
            let keep: std::collections::HashSet<i64> = candidates.iter().map(|c| c.id).collect();
            vectors.retain(|id, _| keep.contains(id));
        }
        for (id, r) in texts {
            vectors.insert(*id, Vector::of(r, corpus));
        }
        let own = Vector::of(report, corpus);
        let mut sums = self.grouping.sums.lock().unwrap_or_else(|e| e.into_inner());
        if sums.len() > 10 * CANDIDATES as usize {
            sums.clear();
        }
        // A group none of whose members shares a heavy word with the report is not compared, so
        // its sum is not worked out either (it stands as an empty vector, which shares nothing).
        let mut compared = vec![false; groups.keys.len()];
        for (k, key) in groups.keys.iter().enumerate() {
            let ids: Vec<i64> = groups.members[key].iter().take(GROUP_SAMPLE).map(|c| c.id).collect();
            compared[k] = ids.iter().filter_map(|id| vectors.get(id)).any(|v| own.shares_heavy(v));
            if compared[k] && ids.len() > 1 && sums.get(key).is_none_or(|(had, _)| *had != ids) {
                let sum = Vector::sum(ids.iter().filter_map(|id| vectors.get(id)));
                sums.insert(*key, (ids, sum));
            }
        }
        let none = Vector::default();
        let refs: Vec<&Vector> = groups
            .keys
            .iter()
            .zip(&compared)
            .map(|(k, &compared)| match groups.members[k].as_slice() {
                _ if !compared => None,
                [one] => vectors.get(&one.id),
                _ => sums.get(k).map(|(_, v)| v),
            })
            .map(|v| v.unwrap_or(&none))
            .collect();
        let skipped = compared.iter().filter(|c| !**c).count();
        metrics::counter!("routedesk_grouping_candidates_total", "compared" => "yes")
            .increment((compared.len() - skipped) as u64);
        metrics::counter!("routedesk_grouping_candidates_total", "compared" => "no").increment(skipped as u64);
        let best = best_match(&own, &refs, &groups.hours, self.policy.incidents.similarity);
        corpus.add(&report.features);
        (best, own)
    }

    /// Records on the ticket (written with its incident) the group it joined.
    async fn join_group(
        &self,
        tx: &mut Tx,
        ticket: i64,
        number: &str,
        incident: i64,
        score: f64,
        now: OffsetDateTime,
    ) -> Result<Joined> {
        // Counted, not listed: a flood of one fault must not make every new report slower.
        let IncidentStanding { number: inc, state, reports, municipalities, shown } =
            tx.incident_standing(incident, number, 10).await?;
        let grouped = Event::Grouped {
            with: shown.clone(),
            more: (reports - 11).max(0),
            incident: inc.clone(),
            similarity: score,
        };
        tx.record(ticket, now, ACTOR, &grouped).await?;
        Ok(Joined { id: incident, municipalities, incident: InIncident { number: inc, state, reports, shown } })
    }

    /// A group with enough reports from enough municipalities becomes a suspected incident, and
    /// the helpdesk gets one mail about it.
    async fn suspect_incident(
        &self,
        tx: &mut Tx,
        ticket: i64,
        number: &str,
        joined: &mut Joined,
        now: OffsetDateTime,
    ) -> Result<()> {
        let rules = self.policy.incidents;
        let Joined { id: incident, municipalities, incident: InIncident { number: ref inc, state, reports, .. } } =
            *joined;
        if state == IncidentState::Group
            && reports >= i64::from(rules.min_reports)
            && municipalities >= i64::from(rules.min_municipalities)
        {
            let why = format!("{reports} reports from {municipalities} municipalities");
            tx.set_incident_state(incident, IncidentState::Suspected, None, now, ACTOR, &why).await?;
            self.queue_incident_mail(tx, ticket, incident, inc, now).await?;
            metrics::counter!("routedesk_incidents_suspected_total").increment(1);
            tracing::warn!(incident = %inc, ticket = %number, reports, "suspected incident: several users report the same fault");
            joined.incident.state = IncidentState::Suspected;
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
        let title = reports.first().map_or(String::new(), |r| r.subject.clone());
        let named: Vec<(String, String, String)> = reports
            .into_iter()
            .map(|IncidentReport { number: n, municipality: m, subject: s }| {
                let m = m
                    .and_then(|id| self.policy.municipality(&id).map(|m| m.name.clone()))
                    .unwrap_or_else(|| "ukjent kommune".into());
                (n, m, s)
            })
            .collect();
        let text = reply::incident(number, &title, &named, &self.policy)?;
        let helpdesk = std::slice::from_ref(&self.policy.helpdesk.email);
        self.queue_mail(tx, ticket, OutboxKind::Incident, helpdesk, &text, None, now).await?;
        let raised = Event::IncidentRaised { incident: number.to_string(), to: self.policy.helpdesk.email.to_string() };
        tx.record(ticket, now, ACTOR, &raised).await
    }

    /// Reads the word weights of recent reports from the store the first time.
    async fn load_corpus(&self) -> Result<()> {
        if self.grouping.corpus.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            return Ok(());
        }
        let mut corpus = Corpus::default();
        for text in self.store.recent_texts(Corpus::SIZE as i64).await?.into_iter().rev() {
            corpus.add(&Report::new(&text.subject, &text.body, text.products).features);
        }
        self.grouping.corpus.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(corpus);
        Ok(())
    }
}
