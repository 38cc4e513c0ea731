# The alert catalogue (common/alerts/catalogue.yaml), read as data. Adding an
# alert there adds its log-based metric and alert policy (alerts.tf) with no
# second list to keep in step.
#
# This file holds locals only, computed from variables and the catalogue, so
# that tests can evaluate them with `terraform console` without providers.

locals {
  catalogue = yamldecode(file("${path.module}/../common/alerts/catalogue.yaml")).alerts

  # The Terraform variable holding each threshold, by the environment variable
  # the functions read (a catalogue threshold_variable of null: fires on
  # every occurrence).
  threshold_by_variable = {
    TWILIO_WEBHOOK_FAILURE_ALERT_THRESHOLD  = var.twilio_webhook_failure_alert_threshold
    BILLING_WEBHOOK_FAILURE_ALERT_THRESHOLD = var.billing_webhook_failure_alert_threshold
    LATENCY_ALERT_THRESHOLD_MS              = var.latency_alert_threshold_ms
    RATE_LIMIT_ANOMALY_THRESHOLD_BUSINESS   = var.rate_limit_anomaly_threshold_business
    RATE_LIMIT_ANOMALY_THRESHOLD_IP         = var.rate_limit_anomaly_threshold_ip
    RATE_LIMIT_ANOMALY_THRESHOLD_5XX        = var.rate_limit_anomaly_threshold_5xx
  }

  # Watched paths come from the variable, so the metric follows
  # LATENCY_ALERT_PATHS as the functions do.
  latency_paths_filter = join(" OR ", [for path in var.latency_alert_paths : "jsonPayload.path=~\"^${path}\""])

  # One log-based metric per alert: only this environment's Cloud Run lines.
  alert_metrics = {
    for name, alert in local.catalogue : name => {
      metric_name = alert.metric.name
      kind        = alert.metric.kind
      value_type  = alert.metric.kind == "distribution" ? "DISTRIBUTION" : "INT64"
      unit        = alert.metric.kind == "distribution" ? "ms" : "1"
      labels      = alert.metric.labels
      label_extractors = {
        for label in alert.metric.labels : label => "EXTRACT(jsonPayload.${label})"
      }
      value_extractor = alert.metric.kind == "distribution" ? "EXTRACT(jsonPayload.${alert.metric.value_field})" : null
      filter = join(" AND ", [
        "resource.type=\"cloud_run_revision\"",
        "jsonPayload.environment=\"${var.environment}\"",
        try(alert.match.path_prefix_variable, null) == null ? trimspace(alert.log_filter) : "jsonPayload.event=\"${alert.match.event}\" AND (${local.latency_paths_filter})",
      ])
    }
  }

  alert_severity = { P0 = "CRITICAL", P1 = "WARNING" }

  # One policy per alert whose threshold is set (or that fires on every
  # occurrence); an unset threshold disables the alert here as in the code.
  alert_policies = {
    for name, alert in local.catalogue : name => {
      severity    = local.alert_severity[alert.severity]
      runbook_url = "${var.runbook_base_url}#${alert.runbook_anchor}"
      user_labels = {
        alert          = name
        severity       = lower(alert.severity)
        runbook_anchor = alert.runbook_anchor
        environment    = var.environment
      }
      subject = "[${alert.severity}] ${name} in ${var.environment}"
      content = join("\n\n", [
        "**${name}** (${alert.severity}): ${alert.summary}",
        alert.metric.kind == "distribution" ? "Fires when the 99th percentile of a minute's ${alert.metric.value_field} exceeds ${local.threshold_by_variable[alert.threshold_variable]} (${alert.threshold_variable}), per ${join(", ", alert.group_by)}." : "Fires at ${alert.threshold_variable == null ? "every occurrence" : "${local.threshold_by_variable[alert.threshold_variable]} (${alert.threshold_variable})"} within ${var.alert_window_seconds / 60} min, per ${join(", ", alert.group_by)}.",
        "Runbook: ${var.runbook_base_url}#${alert.runbook_anchor}",
        "Matching log lines: `${local.alert_metrics[name].filter}`",
      ])
      # Link buttons need an absolute URL.
      links = startswith(var.runbook_base_url, "http") ? [{
        display_name = "Runbook: ${alert.runbook_anchor}"
        url          = "${var.runbook_base_url}#${alert.runbook_anchor}"
      }] : []
      # Monitoring compares strictly: a count reaching N is a count above
      # N-1. Latency compares the slowest requests with the objective itself.
      threshold_value = (
        alert.metric.kind == "distribution" ? local.threshold_by_variable[alert.threshold_variable] :
        alert.threshold_variable == null ? 0 : local.threshold_by_variable[alert.threshold_variable] - 1
      )
      alignment_period     = alert.metric.kind == "distribution" ? "60s" : "${var.alert_window_seconds}s"
      per_series_aligner   = alert.metric.kind == "distribution" ? "ALIGN_PERCENTILE_99" : "ALIGN_SUM"
      cross_series_reducer = alert.metric.kind == "distribution" ? "REDUCE_PERCENTILE_99" : "REDUCE_SUM"
      # business_id and client_ip are never metric labels: a policy counts
      # fleet-wide per route; the functions count per business and IP.
      group_by_fields = [for label in alert.group_by : "metric.label.${label}" if contains(alert.metric.labels, label)]
    }
    if alert.threshold_variable == null ? true : local.threshold_by_variable[alert.threshold_variable] != null
  }
}
