locals {
  # The origin each function is reached on from outside.
  webhook_origin = {
    for name in keys(local.http_functions) : name => local.public_base_urls[name]
  }
}

output "function_urls" {
  description = "Each function's own HTTPS address."
  value       = { for name, fn in google_cloudfunctions2_function.function : name => fn.url }
}

output "twilio_sms_webhook_url" {
  description = "Twilio console > Phone Numbers > your number > Messaging: 'A message comes in' (HTTP POST)."
  value       = "${local.webhook_origin["twilio_sms"]}/twilio/sms"
}

output "twilio_sms_status_callback_url" {
  description = "Twilio console > Messaging Service (or the number): status callback URL."
  value       = "${local.webhook_origin["twilio_sms"]}/twilio/sms/status"
}

output "twilio_voice_webhook_url" {
  description = "Twilio console > Phone Numbers > your number > Voice: 'A call comes in' (HTTP POST)."
  value       = "${local.webhook_origin["twilio_voice"]}/v1/voice"
}

output "twilio_voice_status_callback_url" {
  description = "Twilio console > Phone Numbers > your number > Voice: 'Call status changes' (HTTP POST); owner notifications from calls go out from it."
  value       = "${local.webhook_origin["twilio_voice"]}/v1/voice/status"
}

output "stripe_webhook_url" {
  description = "Stripe dashboard > Developers > Webhooks: endpoint URL; put its signing secret in STRIPE_WEBHOOK_SECRET."
  value       = "${local.webhook_origin["billing_webhook"]}/v1/billing/webhook"
}

output "chat_api_url" {
  description = "Where a business's server posts chat turns (X-API-Key)."
  value       = "${local.webhook_origin["chat"]}/v1/chat"
}

output "widget_url" {
  description = "Base of the website widget's endpoints and script."
  value       = "${local.webhook_origin["chat"]}/v1/widget"
}

output "alerts_topic" {
  description = "The alerts topic (ALERT_TOPIC): functions and Cloud Monitoring publish here."
  value       = google_pubsub_topic.alerts.id
}

output "alerts_dead_letter_subscription" {
  description = "Where alerts alert_router could not handle are kept for a week."
  value       = google_pubsub_subscription.alerts_dead_letter.id
}

output "alert_trigger_dead_letter_command" {
  description = "Run once after the first apply: attaches the dead-letter topic to the subscription Eventarc created for alert_router (Terraform cannot address that subscription)."
  value = join(" ", [
    "gcloud pubsub subscriptions update",
    "\"$(gcloud eventarc triggers describe ${basename(google_cloudfunctions2_function.function["alert_router"].event_trigger[0].trigger)}",
    "--location=${var.region} --project=${var.project} --format='value(transport.pubsub.subscription)')\"",
    "--dead-letter-topic=${google_pubsub_topic.alerts_dead_letter.id}",
    "--max-delivery-attempts=${var.alert_dead_letter_max_attempts}",
    "--min-retry-delay=10s --max-retry-delay=600s",
  ])
}

output "load_balancer_ip" {
  description = "Point the domain's DNS A record here (load balancer only)."
  value       = var.enable_load_balancer ? google_compute_global_address.public[0].address : null
}

output "alert_policies" {
  description = "The alert policies created, by alert name (alerts with an unset threshold have none)."
  value       = { for name, policy in google_monitoring_alert_policy.alert : name => policy.name }
}
