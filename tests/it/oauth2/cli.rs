//! `routedesk check-config` asks the token endpoint and says what it got — never the token.

use std::process::Command;

use super::provider;

fn check_config(client: &super::MailClient) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_routedesk"))
        .arg("check-config")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("ROUTEDESK_MAILBOX", "helpdesk@routedesk.test")
        .env("ROUTEDESK_IMAP__URL", "imaps://outlook.office365.com")
        .env("ROUTEDESK_IMAP__USER", "helpdesk@routedesk.test")
        .env("ROUTEDESK_IMAP__AUTH", "oauth2")
        .env("ROUTEDESK_SMTP__URL", "smtp://smtp.office365.com:587")
        .env("ROUTEDESK_SMTP__STARTTLS", "true")
        .env("ROUTEDESK_SMTP__AUTH", "oauth2")
        .env("ROUTEDESK_OAUTH2__TOKEN_URL", &provider().token_url)
        .env("ROUTEDESK_OAUTH2__CLIENT_ID", &client.id)
        .env("ROUTEDESK_OAUTH2__CLIENT_SECRET", &client.secret)
        .output()
        .expect("runs");
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn check_config_fetches_a_token_and_shows_what_it_got_but_not_the_token() {
    crate::support::level::needs!(Oidc);
    let client = provider().client("helpdesk@routedesk.test", 0).await;
    let (code, text) = check_config(&client);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("XOAUTH2") && text.contains("https://outlook.office365.com/.default"), "{text}");
    assert!(text.contains("token:     issued (valid"), "{text}");
    assert!(!text.contains("eyJ"), "no token (a JWT) is printed: {text}");
    assert!(!text.contains(&client.secret), "no secret is printed: {text}");

    let wrong = super::MailClient { id: client.id.clone(), secret: "not-the-secret".into() };
    let (code, text) = check_config(&wrong);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("the token endpoint refused"), "{text}");
    assert!(!text.contains("not-the-secret"), "{text}");
}
