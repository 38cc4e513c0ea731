# The production store (STORE=firestore). Records that expire carry an
# `expires_at` timestamp; a TTL policy per collection lets Firestore delete
# them (within a day or so of expiry: the code still ignores expired records
# on read).

locals {
  # Collection groups whose documents carry `expires_at` (common/store).
  ttl_collections = toset(["claims", "counters", "deliveries", "documents"])
}

resource "google_firestore_database" "store" {
  name                              = "(default)"
  location_id                       = var.firestore_location
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "OPTIMISTIC"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON"

  depends_on = [google_project_service.api]
}

resource "google_firestore_field" "expires_at" {
  for_each = local.ttl_collections

  database   = google_firestore_database.store.name
  collection = each.value
  field      = "expires_at"

  # A TTL field needs no single-field index: skipping it avoids hotspots on
  # monotonically increasing timestamps.
  index_config {}

  ttl_config {}
}

# `list_deliveries(source=...)` filters on `source` and orders by newest
# `received_at` first; Firestore answers that query only with this index.
resource "google_firestore_index" "deliveries_by_source" {
  database    = google_firestore_database.store.name
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "source"
    order      = "ASCENDING"
  }

  fields {
    field_path = "received_at"
    order      = "DESCENDING"
  }
}
