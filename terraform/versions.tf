# Provider 7.18 is the first with google_logging_saved_query. Providers are
# pinned here and recorded in .terraform.lock.hcl by the first `terraform init`
# on a machine that can download them; commit that lock file.
terraform {
  required_version = ">= 1.5.0"

  # State in a GCS bucket, configured at init:
  #   terraform init -backend-config="bucket=BUCKET" -backend-config="prefix=ENV"
  backend "gcs" {}

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.18"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region

  default_labels = {
    service     = var.service_name
    environment = var.environment
    managed-by  = "terraform"
  }
}
