// Writes a generated configuration (tests/support/policy_generator.h) for
// the benchmarks: gen_policy DIR DEVICES.
#include <iostream>
#include <string>

#include "tests/support/policy_generator.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: gen_policy DIR DEVICES\n";
    return 2;
  }
  std::cout << ringfence::test::writeGeneratedPolicy(argv[1], std::stoul(argv[2])).string() << "\n";
  return 0;
}
