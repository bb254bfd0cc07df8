{{/* Names and labels shared by every template. */}}

{{- define "nsmigrate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nsmigrate.fullname" -}}
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

{{- define "nsmigrate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nsmigrate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "nsmigrate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "nsmigrate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: nsmigrate
{{- end -}}

{{- define "nsmigrate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "nsmigrate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "nsmigrate.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "nsmigrate.fullname" .)) .Values.certificates.secretName -}}
{{- end -}}

{{- define "nsmigrate.clientCASecretName" -}}
{{- default (printf "%s-client-ca" (include "nsmigrate.fullname" .)) .Values.clientAuth.caSecretName -}}
{{- end -}}

{{- define "nsmigrate.leaseName" -}}
{{- printf "%s-reconciler" (include "nsmigrate.fullname" .) -}}
{{- end -}}

{{/* Namespaces the webhooks never serve: the configured ones and nsmigrate's own. */}}
{{- define "nsmigrate.excludedNamespaces" -}}
{{- $excluded := append .Values.webhook.excludedNamespaces .Release.Namespace | uniq | sortAlpha -}}
{{- toJson $excluded -}}
{{- end -}}

{{/* How the API server reaches the webhook, and how it trusts it. */}}
{{- define "nsmigrate.clientConfig" -}}
{{- if .root.Values.webhook.url }}
url: {{ printf "%s%s" (trimSuffix "/" .root.Values.webhook.url) .path }}
{{- else }}
service:
  name: {{ include "nsmigrate.fullname" .root }}
  namespace: {{ .root.Release.Namespace }}
  path: {{ .path }}
  port: 443
{{- end }}
{{- if eq .root.Values.certificates.mode "secret" }}
caBundle: {{ required "certificates.caBundle is required in secret mode" .root.Values.certificates.caBundle | b64enc }}
{{- end }}
{{- end -}}
