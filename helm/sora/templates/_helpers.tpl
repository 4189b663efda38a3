{{/* Names, labels and the addresses the processes hand each other. */}}

{{- define "sora.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* RELEASE-sora, or the release name alone when it already contains the chart name. Kept short: pod
hostnames (NAME-nodes-INDEX) must fit 63 characters. */}}
{{- define "sora.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sora.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "sora.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "sora.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sora.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sora.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "sora.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sora.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sora.coordinatorName" -}}
{{- printf "%s-coordinator" (include "sora.fullname" .) }}
{{- end }}

{{/* The coordinator's Service, fully qualified: what agents dial and what the coordinator advertises. */}}
{{- define "sora.coordinatorHost" -}}
{{- printf "%s.%s.svc.%s" (include "sora.coordinatorName" .) .Release.Namespace .Values.clusterDomain }}
{{- end }}

{{/* The agents' Indexed Job and the headless Service (its pods' subdomain) share this name. */}}
{{- define "sora.nodesName" -}}
{{- printf "%s-nodes" (include "sora.fullname" .) }}
{{- end }}

{{- define "sora.jobConfigMapName" -}}
{{- default (printf "%s-job" (include "sora.fullname" .)) .Values.job.existingConfigMap }}
{{- end }}

{{- define "sora.tokenSecretName" -}}
{{- default (printf "%s-token" (include "sora.fullname" .)) .Values.apiToken.existingSecret }}
{{- end }}

{{/* --nnodes: N when fixed, MIN:MAX when elastic. */}}
{{- define "sora.nnodes" -}}
{{- if eq (int .Values.nnodes.min) (int .Values.nnodes.max) }}
{{- .Values.nnodes.max }}
{{- else }}
{{- printf "%d:%d" (int .Values.nnodes.min) (int .Values.nnodes.max) }}
{{- end }}
{{- end }}

{{/* Workers per node: one per GPU, or cpuWorkersPerNode on CPU nodes. */}}
{{- define "sora.nprocPerNode" -}}
{{- if gt (int .Values.nodes.gpusPerNode) 0 }}
{{- .Values.nodes.gpusPerNode }}
{{- else }}
{{- .Values.nodes.cpuWorkersPerNode }}
{{- end }}
{{- end }}

{{/* Settings the schema cannot express: checked here so a bad combination fails before anything is applied. */}}
{{- define "sora.validate" -}}
{{- if gt (int .Values.nnodes.min) (int .Values.nnodes.max) }}
{{- fail (printf "nnodes.min (%d) must not exceed nnodes.max (%d)" (int .Values.nnodes.min) (int .Values.nnodes.max)) }}
{{- end }}
{{- if and .Values.storage.existingSecret .Values.storage.workloadIdentity.enabled }}
{{- fail "storage: set either storage.existingSecret or storage.workloadIdentity.enabled, not both" }}
{{- end }}
{{- if and .Values.storage.workloadIdentity.enabled (not .Values.storage.workloadIdentity.clientId) }}
{{- fail "storage.workloadIdentity.clientId: required when storage.workloadIdentity.enabled is true" }}
{{- end }}
{{- if and .Values.storage.workloadIdentity.enabled (not .Values.serviceAccount.create) }}
{{- fail "storage.workloadIdentity.enabled needs serviceAccount.create: true (the chart annotates the account it creates)" }}
{{- end }}
{{- if and .Values.storage.existingSecret (not (or .Values.storage.connectionStringKey .Values.storage.accountKeyKey)) }}
{{- fail "storage.existingSecret is set but neither storage.connectionStringKey nor storage.accountKeyKey names a key in it" }}
{{- end }}
{{- if and (not .Values.job.existingConfigMap) (not .Values.job.config) }}
{{- fail "job: set job.config (the job YAML) or job.existingConfigMap" }}
{{- end }}
{{- end }}

{{/* Pod labels every pod shares (workload identity's webhook selects pods by its label). */}}
{{- define "sora.podLabels" -}}
{{ include "sora.selectorLabels" . }}
{{- if .Values.storage.workloadIdentity.enabled }}
azure.workload.identity/use: "true"
{{- end }}
{{- end }}

{{/* Environment shared by coordinator and agents: storage credentials only ever by reference to a Secret. */}}
{{- define "sora.storageEnv" -}}
{{- if .Values.storage.existingSecret }}
{{- if .Values.storage.connectionStringKey }}
- name: AZURE_STORAGE_CONNECTION_STRING
  valueFrom:
    secretKeyRef:
      name: {{ .Values.storage.existingSecret }}
      key: {{ .Values.storage.connectionStringKey }}
{{- end }}
{{- if .Values.storage.accountKeyKey }}
- name: AZURE_STORAGE_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.storage.existingSecret }}
      key: {{ .Values.storage.accountKeyKey }}
{{- end }}
{{- end }}
{{- end }}

{{/* The token is a file from the Secret, never an environment value: workers inherit the environment. */}}
{{- define "sora.tokenVolume" -}}
- name: token
  secret:
    secretName: {{ include "sora.tokenSecretName" . }}
    defaultMode: 0440
    items:
      - key: {{ .Values.apiToken.key }}
        path: token
{{- end }}

{{- define "sora.tokenMount" -}}
- name: token
  mountPath: /var/run/secrets/sora
  readOnly: true
{{- end }}

{{- define "sora.tokenFile" -}}
/var/run/secrets/sora/token
{{- end }}
