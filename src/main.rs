//! The `osticket-cdc` binary: everything lives in the library's `cli`.

fn main() -> std::process::ExitCode {
    osticket_cdc::cli::main()
}
