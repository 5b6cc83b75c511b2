//! Secrets in the configuration stay off screens: `konferenz config show` and the
//! administration's settings page show that a password is set, never its value — neither
//! the `password` keys nor a password written into a URL (`smtp://user:secret@host`,
//! `sip:user:secret@host`).

/// What is shown in place of a secret.
pub const SET: &str = "(set)";

/// `url` with the password of its user part (`user:password@`) replaced by [`SET`].
pub fn hide_url_password(url: &str) -> String {
    // `scheme://authority/…` (SMTP) or `sip:userinfo@host;…` (SIP, no slashes).
    let (start, ends): (usize, &[char]) = match url.find("://") {
        Some(i) => (i + 3, &['/', '?', '#']),
        None => match url.find(':') {
            Some(i) => (i + 1, &[';', '?']),
            None => return url.to_owned(),
        },
    };
    let rest = &url[start..];
    let authority = &rest[..rest.find(ends).unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let Some(colon) = authority[..at].find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:{SET}{}",
        &url[..start],
        &authority[..colon],
        &url[start + at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_hidden_and_nothing_else_changes() {
        let cases = [
            (
                "smtp://mailer:s3cr:et@mail.example.org:587?tls=required",
                "smtp://mailer:(set)@mail.example.org:587?tls=required",
            ),
            (
                "smtps://mail.example.org:465",
                "smtps://mail.example.org:465",
            ),
            (
                "sip:pbx:hunter2@pbx.example.org;transport=tcp",
                "sip:pbx:(set)@pbx.example.org;transport=tcp",
            ),
            (
                "sip:{number}@pbx.example.org",
                "sip:{number}@pbx.example.org",
            ),
            (
                "sip:{number}@127.0.0.1:5070;user=phone",
                "sip:{number}@127.0.0.1:5070;user=phone",
            ),
            (
                "smtp://mail.example.org/x@y:z",
                "smtp://mail.example.org/x@y:z",
            ),
            ("", ""),
        ];
        for (url, shown) in cases {
            assert_eq!(hide_url_password(url), shown, "{url}");
        }
    }
}
