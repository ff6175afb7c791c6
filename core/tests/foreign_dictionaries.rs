//! The dictionaries' foreign sources are generated from the core's one list
//! (`sosopay::for_each_dictionary!`): the Python enum classes (`python/sosopay/enums.py`) and the
//! TypeScript unions (`node/types-header.d.ts`, copied into `index.d.ts` by the build) sit between
//! `generated from core/src/enums.rs` markers. This test fails when they differ from what the
//! core generates; `SOSOPAY_BLESS=1 cargo test -p sosopay --test foreign_dictionaries` rewrites
//! them (then rebuild the Node addon so `index.d.ts` follows).

use std::path::{Path, PathBuf};

use sosopay::enums::{dictionary_doc, dictionary_members, dictionary_rules, DICTIONARIES};

/// Dictionaries whose TypeScript form is the wire text (the others are variant names).
const WIRE_VALUED: &[&str] = &["ResultCode"];
/// Dictionaries read from replies: their TypeScript unions include `'Unknown'`.
const IN_REPLIES: &[&str] = &["OrderState", "Channel", "FundChannel"];

fn upper_snake(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn members(name: &str) -> Vec<(&'static str, &'static str)> {
    dictionary_members(name).expect("a dictionary")
}

fn doc(name: &str) -> &'static str {
    dictionary_doc(name).unwrap_or("")
}

fn python() -> String {
    let mut out = String::new();
    for name in DICTIONARIES {
        out += &format!("class {name}(_WireEnum):\n");
        out += &format!("    \"\"\"{}\"\"\"\n\n", doc(name).replace('`', "``"));
        for (variant, wire) in members(name) {
            out += &format!("    {} = {wire:?}\n", upper_snake(variant));
        }
        for (rule, doc) in dictionary_rules(name) {
            out += &format!(
                "\n    @property\n    def {rule}(self) -> bool:\n        \"\"\"{doc}\"\"\"\n        \
                 return _native._dictionary_rule({name:?}, {rule:?}, self.value)\n"
            );
        }
        out += "\n\n";
    }
    out
}

/// `  | 'A' | 'B'` lines of at most 100 characters.
fn union(items: &[String]) -> String {
    let mut lines = vec![String::from("  |")];
    for item in items {
        let last = lines.last_mut().expect("one line");
        if last.len() + item.len() + 3 > 100 {
            lines.push(format!("  | {item}"));
        } else if last.ends_with('|') {
            *last += &format!(" {item}");
        } else {
            *last += &format!(" | {item}");
        }
    }
    lines.join("\n") + "\n"
}

fn typescript() -> String {
    let mut out = String::new();
    for name in DICTIONARIES {
        let d = doc(name);
        if WIRE_VALUED.contains(name) {
            let items: Vec<String> = members(name)
                .iter()
                .map(|(_, w)| format!("'{w}'"))
                .collect();
            out += &format!("/** {d} Codes this SDK does not know pass through as sent. */\n");
            out += &format!("export type Known{name} =\n{}", union(&items));
            out += &format!("export type {name} = Known{name} | (string & {{}})\n");
            continue;
        }
        let mut items: Vec<String> = members(name)
            .iter()
            .map(|(v, _)| format!("'{v}'"))
            .collect();
        if IN_REPLIES.contains(name) {
            items.push("'Unknown'".into());
            out += &format!(
                "/** {d} By name; `'Unknown'` for a code this SDK does not know (the `...Code` field beside it keeps the code). */\n"
            );
        } else {
            out += &format!("/** {d} By name (a request also accepts the wire code). */\n");
        }
        out += &format!("export type {name} =\n{}", union(&items));
    }
    out
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Replaces (or checks) the text between the markers in `file`.
fn check(file: &str, begin: &str, end: &str, generated: &str) {
    let path = root().join(file);
    let text = std::fs::read_to_string(&path).expect("readable");
    let a = text
        .find(begin)
        .unwrap_or_else(|| panic!("{file}: no {begin:?}"))
        + begin.len();
    let b = text[a..]
        .find(end)
        .unwrap_or_else(|| panic!("{file}: no {end:?}"))
        + a;
    let committed = text[a..b].trim_start_matches('\n');
    if committed == generated {
        return;
    }
    if std::env::var_os("SOSOPAY_BLESS").is_some() {
        let new = format!("{}\n{generated}{}", &text[..a], &text[b..]);
        std::fs::write(&path, new).expect("writable");
        return;
    }
    panic!(
        "{file} differs from what core/src/enums.rs generates; run\n  \
         SOSOPAY_BLESS=1 cargo test -p sosopay --test foreign_dictionaries\n\
         --- committed\n{committed}\n--- generated\n{generated}"
    );
}

#[test]
fn python_enums_are_the_cores() {
    check(
        "python/sosopay/enums.py",
        "# --- generated from core/src/enums.rs (cargo test -p sosopay --test foreign_dictionaries)",
        "# --- end of generated",
        &python(),
    );
}

#[test]
fn typescript_unions_are_the_cores() {
    check(
        "node/types-header.d.ts",
        "/* --- generated from core/src/enums.rs (cargo test -p sosopay --test foreign_dictionaries) */",
        "/* --- end of generated */",
        &typescript(),
    );
}
