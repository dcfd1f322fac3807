//! A ticket's page shows more than the ticket: linked tickets, the incident mail, a history that
//! names other tickets, a privacy case. A municipal user sees none of another municipality's
//! tickets there, and only those who may see a privacy case see its steps.

use axum::http::StatusCode;

use super::{App, text};
use crate::service::on_both_databases;
use crate::support::Db;

on_both_databases!(a_municipal_user_sees_nothing_of_other_municipalities_on_their_ticket);

async fn page(app: &App, user: &str, number: &str) -> String {
    let s = app.sign_in(user).await;
    let res = app.get(&format!("/tickets/{number}"), Some(&s)).await;
    assert_eq!(res.status(), StatusCode::OK, "{user} sees {number}");
    text(res).await
}

async fn a_municipal_user_sees_nothing_of_other_municipalities_on_their_ticket(db: Db) {
    let app = App::new(db).await;
    let desk = &app.state.desk;
    let [gjovik, vestre, sondre, nordre, _] = crate::incidents::one_fault_in_four_municipalities(&app).await;
    app.add_user("siri", "municipal", Some("sondre-land")).await;
    app.add_user("vera", "municipal", Some("vestre-toten")).await;
    app.add_user("lars", "helpdesk", None).await;
    app.add_user("po", "privacy", None).await;
    let gjovik_subject = desk.store().ticket_by_number(&gjovik).await.expect("q").expect("t").subject;
    // The helpdesk links Søndre Land's report to Gjøvik's, and flags it as a privacy matter with
    // Kari as coordinator.
    desk.link(&sondre, &gjovik, "kari (helpdesk)").await.expect("link");
    let prv = desk.flag_privacy(&sondre, "kari (helpdesk)").await.expect("privacy");
    desk.appoint_coordinator(&prv, "kari", "kari (helpdesk)").await.expect("coordinator");

    let helpdesk = page(&app, "lars", &sondre).await;
    for shown in [gjovik.as_str(), &gjovik_subject, "Mulig felles feil", vestre.as_str()] {
        assert!(helpdesk.contains(shown), "the helpdesk sees {shown:?}");
    }
    assert!(!helpdesk.contains("Koordinator"), "a helpdesk user who is not the coordinator sees no privacy step");
    assert!(!helpdesk.contains(&prv), "nor the privacy case");

    let siri = page(&app, "siri", &sondre).await;
    for hidden in [
        gjovik.as_str(),
        vestre.as_str(),
        nordre.as_str(),
        &gjovik_subject,
        "Mulig felles feil",
        "Koordinator",
        "Personvernhendelse",
        "Mulig avvik med personopplysninger",
        &prv,
    ] {
        assert!(!siri.contains(hidden), "Søndre Land must not see {hidden:?}");
    }
    assert!(siri.contains(&sondre) && siri.contains("Gruppert"), "their own ticket and its history");
    assert!(siri.contains("(sak i en annen kommune)"), "others' tickets are withheld, not silently dropped");

    let vera = page(&app, "vera", &vestre).await;
    for hidden in [gjovik.as_str(), sondre.as_str(), nordre.as_str(), "Mulig felles feil"] {
        assert!(!vera.contains(hidden), "Vestre Toten must not see {hidden:?}");
    }

    for (user, sees) in [("kari", true), ("admin", true), ("po", true), ("lars", false), ("siri", false)] {
        let html = page(&app, user, &sondre).await;
        assert_eq!(html.contains("koordinator kari"), sees, "{user} and the privacy case's steps");
        assert_eq!(html.contains("Koordinator"), sees, "{user} and the privacy case's steps");
        assert_eq!(html.contains("Mulig avvik med personopplysninger"), sees, "{user} and the privacy mail");
    }
}
