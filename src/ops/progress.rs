//! Progress bars for the long commands (a `--to TIME` lookup, replay and
//! backfill), drawn on standard error only when it is a terminal.
//!
//! Standard output carries the command's result and is often piped, so bars
//! never go there. When standard error is not a terminal (a log file, a test,
//! a pipe to `journald`) the bars are hidden: they cost nothing and leave no
//! escape codes behind.
//!
//! Log lines go to standard error too. Every bar belongs to one
//! [`MultiProgress`], and the log writer ([`log_writer`]) writes through it:
//! the bars are cleared, the line is written, the bars are drawn again below
//! it, so a log line never lands in the middle of a bar.

use std::io::{IsTerminal, Write};
use std::sync::LazyLock;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars of this process, drawn on standard error when it is a terminal.
static BARS: LazyLock<MultiProgress> =
    LazyLock::new(|| MultiProgress::with_draw_target(draw_target()));

/// The writer for log lines: standard error, with the bars cleared around
/// each write (see the module docs). A `tracing_subscriber` `MakeWriter`.
pub fn log_writer() -> LogWriter<std::io::Stderr> {
    LogWriter {
        bars: BARS.clone(),
        out: std::io::stderr(),
    }
}

/// Writes to `out` with `bars` hidden for the moment of each write.
pub struct LogWriter<W> {
    bars: MultiProgress,
    out: W,
}

impl<W: Write> Write for LogWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let out = &mut self.out;
        self.bars.suspend(|| out.write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        // One suspension for the whole line, not one per partial write.
        let out = &mut self.out;
        self.bars.suspend(|| out.write_all(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// How often a spinner turns while nothing else moves it.
const SPINNER_TICK: Duration = Duration::from_millis(120);

/// A bar of `len` bytes (its length may be set later with
/// [`ProgressBar::set_length`]), labelled with `message`.
pub fn bar(len: u64, message: &str) -> ProgressBar {
    let bar = BARS.add(ProgressBar::new(len));
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
    let bar = BARS.add(ProgressBar::new(len));
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
    let spinner = BARS.add(ProgressBar::no_length());
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
    use std::sync::{Arc, Mutex};

    use indicatif::TermLike;

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

    /// What a terminal was asked to do, and what the log wrote, in order.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<Vec<String>>>);

    impl Screen {
        fn push(&self, op: String) -> std::io::Result<()> {
            self.0.lock().unwrap().push(op);
            Ok(())
        }

        fn ops(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
            self.push(format!("up {n}"))
        }
        fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
            self.push(format!("down {n}"))
        }
        fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
            self.push(format!("right {n}"))
        }
        fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
            self.push(format!("left {n}"))
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.push(format!("line {s}"))
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.push(format!("str {s}"))
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.push("clear".into())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Write for Screen {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.push(format!("log {}", String::from_utf8_lossy(buf)))?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_log_line_clears_the_bar_and_the_bar_comes_back_below_it() {
        let screen = Screen::default();
        let target = ProgressDrawTarget::term_like(Box::new(screen.clone()));
        let bars = MultiProgress::with_draw_target(target);
        let bar = bars.add(ProgressBar::new(10));
        bar.set_style(ProgressStyle::with_template("scanning {pos}/{len}").unwrap());
        bar.set_position(3);
        bar.tick();
        let drawn = screen.ops().len();
        assert!(
            screen.ops().iter().any(|op| op.contains("scanning 3/10")),
            "the bar is drawn: {:?}",
            screen.ops()
        );

        let mut log = LogWriter {
            bars: bars.clone(),
            out: screen.clone(),
        };
        log.write_all(b"WARN something happened\n").unwrap();

        let after = &screen.ops()[drawn..];
        let logged = after
            .iter()
            .position(|op| op == "log WARN something happened\n")
            .expect("the line is written once, whole");
        assert!(
            after[..logged].iter().any(|op| op == "clear"),
            "the bar is cleared before the line: {after:?}"
        );
        assert!(
            after[logged + 1..]
                .iter()
                .any(|op| op.contains("scanning 3/10")),
            "the bar is drawn again after it: {after:?}"
        );
    }
}
