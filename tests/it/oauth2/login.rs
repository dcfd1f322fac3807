//! `routedesk oauth2 login` (the refresh-token grant, for Google accounts): a person signs in once
//! in a browser; the refresh token is stored encrypted, and routedesk gets access tokens with it.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use routedesk::config::{Config, Grant};
use routedesk::tokens::{RefreshStore, TokenSource};

use super::provider;
use crate::support::{Db, Helpdesk};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_is_stored_encrypted_and_gives_access_tokens() {
    crate::support::level::needs!(Rig, Oidc);
    let mut hd = Helpdesk::new(Db::Sqlite).await;
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes, base64
    let p = provider();
    let auth_url = p.token_url.replace("/token", "/auth");
    hd.toml.push_str(&format!(
        "[oauth2]\ngrant = \"refresh-token\"\ntoken_url = \"{}\"\nauth_url = \"{auth_url}\"\nclient_id = \"routedesk-web\"\n\
         client_secret = \"web-secret\"\nscope = \"openid email offline_access\"\ntoken_key = \"{key}\"\n",
        p.token_url
    ));
    let file = hd.config_file();
    let cfg = Config::load(Some(&file)).expect("the configuration is valid");
    assert_eq!(cfg.oauth2.as_ref().map(|o| o.grant), Some(Grant::RefreshToken));

    let mut child = Command::new(env!("CARGO_BIN_EXE_routedesk"))
        .args(["oauth2", "login", "--config"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("routedesk runs");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines().map_while(Result::ok);
    let url = lines.find(|l| l.starts_with("http")).expect("routedesk prints the address to open");
    assert!(url.contains("code_challenge=") && url.contains("state="), "PKCE and state: {url}");
    crate::web::browse_page(
        "oauth-login.mjs",
        &[("RD_URL", &url), ("RD_USER", "helpdesk@region.test"), ("RD_PASSWORD", "test-password")],
    )
    .await;
    let said: Vec<String> = lines.collect();
    let status = child.wait().expect("routedesk ends");
    assert!(said.iter().any(|l| l.starts_with("Signed in")), "{said:?}");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err).expect("stderr");
    assert!(status.success(), "oauth2 login failed: {err}");

    let store = hd.store().await;
    let sealed = store.setting("oauth2-refresh-token").await.expect("read").expect("a token is stored");
    assert!(sealed.len() > 40, "{sealed}");
    let o = cfg.oauth2.as_ref().expect("[oauth2]");
    let refresh = RefreshStore { store: store.clone(), key: routedesk::tokens::seal_key(key).expect("key") };
    let source = TokenSource::new(o, Some(refresh)).expect("token source");
    let issued = source.probe().await.expect("an access token from the stored refresh token");
    assert!(issued.expires_in.is_some());
    // Again: with the refresh token as stored after the first (providers may rotate it).
    source.probe().await.expect("the rotated refresh token works too");
    let wrong = RefreshStore { store, key: vec![9u8; 32] };
    let e = TokenSource::new(o, Some(wrong)).expect("source").probe().await.expect_err("another key cannot read it");
    assert!(format!("{e:#}").contains("cannot be read"), "{e:#}");
}
