# One log-based metric and one alert policy per catalogue alert (catalogue.tf).

resource "google_logging_metric" "alert" {
  for_each = local.alert_metrics

  name             = each.value.metric_name
  filter           = each.value.filter
  label_extractors = each.value.label_extractors
  value_extractor  = each.value.value_extractor

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = each.value.value_type
    unit         = each.value.unit
    display_name = "${each.key} (${each.value.metric_name})"

    dynamic "labels" {
      for_each = each.value.labels

      content {
        key         = labels.value
        value_type  = "STRING"
        description = "jsonPayload.${labels.value} of the log line"
      }
    }
  }

  dynamic "bucket_options" {
    for_each = each.value.kind == "distribution" ? [each.key] : []

    content {
      # 10 ms to about 170 s in 24 steps of x1.5.
      exponential_buckets {
        num_finite_buckets = 24
        growth_factor      = 1.5
        scale              = 10
      }
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_monitoring_notification_channel" "alerts_topic" {
  display_name = "alerts topic (${var.environment})"
  type         = "pubsub"
  description  = "Every incident goes to alert_router through the alerts topic."

  labels = {
    topic = google_pubsub_topic.alerts.id
  }

  depends_on = [google_pubsub_topic_iam_member.monitoring_publisher]
}

resource "google_monitoring_alert_policy" "alert" {
  for_each = local.alert_policies

  display_name = "[${upper(each.value.user_labels.severity)}] ${each.key} (${var.environment})"
  combiner     = "OR"
  severity     = each.value.severity
  user_labels  = each.value.user_labels

  conditions {
    display_name = each.key

    condition_threshold {
      filter = join(" AND ", [
        "metric.type=\"logging.googleapis.com/user/${google_logging_metric.alert[each.key].name}\"",
        "resource.type=\"cloud_run_revision\"",
      ])
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold_value
      duration        = "0s"

      aggregations {
        alignment_period     = each.value.alignment_period
        per_series_aligner   = each.value.per_series_aligner
        cross_series_reducer = each.value.cross_series_reducer
        group_by_fields      = each.value.group_by_fields
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    subject   = each.value.subject
    content   = each.value.content

    dynamic "links" {
      for_each = each.value.links

      content {
        display_name = links.value.display_name
        url          = links.value.url
      }
    }
  }

  notification_channels = [google_monitoring_notification_channel.alerts_topic.id]

  # A policy naming a metric created moments earlier fails until Monitoring
  # sees the metric: create the metrics first.
  depends_on = [google_logging_metric.alert]
}
