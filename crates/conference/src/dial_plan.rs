//! `DialPlan`: which Request-URI a dialled number is called at — internal numbers (a
//! regular expression matching the whole number) by their own template, every other
//! number by the trunk's template with the outside-line prefix. Built once from the
//! `[trunk]` settings; pure, no I/O.

use regex::Regex;

use crate::Dialable;

/// What a template must hold in place of the number.
const NUMBER: &str = "{number}";

/// The settings a plan is built from (the `[trunk]` keys of the same names).
#[derive(Clone, Copy, Debug, Default)]
pub struct DialPlanSettings<'a> {
    /// Request-URI template of external numbers, e.g. `sip:{number}@pbx.example`;
    /// empty: no trunk for them.
    pub uri: &'a str,
    /// Regular expression of internal numbers, matched against the whole number;
    /// empty: every number is external.
    pub internal_numbers: &'a str,
    /// Request-URI template of internal numbers; None: `uri`.
    pub internal_uri: Option<&'a str>,
    /// Put before external numbers that are not E.164 (e.g. `0` for an outside line).
    pub external_prefix: &'a str,
}

/// Which setting a [`DialPlanError::Template`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateSetting {
    /// `uri`.
    Uri,
    /// `internal_uri`.
    InternalUri,
}

/// Why a plan cannot be built from the settings.
#[derive(Debug, thiserror::Error)]
pub enum DialPlanError {
    /// `internal_numbers` does not compile.
    #[error("not a regular expression: {0}")]
    Pattern(#[source] regex::Error),
    /// A template is not a `sip:` URI holding `{number}`.
    #[error("must be a sip: URI containing {{number}}")]
    Template(TemplateSetting),
    /// `external_prefix` holds something that cannot be dialled.
    #[error("use digits, '+', '*' or '#'")]
    Prefix,
}

/// Where a number is called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The Request-URI, the number put into its template.
    pub uri: String,
    /// Whether the number matched `internal_numbers`.
    pub internal: bool,
}

/// A Request-URI template holding `{number}`.
#[derive(Clone, Debug)]
struct Template(String);

impl Template {
    fn parse(text: &str, setting: TemplateSetting) -> Result<Self, DialPlanError> {
        if text.starts_with("sip:") && text.contains(NUMBER) {
            Ok(Self(text.to_owned()))
        } else {
            Err(DialPlanError::Template(setting))
        }
    }

    fn fill(&self, number: &str) -> String {
        self.0.replace(NUMBER, number)
    }
}

/// The dial plan: built once, asked for every invitation.
#[derive(Clone, Debug)]
pub struct DialPlan {
    /// External numbers; None without `uri`.
    external: Option<Template>,
    /// Internal numbers, anchored at both ends; None without `internal_numbers`.
    internal_numbers: Option<Regex>,
    /// Internal numbers' template; None when neither `internal_uri` nor `uri` is set.
    internal: Option<Template>,
    external_prefix: String,
}

impl DialPlan {
    /// Checks and compiles the settings.
    pub fn new(settings: DialPlanSettings<'_>) -> Result<Self, DialPlanError> {
        let external = match settings.uri {
            "" => None,
            uri => Some(Template::parse(uri, TemplateSetting::Uri)?),
        };
        let internal = match settings.internal_uri {
            Some(uri) => Some(Template::parse(uri, TemplateSetting::InternalUri)?),
            None => external.clone(),
        };
        let internal_numbers = match settings.internal_numbers {
            "" => None,
            pattern => {
                // Compiled alone first, so that a pattern like `1)|(2` cannot escape the
                // anchoring group below.
                Regex::new(pattern).map_err(DialPlanError::Pattern)?;
                Some(Regex::new(&format!("^(?:{pattern})$")).map_err(DialPlanError::Pattern)?)
            }
        };
        if !settings
            .external_prefix
            .chars()
            .all(|c| c.is_ascii_digit() || "+*#".contains(c))
        {
            return Err(DialPlanError::Prefix);
        }
        Ok(Self {
            external,
            internal_numbers,
            internal,
            external_prefix: settings.external_prefix.to_owned(),
        })
    }

    /// Whether all of `number` matches `internal_numbers`.
    pub fn is_internal(&self, number: &Dialable) -> bool {
        self.internal_numbers
            .as_ref()
            .is_some_and(|r| r.is_match(number.as_str()))
    }

    /// Where `number` is called: internal numbers by the internal template, others by
    /// `uri` with the outside-line prefix (not before E.164 numbers, which go out as
    /// they are). None when there is no template for it.
    pub fn target(&self, number: &Dialable) -> Option<Target> {
        if self.is_internal(number) {
            return self.internal.as_ref().map(|t| Target {
                uri: t.fill(number.as_str()),
                internal: true,
            });
        }
        let prefix = if number.is_e164() {
            ""
        } else {
            &self.external_prefix
        };
        self.external.as_ref().map(|t| Target {
            uri: t.fill(&format!("{prefix}{number}")),
            internal: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Dialable {
        Dialable::parse(text).unwrap()
    }

    fn plan(settings: DialPlanSettings<'_>) -> DialPlan {
        DialPlan::new(settings).unwrap()
    }

    fn uri(plan: &DialPlan, text: &str) -> Option<String> {
        plan.target(&number(text)).map(|t| t.uri)
    }

    const PBX: DialPlanSettings<'static> = DialPlanSettings {
        uri: "sip:{number}@pbx.example",
        internal_numbers: "^2[0-9]{2}$",
        internal_uri: Some("sip:{number}@10.0.0.1"),
        external_prefix: "0",
    };

    #[test]
    fn external_numbers_use_the_uri_template() {
        let plan = plan(DialPlanSettings {
            uri: "sip:{number}@pbx.example",
            ..DialPlanSettings::default()
        });
        assert_eq!(
            plan.target(&number("0441234567")),
            Some(Target {
                uri: "sip:0441234567@pbx.example".into(),
                internal: false
            })
        );
        assert!(
            !plan.is_internal(&number("201")),
            "no pattern: all external"
        );
        assert_eq!(
            uri(&plan, "alice").as_deref(),
            Some("sip:alice@pbx.example")
        );
    }

    #[test]
    fn internal_numbers_use_their_template_without_prefix() {
        let plan = plan(PBX);
        assert_eq!(
            plan.target(&number("201")),
            Some(Target {
                uri: "sip:201@10.0.0.1".into(),
                internal: true
            })
        );
        assert_eq!(
            uri(&plan, "0441234567").as_deref(),
            Some("sip:00441234567@pbx.example")
        );
    }

    #[test]
    fn e164_numbers_get_no_outside_line_prefix() {
        let plan = plan(PBX);
        assert_eq!(
            uri(&plan, "+41441234567").as_deref(),
            Some("sip:+41441234567@pbx.example")
        );
    }

    #[test]
    fn the_pattern_is_anchored_at_both_ends() {
        // Written without anchors, it still has to match the whole number.
        let plan = plan(DialPlanSettings {
            internal_numbers: "2[0-9]{2}",
            ..PBX
        });
        assert!(plan.is_internal(&number("201")));
        assert!(!plan.is_internal(&number("2011")), "longer at the end");
        assert!(!plan.is_internal(&number("1201")), "longer at the start");
        assert_eq!(uri(&plan, "2011").as_deref(), Some("sip:02011@pbx.example"));
        // Alternatives are anchored as a whole, not only the first and the last.
        let plan = self::plan(DialPlanSettings {
            internal_numbers: "1|2[0-9]",
            ..PBX
        });
        assert!(plan.is_internal(&number("1")) && plan.is_internal(&number("20")));
        assert!(!plan.is_internal(&number("12")) && !plan.is_internal(&number("200")));
    }

    #[test]
    fn internal_template_defaults_to_the_uri() {
        let plan = plan(DialPlanSettings {
            internal_uri: None,
            ..PBX
        });
        assert_eq!(
            plan.target(&number("201")),
            Some(Target {
                uri: "sip:201@pbx.example".into(),
                internal: true
            }),
            "internal: no outside-line prefix"
        );
    }

    #[test]
    fn empty_uri_means_no_target() {
        let plan = plan(DialPlanSettings::default());
        assert_eq!(plan.target(&number("0441234567")), None);
        assert_eq!(plan.target(&number("+41441234567")), None);
        // Internal numbers still reach their own template.
        let plan = self::plan(DialPlanSettings { uri: "", ..PBX });
        assert_eq!(uri(&plan, "201").as_deref(), Some("sip:201@10.0.0.1"));
        assert_eq!(plan.target(&number("0441234567")), None);
    }

    #[test]
    fn the_number_may_stand_anywhere_in_the_template() {
        let plan = plan(DialPlanSettings {
            uri: "sip:guest@127.0.0.1:{number}",
            ..DialPlanSettings::default()
        });
        assert_eq!(
            uri(&plan, "5070").as_deref(),
            Some("sip:guest@127.0.0.1:5070")
        );
    }

    #[test]
    fn bad_settings_are_typed_errors() {
        let bad = |settings| DialPlan::new(settings).unwrap_err();
        assert!(matches!(
            bad(DialPlanSettings {
                internal_numbers: "([",
                ..PBX
            }),
            DialPlanError::Pattern(_)
        ));
        // Balanced only together with the anchoring group: still refused.
        assert!(matches!(
            bad(DialPlanSettings {
                internal_numbers: "1)|(2",
                ..PBX
            }),
            DialPlanError::Pattern(_)
        ));
        assert!(matches!(
            bad(DialPlanSettings {
                uri: "sip:pbx.example",
                ..PBX
            }),
            DialPlanError::Template(TemplateSetting::Uri)
        ));
        assert!(matches!(
            bad(DialPlanSettings {
                internal_uri: Some("tel:{number}"),
                ..PBX
            }),
            DialPlanError::Template(TemplateSetting::InternalUri)
        ));
        assert!(matches!(
            bad(DialPlanSettings {
                external_prefix: "0a",
                ..PBX
            }),
            DialPlanError::Prefix
        ));
        assert_eq!(
            bad(DialPlanSettings {
                uri: "sip:x@y",
                ..PBX
            })
            .to_string(),
            "must be a sip: URI containing {number}"
        );
    }
}
