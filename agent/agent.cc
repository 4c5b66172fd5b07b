#include "agent/agent.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "collectors/procfs_probe.h"
#include "core/absl_compat.h"
#include "core/log.h"
#include "agent/kubelet_wiring.h"
#include "agent/upload_wiring.h"
#include "upload/upload_metrics.h"

namespace nodeproc {

Agent::Agent(AgentConfig config) : config_(std::move(config)) {}

Agent::~Agent() {
  RequestStop();
  if (server_ != nullptr) server_->Stop();
}

absl::Status Agent::Init() {
  started_at_ = absl::Now();
  probe_ = std::make_unique<ProcfsProbe>(config_.proc_root);
  resolver_ = std::make_unique<ContainerResolver>(config_.proc_root);

  auto filter = ContainerFilter::Create(config_.container_include, config_.container_exclude,
                                        config_.exclude_pause_containers);
  if (!filter.ok()) return filter.status();
  filter_.emplace(*std::move(filter));

  CmdlinePrivacyOptions privacy_options;
  privacy_options.anonymize = config_.anonymize;
  privacy_options.hmac_key = config_.anonymize_key;
  privacy_options.scrub = config_.scrub_secrets;
  privacy_options.extra_patterns = config_.scrub_patterns;
  auto privacy = CmdlinePrivacy::Create(privacy_options);
  if (!privacy.ok()) return privacy.status();
  privacy_.emplace(*std::move(privacy));

  if (config_.kubelet_enabled()) {
    auto source = MakeKubeletSource(config_);
    if (!source.ok()) return source.status();
    kubelet_source_ = *std::move(source);
    kubelet_ = MakeKubeletCache(kubelet_source_.get(), config_, /*background=*/!config_.one_shot);
  }

  PipelineParts parts;
  parts.probe = probe_.get();
  parts.windows = &windows_;
  parts.resolver = resolver_.get();
  parts.kubelet = kubelet_.get();
  parts.filter = &*filter_;
  parts.privacy = &*privacy_;
  pipeline_ = std::make_unique<SnapshotPipeline>(parts);

  if (!config_.snapshot_dir.empty()) {
    SnapshotWriterOptions w;
    w.dir = config_.snapshot_dir;
    w.machine_id = config_.machine_id;
    w.agent_start = started_at_;
    w.keep_files = config_.snapshot_keep_files;
    w.max_age = config_.snapshot_max_age;
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

void Agent::RequestStop() {
  if (stop_requested_.exchange(true)) return;
  stop_.Notify();
}

void Agent::SampleOnce() {
  static thread_local std::vector<CpuSample> samples;
  const absl::Time start = absl::Now();
  if (absl::Status s = probe_->SampleCpu(&samples); !s.ok()) {
    LogOnce(LogLevel::kError, "sampler:" + std::string(ToStd(s.message())), "CPU sampling failed",
            {{"error", s.ToString()}});
    return;
  }
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
  absl::MutexLock scan_lock(&scan_mu_);  // scrapes queue here and share the scan just made
  {
    absl::MutexLock lock(&mu_);
    if (latest_ != nullptr && absl::Now() - latest_->taken_at < config_.scan_min_interval) {
      return latest_;
    }
  }
  auto snap = TakeSnapshot();
  absl::MutexLock lock(&mu_);
  return latest_;  // on a failed scan: the last good one (may be null before the first)
}

void Agent::UpdateKubeletMetrics() {
  if (self_metrics_ == nullptr || kubelet_ == nullptr) return;
  KubeletCacheStats stats = kubelet_->Stats();
  self_metrics_->SetKubeletRequestCounts(stats.outcomes);
  if (stats.last_success != absl::InfinitePast()) self_metrics_->SetKubeletDataTime(stats.last_success);
}

absl::Status Agent::Ready() const {
  {
    absl::MutexLock lock(&mu_);
    if (latest_ == nullptr) return absl::UnavailableError("first scan not done yet");
  }
  if (kubelet_ != nullptr) {
    KubeletCacheStats stats = kubelet_->Stats();
    if (stats.last_success == absl::InfinitePast()) {
      return absl::UnavailableError("kubelet not reached yet");
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
  auto snap = TakeSnapshot();
  if (!snap.ok()) {
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
    if (uploader_ != nullptr) {
      upload_metrics_ = std::make_shared<UploadMetrics>([u = uploader_] { return u->Stats(); });
      server_->RegisterCollectable(upload_metrics_);
    }
    // The server logs the address it listens on.
    if (absl::Status s = server_->Start(); !s.ok()) return s;
  }
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
  if (uploader_ != nullptr) uploader_->Start();
  std::thread snapshots;
  if (writer_ != nullptr) snapshots = std::thread([this] { SnapshotLoop(); });
  (void)TakeSnapshot();  // ready as soon as possible

  stop_.WaitForNotification();
  LogInfo("shutting down");
  if (snapshots.joinable()) snapshots.join();
  if (uploader_ != nullptr) uploader_->Stop();  // an upload in flight is cut: pending until restart
  sampler.join();
  if (server_ != nullptr) server_->Stop();
  LogInfo("nodeproc stopped");
  return absl::OkStatus();
}

}  // namespace nodeproc
