//! The policy file as written: plain serde structs, checked by `validate` before use.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    pub region: RegionFile,
    pub helpdesk: HelpdeskFile,
    #[serde(default)]
    pub required: RequiredFile,
    #[serde(default)]
    pub screenshot: ScreenshotFile,
    #[serde(default)]
    pub senders: SendersFile,
    pub classify: ClassifyFile,
    #[serde(default, rename = "product")]
    pub products: Vec<ProductFile>,
    pub route: BTreeMap<String, RouteFile>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleFile>,
    #[serde(rename = "municipality")]
    pub municipalities: Vec<MunicipalityFile>,
    pub replies: RepliesFile,
    #[serde(default)]
    pub retention: RetentionFile,
    #[serde(default)]
    pub incidents: IncidentsFile,
    #[serde(default)]
    pub privacy: PrivacyIncidentsFile,
    #[serde(default)]
    pub vendor: VendorFile,
}

/// The vendor case: how its number is written in a reply, and when the contacts are reminded.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VendorFile {
    pub name: String,
    pub case_pattern: String,
    pub reminder_hours: u32,
}

impl Default for VendorFile {
    fn default() -> Self {
        VendorFile {
            name: "Visma".into(),
            case_pattern: r"(?i)\bvisma[- ]?sak\s*[:#]?\s*(\d{5,12})\b".into(),
            reminder_hours: 8,
        }
    }
}

/// Privacy incidents: who is told at once, and how early the coordinator is warned of the deadline.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyIncidentsFile {
    pub contacts: Vec<String>,
    pub warn_hours: u32,
    /// Where the vendor wants an alert when its product may be involved (empty: not offered).
    pub vendor_alert: String,
}

impl Default for PrivacyIncidentsFile {
    fn default() -> Self {
        PrivacyIncidentsFile { contacts: vec![], warn_hours: 24, vendor_alert: String::new() }
    }
}

/// When reports are the same fault, and when that makes a suspected incident.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncidentsFile {
    pub window_hours: u32,
    pub similarity: f64,
    pub min_reports: u32,
    pub min_municipalities: u32,
}

impl Default for IncidentsFile {
    fn default() -> Self {
        IncidentsFile {
            window_hours: 48,
            similarity: crate::grouping::DEFAULT_THRESHOLD,
            min_reports: 3,
            min_municipalities: 2,
        }
    }
}

/// How long personal data is kept (days; 0 keeps it for good).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionFile {
    #[serde(default = "default_resolved_days")]
    pub resolved_days: u32,
    #[serde(default = "default_set_aside_days")]
    pub set_aside_days: u32,
    #[serde(default = "default_max_open_days")]
    pub max_open_days: u32,
    /// The audit log (sign-ins, views, re-routes, exports, erasures): five years by default.
    #[serde(default = "default_audit_log_days")]
    pub audit_log_days: u32,
}

impl Default for RetentionFile {
    fn default() -> Self {
        RetentionFile {
            resolved_days: default_resolved_days(),
            set_aside_days: default_set_aside_days(),
            max_open_days: default_max_open_days(),
            audit_log_days: default_audit_log_days(),
        }
    }
}

fn default_resolved_days() -> u32 {
    730
}

fn default_set_aside_days() -> u32 {
    90
}

fn default_audit_log_days() -> u32 {
    1825
}

fn default_max_open_days() -> u32 {
    1095
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionFile {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpdeskFile {
    pub name: String,
    pub email: String,
    pub phone: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredFile {
    pub details: Vec<String>,
    #[serde(default)]
    pub hold_urgent_incomplete: bool,
}

impl Default for RequiredFile {
    fn default() -> Self {
        Self {
            details: ["screenshot", "phone", "mobile", "email"].map(String::from).to_vec(),
            hold_urgent_incomplete: false,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenshotFile {
    pub min_width: u32,
    pub min_height: u32,
}

impl Default for ScreenshotFile {
    fn default() -> Self {
        Self { min_width: 300, min_height: 200 }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendersFile {
    #[serde(default)]
    pub shared_mailboxes: Vec<String>,
    #[serde(default)]
    pub no_reply: Vec<String>,
    #[serde(default)]
    pub reply_to_unknown: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifyFile {
    pub min_confidence: f64,
    pub min_score: f64,
    pub product_weight: f64,
    pub terms: BTreeMap<String, BTreeMap<String, f64>>,
    pub urgent: UrgentFile,
    pub privacy: PrivacyFile,
    /// The trained classifier; without this table the keywords decide alone.
    pub model: Option<ModelFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub min_probability: f64,
    pub privacy_min_probability: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrgentFile {
    pub terms: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyFile {
    pub min_score: f64,
    pub terms: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductFile {
    pub name: String,
    pub aliases: Vec<String>,
    /// The vendor status page's components whose trouble is this product's trouble; the product's
    /// own name when not given.
    #[serde(default)]
    pub components: Vec<String>,
    /// Listed on the public status page; `false` for a catch-all such as "Visma" without a product.
    #[serde(default = "listed")]
    pub status_page: bool,
}

fn listed() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteFile {
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub municipality: String,
    pub class: String,
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MunicipalityFile {
    pub id: String,
    pub name: String,
    pub domains: Vec<String>,
    #[serde(default)]
    pub local_it: Option<String>,
    /// The municipality's data-protection contact (personvernombud), told of every privacy incident.
    #[serde(default)]
    pub privacy_contact: Option<String>,
    #[serde(default, rename = "contact")]
    pub contacts: Vec<ContactFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactFile {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepliesFile {
    pub signature: String,
    pub acknowledgement: String,
    pub request_info: String,
    pub urgent: String,
}
