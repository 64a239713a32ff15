#include "tests/support/lab.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace ringfence::test {

bool haveRoot() { return geteuid() == 0; }

bool inCi() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int run(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf;
  std::string text;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) text.append(buf.data(), n);
  int status = pclose(pipe);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void removeStaleNamespaces() {
  std::string list;
  run("ip netns list", &list);
  std::istringstream lines(list);
  for (std::string line; std::getline(lines, line);) {
    std::string name = line.substr(0, line.find(' '));
    if (name.rfind("rftest-", 0) != 0) continue;
    pid_t pid = static_cast<pid_t>(std::atol(name.c_str() + 7));
    if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)) continue;  // its run is still going
    run("ip netns del " + shellQuote(name));
  }
}

ScopedNetns::ScopedNetns(const std::string& name)
    : name_("rftest-" + std::to_string(getpid()) + "-" + name) {
  removeStaleNamespaces();
  std::string out;
  if (run("ip netns add " + shellQuote(name_), &out) != 0) {
    throw std::runtime_error("ip netns add " + name_ + " failed: " + out);
  }
}

ScopedNetns::~ScopedNetns() { run("ip netns del " + shellQuote(name_)); }

int ScopedNetns::exec(const std::string& command, std::string* output) const {
  return run("ip netns exec " + shellQuote(name_) + " " + command, output);
}

int runInNetns(const ScopedNetns& ns, const std::function<int()>& fn) {
  pid_t child = fork();
  if (child < 0) return -1;
  if (child == 0) {
    int fd = ::open(("/var/run/netns/" + ns.name()).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) _exit(255);
    _exit(fn());
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace ringfence::test
