//! Turns a parsed policy file into a [`Policy`], collecting every problem so the operator can fix
//! them all in one go.

use std::collections::HashSet;
use std::fmt::Write as _;

use super::file::{PolicyFile, RouteFile};
use super::{
    ClassifyRules, Contact, Helpdesk, Incidents, ModelThresholds, Municipality, Policy, Privacy, Replies, Retention,
    RouteRule, Rule, ScreenshotRule, SenderRules, Tag, Target,
};
use crate::domain::{Class, Detail};
use crate::text::address::{self, EmailAddress};
use crate::text::terms::TermSet;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("policy {origin} is not valid TOML: {message}")]
    Syntax { origin: String, message: String },
    #[error("policy {origin} has {} problem(s):{}", problems.len(), bullet_list(problems))]
    Invalid { origin: String, problems: Vec<String> },
}

fn bullet_list(items: &[String]) -> String {
    items.iter().fold(String::new(), |mut s, p| {
        let _ = write!(s, "\n  - {p}");
        s
    })
}

pub(super) fn validate(f: PolicyFile) -> Result<Policy, Vec<String>> {
    let mut p = Vec::new();

    if f.region.name.trim().is_empty() {
        p.push("region.name is empty".to_string());
    }
    let helpdesk_email = check_address(&mut p, "helpdesk.email", &f.helpdesk.email);

    let mut required = Vec::new();
    for d in &f.required.details {
        match Detail::parse(d) {
            Some(d) if !required.contains(&d) => required.push(d),
            Some(_) => p.push(format!("required.details names {d:?} twice")),
            None => p.push(format!("required.details: unknown detail {d:?} (known: screenshot, phone, mobile, email)")),
        }
    }
    required.sort();
    if f.screenshot.min_width == 0 || f.screenshot.min_height == 0 {
        p.push("screenshot.min_width and min_height must be at least 1".to_string());
    }
    for pat in f.senders.shared_mailboxes.iter().chain(&f.senders.no_reply) {
        if pat.trim_end_matches('*').is_empty() || pat.contains('@') || pat.trim_end_matches('*').contains('*') {
            p.push(format!("senders: {pat:?} must be a local part, optionally ending in `*`"));
        }
    }

    let municipalities = municipalities(&mut p, &f);
    let ids: HashSet<&str> = municipalities.iter().map(|m| m.id.as_str()).collect();
    let classify = classify_rules(&mut p, &f);

    let mut routes = Vec::new();
    for (key, route) in &f.route {
        match key.parse::<Class>().ok() {
            Some(class) => routes.push((class, route_rule(&mut p, &format!("route.{key}"), route))),
            None => {
                p.push(format!("route.{key}: unknown class (known: application, operations, access, unclassified)"))
            }
        }
    }
    for class in Class::ALL {
        if !routes.iter().any(|(c, _)| *c == class) {
            p.push(format!("route.{class} is missing: every class needs a route"));
        }
    }
    let mut rules = Vec::new();
    for (i, r) in f.rules.iter().enumerate() {
        let at = format!("rule #{} ({} / {})", i + 1, r.municipality, r.class);
        if !ids.contains(r.municipality.as_str()) {
            p.push(format!("{at}: unknown municipality {:?}", r.municipality));
        }
        let Ok(class) = r.class.parse::<Class>() else {
            p.push(format!("{at}: unknown class {:?}", r.class));
            continue;
        };
        let file = RouteFile { to: r.to.clone(), cc: r.cc.clone(), note: r.note.clone().unwrap_or_default() };
        let mut route = route_rule(&mut p, &at, &file);
        if r.note.is_none() {
            route.note = routes.iter().find(|(c, _)| *c == class).map(|(_, r)| r.note.clone()).unwrap_or_default();
        }
        rules.push(Rule { municipality: r.municipality.clone(), class, route });
    }

    let replies = &f.replies;
    for (name, text) in [
        ("signature", &replies.signature),
        ("acknowledgement", &replies.acknowledgement),
        ("request_info", &replies.request_info),
        ("urgent", &replies.urgent),
    ] {
        if text.trim().is_empty() {
            p.push(format!("replies.{name} is empty"));
        }
    }

    for (key, days) in [
        ("retention.resolved_days", f.retention.resolved_days),
        ("retention.set_aside_days", f.retention.set_aside_days),
        ("retention.max_open_days", f.retention.max_open_days),
        ("retention.audit_log_days", f.retention.audit_log_days),
    ] {
        if days > 36_500 {
            p.push(format!("{key} is {days}: at most 36500 days (100 years); 0 keeps data for good"));
        }
    }

    let inc = &f.incidents;
    if !(0.0..=1.0).contains(&inc.similarity) {
        p.push(format!("incidents.similarity is {}: it is a cosine similarity, between 0 and 1", inc.similarity));
    }
    if inc.window_hours == 0 || inc.min_reports < 2 || inc.min_municipalities == 0 {
        p.push("incidents: window_hours and min_municipalities must be at least 1, min_reports at least 2".into());
    }
    let privacy_contacts: Vec<EmailAddress> = f
        .privacy
        .contacts
        .iter()
        .enumerate()
        .filter_map(|(i, a)| check_address(&mut p, &format!("privacy.contacts[{i}]"), a))
        .collect();
    if f.privacy.warn_hours == 0 || f.privacy.warn_hours >= 72 {
        p.push("privacy.warn_hours must be between 1 and 71 (the deadline is 72 hours)".into());
    }
    let vendor_alert = match f.privacy.vendor_alert.trim() {
        "" => None,
        a => check_address(&mut p, "privacy.vendor_alert", a),
    };
    let vendor = vendor(&mut p, f.vendor);
    let (Some(classify), Some(helpdesk_email)) = (classify, helpdesk_email) else {
        return Err(p);
    };
    if !p.is_empty() {
        return Err(p);
    }
    let retention = Retention {
        resolved_days: Some(f.retention.resolved_days).filter(|d| *d > 0),
        set_aside_days: Some(f.retention.set_aside_days).filter(|d| *d > 0),
        max_open_days: Some(f.retention.max_open_days).filter(|d| *d > 0),
        audit_log_days: Some(f.retention.audit_log_days).filter(|d| *d > 0),
    };
    let incidents = Incidents {
        window_hours: inc.window_hours,
        similarity: inc.similarity,
        min_reports: inc.min_reports,
        min_municipalities: inc.min_municipalities,
    };
    let privacy = Privacy { contacts: privacy_contacts, warn_hours: f.privacy.warn_hours, vendor_alert };
    let Some(vendor) = vendor else { return Err(p) };
    Ok(Policy {
        vendor,
        learned: None,
        privacy,
        incidents,
        retention,
        region: f.region.name,
        helpdesk: Helpdesk { name: f.helpdesk.name, email: helpdesk_email, phone: f.helpdesk.phone },
        required,
        hold_urgent_incomplete: f.required.hold_urgent_incomplete,
        screenshot: ScreenshotRule { min_width: f.screenshot.min_width, min_height: f.screenshot.min_height },
        senders: SenderRules {
            shared_mailboxes: f.senders.shared_mailboxes.iter().map(|s| s.to_lowercase()).collect(),
            no_reply: f.senders.no_reply.iter().map(|s| s.to_lowercase()).collect(),
            reply_to_unknown: f.senders.reply_to_unknown,
        },
        classify,
        products: f.products.iter().map(|pr| pr.name.clone()).collect(),
        status_products: f.products.iter().filter(|pr| pr.status_page).map(|pr| pr.name.clone()).collect(),
        components: f
            .products
            .iter()
            .flat_map(|pr| {
                let own = if pr.components.is_empty() { vec![pr.name.clone()] } else { pr.components.clone() };
                own.into_iter().map(|c| (c, pr.name.clone()))
            })
            .collect(),
        routes,
        rules,
        municipalities,
        replies: Replies {
            signature: f.replies.signature,
            acknowledgement: f.replies.acknowledgement,
            request_info: f.replies.request_info,
            urgent: f.replies.urgent,
        },
    })
}

/// The address, or a problem noted at `at`.
fn check_address(p: &mut Vec<String>, at: &str, addr: &str) -> Option<EmailAddress> {
    let parsed = EmailAddress::parse(addr).ok();
    if parsed.is_none() {
        p.push(format!("{at}: {addr:?} is not a valid e-mail address"));
    }
    parsed
}

fn municipalities(p: &mut Vec<String>, f: &PolicyFile) -> Vec<Municipality> {
    if f.municipalities.is_empty() {
        p.push("no [[municipality]] defined".to_string());
    }
    let mut seen_ids = HashSet::new();
    let mut seen_domains = HashSet::new();
    let mut out = Vec::new();
    for m in &f.municipalities {
        let at = format!("municipality {:?}", m.id);
        let slug_ok =
            !m.id.is_empty() && m.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !slug_ok {
            p.push(format!("{at}: id must be lower-case ASCII letters, digits and '-'"));
        }
        if !seen_ids.insert(m.id.clone()) {
            p.push(format!("{at}: defined twice"));
        }
        if m.name.trim().is_empty() {
            p.push(format!("{at}: name is empty"));
        }
        if m.domains.is_empty() {
            p.push(format!("{at}: has no domains"));
        }
        for d in &m.domains {
            let d = d.to_lowercase();
            if !address::is_valid_domain(&d) {
                p.push(format!("{at}: {d:?} is not a valid domain"));
            } else if !seen_domains.insert(d.clone()) {
                p.push(format!("{at}: domain {d:?} is already used by another municipality"));
            }
        }
        if m.contacts.is_empty() {
            p.push(format!("{at}: empty contact list (add at least one [[municipality.contact]])"));
        }
        let local_it = m.local_it.as_ref().and_then(|it| check_address(p, &format!("{at} local_it"), it));
        let privacy_contact =
            m.privacy_contact.as_ref().and_then(|a| check_address(p, &format!("{at} privacy_contact"), a));
        let contacts = m
            .contacts
            .iter()
            .filter_map(|c| {
                let email = check_address(p, &format!("{at} contact {:?}", c.name), &c.email)?;
                Some(Contact { name: c.name.clone(), email, phone: c.phone.clone(), mobile: c.mobile.clone() })
            })
            .collect();
        out.push(Municipality {
            id: m.id.clone(),
            name: m.name.clone(),
            domains: m.domains.iter().map(|d| d.to_lowercase()).collect(),
            local_it,
            privacy_contact,
            contacts,
        });
    }
    out
}

fn classify_rules(p: &mut Vec<String>, f: &PolicyFile) -> Option<ClassifyRules> {
    let c = &f.classify;
    if !(c.min_confidence > 0.0 && c.min_confidence <= 1.0) {
        p.push(format!("classify.min_confidence is {}; it must be in (0, 1]", c.min_confidence));
    }
    for (name, v) in
        [("min_score", c.min_score), ("product_weight", c.product_weight), ("privacy.min_score", c.privacy.min_score)]
    {
        if !(v.is_finite() && v >= 0.0) {
            p.push(format!("classify.{name} is {v}; it must be a number >= 0"));
        }
    }
    if let Some(m) = &c.model {
        for (name, v) in
            [("min_probability", m.min_probability), ("privacy_min_probability", m.privacy_min_probability)]
        {
            if !(v > 0.0 && v <= 1.0) {
                p.push(format!("classify.model.{name} is {v}; it must be in (0, 1]"));
            }
        }
    }
    let mut entries: Vec<(&str, f64, Tag)> = Vec::new();
    for (class_name, terms) in &c.terms {
        match class_name.parse::<Class>().ok().filter(|c| *c != Class::Unclassified) {
            Some(class) => entries.extend(terms.iter().map(|(t, w)| (t.as_str(), *w, Tag::Class(class)))),
            None => {
                p.push(format!("classify.terms.{class_name}: unknown class (known: application, operations, access)"))
            }
        }
    }
    for class in Class::DECIDABLE {
        if c.terms.get(class.as_str()).is_none_or(|t| t.is_empty()) {
            p.push(format!("classify.terms.{class} has no terms"));
        }
    }
    entries.extend(c.urgent.terms.iter().map(|t| (t.as_str(), 1.0, Tag::Urgent)));
    entries.extend(c.privacy.terms.iter().map(|(t, w)| (t.as_str(), *w, Tag::Privacy)));
    for (i, product) in f.products.iter().enumerate() {
        if product.name.trim().is_empty() || product.aliases.is_empty() {
            p.push(format!("product #{}: needs a name and at least one alias", i + 1));
        }
        entries.extend(
            product.aliases.iter().map(|a| (a.as_str(), c.product_weight.max(f64::MIN_POSITIVE), Tag::Product(i))),
        );
    }
    match TermSet::new(entries) {
        Ok(terms) => Some(ClassifyRules {
            min_confidence: c.min_confidence,
            min_score: c.min_score,
            product_weight: c.product_weight,
            privacy_min_score: c.privacy.min_score,
            model: c.model.as_ref().map(|m| ModelThresholds {
                min_probability: m.min_probability,
                privacy_min_probability: m.privacy_min_probability,
            }),
            terms,
        }),
        Err(errors) => {
            p.extend(errors.into_iter().map(|e| format!("classify: {e}")));
            None
        }
    }
}

fn route_rule(p: &mut Vec<String>, at: &str, r: &RouteFile) -> RouteRule {
    if r.to.is_empty() {
        p.push(format!("{at}: `to` is empty"));
    }
    let mut target = |s: &String| match s.as_str() {
        "contacts" => Some(Target::Contacts),
        "local-it" => Some(Target::LocalIt),
        "helpdesk" => Some(Target::Helpdesk),
        addr if address::is_valid(addr) => EmailAddress::parse(addr).ok().map(Target::Address),
        other => {
            p.push(format!("{at}: {other:?} is neither contacts, local-it, helpdesk nor a valid e-mail address"));
            None
        }
    };
    let to = r.to.iter().filter_map(&mut target).collect();
    let cc = r.cc.iter().filter_map(&mut target).collect();
    RouteRule { to, cc, note: r.note.clone() }
}

/// `[vendor]`: the case pattern must compile (size-limited: it runs on every contact's reply) and
/// have a group for the number.
fn vendor(p: &mut Vec<String>, v: super::file::VendorFile) -> Option<super::Vendor> {
    if v.name.trim().is_empty() {
        p.push("vendor.name must not be empty".into());
    }
    if v.reminder_hours > 24 * 5 * 4 {
        p.push(format!(
            "vendor.reminder_hours is {}: at most 480 working hours; 0 sends no reminder",
            v.reminder_hours
        ));
    }
    let pattern = match regex::RegexBuilder::new(&v.case_pattern).size_limit(1 << 20).build() {
        Ok(r) if r.captures_len() >= 2 => Some(r),
        Ok(_) => {
            p.push(format!("vendor.case_pattern {:?} has no group: put the number in ( )", v.case_pattern));
            None
        }
        Err(e) => {
            p.push(format!("vendor.case_pattern is not a valid pattern: {e}"));
            None
        }
    };
    Some(super::Vendor {
        name: v.name.trim().to_string(),
        case_pattern: pattern?,
        reminder_hours: Some(v.reminder_hours).filter(|h| *h > 0),
    })
}

#[cfg(test)]
mod tests {
    use crate::policy::{DEFAULT_POLICY, Policy, PolicyError};

    fn problems(edit: impl Fn(&str) -> String) -> Vec<String> {
        match Policy::from_toml(&edit(DEFAULT_POLICY), "test") {
            Err(PolicyError::Invalid { problems, .. }) => problems,
            Err(e) => panic!("expected validation problems, got {e}"),
            Ok(_) => panic!("expected the edited policy to be rejected"),
        }
    }

    #[test]
    fn the_models_thresholds_are_read_and_checked() {
        let p = Policy::from_toml(DEFAULT_POLICY, "default").expect("default policy");
        let t = p.learned.as_ref().expect("the shipped policy uses the model").thresholds;
        assert_eq!((t.min_probability, t.privacy_min_probability), (0.6, 0.18));
        let p = problems(|s| s.replace("min_probability = 0.6", "min_probability = 1.5"));
        assert!(p.iter().any(|m| m.contains("classify.model.min_probability is 1.5")), "{p:?}");
        let p = problems(|s| s.replace("privacy_min_probability = 0.18", "privacy_min_probability = 0"));
        assert!(p.iter().any(|m| m.contains("classify.model.privacy_min_probability is 0")), "{p:?}");
        let start = DEFAULT_POLICY.find("[classify.model]").expect("the table");
        let end = start + DEFAULT_POLICY[start..].find("\n\n").expect("its end");
        let without = format!("{}{}", &DEFAULT_POLICY[..start], &DEFAULT_POLICY[end..]);
        let p = Policy::from_toml(&without, "x").expect("the table is optional");
        assert!(p.learned.is_none() && p.classify.model.is_none(), "without it, the terms decide alone");
    }

    #[test]
    fn retention_is_read_and_checked() {
        let p = Policy::from_toml(DEFAULT_POLICY, "default").expect("default policy");
        assert_eq!(
            (p.retention.resolved_days, p.retention.set_aside_days, p.retention.max_open_days),
            (Some(730), Some(90), Some(1095))
        );
        let kept = Policy::from_toml(&DEFAULT_POLICY.replace("resolved_days = 730", "resolved_days = 0"), "x")
            .expect("0 is valid");
        assert_eq!(kept.retention.resolved_days, None, "0 keeps resolved tickets for good");
        let p = problems(|s| s.replace("set_aside_days = 90", "set_aside_days = 99999"));
        assert!(p.iter().any(|m| m.contains("retention.set_aside_days is 99999")), "{p:?}");
        let p = problems(|s| s.replace("max_open_days = 1095", "max_open_days = 40000"));
        assert!(p.iter().any(|m| m.contains("retention.max_open_days is 40000")), "{p:?}");
        let kept = Policy::from_toml(&DEFAULT_POLICY.replace("max_open_days = 1095", "max_open_days = 0"), "x")
            .expect("0 is valid");
        assert_eq!(kept.retention.max_open_days, None, "0 keeps tickets never resolved for good");
    }

    #[test]
    fn the_vendor_case_pattern_and_alert_address_are_checked() {
        let p = Policy::from_toml(DEFAULT_POLICY, "default").expect("default policy");
        assert_eq!((p.vendor.name.as_str(), p.vendor.reminder_hours), ("Visma", Some(8)));
        assert_eq!(p.privacy.vendor_alert, None, "no vendor address until the region puts in its own");
        let pattern = |s: &str, pattern: &str| {
            let at = s.find("case_pattern = ").expect("the default policy has a case pattern");
            let end = at + s[at..].find('\n').expect("a line");
            format!("{}case_pattern = '{pattern}'{}", &s[..at], &s[end..])
        };
        let p = problems(|s| pattern(s, "visma(["));
        assert!(p.iter().any(|m| m.contains("vendor.case_pattern is not a valid pattern")), "{p:?}");
        let p = problems(|s| pattern(s, r"visma-sak \d+"));
        assert!(p.iter().any(|m| m.contains("has no group")), "{p:?}");
        let p = problems(|s| s.replace("vendor_alert = \"\"", "vendor_alert = \"visma(at)example\""));
        assert!(p.iter().any(|m| m.contains("\"visma(at)example\" is not a valid e-mail address")), "{p:?}");
        let p = Policy::from_toml(
            &DEFAULT_POLICY.replace("vendor_alert = \"\"", "vendor_alert = \"security@visma.example\""),
            "x",
        )
        .expect("an address is valid");
        assert_eq!(p.privacy.vendor_alert.map(|a| a.to_string()).as_deref(), Some("security@visma.example"));
    }

    #[test]
    fn unknown_municipality_in_a_rule_is_rejected() {
        let p = problems(|s| {
            format!(
                "{s}\n[[rule]]\nmunicipality = \"lillehammer\"\nclass = \"operations\"\nto = [\"it@lillehammer.kommune.no\"]\n"
            )
        });
        assert!(p.iter().any(|m| m.contains("unknown municipality \"lillehammer\"")), "{p:?}");
    }

    #[test]
    fn bad_address_and_bad_target_are_rejected() {
        let p = problems(|s| {
            s.replace("email = \"hhd@gjovik.kommune.no\"", "email = \"hhd(at)gjovik\"")
                .replace("to = [\"local-it\"]", "to = [\"lokal-it\"]")
        });
        assert!(p.iter().any(|m| m.contains("\"hhd(at)gjovik\" is not a valid e-mail address")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("\"lokal-it\" is neither")), "{p:?}");
    }

    #[test]
    fn empty_contact_list_is_rejected() {
        let text = DEFAULT_POLICY.replace(
            "[[municipality.contact]]\nname = \"Pål Arne Røberg\"\nemail = \"par@vestre-toten.kommune.no\"\nmobile = \"41 47 91 44\"\n",
            "",
        );
        assert_ne!(text, DEFAULT_POLICY, "fixture edit must apply");
        let p = problems(|_| text.clone());
        assert!(p.iter().any(|m| m.contains("\"vestre-toten\": empty contact list")), "{p:?}");
    }

    #[test]
    fn unknown_keys_and_syntax_errors_are_clear() {
        let e = Policy::from_toml(&DEFAULT_POLICY.replace("[screenshot]\nmin_width", "[screenshot]\nmin_widht"), "x")
            .unwrap_err();
        assert!(e.to_string().contains("min_widht"), "{e}");
        let e = Policy::from_toml("region = ", "x").unwrap_err();
        assert!(matches!(e, PolicyError::Syntax { .. }), "{e}");
    }

    #[test]
    fn a_missing_route_and_an_unknown_detail_are_rejected() {
        let p = problems(|s| {
            s.replace("[route.access]", "[route.acess]").replace("\"mobile\", \"email\"]", "\"mobil\", \"email\"]")
        });
        assert!(p.iter().any(|m| m.contains("route.acess: unknown class")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("route.access is missing")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("unknown detail \"mobil\"")), "{p:?}");
    }
}
