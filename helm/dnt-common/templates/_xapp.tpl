{{/*
The resources of one xApp instance, OSC ricxapp conventions (ric-plt-appmgr xapp-std, ric-dep K release):
  ConfigMap  configmap-<ns>-<name>-appconfig   config-file.json (descriptor) + app-config.yaml, at /opt/ric/config
  ConfigMap  configmap-<ns>-<name>-routes      the RMR seed route table (RMR_SEED_RT)
  Deployment <ns>-<name>                        hostname <name>, Recreate (one pod per xApp identity)
  Service    service-<ns>-<name>-rmr           rmrdata 4560, rmrroute 4561
  Service    service-<ns>-<name>-http          http 8080
  Secret     <ns>-<name>-update-keys           only with keys.inline (else keys.existingSecret is mounted)
Every template takes an instance dict {"ctx": $, "name": <xApp name>, "replica": <int, -1 = not sharded>,
"keyIds": <the update-key ids to mount; absent = all keys>, "extraRoutes": <more seed routes>,
"configSet": <app config keys the chart forces>}.
*/}}

{{- define "dnt-common.xapp.configPath" -}}/opt/ric/config{{- end -}}
{{- define "dnt-common.xapp.routesPath" -}}/opt/ric/rmr{{- end -}}

{{/* RMR env (oran-conventions §2.3): seed table, source id = the rmr service, rtmgr push port. */}}
{{- define "dnt-common.rmrEnv" -}}
{{- $c := .ctx -}}{{- $v := $c.Values -}}{{- $ns := include "dnt-common.namespace" $c -}}
- name: DNT_RIC_RUNTIME
  value: rmr
- name: RMR_SEED_RT
  value: {{ printf "%s/uta-rtg.rt" (include "dnt-common.xapp.routesPath" .) | quote }}
- name: RMR_SRC_ID
  value: {{ printf "service-%s-%s-rmr.%s" $ns .name $ns | quote }}
- name: RMR_RTG_SVC
  value: {{ $v.ports.rmrRoute | toString | quote }}
- name: PLT_NAMESPACE
  value: {{ $v.ricplt.namespace | quote }}
{{- end -}}

{{/* DBAAS env (ric-dep dbaas-appconfig): explicit host/port, plus the configmap when asked. */}}
{{- define "dnt-common.dbaasEnv" -}}
{{- $d := .Values.ricplt.dbaas -}}
- name: DBAAS_SERVICE_HOST
  value: {{ $d.host | quote }}
- name: DBAAS_SERVICE_PORT
  value: {{ $d.port | toString | quote }}
- name: DBAAS_PORT_6379_TCP_ADDR
  value: {{ $d.host | quote }}
- name: DBAAS_PORT_6379_TCP_PORT
  value: {{ $d.port | toString | quote }}
{{- end -}}

{{/* Liveness and readiness probes on the xApp's HTTP port (dnt.ric.http). */}}
{{- define "dnt-common.probes" -}}
{{- $v := .Values -}}
livenessProbe:
  httpGet:
    path: /ric/v1/health/alive
    port: {{ $v.ports.http }}
  {{- toYaml $v.probes.liveness | nindent 2 }}
readinessProbe:
  httpGet:
    path: /ric/v1/health/ready
    port: {{ $v.ports.http }}
  {{- toYaml $v.probes.readiness | nindent 2 }}
{{- end -}}

{{/* The xApp descriptor (config-file.json) of an instance, as appmgr/dms_cli expect it; its controls are the
     app config the instance runs with (app-config.yaml). */}}
{{- define "dnt-common.xapp.descriptor" -}}
{{- $c := .ctx -}}{{- $v := $c.Values -}}
{{- $img := dict "registry" $v.image.registry "name" $v.image.repository "tag" (include "dnt-common.imageTag" $c) -}}
{{- $container := dict "name" .name "image" $img "command" $v.command -}}
{{- $live := dict "httpGet" (dict "path" "/ric/v1/health/alive" "port" $v.ports.http) "initialDelaySeconds" $v.probes.liveness.initialDelaySeconds "periodSeconds" $v.probes.liveness.periodSeconds -}}
{{- $ready := dict "httpGet" (dict "path" "/ric/v1/health/ready" "port" $v.ports.http) "initialDelaySeconds" $v.probes.readiness.initialDelaySeconds "periodSeconds" $v.probes.readiness.periodSeconds -}}
{{- $http := dict "name" "http" "container" .name "port" $v.ports.http "description" "health, subscription results" -}}
{{- $data := dict "name" "rmrdata" "container" .name "port" $v.ports.rmrData "description" "RMR data" "rxMessages" $v.descriptor.rxMessages "txMessages" $v.descriptor.txMessages "policies" $v.descriptor.policies -}}
{{- $route := dict "name" "rmrroute" "container" .name "port" $v.ports.rmrRoute "description" "RMR route" -}}
{{- $d := dict "name" .name "version" $c.Chart.AppVersion "containers" (list $container) "livenessProbe" $live "readinessProbe" $ready "messaging" (dict "ports" (list $http $data $route)) -}}
{{- $_ := set $d "controls" (include "dnt-common.xapp.appConfig" . | fromYaml) -}}
{{- toPrettyJson $d -}}
{{- end -}}

{{/* The application config (dnt.config YAML): what the chart must set (runtime, replica/replicas, keys_path,
     the instance's configSet) wins over .Values.config. */}}
{{- define "dnt-common.xapp.appConfig" -}}
{{- $c := .ctx -}}{{- $v := $c.Values -}}
{{- $set := dict "runtime" "rmr" -}}
{{- if ge (int .replica) 0 }}{{- $_ := set $set "replica" (int .replica) -}}{{- $_ := set $set "replicas" (int $v.replicas) -}}{{- end }}
{{- if include "dnt-common.keys.enabled" $c }}{{- $_ := set $set "keys_path" $v.keys.mountPath -}}{{- end }}
{{- $set = merge $set (deepCopy (.configSet | default dict)) -}}
{{- toYaml (merge $set (deepCopy ($v.config | default dict))) -}}
{{- end -}}

{{- define "dnt-common.xapp.configmap" -}}
{{- $c := .ctx -}}{{- $full := include "dnt-common.fullname" . -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ printf "configmap-%s-appconfig" $full }}
  namespace: {{ include "dnt-common.namespace" $c }}
  labels:
    {{- include "dnt-common.labels" . | nindent 4 }}
data:
  config-file.json: |
    {{- include "dnt-common.xapp.descriptor" . | nindent 4 }}
  app-config.yaml: |
    {{- include "dnt-common.xapp.appConfig" . | nindent 4 }}
{{- end -}}

{{/* RMR seed routes: each .Values.rmr.routes entry (then each of the instance's extraRoutes)
     {mtype, endpoints: [host:port, ...]} is one rte line; several endpoints are separate groups (";"),
     so each receives a copy. rtmgr replaces the table once it pushes one. */}}
{{- define "dnt-common.xapp.routeTable" -}}
newrt|start
{{- range concat .ctx.Values.rmr.routes (.extraRoutes | default list) }}
rte|{{ int .mtype }}|{{ join ";" .endpoints }}
{{- end }}
newrt|end
{{- end -}}

{{- define "dnt-common.xapp.routes" -}}
{{- $c := .ctx -}}{{- $full := include "dnt-common.fullname" . -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ printf "configmap-%s-routes" $full }}
  namespace: {{ include "dnt-common.namespace" $c }}
  labels:
    {{- include "dnt-common.labels" . | nindent 4 }}
data:
  uta-rtg.rt: |
    {{- include "dnt-common.xapp.routeTable" . | nindent 4 }}
{{- end -}}

{{- define "dnt-common.xapp.services" -}}
{{- $c := .ctx -}}{{- $v := $c.Values -}}{{- $ns := include "dnt-common.namespace" $c -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ printf "service-%s-%s-rmr" $ns .name }}
  namespace: {{ $ns }}
  labels:
    {{- include "dnt-common.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "dnt-common.selectorLabels" . | nindent 4 }}
  ports:
    - name: rmrdata
      port: {{ $v.ports.rmrData }}
      targetPort: {{ $v.ports.rmrData }}
      protocol: TCP
    - name: rmrroute
      port: {{ $v.ports.rmrRoute }}
      targetPort: {{ $v.ports.rmrRoute }}
      protocol: TCP
---
apiVersion: v1
kind: Service
metadata:
  name: {{ printf "service-%s-%s-http" $ns .name }}
  namespace: {{ $ns }}
  labels:
    {{- include "dnt-common.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "dnt-common.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ $v.ports.http }}
      targetPort: {{ $v.ports.http }}
      protocol: TCP
{{- end -}}

{{/* Update keys (dnt.fl.auth), for charts with a keys section: "true" when keys.existingSecret, keys.inline
     or global.updateKeysSecret is set. */}}
{{- define "dnt-common.keys.enabled" -}}
{{- with .Values.keys -}}
{{- if or .existingSecret .inline ($.Values.global | default dict).updateKeysSecret }}true{{ end -}}
{{- end -}}
{{- end -}}

{{/* The Secret an instance mounts: the existing one, else the chart-made <ns>-<name>-update-keys. */}}
{{- define "dnt-common.keys.secretName" -}}
{{- $k := .ctx.Values.keys -}}
{{- $k.existingSecret | default (.ctx.Values.global | default dict).updateKeysSecret | default (printf "%s-update-keys" (include "dnt-common.fullname" .)) -}}
{{- end -}}

{{/* The chart-made Secret of an instance (keys.inline, no existing Secret): only the keyIds it mounts. */}}
{{- define "dnt-common.xapp.keySecret" -}}
{{- $c := .ctx -}}{{- $k := $c.Values.keys -}}
{{- if and $k.inline (not $k.existingSecret) (not ($c.Values.global | default dict).updateKeysSecret) }}
{{- $ids := .keyIds | default (keys $k.inline | sortAlpha) -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ include "dnt-common.keys.secretName" . }}
  namespace: {{ include "dnt-common.namespace" $c }}
  labels:
    {{- include "dnt-common.labels" . | nindent 4 }}
type: Opaque
data:
{{- range $ids }}
  {{- if not (hasKey $k.inline .) }}
  {{- fail (printf "keys.inline has no update key for client %q (give one hex key per client id, or keys.existingSecret)" .) }}
  {{- end }}
  {{ . }}: {{ index $k.inline . | b64enc }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "dnt-common.xapp.deployment" -}}
{{- $c := .ctx -}}{{- $v := $c.Values -}}{{- $full := include "dnt-common.fullname" . -}}
{{- $keys := include "dnt-common.keys.enabled" $c -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $full }}
  namespace: {{ include "dnt-common.namespace" $c }}
  labels:
    {{- include "dnt-common.labels" . | nindent 4 }}
spec:
  replicas: {{ $v.replicaCount }}
  strategy:
    type: Recreate
  selector:
    matchLabels:
      {{- include "dnt-common.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "dnt-common.labels" . | nindent 8 }}
      annotations:
        checksum/config: {{ include "dnt-common.xapp.configmap" . | sha256sum }}
        checksum/routes: {{ include "dnt-common.xapp.routes" . | sha256sum }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      hostname: {{ .name }}
      automountServiceAccountToken: false
      {{- with include "dnt-common.imagePullSecrets" $c }}
      {{- . | nindent 6 }}
      {{- end }}
      securityContext:
        {{- include "dnt-common.podSecurityContext" $c | nindent 8 }}
      {{- with include "dnt-common.scheduling" $c }}
      {{- . | nindent 6 }}
      {{- end }}
      containers:
        - name: {{ .name }}
          image: {{ include "dnt-common.image" $c | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          command:
            {{- toYaml $v.command | nindent 12 }}
          args:
            - --config
            - {{ printf "%s/app-config.yaml" (include "dnt-common.xapp.configPath" .) }}
            {{- with $v.args }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            - name: http
              containerPort: {{ $v.ports.http }}
              protocol: TCP
            - name: rmrdata
              containerPort: {{ $v.ports.rmrData }}
              protocol: TCP
            - name: rmrroute
              containerPort: {{ $v.ports.rmrRoute }}
              protocol: TCP
          env:
            - name: CONFIG_FILE
              value: {{ printf "%s/config-file.json" (include "dnt-common.xapp.configPath" .) | quote }}
            - name: XAPP_DESCRIPTOR_PATH
              value: {{ include "dnt-common.xapp.configPath" . | quote }}
            {{- include "dnt-common.rmrEnv" . | nindent 12 }}
            {{- include "dnt-common.dbaasEnv" $c | nindent 12 }}
            {{- include "dnt-common.pythonEnv" $c | nindent 12 }}
            {{- with include "dnt-common.extraEnv" $c }}
            {{- . | nindent 12 }}
            {{- end }}
          {{- if $v.ricplt.dbaas.useAppconfig }}
          envFrom:
            - configMapRef:
                name: dbaas-appconfig
                optional: true
          {{- end }}
          {{- include "dnt-common.probes" $c | nindent 10 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- include "dnt-common.containerSecurityContext" $c | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: {{ include "dnt-common.xapp.configPath" . }}
              readOnly: true
            - name: routes
              mountPath: {{ include "dnt-common.xapp.routesPath" . }}
              readOnly: true
            - name: tmp
              mountPath: /tmp
            {{- if $keys }}
            - name: update-keys
              mountPath: {{ $v.keys.mountPath }}
              readOnly: true
            {{- end }}
      volumes:
        - name: config
          configMap:
            name: {{ printf "configmap-%s-appconfig" $full }}
        - name: routes
          configMap:
            name: {{ printf "configmap-%s-routes" $full }}
        {{- include "dnt-common.tmpVolume" $c | nindent 8 }}
        {{- if $keys }}
        - name: update-keys
          secret:
            secretName: {{ include "dnt-common.keys.secretName" . }}
            defaultMode: 288  # 0440: owner and the fsGroup read, nobody else
            {{- with .keyIds }}
            items:
              {{- range . }}
              - key: {{ . }}
                path: {{ . }}
              {{- end }}
            {{- end }}
        {{- end }}
{{- end -}}
