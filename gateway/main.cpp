// The gateway executable: all of it lives in gateway_core (app.hpp), so the
// tests link the same code.
#include <string>
#include <vector>

#include "gateway/app.hpp"

int main(int argc, char** argv) {
  return gw::gateway::run(std::vector<std::string>(argv + 1, argv + argc));
}
