//! The `routedesk triage` command-line contract: one JSON object per input file, in order, errors on
//! their own line and exit status 2 after all files.

use std::path::PathBuf;
use std::process::Command;

fn routedesk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_routedesk"))
}

/// Runs `cmd` with `stdin` as its standard input. A command that ends without reading it (say,
/// `check-config`) closes the pipe first: that is not an error of the test.
fn output(cmd: &mut Command, stdin: &str) -> std::process::Output {
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    match std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), stdin.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("writing to its input: {e}"),
        _ => {}
    }
    child.wait_with_output().expect("waits")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports").join(name)
}

fn write_temp(name: &str, content: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("routedesk-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, content).expect("write temp file");
    p
}

const REPORT: &str = "From: Kari Røhne <kari.rohne@sondre-land.kommune.no>\r\nTo: pureservice@gjovik.kommune.no\r\nSubject: Feil i lønnskjøringen\r\nMessage-ID: <cli-1@sondre-land.kommune.no>\r\n\r\nLønnskjøringen gir feil beløp.\r\n\r\nMvh Kari\r\nDir. tlf. 61 12 64 26 - Mobil: 951 17 655\r\n";

#[test]
fn json_has_one_line_per_file_in_order_and_errors_exit_2() {
    let good = write_temp("good.eml", REPORT.as_bytes());
    let empty = write_temp("empty.eml", b"");
    let missing = PathBuf::from("/nonexistent/report.eml");
    let out = routedesk().arg("triage").arg("--json").args([&good, &missing, &empty, &good]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).expect("each line is one JSON object")).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["file"], good.display().to_string());
    assert_eq!(lines[1]["file"], missing.display().to_string());
    assert!(lines[1]["error"].as_str().is_some_and(|e| e.contains("cannot read")), "{}", lines[1]);
    assert!(lines[2]["error"].as_str().is_some_and(|e| e.contains("empty")), "{}", lines[2]);
    assert_eq!(lines[3]["file"], lines[0]["file"]);

    let r = &lines[0];
    assert_eq!(r["verdict"], "ticket");
    assert_eq!(r["ignored_reason"], serde_json::Value::Null);
    assert_eq!(r["class"], "application");
    assert!(r["confidence"].as_f64().is_some_and(|c| (0.0..=1.0).contains(&c)));
    assert_eq!(r["municipality"], "sondre-land");
    assert_eq!(r["missing"], serde_json::json!(["screenshot"]));
    assert_eq!(r["complete"], false);
    assert_eq!(r["urgent"], false);
    assert_eq!(r["privacy"], false);
    assert_eq!(r["route"]["to"], serde_json::json!(["kari.rohne@sondre-land.kommune.no"]));
    assert_eq!(r["route"]["cc"], serde_json::json!(["pureservice@gjovik.kommune.no"]));
    assert_eq!(r["reply"], "request-info");
    assert!(r["reasons"].as_array().is_some_and(|a| !a.is_empty()));
}

#[test]
fn all_good_files_exit_0_and_human_output_is_readable() {
    let good = write_temp("good2.eml", REPORT.as_bytes());
    let out = routedesk().arg("triage").arg(&good).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("ticket: application"), "{text}");
    assert!(text.contains("missing screenshot"), "{text}");
    assert!(text.contains("reply: request-info"), "{text}");
}

#[test]
fn a_bad_policy_is_refused_with_a_clear_message() {
    let bad = write_temp("bad-policy.toml", b"[region]\nname = \"x\"\n");
    let out = routedesk().args(["triage", "--policy"]).arg(&bad).arg(fixture("expected.toml")).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing field `helpdesk`"), "{err}");

    let out = routedesk().arg("check-policy").arg(&bad).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_policy_prints_what_it_understood() {
    let policy = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policy/gjovik-region.toml");
    let out = routedesk().arg("check-policy").arg(&policy).output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("valid"), "{text}");
    assert!(text.contains("sondre-land — Søndre Land kommune — domains: sondre-land.kommune.no"), "{text}");
    assert!(text.contains("application: to contacts cc helpdesk"), "{text}");
    assert!(
        text.contains("Retention: resolved tickets 730 days, tickets never resolved 1095 days, set-aside mail 90 days"),
        "{text}"
    );
}

#[test]
fn purge_and_export_work_on_the_configured_database() {
    // Its own folder: the other tests here share theirs, and this one removes its own at the end.
    let dir = std::env::temp_dir().join(format!("routedesk-cli-purge-{}", std::process::id()));
    let db = format!("sqlite://{}/routedesk.db", dir.display());
    let run = |args: &[&str]| {
        let out = service_env(&mut routedesk()).env("ROUTEDESK_DATABASE_URL", &db).args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let dry = run(&["purge", "--dry-run"]);
    assert!(
        dry.contains(
            "would remove the personal data of 0 resolved tickets, 0 tickets never resolved and 0 set-aside mails"
        ),
        "{dry}"
    );
    assert!(run(&["purge"]).contains("removed the personal data of 0"));
    let export: serde_json::Value =
        serde_json::from_str(&run(&["export", "--person", "Kari@Example.org"])).expect("json");
    assert_eq!(export["person"], "kari@example.org");
    assert_eq!(export["tickets"].as_array().map(Vec::len), Some(0));
    // The export is in the audit log, the person by a fingerprint of the address only.
    let audit = run(&["audit"]);
    let person = format!("person {}", routedesk::web::limiter::fingerprint("kari@example.org"));
    assert!(
        audit.lines().any(|l| l.contains("routedesk export (") && l.contains("export") && l.contains(&person)),
        "{audit}"
    );
    assert!(!audit.to_lowercase().contains("kari@example.org"), "{audit}");
    let status = run(&["status"]);
    for line in [
        "database    sqlite",
        "intake      helpdesk@routedesk.test INBOX",
        "outbox      nothing queued",
        "alerts      none",
    ] {
        assert!(status.contains(line), "{line:?} in:\n{status}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn api_tokens_run_out_as_asked_and_the_list_shows_when() {
    let dir = std::env::temp_dir().join(format!("routedesk-cli-token-{}", std::process::id()));
    let db = format!("sqlite://{}/routedesk.db", dir.display());
    let run = |args: &[&str], stdin: &str| {
        output(service_env(&mut routedesk()).env("ROUTEDESK_DATABASE_URL", &db).args(args), stdin)
    };
    let ok = |out: std::process::Output| {
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    ok(run(&["user", "add", "kari", "--role", "helpdesk"], "a long passphrase\n"));
    let token = ok(run(&["user", "token", "kari", "--days", "5"], ""));
    assert_eq!(token.trim().len(), 64, "the token alone on standard output: {token}");
    let until = (time::OffsetDateTime::now_utc() + time::Duration::days(5)).date().to_string();
    let list = ok(run(&["user", "list"], ""));
    assert!(list.contains(&format!("token until {until}")), "{list}");
    assert!(!list.contains(token.trim()), "the token itself is never listed: {list}");
    assert_eq!(run(&["user", "token", "kari", "--days", "0"], "").status.code(), Some(2), "at least a day");
    assert_eq!(run(&["user", "token", "kari", "--days", "366"], "").status.code(), Some(2), "at most a year");
    assert_eq!(ok(run(&["audit", "--limit", "5"], "")), "", "no sign-in yet, an empty audit log");
    ok(run(&["user", "passwd", "kari"], "another long passphrase\n"));
    assert!(!ok(run(&["user", "list"], "")).contains("token"), "a new password revokes the token");
    let _ = std::fs::remove_dir_all(&dir);
}

fn service_env(cmd: &mut Command) -> &mut Command {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("ROUTEDESK_MAILBOX", "helpdesk@routedesk.test")
        .env("ROUTEDESK_IMAP__URL", "imaps://mail.gjovik.kommune.no")
        .env("ROUTEDESK_IMAP__USER", "helpdesk@routedesk.test")
        .env("ROUTEDESK_IMAP__PASSWORD", "12345")
        .env("ROUTEDESK_SMTP__URL", "smtp://smtp.gjovik.kommune.no:587")
        .env("ROUTEDESK_SMTP__STARTTLS", "true")
}

#[test]
fn check_config_takes_every_key_from_the_environment() {
    let out = service_env(&mut routedesk())
        .env("ROUTEDESK_WEB__METRICS_TOKEN", "scrape-9f2c1e7a")
        .arg("check-config")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("imaps://mail.gjovik.kommune.no"), "{text}");
    assert!(text.contains("smtp://smtp.gjovik.kommune.no:587 (STARTTLS)"), "{text}");
    assert!(text.contains("sqlite://data/routedesk.db"), "the default database: {text}");
    assert!(!text.contains("12345"), "the password is never printed: {text}");
    assert!(text.contains("/metrics and /readyz need the token"), "{text}");
    assert!(!text.contains("scrape-9f2c1e7a"), "nor the metrics token: {text}");
    assert!(text.contains("warning: trusted_authserv_id is empty: no sender can be verified"), "{text}");

    let out = service_env(&mut routedesk())
        .env("ROUTEDESK_TRUSTED_AUTHSERV_ID", "mx.gjovik.kommune.no")
        .arg("check-config")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("warning") && !text.contains("need the token"), "{text}");
}

#[test]
fn check_config_refuses_a_bad_configuration_with_every_problem() {
    let out = service_env(&mut routedesk())
        .env("ROUTEDESK_IMAP__URL", "imap://mail.gjovik.kommune.no")
        .env("ROUTEDESK_MAILBOX", "helpdesk")
        .arg("check-config")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("only to loopback"), "{err}");
    assert!(err.contains("mailbox: \"helpdesk\" is not a valid e-mail address"), "{err}");

    let out = routedesk().args(["check-config", "--config", "/nonexistent/routedesk.toml"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

/// `[web.oidc]` in a file, its secret from the environment; a municipality the policy does not
/// know is refused; break-glass accounts are admins and are marked in the list.
#[test]
fn the_oidc_section_takes_its_secret_from_the_environment_and_break_glass_accounts_are_admins() {
    let dir = std::env::temp_dir().join(format!("routedesk-cli-oidc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("routedesk.toml");
    let write = |municipality: &str| {
        let text = format!(
            r#"
database_url = "sqlite://{db}/routedesk.db"
[web.oidc]
issuer = "https://login.microsoftonline.com/5f1c1b3e-0000-4000-8000-000000000001/v2.0"
client_id = "routedesk"
redirect_url = "https://helpdesk.gjovik.kommune.no/auth/callback"
password_login = false
role_map = [
  {{ value = "rd-helpdesk", role = "helpdesk" }},
  {{ value = "rd-kommune", role = "municipal", municipality = "{municipality}" }},
]
"#,
            db = dir.display()
        );
        std::fs::write(&config, text).expect("write");
    };
    let secret = "env-secret-7d1f0c";
    let run = |args: &[&str], with_secret: bool| {
        let mut cmd = routedesk();
        service_env(&mut cmd).env("ROUTEDESK_CONFIG", &config).args(args);
        if with_secret {
            cmd.env("ROUTEDESK_WEB__OIDC__CLIENT_SECRET", secret);
        }
        let out = output(&mut cmd, "a long passphrase\n");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    write("gjovik");
    let (code, _, err) = run(&["check-config"], false);
    assert_eq!(code, Some(2), "no secret yet");
    assert!(err.contains("web.oidc: set client_secret (or client_secret_file)"), "{err}");
    let (code, out, err) = run(&["check-config"], true);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("sign-in:   at https://login.microsoftonline.com/"), "{out}");
    assert!(out.contains("2 mapping(s)); passwords: break-glass accounts only"), "{out}");
    assert!(!out.contains(secret), "the secret is never printed: {out}");
    write("atlantis");
    let (code, _, err) = run(&["check-config"], true);
    assert_eq!(code, Some(2));
    assert!(err.contains("web.oidc.role_map \"rd-kommune\": municipality \"atlantis\" is not in the policy"), "{err}");

    write("gjovik");
    let (code, _, err) = run(&["user", "add", "hege", "--role", "helpdesk", "--break-glass"], true);
    assert!(code == Some(2) && err.contains("a break-glass account is an admin"), "{err}");
    assert_eq!(run(&["user", "add", "nod", "--role", "admin", "--break-glass"], true).0, Some(0));
    assert_eq!(run(&["user", "add", "anne", "--role", "admin"], true).0, Some(0));
    let (_, list, _) = run(&["user", "list"], true);
    assert!(list.lines().any(|l| l == "nod\tadmin\tnod\tBREAK-GLASS"), "{list}");
    assert!(list.lines().any(|l| l == "anne\tadmin\tanne"), "{list}");
    assert_eq!(run(&["user", "break-glass", "nod", "--off"], true).0, Some(0));
    assert_eq!(run(&["user", "break-glass", "anne"], true).0, Some(0));
    let (_, list, _) = run(&["user", "list"], true);
    assert!(list.lines().any(|l| l == "nod\tadmin\tnod") && list.contains("anne\tadmin\tanne\tBREAK-GLASS"), "{list}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The `ROUTEDESK_*` settings in docker-compose.yml, as the compose file gives them to routedesk.
fn compose_environment() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docker-compose.yml"))
        .expect("docker-compose.yml");
    text.lines()
        .filter_map(|l| l.trim().split_once(": "))
        .filter(|(k, _)| k.starts_with("ROUTEDESK_"))
        .map(|(k, v)| (k.to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

#[test]
fn docker_compose_settings_are_valid_configuration_keys() {
    let env = compose_environment();
    assert!(env.len() >= 8, "the compose file configures routedesk: {env:?}");
    let out = routedesk()
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env)
        .arg("check-config")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("imap://mail:3143"), "{text}");
    assert!(text.contains("postgres://routedesk:***@postgres/routedesk"), "the password is hidden: {text}");
}

/// `routedesk eval-triage` measures the trained classifier on a folder of labelled reports and
/// says plainly when the folder holds none or a report is not one.
#[test]
fn eval_triage_measures_a_corpus_and_refuses_a_broken_one() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policy/training");
    let out = routedesk()
        .args(["eval-triage", "--folds", "3", "--splits", "2", "--corpus"])
        .arg(&corpus)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    for line in [
        "3-fold cross-validation",
        "model: class accuracy",
        "keywords: class accuracy",
        "over 2 ways of dealing the reports into folds, mean (range):",
        "privacy recall at 80 % precision: ",
        "learning curve",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    let empty = tempfile::tempdir().expect("temp dir");
    let out = routedesk().args(["eval-triage", "--corpus"]).arg(empty.path()).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no labelled reports"));
    std::fs::write(empty.path().join("bad.toml"), "[[report]]\nid = \"x\"\nclass = \"printer\"\n").expect("write");
    let out = routedesk().args(["eval-triage", "--corpus"]).arg(empty.path()).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `routedesk eval-triage --test DIR` measures the model trained on the corpus on new reports
/// kept apart, and refuses a "new" report the corpus already holds (the model has seen it).
#[test]
fn eval_triage_measures_reports_kept_apart_and_refuses_ones_the_corpus_holds() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policy/training");
    let apart = tempfile::tempdir().expect("temp dir");
    let report = |id: &str| {
        format!(
            "[[report]]\nid = \"{id}\"\nlang = \"nb\"\nclass = \"application\"\nprivacy = true\n\
             municipality = \"gjovik\"\nsubject = \"Fikk lønnsslippen til en annen ansatt\"\n\
             body = \"\"\"\nI Payslip i dag lå slippen til Kari Holm, ikke min. Jeg kjenner henne ikke.\n\"\"\"\n"
        )
    };
    let measure = |id: &str| {
        std::fs::write(apart.path().join("new.toml"), report(id)).expect("write");
        routedesk()
            .args(["eval-triage", "--corpus"])
            .arg(&corpus)
            .arg("--test")
            .arg(apart.path())
            .output()
            .expect("runs")
    };
    let out = measure("new-001");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("1 reports kept apart (1 of them teach the class)"), "{text}");
    assert!(text.contains("model: privacy recall"), "{text}");
    assert!(!text.contains("cross-validation"), "{text}");
    let out = measure("a-001");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("report a-001 is in the corpus too"), "{err}");
}
