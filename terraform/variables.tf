# Inputs of the deployment. Thresholds carry the names of the environment
# variables the functions read (README, "Configuration"), in snake case; a
# null threshold disables its alert, in the functions and in Monitoring alike.

# --- Where -------------------------------------------------------------------

variable "project" {
  description = "Google Cloud project id that hosts everything."
  type        = string
}

variable "region" {
  description = "Region of the functions, the source bucket and the load balancer NEGs."
  type        = string
  default     = "us-central1"
}

variable "environment" {
  description = "ENVIRONMENT of the functions; a label on every log line and resource."
  type        = string

  validation {
    condition     = contains(["dev", "test", "staging", "prod"], var.environment)
    error_message = "environment must be one of dev, test, staging, prod."
  }
}

variable "service_name" {
  description = "SERVICE_NAME of the functions: the `service` field of every log line."
  type        = string
  default     = "ai-telephony-backend"
}

variable "public_base_url" {
  description = <<-EOT
    PUBLIC_BASE_URL: the origin Twilio and Stripe call, e.g. https://api.example.com,
    when a load balancer or a proxy serves every function on one domain. Null: each
    function is called on its own https://REGION-PROJECT.cloudfunctions.net/NAME
    address, which is then its PUBLIC_BASE_URL.
  EOT
  type        = string
  default     = null

  validation {
    condition     = var.public_base_url == null || can(regex("^https://[^/]+$", var.public_base_url))
    error_message = "public_base_url must be an https origin without a path or trailing slash, e.g. https://api.example.com."
  }
}

variable "trusted_proxy_count" {
  description = "TRUSTED_PROXY_COUNT; null picks 1 (Google's front end) or 2 with the load balancer."
  type        = number
  default     = null
}

variable "firestore_location" {
  description = "Location of the Firestore database (a region or a multi-region such as nam5)."
  type        = string
  default     = "nam5"
}

variable "build_dir" {
  description = "Folder holding the archives written by `make package` (one NAME.zip per function)."
  type        = string
  default     = null
}

# --- Secrets -----------------------------------------------------------------

variable "secrets" {
  description = <<-EOT
    Environment variable names whose values exist in Secret Manager, each as a secret
    named like the variable in lower case with hyphens (TWILIO_AUTH_TOKEN ->
    twilio-auth-token). A function receives the listed ones it uses; leave optional
    ones (SENTRY_DSN, ASSISTANT_API_KEY, alert destinations) out until created.
  EOT
  type        = set(string)
  default = [
    "TWILIO_AUTH_TOKEN",
    "TWILIO_WEBHOOK_SHARED_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_KEY",
  ]

  validation {
    condition = alltrue([for name in var.secrets : contains([
      "TWILIO_AUTH_TOKEN",
      "TWILIO_WEBHOOK_SHARED_KEY",
      "STRIPE_WEBHOOK_SECRET",
      "STRIPE_API_KEY",
      "ASSISTANT_API_KEY",
      "ALERT_PAGERDUTY_ROUTING_KEY",
      "ALERT_SLACK_WEBHOOK_URL",
      "ALERT_WEBHOOK_SECRET",
      "SENTRY_DSN",
    ], name)])
    error_message = "secrets may only name the secrets of common/settings.py SECRET_NAMES."
  }
}

# --- Plain settings ------------------------------------------------------------

variable "twilio_account_sid" {
  description = "TWILIO_ACCOUNT_SID (an identifier, not a secret): needed to send SMS."
  type        = string
  default     = null
}

variable "assistant_provider" {
  description = "ASSISTANT_PROVIDER: embedded (offline knowledge base) or openai (an OpenAI-compatible endpoint)."
  type        = string
  default     = "embedded"
}

variable "assistant_base_url" {
  description = "ASSISTANT_BASE_URL of the OpenAI-compatible endpoint."
  type        = string
  default     = null
}

variable "assistant_model" {
  description = "ASSISTANT_MODEL name at that endpoint."
  type        = string
  default     = null
}

variable "alert_webhook_url" {
  description = "ALERT_WEBHOOK_URL: a generic HTTPS destination for alerts (signed with ALERT_WEBHOOK_SECRET)."
  type        = string
  default     = null
}

variable "sentry_traces_sample_rate" {
  description = "SENTRY_TRACES_SAMPLE_RATE, from 0 to 1."
  type        = number
  default     = 0
}

variable "extra_environment" {
  description = "Any other plain setting of the README's configuration table, given to every function."
  type        = map(string)
  default     = {}
}

# --- Alert thresholds (same meaning in the functions and in Monitoring) -------

variable "twilio_webhook_failure_alert_threshold" {
  description = "TWILIO_WEBHOOK_FAILURE_ALERT_THRESHOLD: Twilio webhook errors per route within the alert window that page (P0). Null disables."
  type        = number
  default     = null
}

variable "billing_webhook_failure_alert_threshold" {
  description = "BILLING_WEBHOOK_FAILURE_ALERT_THRESHOLD: Stripe webhook errors within the alert window that page (P0). Null disables."
  type        = number
  default     = null
}

variable "latency_alert_threshold_ms" {
  description = "LATENCY_ALERT_THRESHOLD_MS: a request on a watched path slower than this pages (P0). Null disables."
  type        = number
  default     = null
}

variable "latency_alert_paths" {
  description = "LATENCY_ALERT_PATHS: path prefixes watched for latency."
  type        = list(string)
  default     = ["/v1/voice", "/v1/chat", "/v1/widget"]

  validation {
    condition     = alltrue([for path in var.latency_alert_paths : startswith(path, "/")])
    error_message = "latency_alert_paths entries must start with /."
  }
}

variable "rate_limit_anomaly_threshold_business" {
  description = "RATE_LIMIT_ANOMALY_THRESHOLD_BUSINESS: rate_limit_triggered for one business within the window that warns (P1). Null disables."
  type        = number
  default     = null
}

variable "rate_limit_anomaly_threshold_ip" {
  description = "RATE_LIMIT_ANOMALY_THRESHOLD_IP: rate_limit_triggered for one client IP within the window that warns (P1). Null disables."
  type        = number
  default     = null
}

variable "rate_limit_anomaly_threshold_5xx" {
  description = "RATE_LIMIT_ANOMALY_THRESHOLD_5XX: 5xx answers on one route within the window that warn (P1). Null disables."
  type        = number
  default     = null
}

variable "alert_window_seconds" {
  description = "ALERT_WINDOW_SECONDS: the window counts are taken over; a whole number of minutes for Monitoring."
  type        = number
  default     = 300

  validation {
    condition     = var.alert_window_seconds >= 60 && var.alert_window_seconds % 60 == 0
    error_message = "alert_window_seconds must be a whole number of minutes (60, 120, 300, ...)."
  }
}

variable "alert_repeat_interval_seconds" {
  description = "ALERT_REPEAT_INTERVAL_SECONDS: how long alert_router holds back a repeat of a firing alert."
  type        = number
  default     = 3600
}

variable "runbook_base_url" {
  description = "RUNBOOK_BASE_URL: alerts link to RUNBOOK_BASE_URL#anchor (docs/runbooks.md headings)."
  type        = string
  default     = "wiki/Runbooks"
}

variable "alert_dead_letter_max_attempts" {
  description = "Deliveries of one alert message to alert_router before it is moved to the dead-letter topic (5 to 100)."
  type        = number
  default     = 10

  validation {
    condition     = var.alert_dead_letter_max_attempts >= 5 && var.alert_dead_letter_max_attempts <= 100
    error_message = "alert_dead_letter_max_attempts must be between 5 and 100 (Pub/Sub's bounds)."
  }
}

# --- Optional load balancer --------------------------------------------------

variable "enable_load_balancer" {
  description = "Serve every public path on one domain through an HTTPS load balancer with a managed certificate."
  type        = bool
  default     = false
}

variable "domain" {
  description = "The load balancer's domain, e.g. api.example.com (its DNS A record points at the `load_balancer_ip` output)."
  type        = string
  default     = null
}

variable "enable_log_analytics" {
  description = "Upgrade the project's _Default log bucket to Log Analytics (irreversible) and save the per-tenant error-rate SQL query."
  type        = bool
  default     = false
}
