//! Finding where in a scenario file a key is, and explaining serde's messages.

/// 1-based (line, column) of byte offset `at` in `text`.
pub(super) fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text.as_bytes()[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = at
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    (line, col)
}

/// The (line, column) where dotted key `path` is written, for the common
/// layouts: `key = ...` under a `[table]` header, or a `[table]` header itself.
pub(super) fn find_key(text: &str, path: &str) -> Option<(usize, usize)> {
    let parts: Vec<&str> = path.split('.').collect();
    let (table, key) = parts.split_at(parts.len() - 1);
    let table = table.join(".");
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if let Some(h) = t.strip_prefix('[') {
            let h = h.trim_start_matches('[');
            if let Some(end) = h.find(']') {
                current = h[..end].trim().to_string();
                if current == path {
                    return Some((i + 1, line.len() - t.len() + 1));
                }
            }
            continue;
        }
        if current == table {
            if let Some((k, _)) = t.split_once('=') {
                if k.trim().trim_matches('"') == key[0] {
                    return Some((i + 1, line.len() - t.len() + 1));
                }
            }
        }
    }
    None
}

/// Turns a serde message about the scenario into (key path, message),
/// adding a "did you mean" for unknown keys.
pub(super) fn explain(
    table: &toml::Table,
    msg: &str,
    key_here: Option<String>,
) -> (Option<String>, String) {
    // serde: "unknown field `lpz`, expected one of `lps`, `events_per_lp`"
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or("");
        let expected: Vec<&str> = rest
            .split('`')
            .skip(1)
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, s)| s)
            .collect();
        let path = find_path(table, name).unwrap_or_else(|| name.to_string());
        let mut m = format!("unknown key `{name}`");
        if let Some(best) = nearest(name, &expected) {
            m.push_str(&format!("; did you mean `{best}`?"));
        } else if !expected.is_empty() {
            m.push_str(&format!("; valid keys here: {}", expected.join(", ")));
        }
        return (Some(path), m);
    }
    // serde: "missing field `lps`"
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("");
        let key = match key_here {
            Some(t) if !t.is_empty() => format!("{t}.{name}"),
            _ => name.to_string(),
        };
        return (Some(key), format!("a required key `{name}` is missing"));
    }
    // toml: "... in `phold.lps`" style suffixes
    if let Some(idx) = msg.rfind(" in `") {
        let key = msg[idx + 5..].trim_end_matches('`').trim_end_matches('\n');
        return (Some(key.to_string()), msg[..idx].to_string());
    }
    (key_here, msg.trim().to_string())
}

/// The dotted key whose value (or table header) contains byte `at` of `text`.
pub(super) fn key_at(text: &str, at: usize) -> Option<String> {
    let (line_no, _) = line_col(text, at);
    let mut table = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if let Some(h) = t.strip_prefix('[') {
            let h = h.trim_start_matches('[');
            if let Some(end) = h.find(']') {
                table = h[..end].trim().to_string();
            }
            if i + 1 == line_no {
                return Some(table);
            }
            continue;
        }
        if i + 1 == line_no {
            let key = t
                .split_once('=')
                .map(|(k, _)| k.trim().trim_matches('"').to_string())?;
            return Some(if table.is_empty() {
                key
            } else {
                format!("{table}.{key}")
            });
        }
    }
    // Past the last line (e.g. a missing key at the end of the file): the last table.
    Some(table)
}

/// The dotted path of the first key called `name` anywhere in the table.
fn find_path(table: &toml::Table, name: &str) -> Option<String> {
    if table.contains_key(name) {
        return Some(name.to_string());
    }
    for (k, v) in table {
        if let Some(t) = v.as_table() {
            if let Some(p) = find_path(t, name) {
                return Some(format!("{k}.{p}"));
            }
        }
    }
    None
}

/// The candidate closest to `name` by edit distance, if close enough to be a typo.
pub(super) fn nearest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (levenshtein(name, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min()
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
