//! `routedesk check-policy FILE`: validate a policy and show how routedesk reads it.

use std::path::Path;
use std::process::ExitCode;

use crate::domain::Class;
use crate::policy::{Policy, Target};

pub fn run(file: &Path) -> ExitCode {
    match Policy::load(file) {
        Ok(p) => {
            print!("{}", describe(&p));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// A readable account of a validated policy.
pub fn describe(p: &Policy) -> String {
    let mut s = String::new();
    let mut line = |l: String| {
        s.push_str(&l);
        s.push('\n');
    };
    line(format!("Policy for {} — valid.", p.region));
    line(format!("Helpdesk: {} <{}>, phone {}", p.helpdesk.name, p.helpdesk.email, p.helpdesk.phone));
    line(format!(
        "Required details: {}{}",
        p.required.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", "),
        if p.hold_urgent_incomplete {
            " (urgent reports are held too)"
        } else {
            " (urgent reports are routed at once)"
        }
    ));
    line(format!("Screenshot: at least {}×{} pixels", p.screenshot.min_width, p.screenshot.min_height));
    line(format!("Municipalities ({}):", p.municipalities.len()));
    for m in &p.municipalities {
        line(format!("  {} — {} — domains: {}", m.id, m.name, m.domains.join(", ")));
        for c in &m.contacts {
            line(format!("      contact {} <{}>", c.name, c.email));
        }
        if let Some(it) = &m.local_it {
            line(format!("      local IT <{it}>"));
        }
    }
    line("Routes:".to_string());
    for class in Class::ALL {
        let r = p.route_for(class, None);
        line(format!(
            "  {class}: to {} cc {}",
            targets(&r.to),
            if r.cc.is_empty() { "-".to_string() } else { targets(&r.cc) }
        ));
    }
    for r in &p.rules {
        line(format!("  {} / {}: to {} cc {}", r.municipality, r.class, targets(&r.route.to), targets(&r.route.cc)));
    }
    line(format!(
        "Classification: {} terms and product aliases, {} products; unclassified below confidence {} or score {}",
        p.classify.terms.len(),
        p.products.len(),
        p.classify.min_confidence,
        p.classify.min_score
    ));
    let days = |d: Option<u32>| d.map_or("for good".to_string(), |d| format!("{d} days"));
    line(format!(
        "Retention: resolved tickets {}, tickets never resolved {}, set-aside mail {}",
        days(p.retention.resolved_days),
        days(p.retention.max_open_days),
        days(p.retention.set_aside_days)
    ));
    s
}

fn targets(t: &[Target]) -> String {
    t.iter()
        .map(|t| match t {
            Target::Contacts => "contacts".to_string(),
            Target::LocalIt => "local-it".to_string(),
            Target::Helpdesk => "helpdesk".to_string(),
            Target::Address(a) => a.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
