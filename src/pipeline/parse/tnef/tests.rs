//! Real TNEF files (tests/fixtures/tnef): what Python's tnefparse reads from them, we read too.

use super::read;

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/tnef/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn files(name: &str) -> Vec<(String, usize)> {
    let t = read(&sample(name)).unwrap_or_else(|| panic!("{name} is TNEF"));
    t.files.into_iter().map(|f| (f.name.unwrap_or_default(), f.data.len())).collect()
}

#[test]
fn attachments_come_out_with_their_long_names_and_bytes() {
    let own = |v: &[(&str, usize)]| v.iter().map(|(n, s)| (n.to_string(), *s)).collect::<Vec<_>>();
    assert_eq!(files("one-file.tnef"), own(&[("AUTHORS", 244)]));
    assert_eq!(files("two-files.tnef"), own(&[("AUTHORS", 244), ("README", 893)]));
    assert_eq!(
        files("umlaut.tnef"),
        own(&[("TBZ PARIV GmbH.jpg", 44764), ("image003.jpg", 1001), ("UmlautAnhang-äüö.txt", 14)])
    );
    assert_eq!(
        files("unicode-mapi-attr-name.tnef"),
        own(&[("spaconsole2.cfg", 8387), ("image001.png", 3815), ("image002.png", 3573), ("image003.png", 3792)])
    );
    // Data only as a MAPI property, not as attAttachData. The .doc is an OLE file of whole
    // 512-byte sectors (61,952 bytes); tnefparse trims its trailing zero bytes (61,534).
    assert_eq!(
        files("MAPI_ATTACH_DATA_OBJ.tnef"),
        own(&[("VIA_Nytt_1402.doc", 61952), ("VIA_Nytt_1402.pdf", 213685), ("VIA_Nytt_14021.htm", 68919)])
    );
    assert_eq!(files("long-filename.tnef"), own(&[("allproductsmar2000.dat", 279)]));
    assert_eq!(files("data-before-name.tnef").last(), Some(&("boot.ini".to_string(), 289)));
    assert!(files("garbage-at-end.tnef").is_empty());
}

#[test]
fn plain_and_html_bodies_are_found() {
    let t = read(&sample("triples.tnef")).expect("TNEF");
    assert_eq!(t.text.as_deref(), Some("Sample description"));
    let t = read(&sample("body.tnef")).expect("TNEF");
    assert!(t.html.as_deref().is_some_and(|h| h.starts_with("<!DOCTYPE HTML PUBLIC")), "{:?}", t.html);
    let t = read(&sample("unicode-mapi-attr.tnef")).expect("TNEF");
    assert!(t.html.as_deref().is_some_and(|h| h.starts_with("<html>")), "{:?}", t.html);
}

#[test]
fn anything_else_or_damaged_is_read_without_panicking() {
    assert_eq!(read(b"not tnef at all"), None);
    assert_eq!(read(&[]), None);
    let whole = sample("umlaut.tnef");
    // Every cut of a real file reads without a panic, giving at most what the whole file holds.
    for end in (0..whole.len()).step_by(97) {
        if let Some(t) = read(&whole[..end]) {
            assert!(t.files.len() <= 3);
        }
    }
    let mut flipped = whole.clone();
    for i in (6..flipped.len()).step_by(13) {
        flipped[i] ^= 0xA5;
    }
    let _ = read(&flipped);
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/real-world/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn an_outlook_report_inside_winmail_dat_is_read_checked_and_complete() {
    let policy = crate::policy::Policy::default_region().expect("policy");
    let limits = crate::pipeline::parse::ParseLimits::default();
    let d = crate::pipeline::triage(&fixture("ticket-winmail-screenshot.eml"), &policy, &limits).expect("triage");
    assert!(d.mail.text.contains("Lønnskjøringen stopper med feilmelding"), "{:?}", d.mail.text);
    let shot = d.mail.parts.iter().find(|p| p.filename.as_deref() == Some("skjermbilde lønn.png")).expect("file");
    assert_eq!(shot.content_type, "image/png");
    assert_eq!(shot.image.map(|i| (i.width, i.height)), Some((1280, 720)));
    assert!(d.checks.complete(), "missing {:?}", d.checks.missing);
    assert!(d.is_ticket());

    let real = crate::pipeline::parse::parse(&fixture("ticket-winmail-real.eml"), &limits).expect("parses");
    let names: Vec<&str> = real.parts.iter().filter_map(|p| p.filename.as_deref()).collect();
    assert_eq!(names, ["winmail.dat", "TBZ PARIV GmbH.jpg", "image003.jpg", "UmlautAnhang-äüö.txt"]);
    assert_eq!(real.parts[1].image.map(|i| (i.format, i.width, i.height)), Some(("jpeg", 100, 66)));
}
