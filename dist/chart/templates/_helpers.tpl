{{/*
chart.name is the app.kubernetes.io/name of every object: the chart's name
unless nameOverride is set.
*/}}
{{- define "chart.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
chart.fullname prefixes the names of the operator's own objects, as kustomize's
namePrefix does for `make deploy`: learning-sandbox-operator for a release of
that name, <release>-learning-sandbox-operator otherwise, fullnameOverride if
set. The learner ClusterRole and the admission policies keep fixed names: the
operator looks them up by name.
*/}}
{{- define "chart.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
chart.chart is the helm.sh/chart label: name and version.
*/}}
{{- define "chart.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
chart.labels are the labels of every object the chart installs.
*/}}
{{- define "chart.labels" -}}
helm.sh/chart: {{ include "chart.chart" . }}
app.kubernetes.io/name: {{ include "chart.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
chart.selectorLabels select the operator's pods. control-plane:
controller-manager is what the operator's --operator-pod-labels defaults to;
the chart passes all of them (chart.operatorPodLabels), so that each sandbox's
allow-operator-checks NetworkPolicy admits this release's pods only.
*/}}
{{- define "chart.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: {{ include "chart.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
chart.podLabels are the pod template's labels: the standard ones and the
selector's, which podLabels cannot override.
*/}}
{{- define "chart.podLabels" -}}
{{- $labels := merge (include "chart.selectorLabels" . | fromYaml) (include "chart.labels" . | fromYaml) }}
{{- $labels = merge $labels (.Values.podLabels | default dict) }}
{{- toYaml $labels }}
{{- end }}

{{/*
chart.operatorPodLabels is the value of --operator-pod-labels: the pod
selector as k=v,k2=v2, unless operator.operatorPodLabels is set.
*/}}
{{- define "chart.operatorPodLabels" -}}
{{- if .Values.operator.operatorPodLabels }}
{{- .Values.operator.operatorPodLabels }}
{{- else }}
{{- $pairs := list }}
{{- range $k, $v := include "chart.selectorLabels" . | fromYaml }}
{{- $pairs = append $pairs (printf "%s=%s" $k $v) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}
{{- end }}

{{/*
chart.image is the operator's image: image.repository, and image.tag or the
chart's appVersion.
*/}}
{{- define "chart.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}

{{/*
chart.metricsCertDir is where the metrics server's certificate Secret
(metrics.certSecretName) is mounted.
*/}}
{{- define "chart.metricsCertDir" -}}
/tmp/k8s-metrics-server/metrics-certs
{{- end }}

{{/*
chart.flag renders one operator flag from (list name value kind): nothing if
the value is unset (null) or empty, so that the binary's default applies;
kind "int" prints the value as an integer (YAML numbers from a values file are
floats), "bool" as true or false, anything else as it is.
*/}}
{{- define "chart.flag" -}}
{{- $name := index . 0 }}
{{- $v := index . 1 }}
{{- $kind := index . 2 }}
{{- if not (or (kindIs "invalid" $v) (eq (toString $v) "")) }}
{{- if eq $kind "int" }}
{{- printf "--%s=%d" $name (int64 $v) }}
{{- else if eq $kind "bool" }}
{{- printf "--%s=%t" $name $v }}
{{- else }}
{{- printf "--%s=%v" $name $v }}
{{- end }}
{{- end }}
{{- end }}

{{/*
chart.args are the operator's command-line arguments, as a YAML list: the
chart's own (leader election, probes, metrics), one per operator.* value that
is set, then extraArgs (a flag given twice: the last one wins).
*/}}
{{- define "chart.args" -}}
{{- $args := list }}
{{- if .Values.leaderElection.enabled }}
{{- $args = append $args "--leader-elect" }}
{{- end }}
{{- $args = append $args (printf "--health-probe-bind-address=:%d" (int64 .Values.healthProbe.port)) }}
{{- $m := .Values.metrics }}
{{- if $m.enabled }}
{{- $args = append $args (printf "--metrics-bind-address=:%d" (int64 $m.port)) }}
{{- if not $m.secure }}
{{- $args = append $args "--metrics-secure=false" }}
{{- end }}
{{- if $m.enableHTTP2 }}
{{- $args = append $args "--enable-http2" }}
{{- end }}
{{- if $m.certSecretName }}
{{- $args = append $args (printf "--metrics-cert-path=%s" (include "chart.metricsCertDir" .)) }}
{{- end }}
{{- range list (list "metrics-cert-name" $m.certName "") (list "metrics-cert-key" $m.certKey "") }}
{{- with include "chart.flag" . }}{{ $args = append $args . }}{{ end }}
{{- end }}
{{- else }}
{{- $args = append $args "--metrics-bind-address=0" }}
{{- end }}
{{- $o := .Values.operator }}
{{- $flags := list
  (list "concurrency" $o.concurrency "int")
  (list "kube-api-qps" $o.kubeAPIQPS "")
  (list "kube-api-burst" $o.kubeAPIBurst "int")
  (list "check-workers" $o.checkWorkers "int")
  (list "namespace-prefix" $o.namespacePrefix "")
  (list "image-registry" $o.imageRegistry "")
  (list "postgres-image" $o.images.postgres "")
  (list "redis-image" $o.images.redis "")
  (list "nginx-image" $o.images.nginx "")
  (list "app-image" $o.images.app "")
  (list "max-ttl" $o.maxTTL "")
  (list "max-sandbox-cpu" $o.maxSandbox.cpu "")
  (list "max-sandbox-memory" $o.maxSandbox.memory "")
  (list "max-sandbox-storage" $o.maxSandbox.storage "")
  (list "max-sandbox-pods" $o.maxSandbox.pods "int")
  (list "learner-api-server" $o.learnerAPIServer "")
  (list "learner-token-lifetime" $o.learnerTokenLifetime "")
  (list "cohort-lead-time" $o.cohortLeadTime "")
  (list "node-autoscaler" $o.nodeAutoscaler "bool")
  (list "ingress-namespace" $o.ingressNamespace "")
  (list "operator-namespace" $o.operatorNamespace "")
  (list "operator-pod-labels" (include "chart.operatorPodLabels" .) "")
  (list "zap-log-level" $o.log.level "")
  (list "zap-encoder" $o.log.encoder "")
  (list "zap-stacktrace-level" $o.log.stacktraceLevel "")
  (list "zap-time-encoding" $o.log.timeEncoding "")
  (list "zap-devel" $o.log.development "bool")
}}
{{- range $flags }}
{{- with include "chart.flag" . }}{{ $args = append $args . }}{{ end }}
{{- end }}
{{- $w := $o.workspace }}
{{- range $lang := keys ($w.languages | default dict) | sortAlpha }}
{{- $args = append $args (printf "--workspace-image=%s=%s" $lang (index $w.languages $lang)) }}
{{- end }}
{{- with include "chart.flag" (list "workspace-default-language" $w.defaultLanguage "") }}{{ $args = append $args . }}{{ end }}
{{- if $w.egress }}
{{- $args = append $args "--workspace-egress" }}
{{- end }}
{{- with $w.egressExcept }}
{{- $args = append $args (printf "--workspace-egress-except=%s" (join "," .)) }}
{{- end }}
{{- $args = concat $args (.Values.extraArgs | default list) }}
{{- toYaml $args }}
{{- end }}

{{/*
The metrics Service's name (a DNS label: at most 63 characters), which is also
the job of its scrapes and of the alerts.
*/}}
{{- define "chart.metricsService" -}}
{{- printf "%s-controller-manager-metrics-service" (include "chart.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
