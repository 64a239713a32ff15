#include "ctl/offline.h"

#include <ostream>

#include "ctl/ctl.h"
#include "ctl/json.h"
#include "policy/compiler.h"
#include "policy/device_ref.h"
#include "policy/flow_check.h"
#include "policy/limits.h"
#include "policy/lint.h"
#include "policy/nft_text.h"

namespace ringfence::ctl {
namespace {

using policy::Diagnostic;
using policy::LoadResult;
using policy::Severity;

void writeDiagnosticsJson(JsonWriter& j, const LoadResult& r) {
  j.key("diagnostics").beginArray();
  for (const Diagnostic& d : r.diagnostics.sorted()) {
    j.beginObject()
        .key("file")
        .value(d.where.file)
        .key("line")
        .value(d.where.line)
        .key("column")
        .value(d.where.column)
        .key("severity")
        .value(d.severity == Severity::Error ? "error" : "warning")
        .key("message")
        .value(d.message)
        .endObject();
  }
  j.endArray();
}

size_t warningCount(const LoadResult& r) {
  return r.diagnostics.all().size() - r.diagnostics.errorCount();
}

// Text mode: every diagnostic on `stream`, the summary after them on the same stream.
void printDiagnostics(const LoadResult& r, std::ostream& stream) {
  for (const Diagnostic& d : r.diagnostics.sorted()) stream << policy::formatDiagnostic(d) << "\n";
}

// The set elements the policy compiles to, run-time ones included: what the
// limits of docs/policy-loading.md count.
size_t elementCount(const LoadResult& r) {
  return policy::compiledTotal(r.policy, policy::compiledSizes(r.policy));
}

// "1 error", "2 errors".
std::string count(size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string summary(const LoadResult& r) {
  return count(r.policy.devices.size(), "device") + ", " + count(r.policy.groups.size(), "group") +
         ", " + count(elementCount(r), "set element") + ", " +
         count(r.diagnostics.errorCount(), "error") + ", " + count(warningCount(r), "warning");
}

}  // namespace

int runValidate(const policy::LoadOptions& load, OutputMode mode, std::ostream& out,
                std::ostream& /*err: diagnostics and summary all go to out*/) {
  LoadResult r = policy::loadPolicy(load);
  if (r.ok()) policy::lintPolicy(r.policy, r.diagnostics);
  if (mode.json) {
    JsonWriter j;
    j.beginObject().key("valid").value(r.ok());
    j.key("devices").value(static_cast<uint64_t>(r.policy.devices.size()));
    j.key("groups").value(static_cast<uint64_t>(r.policy.groups.size()));
    j.key("elements").value(static_cast<uint64_t>(elementCount(r)));
    j.key("errors").value(static_cast<uint64_t>(r.diagnostics.errorCount()));
    j.key("warnings").value(static_cast<uint64_t>(warningCount(r)));
    writeDiagnosticsJson(j, r);
    out << j.endObject().str() << "\n";
  } else {
    printDiagnostics(r, out);
    out << (r.ok() ? "valid: " : "invalid: ") << summary(r) << "\n";
  }
  return r.ok() ? kExitOk : kExitRefused;
}

int runCompile(const policy::LoadOptions& load, OutputMode mode, std::ostream& out,
               std::ostream& err) {
  LoadResult r = policy::loadPolicy(load);
  if (!r.ok()) {
    if (mode.json) {
      JsonWriter j;
      j.beginObject().key("valid").value(false);
      writeDiagnosticsJson(j, r);
      out << j.endObject().str() << "\n";
    } else {
      printDiagnostics(r, err);
      err << "invalid: " << summary(r) << "; nothing compiled\n";
    }
    return kExitRefused;
  }
  policy::Plan plan = policy::compilePlan(r.policy);
  std::string text = policy::renderNft(plan);
  if (mode.json) {
    JsonWriter j;
    j.beginObject().key("valid").value(true).key("table").value(plan.table);
    j.key("sets").value(static_cast<uint64_t>(plan.sets.size()));
    j.key("elements").value(static_cast<uint64_t>(plan.elementCount()));
    writeDiagnosticsJson(j, r);
    j.key("ruleset").value(text);
    out << j.endObject().str() << "\n";
  } else {
    printDiagnostics(r, err);
    out << text;
  }
  return kExitOk;
}

int runCheckOffline(const policy::LoadOptions& load, const CheckArgs& args, OutputMode mode,
                    std::ostream& out, std::ostream& err) {
  policy::FlowQuery q;
  q.device = args.device;
  q.direction = args.to ? policy::Direction::Outbound : policy::Direction::Inbound;
  std::string peerText = args.to ? *args.to : *args.from;
  auto peer = policy::parseIpAddress(peerText);
  if (!peer) {
    err << "ringfencectl: invalid peer address '" << peerText << "'\n";
    return kExitUsage;
  }
  q.peer = *peer;
  auto proto = policy::parseProto(args.proto);
  if (!proto) {
    err << "ringfencectl: invalid protocol '" << args.proto << "' (tcp, udp, icmp or icmpv6)\n";
    return kExitUsage;
  }
  q.proto = *proto;
  if (args.port > 65535) {
    err << "ringfencectl: invalid port " << args.port << "\n";
    return kExitUsage;
  }
  q.port = static_cast<uint16_t>(args.port);

  LoadResult r = policy::loadPolicy(load);
  if (!r.ok()) {
    printDiagnostics(r, err);
    err << "invalid: " << summary(r) << "; cannot check\n";
    return kExitRefused;
  }
  // DEVICE may be a name or one of a device's addresses.
  auto device = policy::resolveDeviceArgument(args.device, r.policy);
  if (!device) {
    err << "ringfencectl: " << device.error() << "\n";
    return kExitNoSuchDevice;
  }
  q.device = *device;
  auto verdict = policy::checkFlow(r.policy, q);
  if (!verdict) {
    err << "ringfencectl: " << verdict.error().message << "\n";
    switch (verdict.error().kind) {
      case policy::FlowCheckError::NoSuchDevice:
        return kExitNoSuchDevice;
      case policy::FlowCheckError::InvalidArgument:
        return kExitUsage;
    }
  }
  if (mode.json) {
    JsonWriter j;
    j.beginObject()
        .key("device")
        .value(q.device)
        .key("direction")
        .value(policy::toString(q.direction))
        .key("peer")
        .value(policy::toString(q.peer))
        .key("proto")
        .value(policy::toString(q.proto))
        .key("port")
        .value(static_cast<unsigned>(q.port))
        .key("allowed")
        .value(verdict->allowed)
        .key("critical")
        .value(verdict->critical)
        .key("decided_by")
        .value(verdict->decidedBy)
        .endObject();
    out << j.str() << "\n";
  } else {
    out << (verdict->allowed ? "allowed" : "denied") << ": " << verdict->decidedBy << "\n";
  }
  return verdict->allowed ? kExitOk : kExitRefused;
}

}  // namespace ringfence::ctl
