use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::*;

fn parse_str(s: &str) -> ParsedMail {
    parse(s.replace('\n', "\r\n").as_bytes(), &ParseLimits::default()).expect("parses")
}

#[test]
fn headers_addresses_and_encoded_subject() {
    let m = parse_str(
        "From: =?iso-8859-1?Q?P=E5l_R=F8berg?= <par@vestre-toten.kommune.no>\n\
         To: pureservice@gjovik.kommune.no\nCc: a@x.no, b@y.no\n\
         Subject: =?utf-8?B?RmVpbCBpIGzDuG5uc2tqw7hyaW5n?= =?iso-8859-1?Q?_=E6=F8=E5?=\n\
         Message-ID: <abc@vt.no>\nIn-Reply-To: <p1@x>\nReferences: <p0@x> <p1@x>\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0100\n\nHei\n",
    );
    assert_eq!(m.subject, "Feil i lønnskjøring æøå");
    let from = m.from.expect("from");
    assert_eq!(from.name.as_deref(), Some("Pål Røberg"));
    assert_eq!(from.address, "par@vestre-toten.kommune.no");
    assert_eq!(m.cc.len(), 2);
    assert_eq!(m.message_id.as_deref(), Some("abc@vt.no"));
    assert_eq!(m.in_reply_to, ["p1@x"]);
    assert_eq!(m.references, ["p0@x", "p1@x"]);
    assert_eq!(m.date.as_deref(), Some("2026-11-23T10:00:00+01:00"));
}

#[test]
fn latin1_and_windows_1252_bodies_decode() {
    let raw = b"From: a@gjovik.kommune.no\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nL\xf8nn feiler p\xe5 \xe6rlig vis\r\n";
    let m = parse(raw, &ParseLimits::default()).expect("parses");
    assert!(m.text.contains("Lønn feiler på ærlig vis"), "{:?}", m.text);
    let raw = b"From: a@gjovik.kommune.no\r\nSubject: x\r\nContent-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=93Bel=F8p=94 =96 =80 100\r\n";
    let m = parse(raw, &ParseLimits::default()).expect("parses");
    assert!(m.text.contains("\u{201c}Beløp\u{201d} \u{2013} € 100"), "{:?}", m.text);
}

#[test]
fn html_only_mail_becomes_readable_text_without_markup_or_scripts() {
    let m = parse_str(
        "From: a@gjovik.kommune.no\nSubject: x\nContent-Type: text/html; charset=utf-8\n\n\
         <html><head><style>p{color:red}</style><script>alert(1)</script></head><body><p>L&oslash;nn &amp; trekk</p>\
         <table><tr><td>Tlf:</td><td>61 18 98 50</td></tr></table></body></html>\n",
    );
    assert!(m.text.contains("Lønn & trekk"), "{:?}", m.text);
    assert!(m.text.contains("61 18 98 50"));
    assert!(!m.text.contains("alert") && !m.text.contains("color:red") && !m.text.contains('<'), "{:?}", m.text);
    assert!(m.html.is_some());
}

/// A 2x3 PNG: signature and IHDR only, which is all a header reader needs.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    v.extend_from_slice(&w.to_be_bytes());
    v.extend_from_slice(&h.to_be_bytes());
    v.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    v
}

#[test]
fn png_sent_as_octet_stream_is_recognised_by_its_bytes() {
    let raw = format!(
        "From: a@gjovik.kommune.no\nSubject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nSe vedlegg\n\
         --b\nContent-Type: application/octet-stream; name=\"bilde.dat\"\nContent-Disposition: attachment; filename=\"bilde.dat\"\nContent-Transfer-Encoding: base64\n\n{}\n--b--\n",
        STANDARD.encode(png_header(1280, 800))
    );
    let m = parse_str(&raw);
    assert_eq!(m.parts.len(), 1);
    let p = &m.parts[0];
    assert_eq!(p.content_type, "application/octet-stream");
    assert_eq!(p.filename.as_deref(), Some("bilde.dat"));
    assert_eq!(p.image, Some(ImageInfo { format: "png", width: 1280, height: 800 }));
    assert!(!p.inline);
}

#[test]
fn limits_are_enforced_with_reasons() {
    let limits = ParseLimits { max_bytes: 100, max_parts: 3, max_depth: 2 };
    let big = format!("From: a@b.no\r\nSubject: x\r\n\r\n{}", "a".repeat(200));
    assert_eq!(parse(big.as_bytes(), &limits).unwrap_err(), ParseError::TooLarge { size: big.len(), limit: 100 });

    let limits = ParseLimits { max_bytes: 1 << 20, max_parts: 3, max_depth: 2 };
    let mut many = String::from("From: a@b.no\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n");
    for i in 0..5 {
        many.push_str(&format!("--b\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n"));
    }
    many.push_str("--b--\r\n");
    assert_eq!(parse(many.as_bytes(), &limits).unwrap_err(), ParseError::TooManyParts { limit: 3 });

    let mut deep = String::from("From: a@b.no\r\n");
    for i in 0..5 {
        deep.push_str(&format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"));
    }
    deep.push_str("Content-Type: text/plain\r\n\r\nbunn\r\n");
    let limits = ParseLimits { max_bytes: 1 << 20, max_parts: 100, max_depth: 2 };
    assert!(matches!(parse(deep.as_bytes(), &limits), Err(ParseError::TooDeep { limit: 2, .. })));
}

#[test]
fn empty_and_non_mail_input_are_errors_not_panics() {
    assert_eq!(parse(b"", &ParseLimits::default()).unwrap_err(), ParseError::Empty);
    assert_eq!(parse(b" \r\n ", &ParseLimits::default()).unwrap_err(), ParseError::Empty);
    // Binary garbage must give some decision, never a panic.
    let _ = parse(&[0xff, 0x00, 0x13, 0x37, 0x0a, 0x0d], &ParseLimits::default());
}

#[test]
fn header_injection_is_flattened() {
    let m = parse_str("From: a@gjovik.kommune.no\nSubject: =?utf-8?Q?Hei=0D=0ABcc:_evil@x.no?=\n\nx\n");
    assert!(!m.subject.contains('\r') && !m.subject.contains('\n'), "{:?}", m.subject);
}

#[test]
fn east_asian_charsets_and_utf7_decode_in_subjects_and_bodies() {
    let cases = [
        ("gb2312", "uaTXyrWltO3O8w==", "b9a4d7cab5a5b4edcef3", "工资单错误"),
        ("gbk", "uaTXyrWltO3O8w==", "b9a4d7cab5a5b4edcef3", "工资单错误"),
        ("big5", "wX646r/5u34=", "c17eb8eabff9bb7e", "薪資錯誤"),
        ("shift_jis", "i4uXXoNHg4mBWw==", "8b8b975e83478389815b", "給与エラー"),
        ("iso-2022-jp", "GyRCNWtNPyUoJWkhPBsoQg==", "1b2442356b4d3f25282569213c1b2842", "給与エラー"),
        ("euc-kr", "sd6/qSC/wLf5", "b1debfa920bfc0b7f9", "급여 오류"),
        ("ks_c_5601-1987", "sd6/qSC/wLf5", "b1debfa920bfc0b7f9", "급여 오류"),
    ];
    for (charset, b64, hex, text) in cases {
        let body: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect();
        let mut raw = format!(
            "From: a@gjovik.kommune.no\r\nSubject: =?{charset}?B?{b64}?=\r\nContent-Type: text/plain; charset={charset}\r\n\
             Content-Transfer-Encoding: 8bit\r\n\r\n"
        )
        .into_bytes();
        raw.extend_from_slice(&body);
        raw.extend_from_slice(b"\r\n");
        let m = parse(&raw, &ParseLimits::default()).expect("parses");
        assert_eq!(m.subject, text, "{charset} subject");
        assert_eq!(m.text.trim(), text, "{charset} body");
        assert!(m.problems.is_empty(), "{charset}: {:?}", m.problems);
    }
    let m = parse_str("From: a@gjovik.kommune.no\nSubject: =?utf-7?Q?Feil_i_l+APg-nn?=\n\nx\n");
    assert_eq!(m.subject, "Feil i lønn");
}

#[test]
fn raw_eight_bit_headers_are_read_as_utf8_or_else_windows_1252() {
    let raw = b"From: P\xe5l R\xf8berg <par@vestre-toten.kommune.no>\r\nSubject: L\xf8nn feiler \x96 hjelp\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSe vedlegg\r\n--b\r\n\
Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"skjermbilde l\xf8nn.png\"\r\n\r\nxyz\r\n--b--\r\n";
    let m = parse(raw, &ParseLimits::default()).expect("parses");
    assert_eq!(m.subject, "Lønn feiler \u{2013} hjelp");
    assert_eq!(m.from.as_ref().and_then(|f| f.name.as_deref()), Some("Pål Røberg"));
    assert_eq!(m.parts.first().and_then(|p| p.filename.as_deref()), Some("skjermbilde lønn.png"));
    let utf8 = "From: a@gjovik.kommune.no\r\nSubject: Lønn feiler – hjelp\r\n\r\nx\r\n";
    assert_eq!(parse(utf8.as_bytes(), &ParseLimits::default()).expect("parses").subject, "Lønn feiler – hjelp");
}

#[test]
fn bodies_in_an_unknown_or_missing_charset_and_split_encoded_words_read_as_written() {
    // An unknown label over windows-1252, quoted-printable.
    let raw = b"From: a@gjovik.kommune.no\r\nSubject: x\r\nContent-Type: text/plain; charset=ansi_x3.110-1983\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nP=E5l =D8deg=E5rd f=E5r \xabugyldig bel=F8p\xbb.\r\n";
    let m = parse(raw, &ParseLimits::default()).expect("parses");
    assert!(m.text.contains("Pål Ødegård får «ugyldig beløp»."), "{:?}", m.text);
    // No charset at all over GB2312 bytes, base64, in HTML.
    let gb = encoding_rs::GBK.encode("工资单错误，请帮助。系统显示错误信息，无法打印工资单。").0;
    let raw = format!(
        "From: a@gjovik.kommune.no\r\nSubject: x\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        STANDARD.encode([b"<p>".as_slice(), &gb, b"</p>"].concat())
    );
    let m = parse(raw.as_bytes(), &ParseLimits::default()).expect("parses");
    assert!(m.text.contains("工资单错误，请帮助。"), "{:?}", m.text);
    // windows-1252 labelled UTF-8.
    let raw = b"From: a@gjovik.kommune.no\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nL\xf8nnskj\xf8ringen stopper p\xe5 \xabA-melding\xbb\r\n";
    let m = parse(raw, &ParseLimits::default()).expect("parses");
    assert!(m.text.contains("Lønnskjøringen stopper på «A-melding»"), "{:?}", m.text);
    // "ø" (C3 B8) split across two encoded words.
    let m =
        parse_str("From: a@gjovik.kommune.no\nSubject: =?utf-8?b?TMM=?=\n =?utf-8?b?uG5uc2tqw7hyaW5n?= feiler\n\nx\n");
    assert_eq!(m.subject, "Lønnskjøring feiler");
}
