//! Step 2: which of the details the routine requires (screenshot, phone, mobile, e-mail) the report
//! carries, looking at what the sender wrote (signature included, quoted replies excluded).

pub mod email;
pub mod phone;
pub mod screenshot;

use serde::Serialize;

use crate::domain::Detail;
use crate::pipeline::parse::ParsedMail;
use crate::policy::Policy;

pub use phone::{Kind as PhoneKind, Number};
pub use screenshot::Screenshot;

#[derive(Debug, Clone, Serialize)]
pub struct Checks {
    pub screenshot: Option<Screenshot>,
    pub phone: Option<Number>,
    pub mobile: Option<Number>,
    pub email: Option<crate::text::address::EmailAddress>,
    /// Required details not found, in the order screenshot, phone, mobile, email.
    pub missing: Vec<Detail>,
}

impl Checks {
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }

    pub fn has(&self, d: Detail) -> bool {
        match d {
            Detail::Screenshot => self.screenshot.is_some(),
            Detail::Phone => self.phone.is_some(),
            Detail::Mobile => self.mobile.is_some(),
            Detail::Email => self.email.is_some(),
        }
    }
}

pub fn check(mail: &ParsedMail, policy: &Policy) -> Checks {
    let numbers = phone::find_numbers(&mail.own_text);
    let first = |k: PhoneKind| numbers.iter().find(|n| n.kind == k).cloned();
    let mut checks = Checks {
        screenshot: screenshot::find(&mail.parts, &policy.screenshot),
        phone: first(PhoneKind::Phone),
        mobile: first(PhoneKind::Mobile),
        email: email::find(mail, policy),
        missing: Vec::new(),
    };
    checks.missing = policy.required.iter().copied().filter(|d| !checks.has(*d)).collect();
    checks
}
