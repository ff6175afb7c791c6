//! Snapshots of every command's `--help` (cli/tests/snapshots/help-*.txt), so that a change of
//! the command line shows in review. `UPDATE_SNAPSHOTS=1 cargo test -p sosopay-cli --test help`
//! rewrites them.

use std::path::PathBuf;
use std::process::{Command, Output};

fn sosopay(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sosopay"));
    cmd.args(args);
    // `[env: NAME=value]` shows in the help when these are set; colours when forced.
    for var in [
        "SOSOPAY_BUSI_CODE",
        "SOSOPAY_KEY",
        "SOSOPAY_BASE_URL",
        "CLICOLOR_FORCE",
    ] {
        cmd.env_remove(var);
    }
    cmd.output().expect("run sosopay")
}

fn snapshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

fn snapshot_name(command: &str) -> String {
    if command.is_empty() {
        "help.txt".into()
    } else {
        format!("help-{command}.txt")
    }
}

/// The subcommands listed by `sosopay --help` (but clap's `help`, which is `--help`).
fn subcommands() -> Vec<String> {
    let out = sosopay(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8 help");
    text.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn help_output_matches_the_snapshots() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v != "0" && !v.is_empty());
    let mut commands = vec![String::new()];
    commands.extend(subcommands());
    for expected in [
        "demo", "sandbox", "micropay", "order", "query", "refund", "cancel", "sign", "encrypt",
        "decrypt", "notify",
    ] {
        assert!(
            commands.iter().any(|c| c == expected),
            "`sosopay --help` does not list {expected}: {commands:?}"
        );
    }
    let dir = snapshots();
    if update {
        std::fs::create_dir_all(&dir).expect("create snapshot dir");
    }
    let mut failures = Vec::new();
    for command in &commands {
        let mut args: Vec<&str> = Vec::new();
        if !command.is_empty() {
            args.push(command);
        }
        args.push("--help");
        let out = sosopay(&args);
        assert!(
            out.status.success(),
            "sosopay {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stderr.is_empty(), "sosopay {args:?} wrote to stderr");
        let actual = String::from_utf8(out.stdout).expect("UTF-8 help");
        let path = dir.join(snapshot_name(command));
        if update {
            std::fs::write(&path, &actual).expect("write snapshot");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "`sosopay {}` differs from {}:\n--- expected\n{expected}\n--- actual\n{actual}",
                args.join(" "),
                path.display()
            )),
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    // No snapshot of a command that no longer exists.
    let known: Vec<String> = commands.iter().map(|c| snapshot_name(c)).collect();
    for entry in std::fs::read_dir(&dir).expect("read snapshot dir") {
        let name = entry
            .expect("dir entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.starts_with("help") && !known.contains(&name) {
            failures.push(format!("stale snapshot {name}: no such command"));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\n(if the change is intended: UPDATE_SNAPSHOTS=1 cargo test -p sosopay-cli --test help)",
        failures.join("\n\n")
    );
}

#[test]
fn the_sandbox_and_the_tools_take_no_connection_options() {
    let connection = ["--busi-code", "--base-url", "--env ", "--encrypt", "--json"];
    for command in ["demo", "sandbox", "sign", "encrypt", "decrypt", "notify"] {
        let out = sosopay(&[command, "--help"]);
        let text = String::from_utf8_lossy(&out.stdout);
        for option in connection {
            if command == "notify" && option == "--busi-code" {
                continue; // which merchant's notifications to accept (no connection)
            }
            assert!(
                !text.contains(option),
                "`sosopay {command} --help` lists {option}:\n{text}"
            );
        }
    }
    let text = String::from_utf8_lossy(&sosopay(&["sandbox", "--help"]).stdout).into_owned();
    assert!(!text.contains("--key"), "{text}");
    for command in ["micropay", "order", "query", "refund", "cancel"] {
        let out = sosopay(&[command, "--help"]);
        let text = String::from_utf8_lossy(&out.stdout);
        for option in connection {
            assert!(
                text.contains(option),
                "`sosopay {command} --help` lacks {option}"
            );
        }
    }
}

#[test]
fn every_listed_option_has_help_text() {
    for command in subcommands() {
        let out = sosopay(&[&command, "--help"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let is_option = t.starts_with("--") || (t.starts_with('-') && t.len() > 1);
            if !is_option || !line.starts_with("  ") {
                continue;
            }
            // `--opt <V>  Help` on one line, or the help on the next, more indented, line.
            let own = t.contains("  ");
            let next = lines.get(i + 1).is_some_and(|n| {
                let indent = n.len() - n.trim_start().len();
                indent > line.len() - t.len() && !n.trim().is_empty()
            });
            assert!(
                own || next,
                "`sosopay {command} --help`: {t:?} has no help text"
            );
        }
    }
}
