# One identity per function, holding only what that function does.

resource "google_service_account" "function" {
  for_each = local.functions

  account_id   = local.function_ids[each.key]
  display_name = "${each.key} function (${var.environment})"
}

# Every function keeps its state in Firestore (tenants, conversations,
# idempotency claims, counters, alert dedup).
resource "google_project_iam_member" "store_user" {
  for_each = local.functions

  project = var.project
  role    = "roles/datastore.user"
  member  = google_service_account.function[each.key].member
}

# The HTTP functions publish the alerts they detect.
resource "google_pubsub_topic_iam_member" "alert_publisher" {
  for_each = { for name, fn in local.functions : name => fn if fn.publishes }

  topic  = google_pubsub_topic.alerts.id
  role   = "roles/pubsub.publisher"
  member = google_service_account.function[each.key].member
}

# Each function may read only the secrets it uses, one binding per secret.
resource "google_secret_manager_secret_iam_member" "reader" {
  for_each = local.secret_readers

  project   = var.project
  secret_id = local.secret_ids[each.value.secret]
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function[each.value.function].member
}

# The identity Eventarc uses to deliver alerts to alert_router.
resource "google_service_account" "alert_trigger" {
  account_id   = "alert-trigger-${var.environment}"
  display_name = "Eventarc trigger of alert_router (${var.environment})"
}

resource "google_project_iam_member" "alert_trigger_receiver" {
  project = var.project
  role    = "roles/eventarc.eventReceiver"
  member  = google_service_account.alert_trigger.member
}

# The identity Cloud Build uses to turn each archive into a container image.
resource "google_service_account" "builder" {
  account_id   = "function-builder-${var.environment}"
  display_name = "Builds the function images (${var.environment})"
}

resource "google_project_iam_member" "builder" {
  for_each = toset([
    "roles/logging.logWriter",
    "roles/artifactregistry.writer",
  ])

  project = var.project
  role    = each.value
  member  = google_service_account.builder.member
}

resource "google_storage_bucket_iam_member" "builder_reads_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.builder.member
}
