#include "event_receiver_support.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace gw::test {

EventReceiver::EventReceiver(const std::string& secret, const std::vector<std::string>& extra) {
  write_file(dir_ / "secret", secret + "\n");
  std::vector<std::string> args{"/usr/bin/python3", EVENT_RECEIVER_PY, "--secret-file", dir_ / "secret",
                                "--out", dir_ / "out.jsonl", "--port", "0", "--port-file", dir_ / "port"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (pid_ < 0) throw std::runtime_error("fork failed");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (const std::string port = read_text(dir_ / "port"); !port.empty()) {
      port_ = static_cast<unsigned>(std::stoul(port));
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("event_receiver.py exited before listening");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop();  // no destructor runs for a constructor that throws
  throw std::runtime_error("event_receiver.py did not listen within 10 s");
}

EventReceiver::~EventReceiver() { stop(); }

void EventReceiver::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::vector<nlohmann::json> EventReceiver::records() const {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_text(dir_ / "out.jsonl"));
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace gw::test
