# The five functions: Cloud Functions gen2, one source archive each, built by
# `make package` into build/NAME.zip. The object name carries the archive's
# hash, so a code change (and only a code change) redeploys a function.

resource "google_storage_bucket" "sources" {
  #checkov:skip=CKV_GCP_62:Access logs of a bucket holding only build artifacts add cost without a reader; Cloud Audit Logs record access.
  name                        = "${var.project}-${var.environment}-function-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      num_newer_versions = 5
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_storage_bucket_object" "source" {
  for_each = local.functions

  name   = "${each.key}/${filemd5("${local.build_dir}/${each.key}.zip")}.zip"
  bucket = google_storage_bucket.sources.name
  source = "${local.build_dir}/${each.key}.zip"
}

resource "google_cloudfunctions2_function" "function" {
  for_each = local.functions

  name        = local.function_ids[each.key]
  location    = var.region
  description = each.value.description

  build_config {
    runtime         = "python311"
    entry_point     = each.key
    service_account = google_service_account.builder.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.source[each.key].name
      }
    }
  }

  service_config {
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    timeout_seconds                  = each.value.timeout
    max_instance_request_concurrency = each.value.concurrency
    min_instance_count               = each.value.min_instances
    max_instance_count               = each.value.max_instances
    service_account_email            = google_service_account.function[each.key].email
    all_traffic_on_latest_revision   = true
    ingress_settings = (
      !each.value.public ? "ALLOW_INTERNAL_ONLY" :
      var.enable_load_balancer ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_ALL"
    )

    environment_variables = merge(local.common_environment, {
      PUBLIC_BASE_URL = local.public_base_urls[each.key]
      SENTRY_RELEASE  = filemd5("${local.build_dir}/${each.key}.zip")
    })

    dynamic "secret_environment_variables" {
      for_each = [for secret in each.value.secrets : secret if contains(var.secrets, secret)]
      iterator = secret

      content {
        key        = secret.value
        project_id = var.project
        secret     = local.secret_ids[secret.value]
        version    = "latest"
      }
    }
  }

  dynamic "event_trigger" {
    for_each = each.value.public ? [] : [each.key]

    content {
      trigger_region        = var.region
      event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
      pubsub_topic          = google_pubsub_topic.alerts.id
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = google_service_account.alert_trigger.email
    }
  }

  depends_on = [
    google_project_service.api,
    google_secret_manager_secret_iam_member.reader,
    google_project_iam_member.builder,
  ]
}

# Twilio, Stripe and browsers call the public functions without Google
# credentials; each function authenticates its caller by signature or key.
resource "google_cloud_run_service_iam_member" "public_invoker" {
  #checkov:skip=CKV_GCP_102:Twilio, Stripe and browsers cannot present Google credentials; each function verifies the Twilio or Stripe signature or the API key itself.
  for_each = local.http_functions

  location = var.region
  service  = google_cloudfunctions2_function.function[each.key].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Only the Eventarc trigger's own identity may invoke alert_router.
resource "google_cloud_run_service_iam_member" "alert_trigger_invoker" {
  location = var.region
  service  = google_cloudfunctions2_function.function["alert_router"].name
  role     = "roles/run.invoker"
  member   = google_service_account.alert_trigger.member
}
