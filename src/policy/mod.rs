//! The routing policy: municipalities, their domains and contacts, classification terms, copy rules
//! and reply texts. Loaded from TOML and validated once at start-up; the rest of routedesk reads the
//! validated [`Policy`] and never sees an invalid one.

mod file;
mod validate;

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::domain::{Class, Detail};
use crate::grouping::Features;
use crate::pipeline::learn::{Algorithm, Correction, Model, ModelCell, corpus};
use crate::text::address::EmailAddress;
use crate::text::terms::TermSet;

pub use validate::PolicyError;

/// The Gjøvik region's routine (seed document), shipped as the default policy.
pub const DEFAULT_POLICY: &str = include_str!("../../policy/gjovik-region.toml");
pub const DEFAULT_POLICY_NAME: &str = "built-in Gjøvik region policy";

#[derive(Debug, Clone)]
pub struct Policy {
    pub region: String,
    pub helpdesk: Helpdesk,
    pub required: Vec<Detail>,
    pub hold_urgent_incomplete: bool,
    pub screenshot: ScreenshotRule,
    pub senders: SenderRules,
    pub classify: ClassifyRules,
    /// Product names, indexed by `Tag::Product`.
    pub products: Vec<String>,
    /// The products the public status page lists, in the policy's order.
    pub status_products: Vec<String>,
    /// `(status page component, product)`: which vendor components each product depends on.
    pub components: Vec<(String, String)>,
    pub routes: Vec<(Class, RouteRule)>,
    pub rules: Vec<Rule>,
    pub municipalities: Vec<Municipality>,
    pub replies: Replies,
    pub retention: Retention,
    pub incidents: Incidents,
    pub privacy: Privacy,
    pub vendor: Vendor,
    /// The trained classifier, when `classify.model` is set: trained on the shipped corpus when the
    /// policy is read, and replaced when the region's own corrections retrain it.
    pub learned: Option<Learned>,
}

#[derive(Debug, Clone)]
pub struct Helpdesk {
    pub name: String,
    pub email: EmailAddress,
    pub phone: String,
}

#[derive(Debug, Clone, Copy)]
pub struct ScreenshotRule {
    pub min_width: u32,
    pub min_height: u32,
}

#[derive(Debug, Clone)]
pub struct SenderRules {
    pub shared_mailboxes: Vec<String>,
    pub no_reply: Vec<String>,
    pub reply_to_unknown: bool,
}

/// What a matched term counts toward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Class(Class),
    Urgent,
    Privacy,
    Product(usize),
}

#[derive(Debug, Clone)]
pub struct ClassifyRules {
    pub min_confidence: f64,
    pub min_score: f64,
    pub product_weight: f64,
    pub privacy_min_score: f64,
    /// When the trained classifier decides beside the keywords, and how sure it must be.
    pub model: Option<ModelThresholds>,
    /// Every term of every kind, so a report's text is scanned once.
    pub terms: TermSet<Tag>,
}

/// How sure the trained classifier must be: of a class to decide it (below, the keywords' decision
/// stands, or manual triage), and of a possible breach to flag it (lower finds more breaches — a
/// missed one costs the region its 72-hour deadline — and gives the officer more false alarms).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelThresholds {
    pub min_probability: f64,
    pub privacy_min_probability: f64,
}

/// The trained classifier in use, with the policy's thresholds.
#[derive(Clone)]
pub struct Learned {
    pub model: Arc<ModelCell>,
    pub thresholds: ModelThresholds,
}

impl std::fmt::Debug for Learned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learned").field("thresholds", &self.thresholds).finish_non_exhaustive()
    }
}

/// Where a routing rule sends a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The municipality's system administrators.
    Contacts,
    /// The municipality's local IT, or the helpdesk where it has none.
    LocalIt,
    Helpdesk,
    Address(EmailAddress),
}

#[derive(Debug, Clone)]
pub struct RouteRule {
    pub to: Vec<Target>,
    pub cc: Vec<Target>,
    pub note: String,
}

/// A per-municipality exception to the route of one class.
#[derive(Debug, Clone)]
pub struct Rule {
    pub municipality: String,
    pub class: Class,
    pub route: RouteRule,
}

#[derive(Debug, Clone)]
pub struct Municipality {
    pub id: String,
    pub name: String,
    pub domains: Vec<String>,
    pub local_it: Option<EmailAddress>,
    pub contacts: Vec<Contact>,
    /// The municipality's data-protection contact.
    pub privacy_contact: Option<EmailAddress>,
}

#[derive(Debug, Clone)]
pub struct Contact {
    pub name: String,
    pub email: EmailAddress,
    pub phone: Option<String>,
    pub mobile: Option<String>,
}

/// Privacy incidents (GDPR art. 33: the authority is notified within 72 hours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privacy {
    /// The region's data-protection contacts (besides each municipality's own).
    pub contacts: Vec<EmailAddress>,
    /// The coordinator is warned this long before the 72 hours run out.
    pub warn_hours: u32,
    /// Where the vendor, as data processor, wants an alert at once.
    pub vendor_alert: Option<EmailAddress>,
}

/// The vendor case of an application fault.
#[derive(Debug, Clone)]
pub struct Vendor {
    /// The vendor as people name it ("Visma").
    pub name: String,
    /// Finds the vendor's case number in a reply: the first group is the number.
    pub case_pattern: regex::Regex,
    /// Working hours without a case number before the one reminder; `None`: no reminder.
    pub reminder_hours: Option<u32>,
}

/// Grouping reports of the same fault (see [`crate::grouping`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Incidents {
    /// Open reports this recent are compared with a new one.
    pub window_hours: u32,
    /// How alike (0..1) a report and a group must be.
    pub similarity: f64,
    /// A group becomes a suspected incident with this many reports …
    pub min_reports: u32,
    /// … from this many municipalities.
    pub min_municipalities: u32,
}

/// How long personal data is kept, in days; `None` keeps it for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Resolved tickets (counted from their last change).
    pub resolved_days: Option<u32>,
    /// Mail set aside: ignored or quarantined, never a ticket.
    pub set_aside_days: Option<u32>,
    /// Tickets never resolved (counted from their last change).
    pub max_open_days: Option<u32>,
    /// Entries of the audit log.
    pub audit_log_days: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Replies {
    pub signature: String,
    pub acknowledgement: String,
    pub request_info: String,
    pub urgent: String,
}

/// The model trained on the shipped corpus, once per set of terms and products in a process (the
/// policy is read again by every command and test; the training takes a fifth of a second).
fn shipped_model(policy: &Policy, key: String) -> Result<Arc<Model>, String> {
    static TRAINED: Mutex<Vec<(String, Arc<Model>)>> = Mutex::new(Vec::new());
    let known = |list: &[(String, Arc<Model>)]| list.iter().find(|(k, _)| *k == key).map(|(_, m)| m.clone());
    if let Some(m) = known(&TRAINED.lock().unwrap_or_else(|e| e.into_inner())) {
        return Ok(m);
    }
    let model = Arc::new(policy.train(&[])?);
    let mut list = TRAINED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = known(&list) {
        return Ok(m);
    }
    list.push((key, model.clone()));
    Ok(model)
}

impl Policy {
    /// The built-in default (the Gjøvik region).
    pub fn default_region() -> Result<Policy, PolicyError> {
        Policy::from_toml(DEFAULT_POLICY, DEFAULT_POLICY_NAME)
    }

    /// Reads and validates a policy file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| PolicyError::Read { path: path.display().to_string(), source })?;
        Policy::from_toml(&text, &path.display().to_string())
    }

    /// The policy at `path`, or the built-in default when `None`.
    pub fn load_or_default(path: Option<&Path>) -> Result<Policy, PolicyError> {
        path.map_or_else(Policy::default_region, Policy::load)
    }

    /// Parses and validates policy text; `origin` names it in error messages.
    pub fn from_toml(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let file: file::PolicyFile = toml::from_str(text)
            .map_err(|e| PolicyError::Syntax { origin: origin.to_string(), message: e.to_string() })?;
        // What the model's features depend on: the terms and the products.
        let features_key = format!("{:?}{:?}", file.classify, file.products);
        let mut policy = validate::validate(file)
            .map_err(|problems| PolicyError::Invalid { origin: origin.to_string(), problems })?;
        if let Some(thresholds) = policy.classify.model {
            let model = shipped_model(&policy, features_key)
                .map_err(|problem| PolicyError::Invalid { origin: origin.to_string(), problems: vec![problem] })?;
            policy.learned = Some(Learned { model: Arc::new(ModelCell::new(model)), thresholds });
        }
        Ok(policy)
    }

    /// Trains a model for this policy on the shipped corpus and the region's corrections.
    pub fn train(&self, corrections: &[(Features, Correction)]) -> Result<Model, String> {
        Ok(Model::train_with(&corpus::shipped()?, corrections, self, Algorithm::Logistic))
    }

    pub fn municipality(&self, id: &str) -> Option<&Municipality> {
        self.municipalities.iter().find(|m| m.id == id)
    }

    /// A municipality as people read it ("Østre Toten" for `ostre-toten`); an id the policy no
    /// longer knows (a ticket from before a policy change) as itself.
    pub fn municipality_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.municipality(id).map_or(id, |m| m.name.as_str())
    }

    /// The municipality of an address: the one whose domain (or a subdomain of it) it is in.
    pub fn municipality_of(&self, address: &EmailAddress) -> Option<&Municipality> {
        self.municipality_for_domain(address.domain())
    }

    /// The municipality whose domain (or a subdomain of it) the address domain is in.
    /// The longest matching domain wins, so a policy may give a subdomain its own municipality.
    pub fn municipality_for_domain(&self, domain: &str) -> Option<&Municipality> {
        self.municipalities
            .iter()
            .flat_map(|m| m.domains.iter().map(move |d| (m, d)))
            .filter(|(_, d)| crate::text::address::is_within(domain, d))
            .max_by_key(|(_, d)| d.len())
            .map(|(m, _)| m)
    }

    /// The route of `class` for `municipality`: its own rule if it has one, else the class default.
    pub fn route_for(&self, class: Class, municipality: Option<&str>) -> &RouteRule {
        municipality
            .and_then(|id| self.rules.iter().find(|r| r.class == class && r.municipality == id))
            .map(|r| &r.route)
            .or_else(|| self.routes.iter().find(|(c, _)| *c == class).map(|(_, r)| r))
            // Validation guarantees a route for every class; the helpdesk is the safe fallback.
            .unwrap_or(&FALLBACK_ROUTE)
    }
}

static FALLBACK_ROUTE: RouteRule = RouteRule { to: vec![], cc: vec![], note: String::new() };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_valid_and_has_the_five_municipalities() {
        let p = Policy::default_region().expect("default policy validates");
        let ids: Vec<_> = p.municipalities.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["gjovik", "ostre-toten", "vestre-toten", "sondre-land", "nordre-land"]);
        assert_eq!(p.helpdesk.email, "pureservice@gjovik.kommune.no");
        assert_eq!(p.required, Detail::ALL);
        assert_eq!(p.municipality_for_domain("skole.gjovik.kommune.no").map(|m| m.id.as_str()), Some("gjovik"));
        assert!(p.municipality_for_domain("gmail.com").is_none());
    }
}
