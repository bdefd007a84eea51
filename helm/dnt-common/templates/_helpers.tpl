{{/*
dnt-common: names, labels, image, security context, env and probes shared by every DNT-RIC chart.
Templates taking "ctx" get a dict {"ctx": $, "name": <instance name>, ...}; the others take the root context.
*/}}

{{/* The namespace the resources go to: .Values.namespace (ricxapp for xApps), else the release's. */}}
{{- define "dnt-common.namespace" -}}
{{- .Values.namespace | default .Release.Namespace -}}
{{- end -}}

{{/* OSC fullname of an instance: "<namespace>-<name>" (xapp-std's ricxapp.fullname). Arg: {ctx, name}. */}}
{{- define "dnt-common.fullname" -}}
{{- printf "%s-%s" (include "dnt-common.namespace" .ctx) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of an instance (stable across upgrades). Arg: {ctx, name}. */}}
{{- define "dnt-common.selectorLabels" -}}
app: {{ include "dnt-common.fullname" . }}
release: {{ .ctx.Release.Name }}
{{- end -}}

{{/* All labels of an instance. Arg: {ctx, name}. */}}
{{- define "dnt-common.labels" -}}
{{ include "dnt-common.selectorLabels" . }}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ .ctx.Values.component | default "xapp" }}
app.kubernetes.io/part-of: dnt-ric
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The image tag: .Values.image.tag, else the chart's appVersion. */}}
{{- define "dnt-common.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{/* registry/repository:tag */}}
{{- define "dnt-common.image" -}}
{{- $v := .Values.image -}}
{{- if $v.registry -}}
{{- printf "%s/%s:%s" $v.registry $v.repository (include "dnt-common.imageTag" .) -}}
{{- else -}}
{{- printf "%s:%s" $v.repository (include "dnt-common.imageTag" .) -}}
{{- end -}}
{{- end -}}

{{/* imagePullSecrets: a list of names or of {name} objects; nothing when empty. */}}
{{- define "dnt-common.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets -}}
imagePullSecrets:
{{- range . }}
  - name: {{ if kindIs "map" . }}{{ .name }}{{ else }}{{ . }}{{ end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Pod securityContext: non-root uid/gid 10001 (overridable), fsGroup so mounted Secrets are readable. */}}
{{- define "dnt-common.podSecurityContext" -}}
{{- $s := .Values.securityContext -}}
runAsNonRoot: true
runAsUser: {{ $s.runAsUser }}
runAsGroup: {{ $s.runAsGroup }}
fsGroup: {{ $s.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container securityContext: read-only root (an emptyDir holds /tmp), no escalation, no capabilities. */}}
{{- define "dnt-common.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
{{- end -}}

{{/* Python in a read-only root: no .pyc writes, caches under the /tmp emptyDir. */}}
{{- define "dnt-common.pythonEnv" -}}
- name: PYTHONDONTWRITEBYTECODE
  value: "1"
- name: PYTHONUNBUFFERED
  value: "1"
- name: HOME
  value: /tmp
- name: XDG_CACHE_HOME
  value: /tmp/.cache
{{- end -}}

{{/* Extra env from .Values.env (a map name -> value). */}}
{{- define "dnt-common.extraEnv" -}}
{{- range $k, $val := .Values.env }}
- name: {{ $k }}
  value: {{ $val | toString | quote }}
{{- end }}
{{- end -}}

{{/* The /tmp emptyDir volume (readOnlyRootFilesystem). */}}
{{- define "dnt-common.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit | default "256Mi" }}
{{- end -}}

{{/* Scheduling knobs: nodeSelector, tolerations, affinity. */}}
{{- define "dnt-common.scheduling" -}}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
