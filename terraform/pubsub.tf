# The alerts topic: the functions publish what they detect, Cloud Monitoring
# publishes its incidents, and alert_router consumes both through Eventarc.

resource "google_pubsub_topic" "alerts" {
  #checkov:skip=CKV_GCP_83:Alert messages carry no customer content (ids and figures only); Google-managed encryption is enough.
  name                       = "alerts-${var.environment}"
  message_retention_duration = "86400s"

  depends_on = [google_project_service.api]
}

# Alert messages that alert_router failed on alert_dead_letter_max_attempts
# times. Kept for a week on a pull subscription to inspect and replay.
resource "google_pubsub_topic" "alerts_dead_letter" {
  #checkov:skip=CKV_GCP_83:Same content as the alerts topic; Google-managed encryption is enough.
  name                       = "alerts-dead-letter-${var.environment}"
  message_retention_duration = "604800s"

  depends_on = [google_project_service.api]
}

resource "google_pubsub_subscription" "alerts_dead_letter" {
  name                       = "alerts-dead-letter-${var.environment}"
  topic                      = google_pubsub_topic.alerts_dead_letter.id
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = ""
  }
}

locals {
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

# Pub/Sub itself moves undeliverable messages: it must publish to the
# dead-letter topic and acknowledge on the trigger's subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  topic  = google_pubsub_topic.alerts_dead_letter.id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_project_iam_member" "dead_letter_subscriber" {
  project = var.project
  role    = "roles/pubsub.subscriber"
  member  = local.pubsub_service_agent

  condition {
    title       = "eventarc-subscriptions-only"
    description = "Acknowledge dead-lettered messages on Eventarc's subscriptions."
    expression  = "resource.name.startsWith(\"projects/${var.project}/subscriptions/eventarc-\")"
  }
}

# Cloud Monitoring's notification channel publishes incidents on the same
# topic; its service agent needs the publisher role there.
resource "google_pubsub_topic_iam_member" "monitoring_publisher" {
  topic  = google_pubsub_topic.alerts.id
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
}
