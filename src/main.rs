fn main() -> std::process::ExitCode {
    routedesk::cli::run()
}
