//! Pictures as phones and screenshot tools send them (tests/fixtures/real-world/make_images.py):
//! counted as screenshots at the size a person sees, with an upright thumbnail on the ticket page
//! (a TIFF too, which no browser shows), a stand-in where there can be none (HEIC), and the
//! original kept as sent.

use axum::body::Body;
use axum::http::{Response, StatusCode, header};
use http_body_util::BodyExt;

use super::{App, text};
use crate::service::on_both_databases;
use crate::support::Db;

on_both_databases!(phone_photos_and_every_format_get_a_thumbnail_or_say_why_not, a_pixel_flood_gets_no_preview);

fn header_of(res: &Response<Body>, name: header::HeaderName) -> String {
    res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

async fn bytes(res: Response<Body>) -> Vec<u8> {
    res.into_body().collect().await.expect("body").to_bytes().to_vec()
}

async fn phone_photos_and_every_format_get_a_thumbnail_or_say_why_not(db: Db) {
    let app = App::new(db).await;
    let s = app.sign_in("kari").await;
    let store = app.state.desk.store();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-world");
    // (fixture, size seen, what the thumbnail route answers, whether the original shows inline)
    let cases = [
        ("ticket-image-jpeg-exif6-1200x1600.eml", (1200, 1600), "image/jpeg", true),
        ("ticket-image-heic-irot-1200x1600.eml", (1200, 1600), "image/svg+xml", false),
        ("ticket-image-tif-1280x720.eml", (1280, 720), "image/jpeg", false),
        ("ticket-image-webp-1280x720.eml", (1280, 720), "image/jpeg", true),
        ("ticket-image-bmp-640x400.eml", (640, 400), "image/jpeg", true),
        ("ticket-image-avif-1280x720.eml", (1280, 720), "image/avif", true),
    ];
    for (fixture, (w, h), thumbnail_type, inline) in cases {
        let raw = std::fs::read(dir.join(fixture)).expect("fixture");
        let outcome = app.state.desk.ingest(&raw, None).await.expect("ingest");
        let routedesk::desk::Outcome::Ticket { number, .. } = outcome else { panic!("{fixture}: {outcome:?}") };
        let t = store.ticket_by_number(&number).await.expect("q").expect("ticket");
        let files = store.attachments_of(t.id).await.expect("files");
        let shot = files.iter().find(|a| a.screenshot).unwrap_or_else(|| panic!("{fixture}: no screenshot"));
        assert_eq!((shot.width, shot.height), (Some(w), Some(h)), "{fixture}: the size a person sees");

        let page = text(app.get(&format!("/tickets/{number}"), Some(&s)).await).await;
        let src = format!("/tickets/{number}/files/{}/thumbnail", shot.id);
        assert!(page.contains(&format!("src=\"{src}\"")), "{fixture}: the page shows the thumbnail");
        assert!(page.contains(&format!("{w}×{h}")), "{fixture}: and the size");

        let res = app.get(&src, Some(&s)).await;
        assert_eq!(res.status(), StatusCode::OK, "{fixture}");
        assert_eq!(header_of(&res, header::CONTENT_TYPE), thumbnail_type, "{fixture}");
        assert_eq!(header_of(&res, header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{fixture}");
        assert_eq!(header_of(&res, header::CACHE_CONTROL), "no-store", "{fixture}: an erased file leaves no copy");
        let body = bytes(res).await;
        match thumbnail_type {
            "image/jpeg" => {
                let small = image::load_from_memory(&body).unwrap_or_else(|e| panic!("{fixture}: {e}"));
                let (tw, th) = (i64::from(small.width()), i64::from(small.height()));
                assert!(tw <= 480 && th <= 320, "{fixture}: {tw}×{th} fits the box");
                assert_eq!(tw > th, w > h, "{fixture}: {tw}×{th} is turned as the picture is seen");
                assert!(body.len() < raw.len() / 2 || body.len() < 40_000, "{fixture}: {} bytes", body.len());
            }
            "image/svg+xml" => {
                let svg = String::from_utf8(body).expect("utf-8");
                assert!(svg.contains("Ingen forhåndsvisning") && svg.contains("HEIF"), "{svg}");
                assert!(!svg.contains("<script"), "{svg}");
            }
            _ => assert_eq!(&body[4..12], b"ftypavif", "{fixture}: AVIF, which browsers show, as sent"),
        }

        let original = app.get(&format!("/tickets/{number}/files/{}?inline=1", shot.id), Some(&s)).await;
        let disposition = header_of(&original, header::CONTENT_DISPOSITION);
        assert_eq!(disposition.starts_with("inline"), inline, "{fixture}: {disposition}");
        let kept = bytes(original).await;
        let stored = store.ticket_file(t.id, shot.id).await.expect("q").expect("file");
        assert!(kept == stored.data && kept.len() > 1000, "{fixture}: the original, {} bytes, as sent", kept.len());
    }
}

/// Test plan 31: a PNG whose header claims 60,000 × 60,000 pixels is taken in (a screenshot by its
/// header), and its thumbnail is refused by the decoder's limits before any pixel is allocated: the
/// ticket shows the "no preview" stand-in.
async fn a_pixel_flood_gets_no_preview(db: Db) {
    let app = App::new(db).await;
    let s = app.sign_in("kari").await;
    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(1, 1)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encodes");
    png[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    use lettre::message::{Attachment, MultiPart, SinglePart, header::ContentType};
    let raw = lettre::Message::builder()
        .from("Per Aas <per.aas@vestre-toten.kommune.no>".parse().expect("address"))
        .to("pureservice@gjovik.kommune.no".parse().expect("address"))
        .subject("Feil i Visma, se bilde")
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(
                    "Hei, Visma Lønn henger. Per, tlf 61 15 30 00, mobil 913 45 678".to_string(),
                ))
                .singlepart(
                    Attachment::new("skjermbilde.png".into()).body(png, ContentType::parse("image/png").expect("type")),
                ),
        )
        .expect("mail")
        .formatted();
    let outcome = app.state.desk.ingest(&raw, None).await.expect("ingest");
    let routedesk::desk::Outcome::Ticket { number, .. } = outcome else { panic!("{outcome:?}") };
    let store = app.state.desk.store();
    let t = store.ticket_by_number(&number).await.expect("q").expect("ticket");
    let f = store.attachments_of(t.id).await.expect("files").remove(0);
    assert_eq!((f.width, f.height), (Some(60_000), Some(60_000)));
    let res = app.get(&format!("/tickets/{number}/files/{}/thumbnail", f.id), Some(&s)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header_of(&res, header::CONTENT_TYPE), "image/svg+xml");
    let svg = String::from_utf8(bytes(res).await).expect("utf-8");
    assert!(svg.contains("Ingen forhåndsvisning") && svg.contains("PNG"), "{svg}");
}
