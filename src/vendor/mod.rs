//! The vendor's status page (the common Statuspage format, `/api/v2/summary.json`): what is wrong
//! at the vendor now, mapped to the products the policy knows, so that a report about a product
//! with an ongoing vendor incident or maintenance is marked as a known vendor issue.
//! `statuspage` is the format; `poll` keeps it up to date.

pub mod poll;
pub mod statuspage;

pub use poll::VendorStatus;
pub use statuspage::Summary;

/// A current vendor problem that touches one of our products.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Known {
    /// The policy's product name.
    pub product: String,
    /// `incident` or `maintenance`.
    pub kind: &'static str,
    pub title: String,
    /// The vendor's stage: investigating, identified, monitoring; in_progress, scheduled …
    pub status: String,
    /// Where people read more (the incident's page, or the status page).
    pub link: String,
}

/// The vendor problems of `summary` that touch the products (mapped from its components by
/// `components`: `(component name, product)`): unresolved incidents, and maintenances in progress.
pub fn known_issues(summary: &Summary, components: &[(String, String)]) -> Vec<Known> {
    let mut out = Vec::new();
    let mut add = |kind: &'static str, title: &str, status: &str, link: &str, affected: &[statuspage::Component]| {
        for c in affected {
            for (name, product) in components {
                let known = Known {
                    product: product.clone(),
                    kind,
                    title: title.to_string(),
                    status: status.to_string(),
                    link: if link.is_empty() { summary.page.url.clone() } else { link.to_string() },
                };
                if name.eq_ignore_ascii_case(&c.name) && !out.contains(&known) {
                    out.push(known);
                }
            }
        }
    };
    for i in summary.incidents.iter().filter(|i| !matches!(i.status.as_str(), "resolved" | "postmortem")) {
        add("incident", &i.name, &i.status, &i.shortlink, &i.components);
    }
    for m in summary.scheduled_maintenances.iter().filter(|m| matches!(m.status.as_str(), "in_progress" | "verifying"))
    {
        add("maintenance", &m.name, &m.status, &m.shortlink, &m.components);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Summary {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/statuspage").join(name);
        serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("summary.json")
    }

    fn map() -> Vec<(String, String)> {
        crate::policy::Policy::default_region().expect("policy").components
    }

    #[test]
    fn an_incident_touches_the_products_that_depend_on_its_components() {
        let known = known_issues(&fixture("connect-incident.json"), &map());
        let products: Vec<&str> = known.iter().map(|k| k.product.as_str()).collect();
        assert!(products.contains(&"Visma.net Payroll") && products.contains(&"Visma.net Financials"), "{products:?}");
        assert!(!products.contains(&"Visma Enterprise"), "{products:?}");
        let k = &known[0];
        assert_eq!(
            (k.kind, k.title.as_str(), k.status.as_str()),
            ("incident", "Sign in is not working for Visma.net", "identified")
        );
        assert!(k.link.starts_with("https://"), "{}", k.link);
    }

    #[test]
    fn maintenance_in_progress_counts_and_resolved_or_operational_does_not() {
        let known = known_issues(&fixture("maintenance.json"), &map());
        assert!(known.iter().any(|k| k.kind == "maintenance" && k.product == "Visma.net Financials"), "{known:?}");
        assert!(known.iter().all(|k| k.status != "scheduled"), "a maintenance only scheduled is no issue yet");
        assert!(known_issues(&fixture("operational.json"), &map()).is_empty());
        assert!(known_issues(&fixture("resolved.json"), &map()).is_empty());
        let online = known_issues(&fixture("online-incident-monitoring.json"), &map());
        assert!(online.iter().any(|k| k.product == "Visma Online" && k.status == "monitoring"), "{online:?}");
    }
}
