//! Test-plan 40: a password hash weaker than today's argon2id parameters (m=19456, t=2, p=1) is
//! replaced at the next successful sign-in, by the same password hashed anew; a wrong password
//! changes nothing, and the account's sessions and API token stay.

use argon2::PasswordHasher as _;
use axum::http::StatusCode;
use routedesk::domain::Role;

use super::{App, PASSWORD};
use crate::service::on_both_databases;
use crate::support::Db;

on_both_databases!(a_weaker_password_hash_is_upgraded_at_the_next_sign_in);

const CURRENT: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

async fn stored_hash(app: &App, user: &str) -> String {
    app.state.desk.store().user_by_name(user).await.expect("q").expect("user").password_hash
}

async fn a_weaker_password_hash_is_upgraded_at_the_next_sign_in(db: Db) {
    let app = App::new(db).await;
    let store = app.state.desk.store();
    let params = argon2::Params::new(4096, 1, 1, None).expect("params");
    let weak = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(PASSWORD.as_bytes())
        .expect("hash")
        .to_string();
    assert!(weak.starts_with("$argon2id$v=19$m=4096,t=1,p=1$"), "{weak}");
    store.create_user("legacy", "Legacy", Role::Helpdesk, None, &weak).await.expect("user");
    let now = time::OffsetDateTime::now_utc();
    store
        .set_api_token("legacy", &routedesk::secret::token_hash("legacy-token"), now + time::Duration::days(1))
        .await
        .expect("token");

    assert!(app.try_sign_in("legacy", "not the password").await.is_err());
    assert_eq!(stored_hash(&app, "legacy").await, weak, "a wrong password changes nothing");

    let session = app.sign_in("legacy").await;
    let upgraded = stored_hash(&app, "legacy").await;
    assert!(upgraded.starts_with(CURRENT), "today's parameters: {upgraded}");
    assert!(routedesk::secret::verify_password(PASSWORD, &upgraded), "the same password");
    assert!(!routedesk::secret::verify_password("not the password", &upgraded));
    assert_eq!(app.get("/tickets", Some(&session)).await.status(), StatusCode::OK, "the session stands");
    let by_token = store.user_by_api_token(&routedesk::secret::token_hash("legacy-token"), now).await.expect("q");
    assert!(by_token.is_some(), "the API token stands");

    // Signing in again works with the new hash and leaves it as it is; so does a current one.
    app.sign_in("legacy").await;
    assert_eq!(stored_hash(&app, "legacy").await, upgraded);
    let kari = stored_hash(&app, "kari").await;
    assert!(kari.starts_with(CURRENT));
    app.sign_in("kari").await;
    assert_eq!(stored_hash(&app, "kari").await, kari, "a hash of today's parameters is not rewritten");
}
