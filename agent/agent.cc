#include "agent/agent.h"

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/probe_selection.h"
#include "core/absl_compat.h"
#include "core/log.h"
#include "agent/kubelet_wiring.h"
#include "agent/module_options.h"
#include "agent/upload_wiring.h"
#include "upload/upload_metrics.h"

namespace nodeproc {
namespace {

// How long shutdown waits for a scan in progress before leaving without it.
constexpr absl::Duration kScannerStopWait = absl::Seconds(5);

}  // namespace

Agent::Agent(AgentConfig config) : config_(std::move(config)) {}

Agent::~Agent() {
  RequestStop();
  if (server_ != nullptr) server_->Stop();
}

absl::Status Agent::Init() {
  started_at_ = absl::Now();
  resolver_ = std::make_unique<ContainerResolver>(config_.proc_root);

  auto filter = ContainerFilter::Create(config_.container_include, config_.container_exclude,
                                        config_.exclude_pause_containers);
  if (!filter.ok()) return filter.status();
  filter_.emplace(*std::move(filter));

  auto privacy = CmdlinePrivacy::Create(PrivacyOptionsOf(config_));
  if (!privacy.ok()) return privacy.status();
  privacy_.emplace(*std::move(privacy));

  if (config_.kubelet_enabled()) {
    auto source = MakeKubeletSource(config_);
    if (!source.ok()) return source.status();
    kubelet_source_ = *std::move(source);
    kubelet_ = MakeKubeletCache(kubelet_source_.get(), config_, /*background=*/!config_.one_shot);
  }

  auto probe = SelectProbe(config_.probe, config_.proc_root,
                           static_cast<size_t>(config_.max_cmdline_bytes));
  if (!probe.ok()) return probe.status();
  probe_ = std::move(probe->probe);
  probe_metrics_ = std::make_shared<ProbeMetrics>(probe->name, std::move(probe->exit_records_dropped));
  probe_name_ = probe->name;
  bpf_unavailable_ = probe->bpf_unavailable;

  PipelineParts parts;
  parts.probe = probe_.get();
  parts.windows = &windows_;
  parts.resolver = resolver_.get();
  parts.kubelet = kubelet_.get();
  parts.filter = &*filter_;
  parts.privacy = &*privacy_;
  parts.kubelet_max_age = config_.kubelet_max_age;
  pipeline_ = std::make_unique<SnapshotPipeline>(parts);
  accounting_ = std::make_unique<ProcessAccounting>(AccountingOptionsOf(config_));

  if (!config_.snapshot_dir.empty()) {
    SnapshotWriterOptions w = WriterOptionsOf(config_, started_at_);
    if (!config_.upload_bucket.empty() && !config_.one_shot) {
      auto uploader = MakeUploader(config_, SnapshotWriter::SanitizeMachineId(config_.machine_id));
      if (!uploader.ok()) return uploader.status();
      uploader_ = *std::move(uploader);
      w.keep_for_upload = [u = uploader_.get()](const std::string& p) { return u->KeepForUpload(p); };
      // A complete process CSV goes to the upload thread (before retention weighs the spool).
      w.on_written = [u = uploader_.get()](const std::string& p) { u->Enqueue(p); };
    }
    writer_ = std::make_unique<SnapshotWriter>(w);
    if (config_.snapshot_files) {
      FilesSnapshotOptions f;
      f.proc_root = config_.proc_root;
      f.max_files_per_process = static_cast<size_t>(config_.max_files_per_process);
      f.count_packages = config_.package_metrics;
      files_ = std::make_unique<FilesSnapshot>(f);
    }
  }
  return absl::OkStatus();
}

void Agent::LogProbeChoice() const {
  nodeproc::LogProbeChoice(probe_name_, bpf_unavailable_, config_.proc_root);
}

void Agent::RequestStop() {
  if (stop_requested_.exchange(true)) return;
  {
    absl::MutexLock lock(&scanner_mu_);
    scanner_stopping_ = true;
  }
  { absl::MutexLock lock(&mu_); }  // wakes FreshSnapshot waiters (they re-check stop_requested_)
  stop_.Notify();
}

void Agent::SampleOnce() {
  static thread_local std::vector<CpuSample> samples;
  const absl::Time start = absl::Now();
  if (absl::Status s = probe_->SampleCpu(&samples); !s.ok()) {
    LogLimited(LogLevel::kError, "sampler", absl::StatusCodeToString(s.code()),
               "CPU sampling failed", {{"error", s.ToString()}});
    return;
  }
  LogRecovered("sampler", "CPU sampling works again");
  windows_.Observe(absl::Now(), samples);
  if (self_metrics_ != nullptr) {
    self_metrics_->ObserveSamplerDuration(absl::Now() - start);
  }
}

void Agent::RefreshKubeletNow() {
  if (kubelet_ != nullptr) kubelet_->RefreshNow();
}

absl::StatusOr<std::shared_ptr<const Snapshot>> Agent::TakeSnapshot() {
  auto snap = pipeline_->Build();
  if (!snap.ok()) {
    LogError("full scan failed", {{"proc_root", config_.proc_root}, {"error", snap.status().ToString()}});
    return snap;
  }
  Publish(*snap);
  return snap;
}

void Agent::Publish(std::shared_ptr<const Snapshot> snap) {
  if (self_metrics_ != nullptr) {
    self_metrics_->ObserveScanDuration(snap->scan_duration);
    self_metrics_->SetProcessesSeen(snap->processes.size());
  }
  absl::MutexLock lock(&mu_);
  if (latest_ == nullptr || latest_->taken_at <= snap->taken_at) latest_ = std::move(snap);
}

std::shared_ptr<const Snapshot> Agent::SnapshotForScrape() {
  UpdateKubeletMetrics();
  absl::MutexLock lock(&mu_);
  rendered_ = latest_;
  return latest_;
}

void Agent::ScanOnce() {
  {
    absl::MutexLock lock(&scanner_mu_);
    scan_requested_ = false;
    scan_started_at_ = absl::Now();
  }
  auto snap = pipeline_->Build();
  if (snap.ok()) {
    (*snap)->process_series =
        accounting_->Observe((*snap)->taken_at, (*snap)->processes, (*snap)->exited);
    Publish(*std::move(snap));
  } else {
    LogError("full scan failed", {{"proc_root", config_.proc_root}, {"error", snap.status().ToString()}});
  }
  absl::MutexLock lock(&scanner_mu_);
  if (stuck_reported_) {
    LogInfo("scanner recovered", {{"scan_seconds", absl::ToDoubleSeconds(absl::Now() - scan_started_at_)}});
    stuck_reported_ = false;
  }
  scan_started_at_ = absl::InfinitePast();
  if (snap.ok()) {
    ++scans_succeeded_;
    last_scan_success_ = absl::Now();
  } else {
    ++scans_failed_;
  }
}

void Agent::ScannerLoop() {
  for (;;) {
    ScanOnce();
    absl::MutexLock lock(&scanner_mu_);
    auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(scanner_mu_) {
      return scan_requested_ || scanner_stopping_;
    };
    scanner_mu_.AwaitWithTimeout(absl::Condition(&wake), config_.scan_interval);
    if (scanner_stopping_) break;
  }
  absl::MutexLock lock(&scanner_mu_);
  scanner_done_ = true;
}

absl::StatusOr<std::shared_ptr<const Snapshot>> Agent::FreshSnapshot(absl::Duration timeout) {
  const absl::Time asked = absl::Now();
  {
    absl::MutexLock lock(&scanner_mu_);
    scan_requested_ = true;
  }
  absl::MutexLock lock(&mu_);
  auto fresh = [this, asked]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return (latest_ != nullptr && latest_->taken_at >= asked) || stop_requested_.load();
  };
  mu_.AwaitWithTimeout(absl::Condition(&fresh), timeout);
  if (latest_ == nullptr || latest_->taken_at < asked) {
    if (stop_requested_.load()) return absl::CancelledError("stopping");
    return absl::DeadlineExceededError(absl::StrCat(
        "no fresh scan within ", absl::FormatDuration(timeout), " (scanner stuck or failing)"));
  }
  return latest_;
}

void Agent::CheckScanner() {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&scanner_mu_);
  if (scan_started_at_ == absl::InfinitePast()) return;
  const absl::Duration running = now - scan_started_at_;
  if (running <= config_.scan_deadline) return;
  // First report at the deadline, then at most one line per deadline while it lasts.
  if (stuck_reported_ && now - stuck_logged_at_ < config_.scan_deadline) return;
  stuck_reported_ = true;
  stuck_logged_at_ = now;
  LogWarning("scanner stuck: a full scan runs past --scan-deadline; /metrics keeps serving the "
             "last snapshot",
             {{"running_seconds", static_cast<int64_t>(absl::ToDoubleSeconds(running))},
              {"deadline", absl::FormatDuration(config_.scan_deadline)}});
}

ScannerState Agent::CurrentScannerState() const {
  ScannerState s;
  s.now = absl::Now();
  s.deadline = config_.scan_deadline;
  s.kubelet_enabled = kubelet_ != nullptr;
  {
    absl::MutexLock lock(&mu_);
    // The snapshot the scrape in progress rendered (the collectables run in turn), so that the
    // kubelet age is present exactly when that scrape rendered kubelet series.
    const std::shared_ptr<const Snapshot>& shown = rendered_ != nullptr ? rendered_ : latest_;
    if (shown != nullptr) {
      s.snapshot_taken_at = shown->taken_at;
      s.kubelet_stale = shown->kubelet_stale;
      if (shown->kubelet_summary != nullptr) s.kubelet_fetched_at = shown->kubelet_fetched_at;
    }
  }
  absl::MutexLock lock(&scanner_mu_);
  s.last_success = last_scan_success_;
  s.scan_started_at = scan_started_at_;
  s.scans_succeeded = scans_succeeded_;
  s.scans_failed = scans_failed_;
  return s;
}

void Agent::UpdateKubeletMetrics() {
  if (self_metrics_ == nullptr || kubelet_ == nullptr) return;
  KubeletCacheStats stats = kubelet_->Stats();
  self_metrics_->SetKubeletRequestCounts(stats.outcomes);
  self_metrics_->SetKubeletDroppedCounts(stats.dropped);
  // The age of the kubelet data is ScannerMetrics' nodeproc_kubelet_cache_age_seconds: the age
  // of the data the rendered snapshot carries, present exactly when it carries some.
}

absl::Status Agent::Ready() const {
  bool kubelet_stale = false;
  {
    absl::MutexLock lock(&mu_);
    if (latest_ == nullptr) return absl::UnavailableError("first scan not done yet");
    kubelet_stale = latest_->kubelet_stale;
  }
  {
    absl::MutexLock lock(&scanner_mu_);
    if (scan_started_at_ != absl::InfinitePast()) {
      const absl::Duration running = absl::Now() - scan_started_at_;
      if (running > config_.scan_deadline) {
        return absl::UnavailableError(absl::StrCat(
            "scanner stuck for ", absl::ToInt64Seconds(running), "s (--scan-deadline=",
            absl::FormatDuration(config_.scan_deadline), "); /metrics serves the last snapshot"));
      }
    }
  }
  if (kubelet_ != nullptr) {
    KubeletCacheStats stats = kubelet_->Stats();
    if (stats.last_success == absl::InfinitePast()) {
      return absl::UnavailableError("kubelet not reached yet");
    }
    if (kubelet_stale) {
      return absl::UnavailableError(absl::StrCat(
          "kubelet data older than --kubelet-max-age=", absl::FormatDuration(config_.kubelet_max_age),
          " (last success ", absl::ToInt64Seconds(absl::Now() - stats.last_success),
          "s ago): pod labels and kubelet series are not served"));
    }
  }
  return absl::OkStatus();
}

void Agent::SamplerLoop() {
  do {
    SampleOnce();
  } while (!stop_.WaitForNotificationWithTimeout(config_.cpu_sample_interval));
}

void Agent::WriteCsvSnapshot() {
  // The scanner makes the scan (never two at once); wait for it at most one deadline.
  auto snap = FreshSnapshot(config_.scan_deadline);
  if (!snap.ok()) {
    if (absl::IsCancelled(snap.status())) return;
    LogError("process snapshot failed", {{"error", snap.status().ToString()}});
    if (self_metrics_ != nullptr) self_metrics_->RecordSnapshotFailure();
    return;
  }
  auto path = writer_->Write(**snap, stop_requested_);
  if (path.ok()) {
    LogInfo("process snapshot written", {{"path", *path}, {"rows", (*snap)->processes.size()}});
    if (self_metrics_ != nullptr) self_metrics_->RecordSnapshotSuccess(absl::Now());
    if (files_ != nullptr) WriteFilesSnapshot(**snap, *path);
  } else if (absl::IsCancelled(path.status())) {
    LogWarning("Skipping incomplete process snapshot (snapshot in progress)");
    if (uploader_ != nullptr) LogWarning("Skipping incomplete process snapshot upload (snapshot in progress)");
  } else {
    LogError("process snapshot failed", {{"error", path.status().ToString()}});
    if (self_metrics_ != nullptr) self_metrics_->RecordSnapshotFailure();
  }
}

void Agent::WriteFilesSnapshot(const Snapshot& snapshot, const std::string& process_csv) {
  auto result = files_->Write(snapshot, writer_->FilesPath(snapshot.taken_at), stop_requested_);
  if (result.ok()) {
    const int64_t us = absl::ToInt64Microseconds(result->duration);
    const int64_t us_per_process = result->processes > 0 ? us / static_cast<int64_t>(result->processes) : 0;
    LogInfo("files snapshot written",
            {{"path", result->path}, {"processes", result->processes}, {"skipped", result->skipped},
             {"rows", result->rows}, {"dropped_files", result->dropped_files},
             {"package_indexes", files_->package_index_loads()},
             {"duration_ms", us / 1000}, {"us_per_process", us_per_process}});
    if (self_metrics_ != nullptr) self_metrics_->RecordFilesSnapshotSuccess(result->duration, result->rows);
    if (result->packages != nullptr) AttachLoadedPackages(std::move(result->packages));
    if (uploader_ != nullptr) uploader_->Enqueue(result->path);
  } else if (absl::IsCancelled(result.status())) {
    // The process CSV of this snapshot is complete and stays; its files CSV is dropped whole.
    LogWarning("Skipping incomplete process snapshot (snapshot in progress)",
               {{"part", "files"}, {"kept", process_csv}});
    if (uploader_ != nullptr) {
      LogWarning("Skipping incomplete process snapshot upload (snapshot in progress)", {{"part", "files"}});
    }
  } else {
    LogError("files snapshot failed", {{"error", result.status().ToString()}});
    if (self_metrics_ != nullptr) self_metrics_->RecordFilesSnapshotFailure();
  }
}

void Agent::AttachLoadedPackages(std::shared_ptr<const LoadedPackages> packages) {
  pipeline_->SetLoadedPackages(packages);
  // Scrapes may keep serving the latest snapshot for a while: give it the counts too (a copy,
  // since published snapshots are immutable), unless a newer scan replaced it meanwhile.
  std::shared_ptr<const Snapshot> latest;
  {
    absl::MutexLock lock(&mu_);
    latest = latest_;
  }
  if (latest == nullptr || latest->loaded_packages == packages) return;
  auto copy = std::make_shared<Snapshot>(*latest);
  copy->loaded_packages = std::move(packages);
  absl::MutexLock lock(&mu_);
  if (latest_ == latest) latest_ = std::move(copy);
}

void Agent::SnapshotLoop() {
  // Let the sampler see every process twice first, so cpu_5s is real in the first file.
  if (stop_.WaitForNotificationWithTimeout(config_.snapshot_wait)) return;
  do {
    WriteCsvSnapshot();
  } while (!stop_.WaitForNotificationWithTimeout(config_.snapshot_interval));
}

absl::Status Agent::Run() {
  self_metrics_ = std::make_shared<SelfMetrics>(NODEPROC_VERSION, NODEPROC_GIT_COMMIT);
  if (files_ != nullptr) self_metrics_->EnableFilesSnapshotMetrics();
  MetricsOptions metrics_options;
  metrics_options.per_pid = config_.process_metrics_per_pid;
  metrics_options.max_process_series = static_cast<size_t>(config_.max_process_series);
  collectable_ = std::make_shared<MetricsCollectable>([this] { return SnapshotForScrape(); },
                                                      metrics_options);
  scanner_metrics_ = std::make_shared<ScannerMetrics>([this] { return CurrentScannerState(); });

  if (!config_.listen_address.empty()) {
    HttpServerOptions http;
    http.listen_address = config_.listen_address;
    http.tls_cert_file = config_.web_tls_cert_file;
    http.tls_key_file = config_.web_tls_key_file;
    http.basic_auth_user = config_.web_basic_auth_user;
    http.basic_auth_password_file = config_.web_basic_auth_password_file;
    http.bearer_token_file = config_.web_bearer_token_file;
    http.readiness = [this] { return Ready(); };
    server_ = std::make_unique<HttpServer>(http);
    server_->RegisterCollectable(collectable_);
    server_->RegisterCollectable(self_metrics_);
    server_->RegisterCollectable(scanner_metrics_);
    server_->RegisterCollectable(probe_metrics_);
    if (uploader_ != nullptr) {
      upload_metrics_ = std::make_shared<UploadMetrics>([u = uploader_] { return u->Stats(); });
      server_->RegisterCollectable(upload_metrics_);
    }
    // The server logs the address it listens on.
    if (absl::Status s = server_->Start(); !s.ok()) return s;
  }
  LogProbeChoice();
  LogInfo("nodeproc started",
          {{"version", NODEPROC_VERSION}, {"proc_root", config_.proc_root},
           {"listen", config_.listen_address},
           {"snapshot_dir", config_.snapshot_dir.empty() ? "(disabled)" : config_.snapshot_dir},
           {"snapshot_files", files_ != nullptr ? (config_.package_metrics ? "on,package-metrics" : "on") : "off"},
           {"kubelet", config_.kubelet_enabled() ? (config_.kubelet_url.empty() ? "fixture" : config_.kubelet_url)
                                                 : "(host-only)"},
           {"machine_id", config_.machine_id}});

  SampleOnce();
  if (kubelet_ != nullptr) kubelet_->Get();  // start the first refresh in the background
  std::thread sampler([this] { SamplerLoop(); });
  std::thread scanner([this] { ScannerLoop(); });  // its first scan starts now: ready soon
  if (uploader_ != nullptr) uploader_->Start();
  std::thread snapshots;
  if (writer_ != nullptr) snapshots = std::thread([this] { SnapshotLoop(); });

  // Watchdog: this thread checks the scanner once a second until stopped.
  while (!stop_.WaitForNotificationWithTimeout(absl::Seconds(1))) CheckScanner();
  LogInfo("shutting down");
  if (snapshots.joinable()) snapshots.join();
  if (uploader_ != nullptr) uploader_->Stop();  // an upload in flight is cut: pending until restart
  sampler.join();
  bool scanner_done = false;
  {
    absl::MutexLock lock(&scanner_mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(scanner_mu_) { return scanner_done_; };
    scanner_done = scanner_mu_.AwaitWithTimeout(absl::Condition(&done), kScannerStopWait);
  }
  if (server_ != nullptr) server_->Stop();
  if (!scanner_done) {
    // A read in /proc that never returns cannot be interrupted: leave without waiting for it.
    LogWarning("scanner still blocked in a read at shutdown; exiting without it",
               {{"waited", absl::FormatDuration(kScannerStopWait)}});
    LogInfo("nodeproc stopped");
    std::fflush(nullptr);
    std::_Exit(0);
  }
  scanner.join();
  LogInfo("nodeproc stopped");
  return absl::OkStatus();
}

}  // namespace nodeproc
