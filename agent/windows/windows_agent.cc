#include "agent/windows/windows_agent.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/module_options.h"
#include "core/absl_compat.h"
#include "core/log.h"

namespace nodeproc::win {

absl::Status CheckWindowsConfig(const AgentConfig& c) {
  auto unsupported = [](std::string_view flag, std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", ToAbsl(flag), " is not supported on Windows: ", ToAbsl(why)));
  };
  if (!c.kubelet_url.empty() || !c.kubelet_fixture_dir.empty()) {
    return unsupported(c.kubelet_url.empty() ? "kubelet-fixture-dir" : "kubelet-url",
                       "processes cannot be mapped to containers there (no cgroups; see "
                       "collectors/windows/README.md)");
  }
  if (!c.container_include.empty() || !c.container_exclude.empty()) {
    return unsupported(c.container_include.empty() ? "container-exclude" : "container-include",
                       "there are no container processes to filter (no cgroups; see "
                       "collectors/windows/README.md)");
  }
  if (c.snapshot_files) return unsupported("snapshot-files", "the files snapshot reads procfs");
  if (c.package_metrics) return unsupported("package-metrics", "the files snapshot reads procfs");
  if (!c.web_tls_cert_file.empty() || !c.web_tls_key_file.empty()) {
    return unsupported("web-tls-cert-file", "the Windows build serves plain HTTP (terminate TLS in front)");
  }
  return absl::OkStatus();
}

WindowsAgent::WindowsAgent(AgentConfig config, ToolhelpProbe::Options probe_options)
    : config_(std::move(config)), probe_(probe_options) {}

WindowsAgent::~WindowsAgent() {
  RequestStop();
  if (server_ != nullptr) server_->Stop();
}

absl::Status WindowsAgent::Init() {
  if (absl::Status s = CheckWindowsConfig(config_); !s.ok()) return s;
  started_at_ = absl::Now();
  auto privacy = CmdlinePrivacy::Create(PrivacyOptionsOf(config_));
  if (!privacy.ok()) return privacy.status();
  privacy_ = std::make_unique<CmdlinePrivacy>(*std::move(privacy));

  PipelineParts parts;
  parts.probe = &probe_;
  parts.windows = &windows_;
  parts.resolver = nullptr;  // no cgroups on Windows: host-only records
  parts.kubelet = nullptr;
  parts.filter = nullptr;    // host-only records: nothing a container filter would drop
  parts.privacy = privacy_.get();
  pipeline_ = std::make_unique<SnapshotPipeline>(parts);
  accounting_ = std::make_unique<ProcessAccounting>(AccountingOptionsOf(config_));

  if (!config_.snapshot_dir.empty()) {
    writer_ = std::make_unique<SnapshotWriter>(WriterOptionsOf(config_, started_at_));
  }
  return absl::OkStatus();
}

void WindowsAgent::RequestStop() {
  if (stop_requested_.exchange(true)) return;
  stop_.Notify();
}

void WindowsAgent::SampleOnce() {
  static thread_local std::vector<CpuSample> samples;
  const absl::Time start = absl::Now();
  if (absl::Status s = probe_.SampleCpu(&samples); !s.ok()) {
    LogOnce(LogLevel::kError, "sampler:" + std::string(ToStd(s.message())), "CPU sampling failed",
            {{"error", s.ToString()}});
    return;
  }
  windows_.Observe(absl::Now(), samples);
  if (self_metrics_ != nullptr) self_metrics_->ObserveSamplerDuration(absl::Now() - start);
}

absl::StatusOr<std::shared_ptr<const Snapshot>> WindowsAgent::TakeSnapshot() {
  std::shared_ptr<Snapshot> snap;
  {
    // Scans are accounted in the order they were taken (counters never go back).
    absl::MutexLock lock(&accounting_mu_);
    auto built = pipeline_->Build();
    if (!built.ok()) {
      LogError("full scan failed", {{"error", built.status().ToString()}});
      return built.status();
    }
    snap = *std::move(built);
    snap->process_series = accounting_->Observe(snap->taken_at, snap->processes, snap->exited);
  }
  Publish(snap);
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

void WindowsAgent::Publish(std::shared_ptr<const Snapshot> snap) {
  if (self_metrics_ != nullptr) {
    self_metrics_->ObserveScanDuration(snap->scan_duration);
    self_metrics_->SetProcessesSeen(snap->processes.size());
  }
  absl::MutexLock lock(&mu_);
  if (latest_ == nullptr || latest_->taken_at <= snap->taken_at) latest_ = std::move(snap);
}

std::shared_ptr<const Snapshot> WindowsAgent::SnapshotForScrape() {
  absl::MutexLock scan_lock(&scan_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (latest_ != nullptr && absl::Now() - latest_->taken_at < config_.scan_interval) return latest_;
  }
  (void)TakeSnapshot();
  absl::MutexLock lock(&mu_);
  return latest_;  // on a failed scan: the last good one
}

absl::Status WindowsAgent::Ready() const {
  absl::MutexLock lock(&mu_);
  if (latest_ == nullptr) return absl::UnavailableError("first scan not done yet");
  return absl::OkStatus();
}

void WindowsAgent::WriteCsvSnapshot() {
  auto snap = TakeSnapshot();
  if (!snap.ok()) {
    if (self_metrics_ != nullptr) self_metrics_->RecordSnapshotFailure();
    return;
  }
  auto path = writer_->Write(**snap, stop_requested_);
  if (path.ok()) {
    LogInfo("process snapshot written", {{"path", *path}, {"rows", (*snap)->processes.size()}});
    if (self_metrics_ != nullptr) self_metrics_->RecordSnapshotSuccess(absl::Now());
  } else if (absl::IsCancelled(path.status())) {
    LogWarning("Skipping incomplete process snapshot (snapshot in progress)");
  } else {
    LogError("process snapshot failed", {{"error", path.status().ToString()}});
    if (self_metrics_ != nullptr) self_metrics_->RecordSnapshotFailure();
  }
}

absl::Status WindowsAgent::Run() {
  self_metrics_ = std::make_shared<SelfMetrics>(NODEPROC_VERSION, NODEPROC_GIT_COMMIT);
  MetricsOptions metrics_options;
  metrics_options.per_pid = config_.process_metrics_per_pid;
  metrics_options.max_process_series = static_cast<size_t>(config_.max_process_series);
  collectable_ = std::make_shared<MetricsCollectable>([this] { return SnapshotForScrape(); }, metrics_options);
  if (!config_.listen_address.empty()) {
    MetricsServerOptions http;
    http.listen_address = config_.listen_address;
    http.basic_auth_user = config_.web_basic_auth_user;
    http.basic_auth_password_file = config_.web_basic_auth_password_file;
    http.bearer_token_file = config_.web_bearer_token_file;
    http.readiness = [this] { return Ready(); };
    server_ = std::make_unique<MetricsServer>(http);
    server_->RegisterCollectable(collectable_);
    server_->RegisterCollectable(self_metrics_);
    if (absl::Status s = server_->Start(); !s.ok()) return s;
  }
  LogInfo("nodeproc started",
          {{"version", NODEPROC_VERSION}, {"platform", "windows"}, {"listen", config_.listen_address},
           {"snapshot_dir", config_.snapshot_dir.empty() ? "(disabled)" : config_.snapshot_dir},
           {"kubelet", "(host-only)"}, {"machine_id", config_.machine_id}});

  SampleOnce();
  std::thread sampler([this] {
    while (!stop_.WaitForNotificationWithTimeout(config_.cpu_sample_interval)) SampleOnce();
  });
  std::thread snapshots;
  if (writer_ != nullptr) {
    snapshots = std::thread([this] {
      // Two sampler passes first, so cpu_5s is real in the first file.
      if (stop_.WaitForNotificationWithTimeout(config_.snapshot_wait)) return;
      SampleOnce();
      do {
        WriteCsvSnapshot();
      } while (!stop_.WaitForNotificationWithTimeout(config_.snapshot_interval));
    });
  }
  (void)TakeSnapshot();  // ready as soon as possible

  stop_.WaitForNotification();
  LogInfo("shutting down");
  if (snapshots.joinable()) snapshots.join();
  sampler.join();
  if (server_ != nullptr) server_->Stop();
  LogInfo("nodeproc stopped");
  return absl::OkStatus();
}

}  // namespace nodeproc::win
