//! Progress bars for the long commands (a `--to TIME` lookup, replay and
//! backfill), drawn on standard error only when it is a terminal.
//!
//! Standard output carries the command's result and is often piped, so bars
//! never go there. When standard error is not a terminal (a log file, a test,
//! a pipe to `journald`) the bars are hidden: they cost nothing and leave no
//! escape codes behind.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a spinner turns while nothing else moves it.
const SPINNER_TICK: Duration = Duration::from_millis(120);

/// A bar of `len` bytes (its length may be set later with
/// [`ProgressBar::set_length`]), labelled with `message`.
pub fn bar(len: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), draw_target());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({eta} left)",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    bar
}

/// A bar of `len` things (`unit`: tickets), labelled with `message`.
pub fn counter(len: u64, message: &str, unit: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), draw_target());
    let template =
        format!("{{msg}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} ({{eta}} left)");
    bar.set_style(
        ProgressStyle::with_template(&template)
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    bar
}

/// A spinner for work of unknown length, labelled with `message`.
pub fn spinner(message: &str) -> ProgressBar {
    let spinner = ProgressBar::with_draw_target(None, draw_target());
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("the template is valid"),
    );
    spinner.set_message(message.to_owned());
    if !spinner.is_hidden() {
        spinner.enable_steady_tick(SPINNER_TICK);
    }
    spinner
}

/// Standard error when a person watches it, nothing otherwise.
fn draw_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_when_stderr_is_not_a_terminal() {
        // Under `cargo test` standard error is captured or piped.
        if std::io::stderr().is_terminal() {
            println!("skipped: standard error is a terminal here");
            return;
        }
        assert!(bar(10, "scanning").is_hidden());
        assert!(spinner("connecting").is_hidden());
        let bar = bar(10, "scanning");
        bar.set_position(5);
        assert_eq!(bar.position(), 5, "a hidden bar still counts");
    }
}
