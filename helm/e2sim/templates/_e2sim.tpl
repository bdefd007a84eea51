{{/* The simulator config (sim.config.SimConfig YAML): ric.* from .Values.e2term win over .Values.config. */}}
{{- define "e2sim.appConfig" -}}
{{- $ric := dict "host" .Values.e2term.host "port" (int .Values.e2term.port) "transport" .Values.e2term.transport -}}
{{- toYaml (merge (dict "ric" $ric) (deepCopy (.Values.config | default dict))) -}}
{{- end -}}
