{{/* Chart name, truncated to 63 characters (a DNS label). */}}
{{- define "nodeproc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: release-chart, or the release name when it already contains the chart name. */}}
{{- define "nodeproc.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "nodeproc.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nodeproc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nodeproc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "nodeproc.labels" -}}
helm.sh/chart: {{ include "nodeproc.chart" . }}
{{ include "nodeproc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: agent
app.kubernetes.io/part-of: nodeproc
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "nodeproc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "nodeproc.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "nodeproc.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Secret holding the anonymization key, when one is used. */}}
{{- define "nodeproc.anonymizeSecretName" -}}
{{- if .Values.agent.anonymize.existingSecret -}}
{{- .Values.agent.anonymize.existingSecret -}}
{{- else if .Values.agent.anonymize.key -}}
{{- printf "%s-anonymize" (include "nodeproc.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "nodeproc.anonymizeSecretKey" -}}
{{- if .Values.agent.anonymize.existingSecret -}}
{{- .Values.agent.anonymize.existingSecretKey -}}
{{- else -}}
key
{{- end -}}
{{- end -}}

{{/* True ("true") when the agent reads /pods, so RBAC must allow it. */}}
{{- define "nodeproc.fetchPods" -}}
{{- if and .Values.kubelet.enabled .Values.kubelet.fetchPods -}}true{{- end -}}
{{- end -}}

{{/* The Windows DaemonSet's pods: a name of their own, so that the Service and the PodMonitor
(which select the Linux pods, the ones with /metrics) never pick them. */}}
{{- define "nodeproc.windowsSelectorLabels" -}}
app.kubernetes.io/name: {{ include "nodeproc.name" . | trunc 55 | trimSuffix "-" }}-windows
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "nodeproc.windowsLabels" -}}
helm.sh/chart: {{ include "nodeproc.chart" . }}
{{ include "nodeproc.windowsSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: agent-windows
app.kubernetes.io/part-of: nodeproc
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "nodeproc.windowsImage" -}}
{{- if .Values.windows.image.digest -}}
{{- printf "%s@%s" .Values.windows.image.repository .Values.windows.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.windows.image.repository (default .Chart.AppVersion .Values.windows.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* "true" when the agent itself serves TLS: web.tls, or --web-tls-cert-file in agent.extraArgs
(not behind kube-rbac-proxy, which then terminates TLS). */}}
{{- define "nodeproc.agentTls" -}}
{{- if not .Values.kubeRbacProxy.enabled -}}
{{- if .Values.web.tls.enabled -}}true{{- else -}}
{{- range .Values.agent.extraArgs -}}{{- if hasPrefix "--web-tls-cert-file" . -}}true{{- end -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "true" when the metrics port (the agent's, or kube-rbac-proxy's) speaks HTTPS. */}}
{{- define "nodeproc.httpsPort" -}}
{{- if or .Values.kubeRbacProxy.enabled (include "nodeproc.agentTls" .) -}}true{{- end -}}
{{- end -}}

{{/* "true" when the pods need a service-account token (kubelet API, kube-rbac-proxy reviews). */}}
{{- define "nodeproc.needsToken" -}}
{{- if or .Values.kubelet.enabled .Values.kubeRbacProxy.enabled -}}true{{- end -}}
{{- end -}}

{{- define "nodeproc.kubeRbacProxyImage" -}}
{{- if .Values.kubeRbacProxy.image.digest -}}
{{- printf "%s@%s" .Values.kubeRbacProxy.image.repository .Values.kubeRbacProxy.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.kubeRbacProxy.image.repository .Values.kubeRbacProxy.image.tag -}}
{{- end -}}
{{- end -}}
