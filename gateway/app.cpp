#include "gateway/app.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <iostream>

#include "gateway/check/check.hpp"
#include "gateway/compose_override.hpp"
#include "gateway/serve/control_commands.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/keys/command.hpp"
#include "gateway/logging.hpp"
#include "gateway/options/options.hpp"
#include "gateway/serve/serve.hpp"

namespace gw::gateway {
namespace {

int dispatch(Settings& settings) {
  switch (settings.command) {
    case Command::check: return run_check(settings, std::cout, std::cerr);
    case Command::serve: return serve(settings);
    case Command::reload: return run_reload(settings, std::cout);
    case Command::status: return run_status(settings, std::cout);
    case Command::compose_override: return run_compose_override(settings, std::cout, std::cerr);
    case Command::keys: return run_keys(settings, std::cin, std::cout);
    default: break;  // parse_invocation refuses the reserved commands
  }
  throw ExitError(exit_code::failure, std::string(command_name(settings.command)) + " is not available in this build");
}

}  // namespace

int run(const std::vector<std::string>& args) {
  // The exception firewall of the process: whatever goes wrong below ends
  // as one line and a documented exit code, never as std::terminate.
  try {
    Invocation invocation = parse_invocation(args);
    if (invocation.action == Invocation::Action::print) {
      std::cout << invocation.text;
      return exit_code::ok;
    }
    setup_logging(invocation.settings.log_level);
    const int code = dispatch(invocation.settings);
    std::cout.flush();
    return std::cout ? code : exit_code::failure;  // a full disk or closed pipe must not pass as success
  } catch (const ExitError& e) {
    for (const std::string& line : e.lines()) std::cerr << "gateway: " << line << '\n';
    return e.code();
  } catch (const std::exception& e) {
    std::cerr << "gateway: " << e.what() << '\n';
    return exit_code::failure;
  }
}

}  // namespace gw::gateway
