// The `twind` command line (docs/interfaces.md, "Commands"). main() only calls this.
#pragma once

namespace twind::app {

/// Parses argv and runs the chosen command. Returns the process exit code: 0 success,
/// 1 runtime failure, 2 bad usage or bad configuration.
int run_cli(int argc, char** argv);

}  // namespace twind::app
