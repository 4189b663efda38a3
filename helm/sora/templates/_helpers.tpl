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

{{/* The storage emulator's Deployment, Service, Secret and claim share this name. */}}
{{- define "sora.emulatorName" -}}
{{- printf "%s-emulator" (include "sora.fullname" .) }}
{{- end }}

{{/* Azurite's blob port. Fixed: 10000 is among the ports for which the Azure SDK parses the account from the
URL's path (an emulator's path-style URL) rather than from the host name. */}}
{{- define "sora.emulatorPort" -}}
10000
{{- end }}

{{/* The emulator's public development account (Microsoft documents its key for the emulators; it guards nothing). */}}
{{- define "sora.emulatorConnectionString" -}}
{{- $endpoint := printf "http://%s.%s.svc.%s:%s/devstoreaccount1" (include "sora.emulatorName" .) .Release.Namespace .Values.clusterDomain (include "sora.emulatorPort" .) }}
{{- printf "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=%s;" $endpoint }}
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
{{- if and .Values.storage.emulator.enabled (or .Values.storage.existingSecret .Values.storage.workloadIdentity.enabled) }}
{{- fail "storage: set one of storage.emulator.enabled, storage.existingSecret and storage.workloadIdentity.enabled: the emulator's connection string would replace the account's credential" }}
{{- end }}
{{- if not .Values.job.existingConfigMap }}
{{- include "sora.validateJobStore" . }}
{{- end }}
{{- end }}

{{/* The job YAML's store against the storage values: what the pods are given must reach what the job names. */}}
{{- define "sora.validateJobStore" -}}
{{- $job := fromYaml .Values.job.config }}
{{- if hasKey $job "Error" }}
{{- fail (printf "job.config is not a YAML mapping: %s" (get $job "Error")) }}
{{- end }}
{{- $store := dig "checkpoint" "store" "" $job | default "" | toString }}
{{- $nodes := int .Values.nnodes.max }}
{{- $shared := .Values.storage.sharedVolume }}
{{- $blob := regexMatch "^(?i)(az|https?)://" $store }}
{{- if and (gt $nodes 1) (not $store) }}
{{- fail (printf "job.config: checkpoint.store is not set, so each of the %d nodes (nnodes.max) would keep its checkpoints in its own pod; name a blob store (az://CONTAINER/PREFIX with storage.emulator.enabled or storage.existingSecret, or https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX with storage.workloadIdentity.enabled) or a directory under storage.sharedVolume.mountPath" $nodes) }}
{{- end }}
{{- if and (gt $nodes 1) $store (not $blob) }}
{{- if not $shared.claimName }}
{{- fail (printf "job.config: checkpoint.store '%s' is a directory, which each of the %d nodes (nnodes.max) would see on its own disk; name a blob store (az://CONTAINER/PREFIX) or set storage.sharedVolume.claimName and put the store under storage.sharedVolume.mountPath (%s)" $store $nodes $shared.mountPath) }}
{{- end }}
{{- if not (or (eq $store $shared.mountPath) (hasPrefix (printf "%s/" $shared.mountPath) $store)) }}
{{- fail (printf "job.config: checkpoint.store '%s' is not under storage.sharedVolume.mountPath (%s), so it is not on the shared volume; write e.g. %s/%s" $store $shared.mountPath $shared.mountPath (default "job" (get $job "name"))) }}
{{- end }}
{{- end }}
{{- range $key, $location := dict "checkpoint.store" $store "data.path" (dig "data" "path" "" $job | default "" | toString) }}
{{- include "sora.validateBlobLocation" (dict "key" $key "location" $location "Values" $.Values) }}
{{- end }}
{{- end }}

{{/* One blob location of the job YAML (dict: key, location, Values): az:// takes its account from the connection
string, which only the emulator or a Secret's connectionStringKey give the pods; the emulator serves az:// only. */}}
{{- define "sora.validateBlobLocation" -}}
{{- $storage := .Values.storage }}
{{- $connectionString := or $storage.emulator.enabled (and $storage.existingSecret $storage.connectionStringKey) }}
{{- if and (regexMatch "^(?i)az://" .location) (not $connectionString) }}
{{- fail (printf "job.config: %s '%s' takes its account from AZURE_STORAGE_CONNECTION_STRING, which the pods get only from storage.emulator.enabled or storage.existingSecret with storage.connectionStringKey; with workload identity or an account key name the account's URL, https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX" .key .location) }}
{{- end }}
{{- if and $storage.emulator.enabled (regexMatch "^(?i)https?://" .location) }}
{{- fail (printf "job.config: %s '%s' is a URL, but storage.emulator.enabled serves its containers as az://CONTAINER/PREFIX (the account comes from the connection string the pods get)" .key (regexReplaceAll "\\?.*" .location "")) }}
{{- end }}
{{- end }}

{{/* Pod labels every pod shares (workload identity's webhook selects pods by its label). */}}
{{- define "sora.podLabels" -}}
{{ include "sora.selectorLabels" . }}
{{- if .Values.storage.workloadIdentity.enabled }}
azure.workload.identity/use: "true"
{{- end }}
{{- end }}

{{/* Environment shared by coordinator and agents: storage credentials only ever by reference to a Secret (the
emulator's too, though its key is public: one rule for every connection string). */}}
{{- define "sora.storageEnv" -}}
{{- if .Values.storage.emulator.enabled -}}
- name: AZURE_STORAGE_CONNECTION_STRING
  valueFrom:
    secretKeyRef:
      name: {{ include "sora.emulatorName" . }}
      key: connectionString
{{- else if .Values.storage.existingSecret }}
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

{{/* Before the coordinator or an agent starts, the emulator must accept connections: a store that refuses them
at the first fence would spend the coordinator's restarts while Azurite's image is still being pulled. The sora
image's bash connects with /dev/tcp; the pod shows Init:0/1 (and this log) until the emulator is up. */}}
{{- define "sora.waitForStore" -}}
{{- if .Values.storage.emulator.enabled -}}
- name: wait-for-store
  image: {{ include "sora.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  command:
    - bash
    - -c
    - |
      until (exec 3<>"/dev/tcp/$STORE_HOST/$STORE_PORT") 2>/dev/null; do
        if (( SECONDS % 10 == 0 )); then echo "waiting for the storage emulator at $STORE_HOST:$STORE_PORT"; fi
        sleep 1
      done
  env:
    - name: STORE_HOST
      value: {{ printf "%s.%s.svc.%s" (include "sora.emulatorName" .) .Release.Namespace .Values.clusterDomain | quote }}
    - name: STORE_PORT
      value: {{ include "sora.emulatorPort" . | quote }}
  resources:
    requests:
      cpu: 10m
      memory: 16Mi
    limits:
      memory: 64Mi
{{- end }}
{{- end }}

{{/* The shared volume (storage.sharedVolume.claimName), at the same path in every pod. */}}
{{- define "sora.sharedVolumeMount" -}}
{{- if .Values.storage.sharedVolume.claimName -}}
- name: store
  mountPath: {{ .Values.storage.sharedVolume.mountPath }}
{{- end }}
{{- end }}

{{- define "sora.sharedVolume" -}}
{{- if .Values.storage.sharedVolume.claimName -}}
- name: store
  persistentVolumeClaim:
    claimName: {{ .Values.storage.sharedVolume.claimName }}
{{- end }}
{{- end }}
