#include "agent/kubelet_wiring.h"

#include <utility>

#include "kube/kubelet_client.h"

namespace nodeproc {

absl::StatusOr<std::unique_ptr<KubeletSource>> MakeKubeletSource(const AgentConfig& config) {
  if (!config.kubelet_fixture_dir.empty()) {
    return std::unique_ptr<KubeletSource>(
        std::make_unique<FixtureKubeletSource>(config.kubelet_fixture_dir));
  }
  KubeletClientOptions options;
  options.base_url = config.kubelet_url;
  options.token_file = config.kubelet_token_file;
  options.ca_file = config.kubelet_ca_file;
  options.insecure_skip_verify = config.kubelet_insecure_skip_verify;
  options.tls_server_name = config.kubelet_tls_server_name;
  options.timeout = config.kubelet_timeout;
  auto client = KubeletClient::Create(std::move(options));
  if (!client.ok()) return client.status();
  return std::unique_ptr<KubeletSource>(*std::move(client));
}

std::unique_ptr<KubeletCache> MakeKubeletCache(KubeletSource* source, const AgentConfig& config,
                                               bool background) {
  KubeletCacheOptions options;
  options.validity = config.kubelet_cache_validity;
  options.fetch_pods = config.kubelet_fetch_pods;
  options.limits.max_pods = static_cast<size_t>(config.kubelet_max_pods);
  options.limits.max_containers = static_cast<size_t>(config.kubelet_max_containers);
  options.background = background;
  return std::make_unique<KubeletCache>(source, std::move(options));
}

}  // namespace nodeproc
