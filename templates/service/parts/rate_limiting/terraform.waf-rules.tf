
  custom_response_body {
    key          = "too-many-requests"
    content_type = "APPLICATION_JSON"
    content = jsonencode({
      type   = "about:blank"
      title  = "Too Many Requests"
      status = 429
      detail = "Too many requests from this address; slow down."
    })
  }

  rule {
    name     = "rate-limit-per-address"
    priority = 10

    action {
      block {
        custom_response {
          response_code            = 429
          custom_response_body_key = "too-many-requests"

          response_header {
            name  = "Retry-After"
            value = "60"
          }
        }
      }
    }

    statement {
      rate_based_statement {
        limit              = var.waf_rate_limit
        aggregate_key_type = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.name}-rate-limit-per-address"
      sampled_requests_enabled   = true
    }
  }
