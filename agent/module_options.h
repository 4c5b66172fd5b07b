#pragma once
// The options an AgentConfig gives the modules both agents build (Linux agent/agent.cc and
// agent/windows/windows_agent.cc): one mapping, so a flag means the same on both.
#include "absl/time/time.h"
#include "agent/config.h"
#include "exporters/cmdline_privacy.h"
#include "exporters/process_accounting.h"
#include "exporters/snapshot_writer.h"

namespace nodeproc {

CmdlinePrivacyOptions PrivacyOptionsOf(const AgentConfig& config);
AccountingOptions AccountingOptionsOf(const AgentConfig& config);
// The CSV writer's folder, naming and retention (upload hooks are the caller's).
SnapshotWriterOptions WriterOptionsOf(const AgentConfig& config, absl::Time agent_start);

}  // namespace nodeproc
