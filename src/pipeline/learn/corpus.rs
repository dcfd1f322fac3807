//! The labelled reports shipped with the policy (`policy/training/*.toml`): each file a list of
//! `[[report]]` tables with `id`, `lang`, `class`, `privacy`, `municipality`, `subject` and `body`,
//! and optionally `teaches = "privacy"` at the top: its reports train the privacy model only.

use serde::Deserialize;

use super::Labelled;
use crate::domain::Class;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    teaches: Teaches,
    #[serde(default)]
    report: Vec<Report>,
}

/// Which models a file's reports train.
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Teaches {
    #[default]
    Both,
    /// The privacy model alone: reports whose class (who acts) the text seldom settles, such as a
    /// phone lost or mail sent to the wrong person, which made the class model worse as examples.
    Privacy,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    id: String,
    lang: Lang,
    class: Class,
    privacy: bool,
    #[serde(default)]
    municipality: String,
    subject: String,
    body: String,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Lang {
    Nb,
    Nn,
    En,
}

/// The reports of one corpus file; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Vec<Labelled>, String> {
    let file: File = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
    let mut out = Vec::with_capacity(file.report.len());
    for r in file.report {
        if r.class == Class::Unclassified {
            return Err(format!("{origin}: {}: a training report has a class", r.id));
        }
        let _ = (r.lang, r.municipality);
        out.push(Labelled {
            id: r.id,
            subject: r.subject,
            body: r.body,
            class: r.class,
            teaches_class: file.teaches == Teaches::Both,
            privacy: r.privacy,
        });
    }
    Ok(out)
}

/// The corpus shipped with the policy, built into the binary.
const SHIPPED: [(&str, &str); 10] = [
    ("policy/training/part-a.toml", include_str!("../../../policy/training/part-a.toml")),
    ("policy/training/part-b.toml", include_str!("../../../policy/training/part-b.toml")),
    ("policy/training/part-c.toml", include_str!("../../../policy/training/part-c.toml")),
    ("policy/training/part-d.toml", include_str!("../../../policy/training/part-d.toml")),
    ("policy/training/part-e.toml", include_str!("../../../policy/training/part-e.toml")),
    ("policy/training/part-f.toml", include_str!("../../../policy/training/part-f.toml")),
    ("policy/training/part-g.toml", include_str!("../../../policy/training/part-g.toml")),
    ("policy/training/part-h.toml", include_str!("../../../policy/training/part-h.toml")),
    ("policy/training/part-i.toml", include_str!("../../../policy/training/part-i.toml")),
    ("policy/training/part-j.toml", include_str!("../../../policy/training/part-j.toml")),
];

/// The shipped corpus, read.
pub fn shipped() -> Result<Vec<Labelled>, String> {
    let mut all = Vec::new();
    for (origin, text) in SHIPPED {
        all.extend(parse(text, origin)?);
    }
    unique(all, "policy/training")
}

/// `reports` if no id is used twice.
pub fn unique(reports: Vec<Labelled>, origin: &str) -> Result<Vec<Labelled>, String> {
    let mut ids: Vec<&str> = reports.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("{origin}: report id {} is used twice", w[0]));
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_corpus_has_every_class_language_and_breaches() {
        let all = shipped().expect("the shipped corpus reads");
        assert!(all.len() >= 400, "{} reports", all.len());
        for c in Class::DECIDABLE {
            assert!(all.iter().filter(|r| r.class == c).count() >= 100, "{c:?}");
        }
        let breaches = all.iter().filter(|r| r.privacy).count();
        assert!((100..all.len() / 2).contains(&breaches), "{breaches} breaches");
        let text = |r: &Labelled| format!("{} {}", r.subject, r.body).to_lowercase();
        // Nynorsk and English are there, not only bokmål.
        assert!(all.iter().filter(|r| text(r).contains(" ikkje ")).count() >= 20);
        assert!(all.iter().filter(|r| text(r).contains(" the ")).count() >= 30);
    }

    #[test]
    fn reads_reports_and_refuses_what_is_not_one() {
        let text = "[[report]]\nid = \"a-1\"\nlang = \"nn\"\nclass = \"access\"\nprivacy = false\nsubject = \"Låst ute\"\nbody = \"\"\"\nEg kjem ikkje inn.\n\"\"\"\n";
        let r = parse(text, "x").expect("parses");
        assert_eq!(
            (r[0].id.as_str(), r[0].class, r[0].privacy, r[0].teaches_class),
            ("a-1", Class::Access, false, true)
        );
        let privacy_only = parse(&format!("teaches = \"privacy\"\n{text}"), "x").expect("parses");
        assert!(!privacy_only[0].teaches_class);
        assert!(parse(&format!("teaches = \"class\"\n{text}"), "x").is_err());
        assert!(parse(&text.replace("\"access\"", "\"unclassified\""), "x").is_err());
        assert!(parse(&text.replace("\"nn\"", "\"sv\""), "x").is_err());
        assert!(parse(&text.replace("privacy", "privat"), "x").is_err());
    }
}
