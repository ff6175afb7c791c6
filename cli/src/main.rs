//! The `sosopay` command (being built: see the client/CLI issue).

fn main() {
    eprintln!("sosopay: the command-line tool is not built yet");
    std::process::exit(2);
}
