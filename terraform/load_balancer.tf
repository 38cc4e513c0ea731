# Optional: one HTTPS domain for every public path (enable_load_balancer).
# Serverless NEGs point at the functions' Cloud Run services; the URL map
# sends each public path of the README to its function.

locals {
  load_balanced = var.enable_load_balancer ? local.http_functions : {}

  # Path patterns of the public surface, per function.
  public_paths = {
    twilio_sms      = ["/twilio/sms", "/twilio/sms/*"]
    twilio_voice    = ["/v1/voice", "/v1/voice/*"]
    chat            = ["/v1/chat", "/v1/widget", "/v1/widget/*"]
    billing_webhook = ["/v1/billing/webhook"]
  }
}

resource "google_compute_region_network_endpoint_group" "function" {
  for_each = local.load_balanced

  name                  = "${local.function_ids[each.key]}-neg"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = google_cloudfunctions2_function.function[each.key].name
  }
}

resource "google_compute_backend_service" "function" {
  for_each = local.load_balanced

  name                  = "${local.function_ids[each.key]}-backend"
  protocol              = "HTTPS"
  load_balancing_scheme = "EXTERNAL_MANAGED"

  backend {
    group = google_compute_region_network_endpoint_group.function[each.key].id
  }

  log_config {
    enable      = true
    sample_rate = 1
  }
}

resource "google_compute_url_map" "public" {
  count = var.enable_load_balancer ? 1 : 0

  name = "${var.service_name}-${var.environment}"

  # Anything outside the public surface reaches chat, which answers 404 in
  # JSON like every unknown path.
  default_service = google_compute_backend_service.function["chat"].id

  host_rule {
    hosts        = [var.domain]
    path_matcher = "public"
  }

  path_matcher {
    name            = "public"
    default_service = google_compute_backend_service.function["chat"].id

    dynamic "path_rule" {
      for_each = local.public_paths

      content {
        paths   = path_rule.value
        service = google_compute_backend_service.function[path_rule.key].id
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.domain != null
      error_message = "enable_load_balancer needs domain, e.g. domain = \"api.example.com\"."
    }
  }
}

resource "google_compute_managed_ssl_certificate" "public" {
  count = var.enable_load_balancer ? 1 : 0

  name = "${var.service_name}-${var.environment}"

  managed {
    domains = [var.domain]
  }
}

resource "google_compute_ssl_policy" "public" {
  count = var.enable_load_balancer ? 1 : 0

  name            = "${var.service_name}-${var.environment}"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_target_https_proxy" "public" {
  count = var.enable_load_balancer ? 1 : 0

  name             = "${var.service_name}-${var.environment}"
  url_map          = google_compute_url_map.public[0].id
  ssl_certificates = [google_compute_managed_ssl_certificate.public[0].id]
  ssl_policy       = google_compute_ssl_policy.public[0].id
}

resource "google_compute_global_address" "public" {
  count = var.enable_load_balancer ? 1 : 0

  name = "${var.service_name}-${var.environment}"
}

resource "google_compute_global_forwarding_rule" "public" {
  count = var.enable_load_balancer ? 1 : 0

  name                  = "${var.service_name}-${var.environment}"
  target                = google_compute_target_https_proxy.public[0].id
  ip_address            = google_compute_global_address.public[0].id
  port_range            = "443"
  load_balancing_scheme = "EXTERNAL_MANAGED"
}
