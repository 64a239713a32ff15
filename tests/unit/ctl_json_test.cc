// The one JSON style of docs/json.md: times, keys, error documents, and
// ringfencectl's relative times.
#include <gtest/gtest.h>

#include <sstream>

#include "ctl/ctl.h"
#include "ctl/json.h"
#include "ctl/present.h"

namespace ringfence::ctl {
namespace {

TEST(CtlJson, TimesAreRfc3339InUtcWithMilliseconds) {
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339(1796322356123456ULL), "2026-12-03T18:25:56.123Z");
  JsonWriter j;
  j.beginObject().key("never").time(0).key("at").time(1000).endObject();
  EXPECT_EQ(j.str(), "{\"never\":null,\"at\":\"1970-01-01T00:00:00.001Z\"}");
}

TEST(CtlJson, PropertyNamesBecomeSnakeCase) {
  EXPECT_EQ(snakeCase("PacketsAllowed"), "packets_allowed");
  EXPECT_EQ(snakeCase("Version"), "version");
  EXPECT_EQ(snakeCase("LastViolationAt"), "last_violation_at");
  EXPECT_EQ(snakeCase("name"), "name");
}

TEST(CtlJson, AgesSayPastAndFuture) {
  EXPECT_EQ(relativeAge(42), "42s ago");
  EXPECT_EQ(relativeAge(300), "5min ago");
  EXPECT_EQ(relativeAge(-1800), "in 30min");
  EXPECT_EQ(relativeAge(-7200), "in 2h");
  EXPECT_EQ(relativeAge(3 * 86400), "3d ago");
}

TEST(CtlJson, AnErrorDocumentCarriesEveryLine) {
  EXPECT_EQ(errorDocument(1,
                          "ringfencectl: reload refused; the policy in force stays:\n"
                          "p/a.yaml:3:15: error: x\np/b.yaml:1:1: error: y\n"),
            "{\"error\":{\"exit_code\":1,\"kind\":\"refused\",\"message\":\"reload refused; the "
            "policy in force stays:\",\"details\":[\"p/a.yaml:3:15: error: x\",\"p/b.yaml:1:1: "
            "error: y\"]}}\n");
  EXPECT_EQ(errorDocument(2, "ringfencectl: no command given\nTry 'ringfencectl --help'.\n"),
            "{\"error\":{\"exit_code\":2,\"kind\":\"usage\",\"message\":\"no command "
            "given\",\"details\":[]}}\n");
}

struct CtlOutcome {
  int code;
  std::string out, err;
};
CtlOutcome run(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = runCtl(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(CtlJson, FailuresUnderJsonAreDocumentsOnStdout) {
  CtlOutcome usage = run({"--json", "frobnicate"});
  EXPECT_EQ(usage.code, kExitUsage);
  EXPECT_EQ(usage.out,
            "{\"error\":{\"exit_code\":2,\"kind\":\"usage\",\"message\":\"unknown command "
            "'frobnicate'\",\"details\":[]}}\n");
  EXPECT_EQ(usage.err, "");
  CtlOutcome gone = run({"status", "--json", "--bus", "unix:path=/nonexistent/ringfence-bus"});
  EXPECT_EQ(gone.code, kExitUnreachable);
  EXPECT_NE(gone.out.find("\"kind\":\"unreachable\",\"message\":\"cannot reach the daemon"),
            std::string::npos)
      << gone.out;
  EXPECT_EQ(gone.err, "");
  CtlOutcome text = run({"frobnicate"});  // without --json: text on stderr, as before
  EXPECT_EQ(text.out, "");
  EXPECT_EQ(text.err, "ringfencectl: unknown command 'frobnicate'\nTry 'ringfencectl --help'.\n");
}

TEST(CtlJson, AValidateDocumentIsNotWrappedInAnError) {
  CtlOutcome r = run({"--json", "validate", "--profiles", "/nonexistent/profiles"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.out.rfind("{\"valid\":false", 0), 0u) << r.out;
}

}  // namespace
}  // namespace ringfence::ctl
