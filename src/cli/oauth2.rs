//! `routedesk oauth2 login`: stores the mailbox user's refresh token (the refresh-token grant).

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Subcommand;

use crate::config::{Config, Grant};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum Oauth2Command {
    /// Sign in once, in a browser, as the user whose mailbox routedesk reads; the refresh token is
    /// stored in the database, encrypted with `oauth2.token_key`.
    Login {
        #[arg(long, env = "ROUTEDESK_CONFIG")]
        config: Option<PathBuf>,
    },
}

pub async fn exec(command: Oauth2Command) -> Result<()> {
    let Oauth2Command::Login { config } = command;
    let cfg = Config::load(config.as_deref())?;
    let o = cfg.oauth2.as_ref().context("the configuration has no [oauth2] section")?;
    anyhow::ensure!(o.grant == Grant::RefreshToken, "oauth2.grant is not \"refresh-token\": nothing to sign in for");
    let key = o.token_key.as_ref().context("oauth2.token_key is needed to store the token")?;
    let store = Store::connect(&cfg.database_url).await?;
    let refresh = crate::tokens::RefreshStore { store: store.clone(), key: crate::tokens::seal_key(key.expose())? };
    crate::tokens::login::login(o, &refresh, |url| {
        say(&format!("Open this address in a browser and sign in as the mailbox's user:\n{url}"));
    })
    .await?;
    say("Signed in: the refresh token is stored in the database, encrypted.");
    store.close().await;
    Ok(())
}

/// A line on standard output; one nobody reads any more (a closed pipe) is no error.
fn say(line: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}
