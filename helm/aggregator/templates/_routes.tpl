{{/* DNT_GLOBAL_TWIN (60101) to every htwin worker instance: one rte line, one group per worker (each gets a copy). */}}
{{- define "aggregator.twinRoutes" -}}
{{- $ns := include "dnt-common.namespace" . -}}
{{- $eps := list -}}
{{- range $i := until (int .Values.twinWorkers.replicas) -}}
{{- $eps = append $eps (printf "service-%s-%s-%d-rmr.%s:%d" $ns $.Values.twinWorkers.name $i $ns (int $.Values.ports.rmrData)) -}}
{{- end -}}
{{- toYaml (list (dict "mtype" 60101 "endpoints" $eps)) -}}
{{- end -}}
