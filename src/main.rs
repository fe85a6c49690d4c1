fn main() -> std::process::ExitCode {
    dfh::run(std::env::args_os())
}
