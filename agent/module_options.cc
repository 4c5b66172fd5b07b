#include "agent/module_options.h"

namespace nodeproc {

CmdlinePrivacyOptions PrivacyOptionsOf(const AgentConfig& config) {
  CmdlinePrivacyOptions o;
  o.anonymize = config.anonymize;
  o.hmac_key = config.anonymize_key;
  o.scrub = config.scrub_secrets;
  o.extra_patterns = config.scrub_patterns;
  return o;
}

AccountingOptions AccountingOptionsOf(const AgentConfig& config) {
  AccountingOptions o;
  o.per_pid = config.process_metrics_per_pid;
  o.max_series = static_cast<size_t>(config.max_process_series);
  o.grace = config.process_series_grace;
  return o;
}

SnapshotWriterOptions WriterOptionsOf(const AgentConfig& config, absl::Time agent_start) {
  SnapshotWriterOptions o;
  o.dir = config.snapshot_dir;
  o.machine_id = config.machine_id;
  o.agent_start = agent_start;
  o.keep_files = config.snapshot_keep_files;
  o.max_age = config.snapshot_max_age;
  return o;
}

}  // namespace nodeproc
