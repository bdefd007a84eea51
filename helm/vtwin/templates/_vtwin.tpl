{{- define "vtwin.url" -}}
{{- printf "http://%s.%s:%d" .Values.service.name (include "dnt-common.namespace" .) (int .Values.service.port) -}}
{{- end -}}
{{/* App config: the chart sets where the registry listens and how xApps reach it; .Values.config fills the rest. */}}
{{- define "vtwin.appConfig" -}}
{{- $set := dict "registry_host" "0.0.0.0" "registry_port" (int .Values.service.port) "registry_url" (include "vtwin.url" .) "registry_dir" "/var/lib/vtwin/models" "a1_url" .Values.a1.url "serve" true -}}
{{- toYaml (merge $set (deepCopy (.Values.config | default dict))) -}}
{{- end -}}
