//! Sessions end when idle and at their absolute limit, and are removed once ended; API tokens run
//! out and are revoked by a new password. The clock is moved by writing timestamps directly.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use routedesk::store::{Pool, Store};
use routedesk::web::auth::SESSIONS;
use time::{Duration, OffsetDateTime};

use super::{App, Session};
use crate::service::on_both_databases;
use crate::support::Db;

on_both_databases!(
    a_session_ends_after_two_idle_hours_and_at_twelve_hours,
    a_session_notes_its_use_at_most_once_a_minute,
    ended_sessions_are_removed_at_the_next_sign_in,
    api_tokens_expire_and_a_new_password_revokes_them,
);

/// Sets a timestamp column of one session.
async fn set(store: &Store, s: &Session, column: &str, at: OffsetDateTime) {
    let sql = sqlx::AssertSqlSafe(format!("UPDATE sessions SET {column} = $1 WHERE id = $2"));
    let id = routedesk::secret::token_hash(&s.cookie);
    let n = match store.pool() {
        Pool::Sqlite(p) => sqlx::query(sql).bind(at).bind(&id).execute(p).await.map(|r| r.rows_affected()),
        Pool::Postgres(p) => sqlx::query(sql).bind(at).bind(&id).execute(p).await.map(|r| r.rows_affected()),
    }
    .expect("update");
    assert_eq!(n, 1, "the session exists");
}

/// The session's last-seen time, `None` when the session is gone.
async fn last_seen(store: &Store, s: &Session) -> Option<OffsetDateTime> {
    const SQL: &str = "SELECT last_seen_at FROM sessions WHERE id = $1";
    let id = routedesk::secret::token_hash(&s.cookie);
    let row: Option<(OffsetDateTime,)> = match store.pool() {
        Pool::Sqlite(p) => sqlx::query_as(SQL).bind(&id).fetch_optional(p).await,
        Pool::Postgres(p) => sqlx::query_as(SQL).bind(&id).fetch_optional(p).await,
    }
    .expect("select");
    row.map(|r| r.0)
}

async fn signed_in(app: &App, s: &Session) -> bool {
    app.get("/tickets", Some(s)).await.status() == StatusCode::OK
}

async fn a_session_ends_after_two_idle_hours_and_at_twelve_hours(db: Db) {
    let app = App::new(db).await;
    let store = app.state.desk.store();
    let now = OffsetDateTime::now_utc();
    let idle = app.sign_in("kari").await;
    set(store, &idle, "last_seen_at", now - Duration::minutes(119)).await;
    assert!(signed_in(&app, &idle).await, "119 minutes idle is still signed in");
    set(store, &idle, "last_seen_at", now - Duration::minutes(121)).await;
    assert!(!signed_in(&app, &idle).await, "121 minutes idle is signed out");

    let busy = app.sign_in("kari").await;
    set(store, &busy, "created_at", now - Duration::hours(12)).await;
    set(store, &busy, "expires_at", now - Duration::seconds(1)).await;
    assert!(!signed_in(&app, &busy).await, "used all along, yet ended after 12 hours");
    assert_eq!(SESSIONS.absolute, Duration::hours(12));
    assert_eq!(SESSIONS.idle, Duration::hours(2));
}

async fn a_session_notes_its_use_at_most_once_a_minute(db: Db) {
    let app = App::new(db).await;
    let store = app.state.desk.store();
    let s = app.sign_in("kari").await;
    let recent = OffsetDateTime::now_utc() - Duration::seconds(30);
    set(store, &s, "last_seen_at", recent).await;
    assert!(signed_in(&app, &s).await);
    let seen = last_seen(store, &s).await.expect("session");
    assert!((seen - recent).abs() < Duration::seconds(1), "not written again within the minute");
    let older = OffsetDateTime::now_utc() - Duration::minutes(5);
    set(store, &s, "last_seen_at", older).await;
    assert!(signed_in(&app, &s).await);
    let seen = last_seen(store, &s).await.expect("session");
    assert!(OffsetDateTime::now_utc() - seen < Duration::seconds(10), "the use is noted: {seen}");
}

async fn ended_sessions_are_removed_at_the_next_sign_in(db: Db) {
    let app = App::new(db).await;
    let store = app.state.desk.store();
    let now = OffsetDateTime::now_utc();
    let (idle, ended, live) = (app.sign_in("kari").await, app.sign_in("ola").await, app.sign_in("admin").await);
    set(store, &idle, "last_seen_at", now - Duration::hours(3)).await;
    set(store, &ended, "expires_at", now - Duration::minutes(1)).await;
    app.sign_in("kari").await;
    assert_eq!(last_seen(store, &idle).await, None, "the idle session is gone");
    assert_eq!(last_seen(store, &ended).await, None, "the ended session is gone");
    assert!(last_seen(store, &live).await.is_some(), "the live one stays");
}

async fn api_tokens_expire_and_a_new_password_revokes_them(db: Db) {
    let app = App::new(db).await;
    let store = app.state.desk.store();
    let call = |token: String| {
        let app = &app;
        async move {
            let req = Request::get("/api/tickets")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("req");
            app.send(req).await.status()
        }
    };
    let now = OffsetDateTime::now_utc();
    let token = routedesk::secret::random_token();
    store.set_api_token("kari", &routedesk::secret::token_hash(&token), now + Duration::days(90)).await.expect("token");
    assert_eq!(call(token.clone()).await, StatusCode::OK);
    let listed = store.users().await.expect("users").into_iter().find(|u| u.username == "kari").expect("kari");
    assert!(listed.api_token_expires_at.is_some_and(|at| at > now + Duration::days(89)), "the expiry is kept");

    let stale = routedesk::secret::random_token();
    store
        .set_api_token("kari", &routedesk::secret::token_hash(&stale), now - Duration::seconds(1))
        .await
        .expect("token");
    assert_eq!(call(stale).await, StatusCode::UNAUTHORIZED, "an expired token is refused");
    assert_eq!(call(token).await, StatusCode::UNAUTHORIZED, "a new token replaces the old one");

    let fresh = routedesk::secret::random_token();
    store.set_api_token("kari", &routedesk::secret::token_hash(&fresh), now + Duration::days(1)).await.expect("token");
    assert_eq!(call(fresh.clone()).await, StatusCode::OK);
    store
        .set_password("kari", &routedesk::secret::hash_password("another long passphrase").expect("hash"))
        .await
        .expect("passwd");
    assert_eq!(call(fresh).await, StatusCode::UNAUTHORIZED, "a new password revokes the token");
    let listed = store.users().await.expect("users").into_iter().find(|u| u.username == "kari").expect("kari");
    assert_eq!(listed.api_token_expires_at, None);
}
