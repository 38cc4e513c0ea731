# The project, its APIs and what every function shares.

data "google_project" "this" {
  project_id = var.project
}

locals {
  apis = toset([
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "compute.googleapis.com",
    "eventarc.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ])

  build_dir = coalesce(var.build_dir, "${path.module}/../build")

  # One entry per deployable function. `secrets` lists what it reads from
  # Secret Manager (used only when named in var.secrets); `public` functions
  # are invoked by anyone and authenticate callers by signature or key.
  functions = {
    twilio_sms = {
      description   = "Receptionist over SMS: /twilio/sms and /twilio/sms/status."
      public        = true
      publishes     = true
      memory        = "512Mi"
      cpu           = "1"
      timeout       = 15 # Twilio gives up after 15 s.
      concurrency   = 20
      min_instances = 0
      max_instances = 20
      secrets       = ["TWILIO_AUTH_TOKEN", "TWILIO_WEBHOOK_SHARED_KEY", "ASSISTANT_API_KEY", "SENTRY_DSN"]
    }
    twilio_voice = {
      description   = "Receptionist over the phone: /v1/voice and its actions."
      public        = true
      publishes     = true
      memory        = "512Mi"
      cpu           = "1"
      timeout       = 15 # Twilio gives up after 15 s.
      concurrency   = 20
      min_instances = 1 # A caller should not wait for a cold start.
      max_instances = 20
      secrets       = ["TWILIO_AUTH_TOKEN", "TWILIO_WEBHOOK_SHARED_KEY", "ASSISTANT_API_KEY", "SENTRY_DSN"]
    }
    chat = {
      description   = "Chat API (/v1/chat) and website widget (/v1/widget)."
      public        = true
      publishes     = true
      memory        = "512Mi"
      cpu           = "1"
      timeout       = 30
      concurrency   = 40
      min_instances = 0
      max_instances = 20
      secrets       = ["TWILIO_AUTH_TOKEN", "ASSISTANT_API_KEY", "SENTRY_DSN"]
    }
    billing_webhook = {
      description   = "Stripe webhook: /v1/billing/webhook."
      public        = true
      publishes     = true
      memory        = "256Mi"
      cpu           = "1"
      timeout       = 30
      concurrency   = 10
      min_instances = 0
      max_instances = 5
      secrets       = ["STRIPE_WEBHOOK_SECRET", "STRIPE_API_KEY", "SENTRY_DSN"]
    }
    alert_router = {
      description   = "Routes every alert from the alerts topic to PagerDuty, Slack or a webhook."
      public        = false
      publishes     = false
      memory        = "256Mi"
      cpu           = "1"
      timeout       = 60
      concurrency   = 10
      min_instances = 0
      max_instances = 5
      secrets       = ["TWILIO_AUTH_TOKEN", "ALERT_PAGERDUTY_ROUTING_KEY", "ALERT_SLACK_WEBHOOK_URL", "ALERT_WEBHOOK_SECRET", "SENTRY_DSN"]
    }
  }

  http_functions   = { for name, fn in local.functions : name => fn if fn.public }
  function_ids     = { for name in keys(local.functions) : name => "${replace(name, "_", "-")}-${var.environment}" }
  functions_origin = "https://${var.region}-${var.project}.cloudfunctions.net"

  # The origin each function's signatures are checked against.
  public_base_urls = {
    for name in keys(local.functions) : name => coalesce(
      var.public_base_url,
      var.enable_load_balancer && var.domain != null ? "https://${var.domain}" : null,
      "${local.functions_origin}/${local.function_ids[name]}",
    )
  }

  # Secret name -> the functions that read it, for per-secret IAM.
  secret_ids = { for name in var.secrets : name => lower(replace(name, "_", "-")) }
  secret_readers = merge([
    for fn_name, fn in local.functions : {
      for secret in fn.secrets : "${fn_name}/${secret}" => { function = fn_name, secret = secret }
      if contains(var.secrets, secret)
    }
  ]...)

  # Plain settings every function gets; unset (null) values are left out so
  # the functions apply their own defaults.
  common_environment = merge(
    var.extra_environment,
    { for name, value in local.threshold_by_variable : name => tostring(value) if value != null },
    {
      for name, value in {
        TWILIO_ACCOUNT_SID = var.twilio_account_sid
        ASSISTANT_BASE_URL = var.assistant_base_url
        ASSISTANT_MODEL    = var.assistant_model
        ALERT_WEBHOOK_URL  = var.alert_webhook_url
      } : name => value if value != null
    },
    {
      LOG_FORMAT                    = "json"
      ENVIRONMENT                   = var.environment
      SERVICE_NAME                  = var.service_name
      GOOGLE_CLOUD_PROJECT          = var.project
      STORE                         = "firestore"
      ALERT_TOPIC                   = google_pubsub_topic.alerts.id
      TRUSTED_PROXY_COUNT           = tostring(coalesce(var.trusted_proxy_count, var.enable_load_balancer ? 2 : 1))
      LATENCY_ALERT_PATHS           = join(",", var.latency_alert_paths)
      ALERT_WINDOW_SECONDS          = tostring(var.alert_window_seconds)
      ALERT_REPEAT_INTERVAL_SECONDS = tostring(var.alert_repeat_interval_seconds)
      RUNBOOK_BASE_URL              = var.runbook_base_url
      ASSISTANT_PROVIDER            = var.assistant_provider
      SENTRY_TRACES_SAMPLE_RATE     = tostring(var.sentry_traces_sample_rate)
    },
  )
}

resource "google_project_service" "api" {
  for_each = local.apis

  project            = var.project
  service            = each.value
  disable_on_destroy = false
}
