//! Finding contacts by what someone types: a piece of a name, a company, or a number.
//!
//! Text is compared folded: lower case, accents removed (`Müller` → `muller`, `Øster` →
//! `oster`, `ß` → `ss`), and German umlauts also spelt out (`Müller` → `mueller`), so
//! "mül", "mul" and "mueller" all find "Müller, Anna". Every word of the query must be the
//! start of a word of the name or company.

use super::contact::Contact;

/// Lower case, accents removed, German umlauts kept as their plain vowel.
pub(crate) fn fold(text: &str) -> String {
    deunicode::deunicode(text).to_lowercase()
}

/// Lower case with German umlauts spelt out (`ü` → `ue`), then accents removed.
fn fold_german(text: &str) -> String {
    let mut spelt = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            'ä' | 'Ä' => spelt.push_str("ae"),
            'ö' | 'Ö' => spelt.push_str("oe"),
            'ü' | 'Ü' => spelt.push_str("ue"),
            _ => spelt.push(c),
        }
    }
    fold(&spelt)
}

fn words(folded: &str) -> Vec<String> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The folded words of a text ("Müller-Lüdenscheidt, Anna" → muller, ludenscheidt, anna).
pub(crate) fn fold_words(text: &str) -> Vec<String> {
    words(&fold(text))
}

/// What a query matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchedBy {
    /// Every query word is in the name.
    Name,
    /// Some query word is only in the company.
    Company,
    /// The query is the start of one of the numbers.
    Number,
}

/// A contact that matches a query; see [`search`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match<'c> {
    /// The contact's position in the slice searched.
    pub index: usize,
    /// The contact.
    pub contact: &'c Contact,
    /// Where the query was found.
    pub matched_by: MatchedBy,
    /// Higher is better; only the order means something.
    pub score: u32,
}

/// The contacts that match `query`, best first.
///
/// A query that looks like a number (digits, `+`, spaces, `-/().`, at least three digits)
/// matches numbers that start with it as E.164 (`+4144`), with the international prefix
/// (`004144`) or nationally (`044`). Any other query is split into words that must each
/// start a word of the name or company; whole words rank above prefixes and the name above
/// the company. Ties keep the order of `contacts`.
pub fn search<'c>(query: &str, contacts: &'c [Contact]) -> Vec<Match<'c>> {
    let mut found: Vec<Match<'c>> = match number_query(query) {
        Some(digits) => contacts
            .iter()
            .enumerate()
            .filter_map(|(index, contact)| {
                number_score(&digits, contact).map(|score| Match {
                    index,
                    contact,
                    matched_by: MatchedBy::Number,
                    score,
                })
            })
            .collect(),
        None => {
            let query = Query::new(query);
            if query.folded.is_empty() {
                return Vec::new();
            }
            contacts
                .iter()
                .enumerate()
                .filter_map(|(index, contact)| {
                    text_score(&query, contact).map(|(score, matched_by)| Match {
                        index,
                        contact,
                        matched_by,
                        score,
                    })
                })
                .collect()
        }
    };
    // Stable: equal scores stay in the caller's order (the phone book's, by name).
    found.sort_by_key(|m| std::cmp::Reverse(m.score));
    found
}

/// `+` (if leading) and the digits of a query that looks like a number.
fn number_query(query: &str) -> Option<String> {
    let query = query.trim();
    if !query
        .chars()
        .all(|c| c.is_ascii_digit() || " +-/().".contains(c))
    {
        return None;
    }
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 3 {
        return None;
    }
    Some(if query.starts_with('+') {
        format!("+{digits}")
    } else {
        digits
    })
}

fn number_score(query: &str, contact: &Contact) -> Option<u32> {
    contact
        .numbers()
        .iter()
        .flat_map(|n| n.number.dialled_forms())
        .filter(|form| form.starts_with(query))
        .map(|form| if form == query { 2 } else { 1 })
        .max()
}

/// A query's words, folded, each with its unfolded (lower-case) spelling when that is known.
struct Query {
    folded: Vec<String>,
    raw: Vec<Option<String>>,
}

impl Query {
    fn new(text: &str) -> Query {
        let folded = fold_words(text);
        let raw_words = words(&text.to_lowercase());
        let raw = if raw_words.len() == folded.len() {
            raw_words.into_iter().map(Some).collect()
        } else {
            vec![None; folded.len()]
        };
        Query { folded, raw }
    }
}

/// All query words must start a word of the name or company.
fn text_score(query: &Query, contact: &Contact) -> Option<(u32, MatchedBy)> {
    let name = Words::of(contact.name());
    let company = Words::of(contact.company().unwrap_or(""));
    let mut score = 0;
    let mut matched_by = MatchedBy::Name;
    for (q, raw) in query.folded.iter().zip(&query.raw) {
        if let Some(s) = name.score(q, raw.as_deref()) {
            score += 2 * s;
        } else if let Some(s) = company.score(q, raw.as_deref()) {
            score += s;
            matched_by = MatchedBy::Company;
        } else {
            return None;
        }
    }
    Some((score, matched_by))
}

/// A text's words in both foldings, and as written (lower case).
struct Words {
    folded: Vec<String>,
    raw: Vec<String>,
}

impl Words {
    fn of(text: &str) -> Words {
        let mut folded = fold_words(text);
        folded.extend(words(&fold_german(text)));
        Words {
            folded,
            raw: words(&text.to_lowercase()),
        }
    }

    /// 4 if a word equals `q`, 2 if one starts with it; one more if it is also spelt as
    /// typed (accents included), so "mül" puts Müller before Mullis and "mul" the reverse.
    fn score(&self, q: &str, raw: Option<&str>) -> Option<u32> {
        let base = self
            .folded
            .iter()
            .filter(|w| w.starts_with(q))
            .map(|w| if w == q { 4 } else { 2 })
            .max()?;
        let as_typed = raw.is_some_and(|r| self.raw.iter().any(|w| w.starts_with(r)));
        Some(base + u32::from(as_typed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_accents_and_case() {
        assert_eq!(fold("Müller-Øster STRAßE"), "muller-oster strasse");
        assert_eq!(fold_german("Müller"), "mueller");
        assert_eq!(fold_words("Müller, Anna"), ["muller", "anna"]);
    }

    #[test]
    fn number_queries_are_recognised() {
        assert_eq!(number_query("+41 44").as_deref(), Some("+4144"));
        assert_eq!(number_query("044 123").as_deref(), Some("044123"));
        assert_eq!(number_query("12"), None);
        assert_eq!(number_query("anna 079"), None);
    }
}
