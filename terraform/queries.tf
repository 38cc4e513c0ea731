# Saved queries operators open in Logs Explorer (Saved queries, shared with the
# project). Each narrows to this environment's functions.

locals {
  log_scope = "resource.type=\"cloud_run_revision\" AND jsonPayload.service=\"${var.service_name}\" AND jsonPayload.environment=\"${var.environment}\""

  saved_queries = {
    tenant-errors = {
      display_name = "Errors per tenant (${var.environment})"
      description  = "Requests answered with an error, with business_id and route shown on each line; the histogram over time is the tenant's error rate."
      filter       = "${local.log_scope} AND jsonPayload.event=\"request_completed\" AND jsonPayload.status>=400"
      fields       = ["jsonPayload.business_id", "jsonPayload.route", "jsonPayload.status"]
    }
    twilio-signature-failures = {
      display_name = "Twilio signature failures by business (${var.environment})"
      description  = "Twilio webhooks refused for their signature, grouped by the business the number belongs to."
      filter       = "${local.log_scope} AND jsonPayload.event=\"twilio_signature_rejected\""
      fields       = ["jsonPayload.business_id", "jsonPayload.reason"]
    }
    stripe-webhook-errors = {
      display_name = "Stripe webhook errors by request (${var.environment})"
      description  = "Stripe deliveries that failed, by request_id: the id to replay or look up in the delivery inbox."
      filter       = "${local.log_scope} AND jsonPayload.function=\"billing_webhook\" AND severity>=WARNING"
      fields       = ["jsonPayload.request_id", "jsonPayload.event", "jsonPayload.status"]
    }
  }
}

resource "google_logging_saved_query" "view" {
  for_each = local.saved_queries

  name         = "${each.key}-${var.environment}"
  parent       = "projects/${var.project}"
  location     = "global"
  display_name = each.value.display_name
  description  = each.value.description
  visibility   = "SHARED"

  logging_query {
    filter = each.value.filter

    dynamic "summary_fields" {
      for_each = each.value.fields

      content {
        field = summary_fields.value
      }
    }
  }
}

# The error rate itself, per tenant, as a Log Analytics (SQL) query. It needs
# the _Default log bucket upgraded to Log Analytics, which cannot be undone:
# hence a variable, off by default.
resource "google_logging_project_bucket_config" "default" {
  count = var.enable_log_analytics ? 1 : 0

  project          = var.project
  location         = "global"
  bucket_id        = "_Default"
  enable_analytics = true
}

resource "google_logging_saved_query" "tenant_error_rate" {
  count = var.enable_log_analytics ? 1 : 0

  name         = "tenant-error-rate-${var.environment}"
  parent       = "projects/${var.project}"
  location     = "global"
  display_name = "Error rate per tenant, last 24 h (${var.environment})"
  description  = "Share of each business's requests answered with 5xx or 4xx, from request_completed lines."
  visibility   = "SHARED"

  ops_analytics_query {
    sql_query_text = <<-EOT
      SELECT
        JSON_VALUE(json_payload.business_id) AS business_id,
        COUNT(*) AS requests,
        COUNTIF(CAST(JSON_VALUE(json_payload.status) AS INT64) >= 500) AS answered_5xx,
        COUNTIF(CAST(JSON_VALUE(json_payload.status) AS INT64) >= 400) AS errors,
        ROUND(COUNTIF(CAST(JSON_VALUE(json_payload.status) AS INT64) >= 400) / COUNT(*), 4) AS error_rate
      FROM `${var.project}.global._Default._AllLogs`
      WHERE timestamp > TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 24 HOUR)
        AND JSON_VALUE(json_payload.event) = 'request_completed'
        AND JSON_VALUE(json_payload.environment) = '${var.environment}'
      GROUP BY business_id
      ORDER BY error_rate DESC
    EOT
  }

  depends_on = [google_logging_project_bucket_config.default]
}
