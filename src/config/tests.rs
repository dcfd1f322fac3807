use super::*;

const MINIMAL: &str = r#"
mailbox = "helpdesk@routedesk.test"
[imap]
url = "imap://127.0.0.1:1143"
user = "helpdesk@routedesk.test"
password = "secret"
[smtp]
url = "smtp://127.0.0.1:2525"
"#;

#[test]
fn minimal_config_gets_defaults() {
    let c = Config::from_toml(MINIMAL).expect("valid");
    assert_eq!(c.database_url, "sqlite://data/routedesk.db");
    assert_eq!(c.imap.folder, "INBOX");
    assert_eq!(c.imap.processed_folder, "Processed");
    assert_eq!(c.limits.max_message_bytes, 25 * 1024 * 1024);
    assert!(!c.dry_run);
    assert_eq!(format!("{:?}", c.imap.password), "\"***\"", "secrets never show");
    // IDLE is re-issued well before the 29 minutes after which servers may drop an idle client
    // (RFC 2177), and a connection gone silent in IDLE is noticed within six minutes.
    assert!(c.imap.idle_secs <= 25 * 60);
    assert!(c.imap.idle_secs + c.imap.timeout_secs <= 6 * 60);
}

#[test]
fn every_problem_is_reported() {
    let bad = MINIMAL
        .replace("helpdesk@routedesk.test\"\n[imap]", "not-an-address\"\n[imap]")
        .replace("imap://127.0.0.1:1143", "imap://mail.example.no");
    let Err(ConfigError::Invalid(p)) = Config::from_toml(&bad) else { panic!("expected validation errors") };
    assert!(p.iter().any(|m| m.contains("mailbox")), "{p:?}");
    assert!(p.iter().any(|m| m.contains("only to loopback")), "{p:?}");
    let aliases = MINIMAL.replace("[imap]", "addressed_as = [\"support@gjovik.kommune.no\", \"support\"]\n[imap]");
    let Err(ConfigError::Invalid(p)) = Config::from_toml(&aliases) else { panic!("expected validation errors") };
    assert_eq!(p, ["addressed_as: \"support\" is not a valid e-mail address"]);
}

#[test]
fn unknown_keys_are_refused() {
    let e = Config::from_toml(&format!("{MINIMAL}\n[web]\nbnid = \"x\"\n")).unwrap_err();
    assert!(e.to_string().contains("bnid"), "{e}");
}
